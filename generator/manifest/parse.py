"""Build the frozen models from YAML that the schema has accepted."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.errors import Problem
from generator.images.lock import ImageLock
from generator.loader import Document
from generator.manifest import parse_workload as workload
from generator.manifest.checks import check_service
from generator.manifest.checks_workload import check_pins, check_raw_env
from generator.manifest.contract import CONFIG, MANIFEST
from generator.model import (
    DEFAULT_PROTOCOL,
    DEFAULT_REPLICAS,
    Config,
    ExternalDependency,
    IngressRule,
    NamespaceSecurity,
    Patch,
    Port,
    Probe,
    ProbeKind,
    Role,
    SecretMount,
    Service,
    ServiceDependency,
    Unmanaged,
)
from generator.schema import Context
from generator.supply.parse import pipeline, signing

# Every default comes from the model: a key the document leaves out gets the field's default.
_CONFIG = Config()


def _pairs(mapping: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((mapping or {}).items()))


def load_config(doc: Document | None) -> tuple[Config, list[Problem]]:
    """Build the Config from cgen.yaml (or defaults when there is none)."""
    if doc is None:
        return Config(), []
    if doc.data is None:
        doc.data = {}
    ctx = Context(doc)
    if not CONFIG.check(doc.data, "", ctx):
        return Config(path=doc.path), ctx.problems
    data: dict[str, Any] = doc.data
    dns = data.get("dns", {})
    seccomp = data.get("seccomp", {})
    config = Config(
        path=doc.path,
        namespace=data.get("namespace", _CONFIG.namespace),
        out=data.get("out"),
        dialect=data.get("dialect", _CONFIG.dialect),
        formats=tuple(data.get("formats", _CONFIG.formats)),
        profiles=data.get("profiles"),
        image_lock=data.get("imageLock", _CONFIG.image_lock),
        create_namespaces=data.get("createNamespaces", _CONFIG.create_namespaces),
        dns_namespace=dns.get("namespace", _CONFIG.dns_namespace),
        dns_labels=_pairs(dns.get("podLabels")) or _CONFIG.dns_labels,
        egress_except=tuple(data.get("egressExcept", _CONFIG.egress_except)),
        writable_size_limit=data.get("writableSizeLimit", _CONFIG.writable_size_limit),
        seccomp_mode=seccomp.get("mode", _CONFIG.seccomp_mode),
        seccomp_delivery=seccomp.get("delivery", _CONFIG.seccomp_delivery),
        seccomp_prefix=seccomp.get("localhostPrefix", _CONFIG.seccomp_prefix),
        dns_node_local=dns.get("nodeLocal"),
        pod_cidrs=tuple(data.get("podCidrs", ())),
        service_cidrs=tuple(data.get("serviceCidrs", ())),
        ingress_controller=_role(data.get("ingressController")),
        metrics_scraper=_role(data.get("metricsScraper")),
        registry_mirrors=_pairs(data.get("registryMirrors")),
        unmanaged=tuple(
            _unmanaged(key, value) for key, value in sorted(data.get("unmanaged", {}).items())
        ),
        pod_security=tuple(
            NamespaceSecurity(key, value["level"], value["reason"], f"podSecurity.{key}")
            for key, value in sorted(data.get("podSecurity", {}).items())
        ),
        signing=signing(data.get("signing")),
        ci=pipeline(data.get("ci")),
        doc=doc,
    )
    return config, []


def _unmanaged(key: str, data: dict[str, Any]) -> Unmanaged:
    keypath = f"unmanaged.{key}"
    ports = tuple(
        Port(
            p["name"],
            p["port"],
            p["port"],
            p.get("protocol", DEFAULT_PROTOCOL),
            f"{keypath}.ports[{i}]",
        )
        for i, p in enumerate(data["ports"])
    )
    return Unmanaged(key, data["namespace"], _pairs(data["podLabels"]), ports, keypath)


def _role(data: dict[str, Any] | None) -> Role | None:
    if data is None:
        return None
    return Role(data["namespace"], _pairs(data["podLabels"]))


# Reads a file a manifest names (relative to the manifest): its text, or why it cannot be.
FileReader = Callable[[str], tuple[str | None, str | None]]


@dataclass(frozen=True)
class RuntimeDefaults:
    """What a runtime profile fills in for a manifest: spec keys it leaves out, prebuilt."""

    spec: dict[str, Any] = field(default_factory=dict)
    prebuilt: bool = False


def load_service(
    doc: Document,
    config: Config,
    defaults: RuntimeDefaults | None = None,
    read: FileReader | None = None,
    lock: ImageLock | None = None,
) -> tuple[Service | None, list[Problem]]:
    """Validate one manifest document and build its Service; None when it is invalid.

    With the image lock, the images cgen does not build must be pinned (inline or by it);
    without (`cgen pin` loads what it is about to pin), that is not checked."""
    ctx = Context(doc)
    foreign = _kubernetes_shape(doc.data)
    if foreign is not None:
        # One error, not one for every key a Deployment has and a manifest does not.
        where = shlex.quote(doc.path)
        ctx.fail(
            "apiVersion",
            f"this is Kubernetes YAML ({foreign}), not a cgen manifest: `cgen import {where}` "
            "turns it into one, or move it out of the manifests folder",
        )
        return None, ctx.problems
    if not MANIFEST.check(doc.data, "", ctx):
        check_raw_env(doc.data, ctx)
        return None, ctx.problems
    files = _read_files(doc.data["spec"], read, ctx)
    service = _build(doc, config, defaults or RuntimeDefaults(), files)
    check_service(service, config, ctx)
    if lock is not None:
        check_pins(service, ctx, lock)
    return (None if ctx.problems else service), ctx.problems


# A Kubernetes apiVersion: v1, apps/v1, networking.k8s.io/v1, batch/v1beta1, ...
_KUBE_VERSION = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?")


def _kubernetes_shape(data: Any) -> str | None:
    """'apps/v1 Deployment' for a Kubernetes object (a kind and a Kubernetes apiVersion)."""
    if not isinstance(data, dict):
        return None
    version, kind = data.get("apiVersion"), data.get("kind")
    if not (isinstance(version, str) and isinstance(kind, str) and kind.isidentifier()):
        return None
    if version.startswith("cgen/") or not _KUBE_VERSION.fullmatch(version):
        return None
    spec = data.get("spec")
    if isinstance(spec, dict) and "runtime" in spec:
        return None  # a cgen manifest under a wrong apiVersion: its own error says which
    return f"{version} {kind}"


def _read_files(spec: dict[str, Any], read: FileReader | None, ctx: Context) -> dict[str, str]:
    """The text of every file the manifest names (config files, patches), by key path."""
    wanted = [
        (f"spec.config[{i}].files.{name}", value["file"])
        for i, entry in enumerate(spec.get("config", []))
        for name, value in sorted(entry["files"].items())
        if isinstance(value, dict)
    ]
    wanted += [(f"spec.patches[{i}]", path) for i, path in enumerate(spec.get("patches", []))]
    found: dict[str, str] = {}
    for keypath, path in wanted:
        text, error = read(path) if read is not None else (None, "files cannot be read here")
        if text is None:
            ctx.fail(keypath, error or f"{path}: cannot be read")
        else:
            found[keypath] = text
    return found


def _build(
    doc: Document, config: Config, defaults: RuntimeDefaults, files: dict[str, str]
) -> Service:
    meta: dict[str, Any] = doc.data["metadata"]
    # A runtime profile's defaults fill the spec keys the manifest leaves out.
    spec: dict[str, Any] = {**defaults.spec, **doc.data["spec"]}
    if "env" in defaults.spec and "env" in doc.data["spec"]:
        # Environment values merge per name: a manifest adding TZ keeps the profile's PGDATA.
        spec["env"] = {**defaults.spec["env"], **doc.data["spec"]["env"]}
    namespace = meta.get("namespace", config.namespace)
    ports = tuple(
        Port(
            p["name"],
            p["port"],
            p.get("servicePort", p["port"]),
            p.get("protocol", DEFAULT_PROTOCOL),
            f"spec.ports[{i}]",
            p.get("scrape", False),
            p.get("container"),
        )
        for i, p in enumerate(spec.get("ports", []))
    )
    deps: list[ServiceDependency] = []
    externals: list[ExternalDependency] = []
    for i, dep in enumerate(spec.get("dependencies", [])):
        keypath = f"spec.dependencies[{i}]"
        ports_ref = tuple(dep["ports"]) if "ports" in dep else None
        if "service" in dep:
            deps.append(
                ServiceDependency(
                    dep["service"], dep.get("namespace", namespace), ports_ref, keypath
                )
            )
        else:
            cidrs = (dep["cidr"],) if "cidr" in dep else tuple(dep.get("cidrs", ()))
            numbers = tuple(p for p in ports_ref or () if isinstance(p, int))
            externals.append(
                ExternalDependency(
                    dep.get("host"), cidrs, numbers, dep.get("protocol", DEFAULT_PROTOCOL), keypath
                )
            )
    ingress = tuple(
        _ingress(r, f"spec.ingress[{i}]") for i, r in enumerate(spec.get("ingress", []))
    )
    probes = tuple(
        (kind, _probe(p, f"spec.probes.{kind}"))
        for kind, p in sorted(spec.get("probes", {}).items())
    )
    build = spec.get("build", {})
    return Service(
        name=meta["name"],
        namespace=namespace,
        labels=_pairs(meta.get("labels")),
        runtime=spec["runtime"],
        image=spec["image"],
        replicas=spec.get("replicas", DEFAULT_REPLICAS),
        user=spec.get("user"),
        ports=ports,
        dependencies=tuple(deps),
        externals=tuple(externals),
        ingress=ingress,
        capabilities=tuple(sorted(spec.get("capabilities", []))),
        syscalls=tuple(sorted(spec.get("syscalls", []))),
        writable_paths=tuple(spec.get("writablePaths", [])),
        secrets=tuple(SecretMount(s["secret"], s["mountPath"]) for s in spec.get("secrets", [])),
        probes=probes,
        resources={k: dict(v) for k, v in spec.get("resources", {}).items()},
        entrypoint=tuple(build["entrypoint"]) if "entrypoint" in build else None,
        build_context=build.get("context"),
        app_files=tuple(build["appFiles"]) if "appFiles" in build else None,
        seccomp_mode=spec.get("seccomp", {}).get("mode"),
        capability_keys=_keyed(spec.get("capabilities", []), "spec.capabilities"),
        syscall_keys=_keyed(spec.get("syscalls", []), "spec.syscalls"),
        doc=doc,
        prebuilt=defaults.prebuilt or build.get("prebuilt", False),
        command=tuple(spec["command"]) if "command" in spec else None,
        args=tuple(spec["args"]) if "args" in spec else None,
        env=tuple(sorted(spec.get("env", {}).items())),
        config=workload.config_mounts(spec, files),
        storage=workload.volumes(spec),
        peer_ports=tuple(spec.get("peerPorts", ())),
        job=workload.job(spec),
        exposure=workload.exposure(spec),
        autoscaling=workload.autoscaling(spec, spec.get("replicas", DEFAULT_REPLICAS)),
        pod=workload.placement(spec),
        patches=tuple(
            Patch(posixpath.basename(path), files[key], key)
            for path, key in _keyed(spec.get("patches", []), "spec.patches")
            if key in files  # an unreadable one is reported already
        ),
        containers=workload.containers(spec),
    )


def _keyed(names: list[str], keypath: str) -> tuple[tuple[str, str], ...]:
    """Each name with the key path it was declared at, in manifest order."""
    return tuple((name, f"{keypath}[{i}]") for i, name in enumerate(names))


def _ingress(rule: dict[str, Any], keypath: str) -> IngressRule:
    ports = tuple(rule["ports"]) if "ports" in rule else None
    source = rule["from"]
    if isinstance(source, str):
        return IngressRule(None, (), None, (), ports, keypath, source)
    return IngressRule(
        source.get("namespace"),
        _pairs(source.get("podLabels")),
        source.get("cidr"),
        tuple(source.get("except", ())),
        ports,
        keypath,
    )


def _probe(data: dict[str, Any], keypath: str) -> Probe:
    kind: ProbeKind = "http" if "http" in data else "grpc" if "grpc" in data else "tcp"
    body = data[kind]
    timings = tuple(sorted((k, v) for k, v in data.items() if k not in ("http", "grpc", "tcp")))
    return Probe(
        kind,
        body["port"],
        body.get("path", "/") if kind == "http" else None,
        body.get("service"),
        timings,
        f"{keypath}.{kind}",
    )
