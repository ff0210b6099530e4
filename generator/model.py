"""The manifest and the project configuration as frozen, validated models; all defaults here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import Problem
from .loader import Document
from .manifest_schema import CONFIG, MANIFEST
from .schema import Context

Protocol = Literal["TCP", "UDP", "SCTP"]
PortRef = str | int
ProbeKind = Literal["http", "grpc", "tcp"]

DEFAULT_NAMESPACE = "default"
DEFAULT_EGRESS_EXCEPT = ("169.254.169.254/32",)
DEFAULT_DNS_NAMESPACE = "kube-system"
DEFAULT_DNS_LABELS = (("k8s-app", "kube-dns"),)
DEFAULT_WRITABLE_SIZE = "64Mi"


@dataclass(frozen=True)
class Config:
    """cgen.yaml: project-wide settings, with every default filled in."""

    path: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    out: str = "out"
    dialect: Literal["kubernetes", "cilium"] = "kubernetes"
    formats: tuple[str, ...] = ("kubernetes",)
    profiles: str | None = None
    image_lock: str = "images.lock"
    create_namespaces: bool = True
    dns_namespace: str = DEFAULT_DNS_NAMESPACE
    dns_labels: tuple[tuple[str, str], ...] = DEFAULT_DNS_LABELS
    egress_except: tuple[str, ...] = DEFAULT_EGRESS_EXCEPT
    writable_size_limit: str = DEFAULT_WRITABLE_SIZE
    seccomp_mode: Literal["enforce", "audit"] = "enforce"
    seccomp_delivery: Literal["localhost", "operator"] = "localhost"
    seccomp_prefix: str = "cgen"
    dns_node_local: str | None = None
    pod_cidrs: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    ingress_controller: Role | None = None
    metrics_scraper: Role | None = None
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    # cgen.yaml as loaded, so network reports can name the lines a setting came from.
    doc: Document | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Role:
    """Pods known by a role (ingress controller, metrics scraper) in cgen.yaml."""

    namespace: str
    pod_labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Port:
    """A port the service listens on."""

    name: str
    port: int
    service_port: int
    protocol: Protocol
    keypath: str
    scrape: bool = False


@dataclass(frozen=True)
class ServiceDependency:
    """A call to another cgen service."""

    service: str
    namespace: str
    ports: tuple[PortRef, ...] | None
    keypath: str


@dataclass(frozen=True)
class ExternalDependency:
    """A call to an external DNS name or network."""

    host: str | None
    cidrs: tuple[str, ...]
    ports: tuple[int, ...]
    protocol: Protocol
    keypath: str


@dataclass(frozen=True)
class IngressRule:
    """Callers that are not cgen services (controllers, load balancers, scrapers).

    role is set for `from: ingress-controller` / `from: metrics-scraper`; the other source
    fields are then empty and the role's identity comes from cgen.yaml.
    """

    namespace: str | None
    pod_labels: tuple[tuple[str, str], ...]
    cidr: str | None
    except_: tuple[str, ...]
    ports: tuple[PortRef, ...] | None
    keypath: str
    role: str | None = None


@dataclass(frozen=True)
class SecretMount:
    """A Kubernetes Secret mounted read-only."""

    secret: str
    mount_path: str


@dataclass(frozen=True)
class Probe:
    """A readiness, liveness or startup probe on one of the service's own ports."""

    kind: ProbeKind
    port: PortRef
    path: str | None
    grpc_service: str | None
    timings: tuple[tuple[str, int], ...]
    keypath: str


@dataclass(frozen=True)
class Service:
    """One validated manifest."""

    name: str
    namespace: str
    labels: tuple[tuple[str, str], ...]
    runtime: str
    image: str
    replicas: int
    user: int | None
    ports: tuple[Port, ...]
    dependencies: tuple[ServiceDependency, ...]
    externals: tuple[ExternalDependency, ...]
    ingress: tuple[IngressRule, ...]
    capabilities: tuple[str, ...]
    syscalls: tuple[str, ...]
    writable_paths: tuple[str, ...]
    secrets: tuple[SecretMount, ...]
    probes: tuple[tuple[str, Probe], ...]
    resources: dict[str, dict[str, str]]
    entrypoint: tuple[str, ...] | None
    build_context: str | None
    seccomp_mode: Literal["enforce", "audit"] | None
    doc: Document = field(compare=False, repr=False)

    @property
    def source(self) -> str:
        """The manifest file as the user named it."""
        return self.doc.path

    def port(self, ref: PortRef) -> Port | None:
        """The port a name or container port number refers to."""
        for port in self.ports:
            if ref in (port.name, port.port):
                return port
        return None


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
        namespace=data.get("namespace", DEFAULT_NAMESPACE),
        out=data.get("out", "out"),
        dialect=data.get("dialect", "kubernetes"),
        formats=tuple(data.get("formats", ["kubernetes"])),
        profiles=data.get("profiles"),
        image_lock=data.get("imageLock", "images.lock"),
        create_namespaces=data.get("createNamespaces", True),
        dns_namespace=dns.get("namespace", DEFAULT_DNS_NAMESPACE),
        dns_labels=_pairs(dns.get("podLabels")) or DEFAULT_DNS_LABELS,
        egress_except=tuple(data.get("egressExcept", DEFAULT_EGRESS_EXCEPT)),
        writable_size_limit=data.get("writableSizeLimit", DEFAULT_WRITABLE_SIZE),
        seccomp_mode=seccomp.get("mode", "enforce"),
        seccomp_delivery=seccomp.get("delivery", "localhost"),
        seccomp_prefix=seccomp.get("localhostPrefix", "cgen"),
        dns_node_local=dns.get("nodeLocal"),
        pod_cidrs=tuple(data.get("podCidrs", ())),
        service_cidrs=tuple(data.get("serviceCidrs", ())),
        ingress_controller=_role(data.get("ingressController")),
        metrics_scraper=_role(data.get("metricsScraper")),
        registry_mirrors=_pairs(data.get("registryMirrors")),
        doc=doc,
    )
    return config, []


