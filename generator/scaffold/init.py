"""`cgen init`: a first manifest for a service, read off its source folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.errors import UsageError, UserError
from generator.loader import display_path
from generator.runtime.profiles import ProfileSet

# Project files that say which runtime builds the source (glob, runtime), in the order
# they are reported.
MARKERS = (
    ("pyproject.toml", "python"), ("requirements.txt", "python"), ("setup.py", "python"),
    ("package.json", "node"), ("go.mod", "go"), ("*.csproj", "dotnet"), ("*.fsproj", "dotnet"),
    ("pom.xml", "java"), ("build.gradle", "java"), ("build.gradle.kts", "java"),
    ("Cargo.toml", "static"),
)  # fmt: skip
_EXPOSE = re.compile(r"^\s*EXPOSE\s+(.+)$", re.IGNORECASE | re.MULTILINE)
_PORT = re.compile(r"(?:(?P<name>[a-z0-9-]{1,15})=)?(?P<port>\d{1,5})(?:/(?P<proto>tcp|udp|sctp))?")
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")

OPTIONAL = """\
  # Everything below is optional; uncomment what the service needs (cgen schema lists all).
  # replicas: 2
  # dependencies:                  # everything it calls; nothing else leaves the pod
  #   - service: other-service     # another manifest's metadata.name
  #     ports: [grpc]
  #   - host: api.example.com      # an external name, with the networks behind it
  #     ports: [443]
  #     cidrs: [203.0.113.0/24]
  # ingress:                       # callers that are not cgen services
  #   - from: ingress-controller   # the controller cgen.yaml names
  #     ports: [http]
  # capabilities: []               # Linux capabilities added after dropping ALL
  # syscalls: []                   # beyond the runtime's measured baseline
  # writablePaths: [/tmp]          # size-limited emptyDirs; the root stays read-only
  # secrets:                       # files, never environment variables
  #   - secret: my-secret
  #     mountPath: /var/run/secrets/my-secret
  # env: {LOG_LEVEL: info}
  # config:                        # ConfigMap files, mounted read-only
  #   - name: app
  #     mountPath: /etc/app
  #     files: {app.conf: {file: config/app.conf}}
  # probes:
  #   readiness: {http: {path: /healthz, port: http}}
  #   liveness: {tcp: {port: http}}
  # resources:
  #   requests: {cpu: 100m, memory: 128Mi}
  #   limits: {cpu: 500m, memory: 256Mi}
  # storage: [{name: data, mountPath: /var/lib/data, size: 1Gi}]   # a StatefulSet
  # job: {schedule: "17 3 * * *"}  # a CronJob instead of a Deployment
"""


@dataclass
class InitResult:
    """The manifest init wrote, and what it found out about the source."""

    path: Path
    text: str
    runtime: str
    lines: list[str]


def detect_runtime(source: Path) -> tuple[str, list[str]]:
    """The runtime the project files name, and which files said so."""
    found: dict[str, list[str]] = {}
    for pattern, runtime in MARKERS:
        for match in sorted(source.glob(pattern)):
            found.setdefault(runtime, []).append(match.name)
    if not found:
        names = ", ".join(p for p, _ in MARKERS)
        raise UserError(
            f"{display_path(source)}: no project file tells the runtime (looked for {names}); "
            "pass --runtime"
        )
    if len(found) > 1:
        said = "; ".join(f"{r} ({', '.join(files)})" for r, files in sorted(found.items()))
        raise UserError(
            f"{display_path(source)}: the project files disagree: {said}; pass --runtime"
        )
    runtime, files = next(iter(found.items()))
    return runtime, files


def parse_ports(values: list[str]) -> list[dict[str, Any]]:
    """--port 8080, --port grpc=7070, --port 53/udp as manifest ports."""
    ports: list[dict[str, Any]] = []
    for value in values:
        match = _PORT.fullmatch(value.strip().lower())
        if match is None or not 0 < int(match.group("port")) < 65536:
            raise UsageError(f"--port: {value!r}: write PORT, NAME=PORT or PORT/udp")
        proto = (match.group("proto") or "tcp").upper()
        taken = {p["name"] for p in ports}
        name = match.group("name") or ("http" if proto == "TCP" and "http" not in taken else None)
        entry: dict[str, Any] = {"name": name or f"{proto.lower()}-{match.group('port')}"}
        entry["port"] = int(match.group("port"))
        if proto != "TCP":
            entry["protocol"] = proto
        ports.append(entry)
    return ports


def exposed_ports(source: Path) -> list[str]:
    """The ports the source's own Dockerfile EXPOSEs (variables left out)."""
    dockerfile = source / "Dockerfile"
    if not dockerfile.is_file():
        return []
    found: list[str] = []
    for match in _EXPOSE.finditer(dockerfile.read_text(encoding="utf-8", errors="replace")):
        found += [w for w in match.group(1).split() if w[0].isdigit()]
    return found


