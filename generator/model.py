"""The manifest and the project configuration as immutable models; all defaults here.

They are NamedTuples: compared and hashed by value like the frozen dataclasses they replace
(Config and Service leave out `doc`, where they were read from), without compiling
generated methods for each class at every start (see docs/performance.md). mypy's strict
equality refuses a comparison between two different record types.

parse.py builds them from validated YAML; checks.py holds the rules across fields.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, TypeVar, get_args

from generator.loader import Document
from generator.supply.model import Pipeline, Signing

# Every closed set of the manifest and cgen.yaml: the contract and the CLI take their
# allowed values from here (get_args), so a value is added in one place.
Protocol = Literal["TCP", "UDP", "SCTP"]
Dialect = Literal["kubernetes", "cilium"]
OutputFormat = Literal["kubernetes", "terraform"]
SeccompMode = Literal["enforce", "audit"]
SeccompDelivery = Literal["localhost", "operator"]
PeerRole = Literal["ingress-controller", "metrics-scraper"]
# Pod Security levels cgen.yaml may lower a namespace to (every namespace is restricted).
LoweredLevel = Literal["baseline", "privileged"]
LOWERED_LEVELS: tuple[str, ...] = get_args(LoweredLevel)
PROTOCOLS: tuple[str, ...] = get_args(Protocol)
DIALECTS: tuple[str, ...] = get_args(Dialect)
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)
SECCOMP_MODES: tuple[str, ...] = get_args(SeccompMode)
SECCOMP_DELIVERIES: tuple[str, ...] = get_args(SeccompDelivery)
PEER_ROLES: tuple[str, ...] = get_args(PeerRole)
AccessMode = Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany", "ReadWriteMany"]
ConcurrencyPolicy = Literal["Forbid", "Allow", "Replace"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]
ACCESS_MODES: tuple[str, ...] = get_args(AccessMode)
CONCURRENCY_POLICIES: tuple[str, ...] = get_args(ConcurrencyPolicy)
SERVICE_TYPES: tuple[str, ...] = get_args(ServiceType)
DEFAULT_PROTOCOL: Protocol = "TCP"
DEFAULT_REPLICAS = 1
PortRef = str | int
ProbeKind = Literal["http", "grpc", "tcp"]

# The one pod label that selects a service (never a user label); policies rely on it.
SELECTOR_LABEL = "app.kubernetes.io/name"
DEFAULT_NAMESPACE = "default"
# Cloud instance metadata (IPv4, and AWS's IPv6 endpoint): never reachable through egress.
DEFAULT_EGRESS_EXCEPT = ("169.254.169.254/32", "fd00:ec2::254/128")
DEFAULT_DNS_NAMESPACE = "kube-system"
DEFAULT_DNS_LABELS = (("k8s-app", "kube-dns"),)
DEFAULT_WRITABLE_SIZE = "64Mi"
_Record = TypeVar("_Record", bound=tuple[object, ...])


def _without_doc(record: tuple[object, ...]) -> tuple[object, ...]:
    fields: tuple[str, ...] = getattr(record, "_fields", ())
    return tuple(value for name, value in zip(fields, record, strict=True) if name != "doc")


def _without_doc_compared(cls: type[_Record]) -> type[_Record]:
    # Config and Service compare and hash by every field but doc, as the dataclasses they
    # replace did (compare=False): two reads of the same text are the same model.
    def same(record: tuple[object, ...], other: object) -> bool:
        return isinstance(other, cls) and _without_doc(record) == _without_doc(other)

    methods = {
        "__eq__": same,
        "__ne__": lambda record, other: not same(record, other),
        "__hash__": lambda record: hash(_without_doc(record)),
    }
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


@_without_doc_compared
class Config(NamedTuple):
    """cgen.yaml: project-wide settings, with every default filled in."""

    path: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    out: str | None = None  # relative to cgen.yaml; unset: out/ in the current folder
    dialect: Dialect = "kubernetes"
    formats: tuple[OutputFormat, ...] = ("kubernetes",)
    profiles: str | None = None
    image_lock: str = "images.lock"
    create_namespaces: bool = True
    dns_namespace: str = DEFAULT_DNS_NAMESPACE
    dns_labels: tuple[tuple[str, str], ...] = DEFAULT_DNS_LABELS
    egress_except: tuple[str, ...] = DEFAULT_EGRESS_EXCEPT
    writable_size_limit: str = DEFAULT_WRITABLE_SIZE
    seccomp_mode: SeccompMode = "enforce"
    seccomp_delivery: SeccompDelivery = "localhost"
    seccomp_prefix: str = "cgen"
    dns_node_local: str | None = None
    pod_cidrs: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    ingress_controller: Role | None = None
    metrics_scraper: Role | None = None
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    pod_security: tuple[NamespaceSecurity, ...] = ()  # namespaces lowered on purpose
    signing: Signing | None = None  # image signature and attestation enforcement
    ci: Pipeline | None = None  # the CI workflow that builds, signs and attests the images
    # cgen.yaml as loaded, so network reports can name the lines a setting came from.
    doc: Document | None = None

    def excluded_networks(self) -> list[tuple[str, str]]:
        """(cgen.yaml key, network) of every network external egress must never reach."""
        return (
            [("egressExcept", c) for c in self.egress_except]
            + [("podCidrs", c) for c in self.pod_cidrs]
            + [("serviceCidrs", c) for c in self.service_cidrs]
        )


class NamespaceSecurity(NamedTuple):
    """A namespace whose Pod Security enforce level cgen.yaml lowers on purpose, and why."""

    namespace: str
    level: LoweredLevel
    reason: str
    keypath: str


class Unmanaged(NamedTuple):
    """A workload cgen does not manage (cgen.yaml unmanaged:), callable by name."""

    name: str
    namespace: str
    pod_labels: tuple[tuple[str, str], ...]
    ports: tuple[Port, ...]
    keypath: str

    def port(self, ref: PortRef) -> Port | None:
        """The port a name or port number refers to."""
        return next((p for p in self.ports if ref in (p.name, p.port)), None)


class Role(NamedTuple):
    """Pods known by a role (ingress controller, metrics scraper) in cgen.yaml."""

    namespace: str
    pod_labels: tuple[tuple[str, str], ...]


class Port(NamedTuple):
    """A port the service listens on."""

    name: str
    port: int
    service_port: int
    protocol: Protocol
    keypath: str
    scrape: bool = False
    container: str | None = None  # a sidecar that listens on it; None: the service itself


class ServiceDependency(NamedTuple):
    """A call to another cgen service."""

    service: str
    namespace: str
    ports: tuple[PortRef, ...] | None
    keypath: str


class ExternalDependency(NamedTuple):
    """A call to an external DNS name or network."""

    host: str | None
    cidrs: tuple[str, ...]
    ports: tuple[int, ...]
    protocol: Protocol
    keypath: str


class IngressRule(NamedTuple):
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


class SecretMount(NamedTuple):
    """A Kubernetes Secret mounted read-only."""

    secret: str
    mount_path: str


class Probe(NamedTuple):
    """A readiness, liveness or startup probe on one of the service's own ports."""

    kind: ProbeKind
    port: PortRef
    path: str | None
    grpc_service: str | None
    timings: tuple[tuple[str, int], ...]
    keypath: str


