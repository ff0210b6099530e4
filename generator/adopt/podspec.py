"""A workload's pod template as cgen manifest fields, and the privileges it held."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from generator.adopt.kube import KObject
from generator.adopt.notes import Notes
from generator.manifest.checks_workload import secret_problem
from generator.workload.probes import DEFAULT_LIVENESS_TIMINGS

# Words in an image reference that name the runtime profile it runs (first match wins).
_RUNTIME_WORDS = (
    ("postgres", "postgresql"), ("postgresql", "postgresql"), ("redis", "redis"),
    ("nginx", "nginx"), ("memcached", "memcached"), ("mariadb", "mariadb"),
    ("rabbitmq", "rabbitmq"), ("python", "python"), ("node", "node"), ("nodejs", "node"),
    ("golang", "go"), ("openjdk", "java"), ("temurin", "java"), ("java", "java"),
    ("jre", "java"), ("dotnet", "dotnet"), ("aspnet", "dotnet"),
)  # fmt: skip
_COMMAND_WORDS = {
    "python": "python",
    "python3": "python",
    "node": "node",
    "java": "java",
    "dotnet": "dotnet",
}
_PROBE_KEYS = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")
SECRETS_ROOT = "/var/run/secrets"
PortName = Callable[[Any], str | None]


def pod_template(obj: KObject) -> tuple[dict[str, Any], str]:
    """The pod template of a workload and its key path."""
    spec = obj.body.get("spec") or {}
    if obj.kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        return job.get("template") or {}, "spec.jobTemplate.spec.template"
    return spec.get("template") or {}, "spec.template"


def guess_runtime(image: str, command: list[str], notes: Notes, where: Any) -> str:
    """The runtime profile an image or command names; static when neither says."""
    words = re.split(r"[/:@._-]", image.lower().split("@")[0])
    for word, runtime in _RUNTIME_WORDS:
        if word in words:
            notes.add("inferred", f"runtime {runtime} from the image name {image}", where)
            return runtime
    first = command[0].rsplit("/", 1)[-1] if command else ""
    if first in _COMMAND_WORDS:
        notes.add("inferred", f"runtime {_COMMAND_WORDS[first]} from the command {first}", where)
        return _COMMAND_WORDS[first]
    notes.add(
        "unsupported",
        "runtime: neither the image nor the command names one; static assumed: set "
        "spec.runtime (or --runtime NAME=RUNTIME), its seccomp baseline is what may run",
        where,
    )
    return "static"


def _probe(probe: dict[str, Any], port_name: PortName) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if probe.get("httpGet"):
        http = probe["httpGet"]
        port = port_name(http.get("port"))
        if port is None:
            return None
        out["http"] = {"path": str(http.get("path", "/")), "port": port}
    elif probe.get("grpc"):
        port = port_name(probe["grpc"].get("port"))
        if port is None:
            return None
        out["grpc"] = {"port": port}
        if probe["grpc"].get("service"):
            out["grpc"]["service"] = str(probe["grpc"]["service"])
    elif probe.get("tcpSocket"):
        port = port_name(probe["tcpSocket"].get("port"))
        if port is None:
            return None
        out["tcp"] = {"port": port}
    else:
        return None
    out.update({k: int(probe[k]) for k in _PROBE_KEYS if isinstance(probe.get(k), int)})
    return out


def probes(
    obj: KObject, container: dict[str, Any], at: str, port_name: PortName, notes: Notes
) -> dict[str, Any]:
    """readiness, liveness and startup probes on the service's own ports."""
    found: dict[str, Any] = {}
    for kind in ("readiness", "liveness", "startup"):
        probe = container.get(f"{kind}Probe")
        if not isinstance(probe, dict):
            continue
        converted = _probe(probe, port_name)
        where = obj.at(f"{at}.{kind}Probe")
        if converted is None:
            notes.add("unsupported", f"{kind} probe (exec, or a port it does not declare)", where)
        else:
            found[kind] = converted
            if "httpHeaders" in (probe.get("httpGet") or {}):
                notes.add("unsupported", f"{kind} probe's HTTP headers", where)
    if _is_default_liveness(found):
        # What cgen adds by itself: left out, so the manifest says only what is chosen.
        del found["liveness"]
    return found