def _name(source: Path, name: str | None) -> str:
    chosen = name or _NOT_LABEL.sub("-", source.resolve().name.lower()).strip("-")[:63].strip("-")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", chosen or "-"):
        raise UsageError(f"--name: {chosen!r} is not a DNS-1123 label; pass --name")
    return chosen


def scaffold(
    source: Path,
    out: Path | None,
    *,
    name: str | None = None,
    runtime: str | None = None,
    ports: list[str] | None = None,
    image: str | None = None,
    namespace: str | None = None,
) -> InitResult:
    """Write a manifest for the service whose source is in `source`; never overwrite."""
    if not source.is_dir():
        raise UserError(f"{display_path(source)}: not a folder")
    service = _name(source, name)
    lines: list[str] = []
    if runtime is None:
        runtime, files = detect_runtime(source)
        lines.append(f"runtime {runtime}, from {', '.join(files)}")
    profile = ProfileSet(None, None).get(runtime)
    if profile is None:
        raise UsageError(f"--runtime: no runtime profile {runtime!r}")
    given = ports if ports else exposed_ports(source)
    if ports is None and given:
        lines.append(f"ports {', '.join(given)}, from the Dockerfile's EXPOSE")
    target = out or Path(f"{service}.yaml")
    if target.exists():
        raise UserError(f"{display_path(target)}: exists; cgen init never overwrites a file")
    context = Path(os.path.relpath(source.resolve(), target.parent.resolve())).as_posix()
    for pattern in profile.lockfiles:
        if not any(p.is_file() for p in source.glob(pattern)):
            lines.append(f"missing {pattern}: render refuses the build until it exists; "
                         f"{profile.lock_hint}")  # fmt: skip
    missing = [path for path in profile.app_files if not (source / path).exists()]
    if missing:
        lines.append(f"missing {', '.join(missing)}: the image ships only the app files the "
                     "profile names; name yours with build.appFiles")  # fmt: skip
    parsed = parse_ports(given)
    low = [str(p["port"]) for p in parsed if p["port"] < 1024]
    if low:
        lines.append(f"port {', '.join(low)} below 1024: no capability needed, the pod sets "
                     "the sysctl net.ipv4.ip_unprivileged_port_start instead")  # fmt: skip
    text = _text(service, namespace, runtime, image, parsed, context, profile.prebuilt)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as handle:  # "x": never overwrite
        handle.write(text)
    if not profile.prebuilt and not any(
        (target.parent / name).exists() for name in ("images.lock", "cgen.yaml")
    ):
        lines.append(
            "no images.lock here: validate and render pin the base images to the digests "
            "cgen ships; `cgen pin --offline` writes them into images.lock to commit "
            "(`cgen pin` resolves current ones)"
        )
    return InitResult(target, text, runtime, lines)


def _text(
    service: str,
    namespace: str | None,
    runtime: str,
    image: str | None,
    ports: list[dict[str, Any]],
    context: str,
    prebuilt: bool,
) -> str:
    metadata: dict[str, Any] = {"name": service}
    if namespace:
        metadata["namespace"] = namespace
    spec: dict[str, Any] = {"runtime": runtime}
    spec["image"] = image or f"registry.example.com/{service}"
    spec["ports"] = ports
    if not prebuilt:
        spec["build"] = {"context": context}
    body = {"apiVersion": "cgen/v1", "kind": "Service", "metadata": metadata, "spec": spec}
    head = [
        f"# {service}: written by `cgen init`; check it with `cgen validate`.",
        "# image: where the built image is pushed (registry.example.com is a placeholder).",
        "# ports: what it listens on; none makes a pure client (no Service, no ingress).",
    ]
    dumped = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=4096)
    return "\n".join(head) + "\n" + dumped + OPTIONAL