class ConfigFile(NamedTuple):
    """One file of a ConfigMap mount: its name and exact text."""

    name: str
    content: str


class ConfigMount(NamedTuple):
    """ConfigMap-backed files mounted read-only at mount_path."""

    name: str
    mount_path: str
    files: tuple[ConfigFile, ...]
    keypath: str


class Volume(NamedTuple):
    """A persistent volume claim template of a StatefulSet."""

    name: str
    mount_path: str
    size: str
    storage_class: str | None
    access_mode: AccessMode
    keypath: str


class JobSpec(NamedTuple):
    """Run to completion: a Job, or with a schedule a CronJob."""

    schedule: str | None = None
    time_zone: str | None = None
    concurrency_policy: ConcurrencyPolicy = "Forbid"
    backoff_limit: int = 3
    active_deadline_seconds: int | None = None
    ttl_seconds_after_finished: int | None = None
    starting_deadline_seconds: int | None = None
    successful_history: int | None = None
    failed_history: int | None = None


class Exposure(NamedTuple):
    """How the Kubernetes Service is reached."""

    type: ServiceType = "ClusterIP"
    source_ranges: tuple[str, ...] = ()


class Autoscaling(NamedTuple):
    """A HorizontalPodAutoscaler: replica bounds and utilization targets (percent)."""

    min_replicas: int
    max_replicas: int
    cpu: int | None
    memory: int | None


