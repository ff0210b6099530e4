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
from generator.manifest.formats import DNS_LABEL
from generator.model import DEFAULT_NAMESPACE
from generator.runtime.profiles import ProfileSet, RuntimeProfile
from generator.scaffold.layout import find

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
_LABEL = re.compile(DNS_LABEL)

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
    if not _LABEL.fullmatch(chosen or "-"):
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
    build = None if profile.prebuilt else _build(source, profile, context, lines)
    namespace, said = _namespace(target, namespace, service)
    lines.append(said)
    parsed = parse_ports(given)
    low = [str(p["port"]) for p in parsed if p["port"] < 1024]
    if low:
        lines.append(f"port {', '.join(low)} below 1024: no capability needed, the pod sets "
                     "the sysctl net.ipv4.ip_unprivileged_port_start instead")  # fmt: skip
    text = _text(service, namespace, runtime, image, parsed, build)
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


def _build(source: Path, profile: RuntimeProfile, context: str, lines: list[str]) -> dict[str, Any]:
    """spec.build: the context, and what runs and ships when the profile's default does not fit."""
    build: dict[str, Any] = {"context": context}
    lines += _lock_lines(source, profile)
    layout = find(source, profile)
    if layout is not None:
        lines += layout.lines
        if layout.entrypoint is not None:
            build["entrypoint"] = layout.entrypoint
        if layout.app_files is not None:
            build["appFiles"] = layout.app_files
    shipped = build.get("appFiles", profile.app_files)
    missing = [path for path in shipped if not (source / path).exists()]
    if missing:
        lines.append(f"missing {', '.join(missing)}: the image ships only the app files "
                     "the manifest names; name yours with build.appFiles")  # fmt: skip
    return build


def _lock_lines(source: Path, profile: RuntimeProfile) -> list[str]:
    """What validate will say of the source's lock files: missing, or not locking all."""
    # Imported here: only init of a built service reads lock files.
    from generator.images.lockfiles_json import check

    lines: list[str] = []
    for pattern in profile.lockfiles:
        present = sorted(p for p in source.glob(pattern) if p.is_file())
        if not present:
            lines.append(f"missing {pattern}: the build restores dependencies only from "
                         "its lock files, so validate and render refuse it until it exists; "
                         f"{profile.lock_hint}")  # fmt: skip
        for lockfile in present:
            found = check(lockfile)
            if found:
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                at = f"{lockfile.name}:{found[0].line}" if found[0].line else lockfile.name
                lines.append(f"{lockfile.name} does not lock every dependency, so validate and "
                             f"render refuse the build until it does: {at}: "
                             f"{found[0].message}{more}")  # fmt: skip
    return lines


def _namespace(target: Path, given: str | None, service: str) -> tuple[str, str]:
    """The namespace init writes, and why: never the cluster's `default` unless asked."""
    if given is not None:
        if given == DEFAULT_NAMESPACE:
            return given, (
                "namespace default, as asked: cgen will manage it, its default-deny "
                "NetworkPolicies and Pod Security labels apply to every pod already there"
            )
        return given, f"namespace {given}"
    config = target.parent / "cgen.yaml"
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) if config.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    chosen = data.get("namespace") if isinstance(data, dict) else None
    if isinstance(chosen, str) and chosen != DEFAULT_NAMESPACE and _LABEL.fullmatch(chosen):
        return chosen, f"namespace {chosen}, from {display_path(config)}"
    return service, (
        f"namespace {service}, the service's name (--namespace NAME picks another): cgen "
        "manages every namespace it renders into (default-deny NetworkPolicies, Pod "
        "Security labels), so a new service gets its own, never the cluster's 'default'"
    )


def _text(
    service: str,
    namespace: str,
    runtime: str,
    image: str | None,
    ports: list[dict[str, Any]],
    build: dict[str, Any] | None,
) -> str:
    metadata: dict[str, Any] = {"name": service, "namespace": namespace}
    spec: dict[str, Any] = {"runtime": runtime}
    spec["image"] = image or f"registry.example.com/{service}"
    spec["ports"] = ports
    if build is not None:
        spec["build"] = build
    body = {"apiVersion": "cgen/v1", "kind": "Service", "metadata": metadata, "spec": spec}
    head = [
        f"# {service}: written by `cgen init`; check it with `cgen validate`.",
        "# image: where the built image is pushed (registry.example.com is a placeholder).",
        "# ports: what it listens on; none makes a pure client (no Service, no ingress).",
        "# namespace: cgen manages all of it (default-deny policies, Pod Security labels).",
    ]
    if build is not None and len(build) > 1:
        head.append("# build: what the image runs and ships, as `cgen init` read the source.")
    dumped = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=4096)
    return "\n".join(head) + "\n" + dumped + OPTIONAL