def _role(data: dict[str, Any] | None) -> Role | None:
    if data is None:
        return None
    return Role(data["namespace"], _pairs(data["podLabels"]))


def load_service(doc: Document, config: Config) -> tuple[Service | None, list[Problem]]:
    """Validate one manifest document and build its Service; None when it is invalid."""
    ctx = Context(doc)
    if not MANIFEST.check(doc.data, "", ctx):
        return None, ctx.problems
    service = _build(doc, config)
    _check_service(service, config, ctx)
    return (None if ctx.problems else service), ctx.problems


def _build(doc: Document, config: Config) -> Service:
    meta: dict[str, Any] = doc.data["metadata"]
    spec: dict[str, Any] = doc.data["spec"]
    namespace = meta.get("namespace", config.namespace)
    ports = tuple(
        Port(
            p["name"],
            p["port"],
            p.get("servicePort", p["port"]),
            p.get("protocol", "TCP"),
            f"spec.ports[{i}]",
            p.get("scrape", False),
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
                    dep.get("host"), cidrs, numbers, dep.get("protocol", "TCP"), keypath
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
        replicas=spec.get("replicas", 1),
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
        seccomp_mode=spec.get("seccomp", {}).get("mode"),
        doc=doc,
    )


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


def _check_service(svc: Service, config: Config, ctx: Context) -> None:
    _check_ports(svc, ctx)
    _check_dependencies(svc, config, ctx)
    _check_ingress(svc, config, ctx)
    mounts: dict[str, str] = {}
    for i, path in enumerate(svc.writable_paths):
        mounts.setdefault(path, f"spec.writablePaths[{i}]")
    for i, secret in enumerate(svc.secrets):
        keypath = f"spec.secrets[{i}].mountPath"
        if secret.mount_path in mounts:
            ctx.fail(
                keypath, f"{secret.mount_path} is already mounted by {mounts[secret.mount_path]}"
            )
        mounts.setdefault(secret.mount_path, keypath)
    for _, probe in svc.probes:
        port = svc.port(probe.port)
        if port is None:
            ctx.fail(f"{probe.keypath}.port", f"{probe.port!r} is not one of this service's ports")
        elif port.protocol != "TCP":
            ctx.fail(
                f"{probe.keypath}.port", f"probes need a TCP port; {port.name} is {port.protocol}"
            )


def _check_ports(svc: Service, ctx: Context) -> None:
    names: dict[str, int] = {}
    numbers: dict[tuple[int, str], int] = {}
    service_ports: dict[tuple[int, str], int] = {}
    for i, port in enumerate(svc.ports):
        if port.name in names:
            ctx.fail(f"spec.ports[{i}].name", f"repeats the name of spec.ports[{names[port.name]}]")
        if (port.port, port.protocol) in numbers:
            first = numbers[(port.port, port.protocol)]
            ctx.fail(
                f"spec.ports[{i}].port",
                f"repeats {port.port}/{port.protocol} of spec.ports[{first}]",
            )
        if (port.service_port, port.protocol) in service_ports:
            ctx.fail(f"spec.ports[{i}].servicePort", "repeats another port's servicePort")
        names.setdefault(port.name, i)
        numbers.setdefault((port.port, port.protocol), i)
        service_ports.setdefault((port.service_port, port.protocol), i)
        if port.port < 1024 and "NET_BIND_SERVICE" not in svc.capabilities:
            ctx.fail(
                f"spec.ports[{i}].port",
                f"port {port.port} is below 1024 and needs capabilities: [NET_BIND_SERVICE]",
            )


def _check_dependencies(svc: Service, config: Config, ctx: Context) -> None:
    raw = svc.doc.data["spec"].get("dependencies", [])
    for i, dep in enumerate(raw):
        keypath = f"spec.dependencies[{i}]"
        if "service" in dep:
            for key in ("cidrs", "protocol"):
                if key in dep:
                    ctx.fail(f"{keypath}.{key}", "applies to host and cidr entries only", key=True)
            continue
        if "namespace" in dep:
            ctx.fail(f"{keypath}.namespace", "applies to service entries only", key=True)
        if "ports" not in dep:
            ctx.fail(f"{keypath}.ports", "is required for host and cidr entries")
        for j, port in enumerate(dep.get("ports", [])):
            if not isinstance(port, int):
                ctx.fail(f"{keypath}.ports[{j}]", "must be a port number for host and cidr entries")
        if "cidr" in dep and "cidrs" in dep:
            ctx.fail(f"{keypath}.cidrs", "applies to host entries only; use cidr", key=True)
        for j, cidr in enumerate((dep["cidr"],) if "cidr" in dep else dep.get("cidrs", ())):
            where = f"{keypath}.cidr" if "cidr" in dep else f"{keypath}.cidrs[{j}]"
            _check_not_excluded(cidr, where, _excluded_networks(config), ctx)
        if "host" in dep and "cidrs" not in dep and config.dialect != "cilium":
            ctx.fail(
                f"{keypath}.cidrs",
                "is required for a host with the kubernetes dialect, which cannot match DNS "
                "names: list the host's networks in cidrs, or set dialect: cilium in "
                "cgen.yaml to allow it by name (toFQDNs)",
            )


ROLE_KEYS = {"ingress-controller": "ingressController", "metrics-scraper": "metricsScraper"}


def _check_ingress(svc: Service, config: Config, ctx: Context) -> None:
    roles = {
        "ingress-controller": config.ingress_controller,
        "metrics-scraper": config.metrics_scraper,
    }
    for port in svc.ports:
        if port.scrape and config.metrics_scraper is None:
            ctx.fail(f"{port.keypath}.scrape", "needs metricsScraper in cgen.yaml")
    for rule in svc.ingress:
        source = f"{rule.keypath}.from"
        _check_port_refs(svc, rule.ports or (), f"{rule.keypath}.ports", ctx)
        if rule.role is not None:
            if roles[rule.role] is None:
                ctx.fail(source, f"{rule.role} needs {ROLE_KEYS[rule.role]} in cgen.yaml")
            continue
        if rule.cidr and (rule.namespace or rule.pod_labels):
            ctx.fail(source, "a cidr source cannot be combined with namespace or podLabels")
        if not rule.cidr and rule.except_:
            ctx.fail(f"{source}.except", "applies to cidr sources only", key=True)
        if rule.cidr:
            cluster = [("podCidrs", c) for c in config.pod_cidrs]
            cluster += [("serviceCidrs", c) for c in config.service_cidrs]
            _check_not_excluded(rule.cidr, f"{source}.cidr", cluster, ctx)
            _check_excepts(rule.cidr, rule.except_, f"{source}.except", ctx)
        if not (rule.cidr or rule.namespace or rule.pod_labels):
            ctx.fail(source, "needs namespace, podLabels or cidr")


def _check_port_refs(svc: Service, refs: tuple[PortRef, ...], keypath: str, ctx: Context) -> None:
    for j, ref in enumerate(refs):
        if svc.port(ref) is None:
            ctx.fail(f"{keypath}[{j}]", f"{ref!r} is not one of this service's ports")


def _excluded_networks(config: Config) -> list[tuple[str, str]]:
    """(cgen.yaml key, network) of every network external egress must never reach."""
    return (
        [("egressExcept", c) for c in config.egress_except]
        + [("podCidrs", c) for c in config.pod_cidrs]
        + [("serviceCidrs", c) for c in config.service_cidrs]
    )


def _check_not_excluded(
    cidr: str, keypath: str, excluded: list[tuple[str, str]], ctx: Context
) -> None:
    # A network inside an excluded one could only be allowed by dropping the exclusion,
    # which would silently open cluster or metadata addresses: refuse it instead.
    net = ipaddress.ip_network(cidr)
    for key, text in excluded:
        other = ipaddress.ip_network(text)
        if other.version == net.version and net.subnet_of(other):  # type: ignore[arg-type]
            relation = "is" if net == other else "lies inside"
            ctx.fail(
                keypath,
                f"{cidr} {relation} {text} ({key} in cgen.yaml), which is never allowed as an "
                "external network: reach cluster workloads as cgen services (dependencies, or "
                "ingress by namespace and podLabels), or change cgen.yaml",
            )
            return


def _check_excepts(cidr: str, excepts: tuple[str, ...], keypath: str, ctx: Context) -> None:
    net = ipaddress.ip_network(cidr)
    for j, text in enumerate(excepts):
        other = ipaddress.ip_network(text)
        if other.version != net.version or other == net or not other.subnet_of(net):  # type: ignore[arg-type]
            ctx.fail(f"{keypath}[{j}]", f"{text} is not strictly inside {cidr}")