class PodPlacement(NamedTuple):
    """Pod annotations and scheduling hints."""

    annotations: tuple[tuple[str, str], ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[tuple[tuple[str, str | int], ...], ...] = ()
    topology_spread: tuple[tuple[tuple[str, str | int], ...], ...] = ()
    priority_class: str | None = None


class Patch(NamedTuple):
    """A kustomize patch kept beside the manifests, copied into the output."""

    name: str
    content: str
    keypath: str


class Container(NamedTuple):
    """A sidecar (runs beside the service's container for the pod's life) or an init
    container (runs to completion before it), hardened alike, with its own seccomp profile."""

    name: str
    kind: Literal["sidecar", "init"]
    runtime: str
    image: str
    command: tuple[str, ...] | None
    args: tuple[str, ...] | None
    env: tuple[tuple[str, str], ...]
    writable_paths: tuple[str, ...]
    capabilities: tuple[str, ...]
    syscalls: tuple[str, ...]
    capability_keys: tuple[tuple[str, str], ...]
    syscall_keys: tuple[tuple[str, str], ...]
    resources: dict[str, dict[str, str]]
    keypath: str


@_without_doc_compared
class Service(NamedTuple):
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
    seccomp_mode: SeccompMode | None
    # (name, key path) of each declared capability and syscall, in manifest order: the
    # sorted tuples above lose where each was written, which explanations quote.
    capability_keys: tuple[tuple[str, str], ...]
    syscall_keys: tuple[tuple[str, str], ...]
    doc: Document
    # Real-system fields (docs/real-systems.md); their defaults leave a manifest that does
    # not use them exactly as it was.
    prebuilt: bool = False
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    config: tuple[ConfigMount, ...] = ()
    storage: tuple[Volume, ...] = ()
    peer_ports: tuple[PortRef, ...] = ()
    job: JobSpec | None = None
    exposure: Exposure | None = None
    autoscaling: Autoscaling | None = None
    pod: PodPlacement = PodPlacement()
    patches: tuple[Patch, ...] = ()
    containers: tuple[Container, ...] = ()
    # spec.build.appFiles: the context's files the runtime stage receives (None: the profile's).
    app_files: tuple[str, ...] | None = None

    def application_ports(self) -> tuple[Port, ...]:
        """What a dependency without `ports` reaches: all but the scrape-only ports, those with
        `scrape: true` that are not the first port and that no probe, ingress or peerPorts name."""
        refs = [p.port for _, p in self.probes] + list(self.peer_ports)
        used = {self.port(r) for r in refs + [r for i in self.ingress for r in i.ports or ()]}
        return tuple(p for i, p in enumerate(self.ports) if not (i and p.scrape) or p in used)

    @property
    def stateful(self) -> bool:
        """Whether the service keeps data on persistent volumes (a StatefulSet)."""
        return bool(self.storage) and self.job is None

    @property
    def source(self) -> str:
        """The manifest file relative to the project folder (stable for generated headers)."""
        return self.doc.source or self.doc.path

    def port(self, ref: PortRef) -> Port | None:
        """The port a name or container port number refers to."""
        for port in self.ports:
            if ref in (port.name, port.port):
                return port
        return None


def container_service(svc: Service, container: Container) -> Service:
    """A sidecar or init container seen as a service of its own (`<service>-<container>`):
    what its seccomp profile, runtime profile and capabilities are judged by."""
    return svc._replace(
        name=f"{svc.name}-{container.name}",
        runtime=container.runtime,
        image=container.image,
        ports=(),
        dependencies=(),
        externals=(),
        ingress=(),
        capabilities=container.capabilities,
        syscalls=container.syscalls,
        capability_keys=container.capability_keys,
        syscall_keys=container.syscall_keys,
        writable_paths=container.writable_paths,
        secrets=(),
        probes=(),
        resources=container.resources,
        entrypoint=None,
        build_context=None,
        app_files=None,
        prebuilt=True,
        command=container.command,
        args=container.args,
        env=container.env,
        config=(),
        storage=(),
        containers=(),
    )
