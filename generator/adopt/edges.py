"""Dependencies and ingress of imported workloads: from addresses in their configuration,
from the NetworkPolicies that restrict them, and from the Services that expose them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.adopt.addresses import find_addresses
from generator.adopt.kube import KObject
from generator.adopt.notes import Notes
from generator.adopt.policies import NAME_LABEL, Pod, Policies
from generator.adopt.ports import Ports

DNS_PORT = 53


@dataclass
class Workload:
    """One imported workload: its object, pod, ports and what import found for it."""

    obj: KObject
    pod: Pod
    ports: Ports
    env: dict[str, str]
    env_at: dict[str, str]
    notes: Notes
    deps: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    name: str = ""  # the manifest's name (the workload's, or its one Service's)
    ingress: list[dict[str, Any]] = field(default_factory=list)
    externals: list[dict[str, Any]] = field(default_factory=list)

    def depend(self, callee: Workload, port: str) -> bool:
        """Add a call to callee's port; False when it was known already."""
        ports = self.deps.setdefault((callee.obj.namespace, callee.name or callee.obj.name), [])
        if port in ports:
            return False
        ports.append(port)
        return True


def _service_index(workloads: list[Workload]) -> dict[tuple[str, str], tuple[KObject, Workload]]:
    index: dict[tuple[str, str], tuple[KObject, Workload]] = {}
    for w in workloads:
        for svc in w.ports.services:
            index.setdefault((svc.namespace, svc.name), (svc, w))
    return index


def from_addresses(workloads: list[Workload]) -> None:
    """Calls named by env values: host:port, URLs, *_ADDR/*_HOST (with *_PORT)."""
    index = _service_index(workloads)
    for w in workloads:
        for name, value in sorted(w.env.items()):
            for address in find_addresses(name, value, w.env):
                ns = address.namespace or w.obj.namespace
                found = index.get((ns, address.host))
                where = w.obj.at(w.env_at.get(name, ""))
                if found is None:
                    if address.namespace is None and address.port is not None:
                        w.notes.add(
                            "unsupported",
                            f"env {name} names {address.host}:"
                            f"{address.port}, which no Service in the input is",
                            where,
                        )
                    continue
                svc, callee = found
                port = callee.ports.target(svc, address.port)
                if port is None or callee is w:
                    continue
                if w.depend(callee, port):
                    w.notes.add(
                        "inferred", f"calls {callee.pod.key}:{port} (env {name}={value})", where
                    )


def from_policies(workloads: list[Workload], policies: Policies) -> set[tuple[str, str, str, int]]:
    """Calls the policies allow between imported workloads; returns the open pairs."""
    pods = [w.pod for w in workloads]
    by_key = {w.pod.key: w for w in workloads}
    allowed, open_ = policies.allowed(pods)
    for src, dst, protocol, number in sorted(allowed - open_):
        caller, callee = by_key[src], by_key[dst]
        port = callee.ports.by_number[(number, protocol)]["name"]
        if caller is not callee and caller.depend(callee, port):
            caller.notes.add("inferred", f"calls {dst}:{port} (allowed by NetworkPolicy)")
    return allowed


def _rule_ports(rule: dict[str, Any], w: Workload) -> list[Any] | None:
    names = [w.ports.name_of(p.get("port")) for p in rule.get("ports") or [] if p.get("port")]
    return [n for n in names if n] or None


def _outside_peer(peer: dict[str, Any], ns: str) -> dict[str, Any] | None:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        out: dict[str, Any] = {"cidr": str(block.get("cidr"))}
        if block.get("except"):
            out["except"] = [str(c) for c in block["except"]]
        return out
    ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector") or {}
    if set(pod_sel) - {"matchLabels"}:
        return None
    labels = {str(k): str(v) for k, v in (pod_sel.get("matchLabels") or {}).items()}
    if ns_sel is None:
        namespace = ns
    else:
        names = (ns_sel.get("matchLabels") or {}) if not ns_sel.get("matchExpressions") else {}
        if set(names) != {NAME_LABEL}:
            return None
        namespace = str(names[NAME_LABEL])
    return {"namespace": namespace, "podLabels": labels} if labels else {"namespace": namespace}


def _outside_ingress(w: Workload, policies: Policies, workloads: list[Workload]) -> None:
    for policy in policies.selecting(w.pod, "Ingress"):
        for rule in (policy.body.get("spec") or {}).get("ingress") or []:
            for peer in rule.get("from") or [{"ipBlock": {"cidr": "0.0.0.0/0"}}]:
                source = _outside_peer(peer, w.obj.namespace)
                if source is None:
                    w.notes.add("unsupported", f"ingress peer {peer} of {policy.ref}", policy.where)
                    continue
                labels = set(source.get("podLabels", {}).items())
                if any(
                    x.pod.namespace == source.get("namespace") and labels <= set(x.pod.labels)
                    for x in workloads
                ):
                    continue  # imported workloads: their dependencies say it
                entry: dict[str, Any] = {"from": source}
                if (ports := _rule_ports(rule, w)) is not None:
                    entry["ports"] = ports
                w.ingress.append(entry)
                w.notes.add("inferred", f"ingress from {source} ({policy.ref})", policy.where)


def _network_egress(w: Workload, policies: Policies) -> None:
    for policy in policies.selecting(w.pod, "Egress"):
        for rule in (policy.body.get("spec") or {}).get("egress") or []:
            numbers = [p.get("port") for p in rule.get("ports") or []]
            if numbers and all(n == DNS_PORT for n in numbers):
                continue  # cluster DNS: cgen allows it in every namespace
            for peer in rule.get("to") or []:
                if "ipBlock" not in peer:
                    continue
                cidr = str(peer["ipBlock"].get("cidr"))
                if not numbers or not all(isinstance(n, int) for n in numbers):
                    text = f"egress to {cidr} on every port (cgen needs port numbers)"
                    w.notes.add("unsupported", text, policy.where)
                    continue
                w.externals.append({"cidr": cidr, "ports": numbers})
                w.notes.add("inferred", f"egress to {cidr} ({policy.ref})", policy.where)


def from_outside(workloads: list[Workload], policies: Policies) -> None:
    """Ingress from outside the import (ipBlocks, other pods) and egress to networks."""
    for w in workloads:
        _outside_ingress(w, policies, workloads)
        _network_egress(w, policies)


def exposure(w: Workload) -> dict[str, Any] | None:
    """A NodePort or LoadBalancer Service: the service type, and ingress from its ranges."""
    widest: dict[str, Any] | None = None
    for svc in w.ports.services:
        spec = svc.body.get("spec") or {}
        kind = str(spec.get("type", "ClusterIP"))
        if kind not in ("NodePort", "LoadBalancer"):
            continue
        ranges = [str(r) for r in spec.get("loadBalancerSourceRanges") or []] or ["0.0.0.0/0"]
        widest = {"type": kind}
        if kind == "LoadBalancer":
            widest["loadBalancerSourceRanges"] = ranges
        ports = [
            w.ports.name_of(p.get("targetPort", p.get("port"))) for p in spec.get("ports") or []
        ]
        for cidr in ranges:
            w.ingress.append({"from": {"cidr": cidr}, "ports": [p for p in ports if p]})
        w.notes.add(
            "inferred",
            f"{kind} exposure and ingress from {', '.join(ranges)} ({svc.ref})",
            svc.where,
        )
    return widest