def _is_default_liveness(found: dict[str, Any]) -> bool:
    """Whether the liveness probe is cgen's default: TCP, on the port the readiness probe
    checks, with the default timings."""
    live, ready = found.get("liveness"), found.get("readiness")
    if live is None or ready is None or "tcp" not in live:
        return False
    timings = {k: v for k, v in live.items() if k != "tcp"}
    ready_port = next(ready[k]["port"] for k in ("tcp", "http", "grpc") if k in ready)
    return live["tcp"]["port"] == ready_port and timings == dict(DEFAULT_LIVENESS_TIMINGS)


def resources(container: dict[str, Any]) -> dict[str, Any]:
    """requests and limits of cpu, memory and ephemeral storage, as written."""
    out: dict[str, Any] = {}
    for side in ("requests", "limits"):
        values = (container.get("resources") or {}).get(side) or {}
        kept = {
            k: str(v)
            for k, v in sorted(values.items())
            if k in ("cpu", "memory", "ephemeral-storage")
        }
        if kept:
            out[side] = kept
    return out


def _secret_mount(secret: str, mounts: dict[str, str]) -> str:
    return mounts.setdefault(secret, f"{SECRETS_ROOT}/{secret}")


def env(
    obj: KObject,
    container: dict[str, Any],
    at: str,
    config_maps: dict[tuple[str, str], dict[str, str]],
    secret_mounts: dict[str, str],
    notes: Notes,
) -> dict[str, str]:
    """Plain environment values; secrets become files, configMap values are copied."""
    out: dict[str, str] = {}
    for i, item in enumerate(container.get("env") or []):
        name, where = str(item.get("name")), obj.at(f"{at}.env[{i}]")
        source = item.get("valueFrom") or {}
        if "value" in item or not source:
            value = str(item.get("value", ""))
        elif source.get("configMapKeyRef"):
            ref = source["configMapKeyRef"]
            data = config_maps.get((obj.namespace, str(ref.get("name"))), {})
            if str(ref.get("key")) not in data:
                notes.add(
                    "unsupported",
                    f"env {name}: ConfigMap {ref.get('name')} not in the input",
                    where,
                )
                continue
            value = data[str(ref.get("key"))]
            notes.add("inferred", f"env {name} copied from ConfigMap {ref.get('name')}", where)
        elif source.get("secretKeyRef"):
            ref = source["secretKeyRef"]
            path = f"{_secret_mount(str(ref.get('name')), secret_mounts)}/{ref.get('key')}"
            notes.add(
                "dropped",
                f"env {name} held Secret {ref.get('name')} key {ref.get('key')}: now the file "
                f"{path}; point the program at it (e.g. {name}_FILE)",
                where,
            )
            continue
        else:
            notes.add("unsupported", f"env {name}: valueFrom {', '.join(source)}", where)
            continue
        why = secret_problem(name, value)
        if why is not None:
            notes.add("dropped", f"env {why}: mount it as a secret file instead", where)
            continue
        out[name] = value
    _env_from(obj, container, at, config_maps, secret_mounts, notes, out)
    return out


def _env_from(
    obj: KObject,
    container: dict[str, Any],
    at: str,
    config_maps: dict[tuple[str, str], dict[str, str]],
    secret_mounts: dict[str, str],
    notes: Notes,
    out: dict[str, str],
) -> None:
    for i, item in enumerate(container.get("envFrom") or []):
        where = obj.at(f"{at}.envFrom[{i}]")
        if item.get("secretRef"):
            secret = str(item["secretRef"].get("name"))
            path = _secret_mount(secret, secret_mounts)
            notes.add("dropped", f"envFrom Secret {secret}: now files below {path}", where)
        elif item.get("configMapRef"):
            cm = str(item["configMapRef"].get("name"))
            data = config_maps.get((obj.namespace, cm))
            if data is None:
                notes.add("unsupported", f"envFrom ConfigMap {cm} not in the input", where)
                continue
            prefix = str(item.get("prefix", ""))
            out.update({f"{prefix}{k}": v for k, v in data.items() if secret_problem(k, v) is None})
            notes.add("inferred", f"env copied from ConfigMap {cm}", where)
