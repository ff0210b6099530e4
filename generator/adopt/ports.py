"""A workload's ports from its containers and the Services that select it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from generator.adopt.kube import KObject
from generator.adopt.notes import Notes
from generator.adopt.policies import matches

_PORT_NAME = re.compile(r"(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def valid_port_name(name: Any) -> bool:
    """Whether a name is an IANA service name Kubernetes and cgen accept."""
    return isinstance(name, str) and len(name) <= 15 and bool(_PORT_NAME.fullmatch(name))


@dataclass
class Ports:
    """The ports of one workload, by container port number, and its Services."""

    by_number: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    services: list[KObject] = field(default_factory=list)

    def name_of(self, ref: Any) -> str | None:
        """The cgen port name a probe or policy port (number or name) refers to."""
        for (number, _), port in self.by_number.items():
            if ref in (number, str(number), port["name"], port.get("_k8s")):
                return str(port["name"])
        return None

    def target(self, service: KObject, port: int | None) -> str | None:
        """The cgen port name a call to service[:port] reaches."""
        entries = (service.body.get("spec") or {}).get("ports") or []
        if port is None and len(entries) == 1:
            port = entries[0].get("port")
        for entry in entries:
            if entry.get("port") == port:
                return self.name_of(entry.get("targetPort", entry.get("port")))
        return None

    def listing(self) -> list[dict[str, Any]]:
        """The manifest's ports list."""
        out = []
        for (number, protocol), port in sorted(self.by_number.items()):
            entry: dict[str, Any] = {"name": port["name"], "port": number}
            if port.get("servicePort") not in (None, number):
                entry["servicePort"] = port["servicePort"]
            if protocol != "TCP":
                entry["protocol"] = protocol
            out.append(entry)
        return out


def _add(ports: Ports, number: int, protocol: str, names: list[Any]) -> dict[str, Any]:
    key = (number, protocol)
    fallback = f"{protocol.lower()}-{number}"
    taken = {p["name"] for k, p in ports.by_number.items() if k != key}
    name = next((n for n in names if valid_port_name(n) and n not in taken), None)
    if key not in ports.by_number:
        ports.by_number[key] = {
            "name": name or fallback,
            "_k8s": next((n for n in names if isinstance(n, str)), None),
        }
    elif ports.by_number[key]["name"] == fallback and name:
        ports.by_number[key]["name"] = name  # the container left it unnamed; a Service did not
    return ports.by_number[key]


def _service_ports(ports: Ports, obj: KObject, svc: KObject, notes: Notes) -> None:
    """The ports of one Service that selects the workload."""
    for i, entry in enumerate((svc.body.get("spec") or {}).get("ports") or []):
        target = entry.get("targetPort") or entry.get("port")
        protocol = str(entry.get("protocol") or "TCP")
        if not isinstance(target, int | str):
            continue
        if isinstance(target, str) and not target.isdigit():
            found = [n for (n, _), p in ports.by_number.items() if target in (p["name"], p["_k8s"])]
            if not found:
                text = f"{svc.ref} port {target!r}: no container port of that name"
                notes.add("unsupported", text, svc.at(f"spec.ports[{i}]"))
                continue
            number = found[0]
        else:
            number = int(target)
        port = _add(ports, number, protocol, [entry.get("name")])
        port.setdefault("servicePort", entry.get("port"))
        if svc.name != obj.name:
            notes.add("inferred", f"port {port['name']} ({number}) from {svc.ref}", svc.where)


def own_headless(obj: KObject, svc: KObject) -> bool:
    """Whether svc is the headless Service cgen writes for a StatefulSet of this name."""
    headless = (svc.body.get("spec") or {}).get("clusterIP") == "None"
    return svc.name == f"{obj.name}-headless" and headless and obj.kind == "StatefulSet"


def workload_ports(
    obj: KObject,
    labels: dict[str, str],
    container: dict[str, Any],
    at: str,
    services: list[KObject],
    notes: Notes,
) -> Ports:
    """Container ports, then every Service port that targets the workload."""
    ports = Ports()
    for port in container.get("ports") or []:
        if isinstance(port.get("containerPort"), int):
            _add(ports, port["containerPort"], str(port.get("protocol", "TCP")), [port.get("name")])
    for svc in services:
        selector = (svc.body.get("spec") or {}).get("selector")
        if svc.namespace != obj.namespace or not selector:
            continue
        if matches({"matchLabels": selector}, labels):
            ports.services.append(svc)
            _service_ports(ports, obj, svc, notes)
    return ports
