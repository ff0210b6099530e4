"""The manifest (cgen/v1) and cgen.yaml described once, for validation and `cgen schema`."""

from __future__ import annotations

import posixpath

from generator.manifest.workload_contract import WORKLOAD_FIELDS, container_spec
from generator.model import (
    DIALECTS,
    OUTPUT_FORMATS,
    PEER_ROLES,
    PROTOCOLS,
    SECCOMP_DELIVERIES,
    SECCOMP_MODES,
)
from generator.network import cidr
from generator.schema import AnyOf, Bool, Const, Enum, Field, Int, List, Map, Obj, Spec, Str
from generator.supply.contract import CI_FIELD, SIGNING_FIELD

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = rf"{DNS_LABEL}(\.{DNS_LABEL})*"
HOSTNAME = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?"
LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_KEY = rf"({DNS_SUBDOMAIN}/)?{LABEL_NAME}"
LABEL_VALUE = rf"({LABEL_NAME})?"
PORT_NAME = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_NAME_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:[0-9]+)?"
)
IMAGE = (
    rf"({_DOMAIN}/)?{_NAME_COMPONENT}(/{_NAME_COMPONENT})*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?"
)
CPU = r"([1-9][0-9]{0,5}m|[0-9]{1,3}(\.[0-9]{1,3})?)"
MEMORY = r"[1-9][0-9]{0,9}(Ki|Mi|Gi|Ti|k|M|G|T)?"
SYSCALL = r"[a-z_][a-z0-9_]{0,63}"
HTTP_PATH = r"/[\x21-\x7e]*"

# Linux capabilities (capabilities(7)), as Kubernetes spells them: without the CAP_ prefix.
CAPABILITIES = (
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
)


def _check_port_name(value: str) -> str | None:
    if len(value) > 15:
        return "must be at most 15 characters (IANA service name)"
    if "--" in value:
        return "must not contain '--' (IANA service name)"
    if not any(c.isalpha() for c in value):
        return "must contain at least one letter (IANA service name)"
    return None


def _check_cidr(value: str) -> str | None:
    if "/" not in value:
        return f"{value!r} is not a CIDR: add the prefix length (e.g. /32)"
    if "%" in value:
        return f"{value!r} has a scope id (%...), which no network policy accepts"
    try:
        cidr.network(value, strict=True)
    except cidr.CidrError as exc:
        return f"{value!r} is not a CIDR with its host bits zero ({exc})"
    return None


def _check_ip(value: str) -> str | None:
    try:
        cidr.address_network(value)
    except cidr.CidrError:
        return f"{value!r} is not an IP address"
    return None


def _check_abs_path(value: str) -> str | None:
    if not value.startswith("/") or value == "/":
        return "must be an absolute path below /"
    if posixpath.normpath(value) != value or "/../" in value + "/":
        return "must be a normalized absolute path (no '..', '.', '//' or trailing '/')"
    if not value.isprintable() or ":" in value:
        return "must not contain control or invisible characters, or ':'"
    return None


def _check_hostname(value: str) -> str | None:
    if len(value) > 253:
        return "must be at most 253 characters"
    if "." not in value:
        return "must be a fully qualified DNS name (with a dot)"
    if any(len(part) > 63 for part in value.split(".")):
        return "each dot-separated part of a DNS name must be at most 63 characters"
    return None


def _check_label_key(value: str) -> str | None:
    # Kubernetes: an optional DNS subdomain prefix (<= 253) and a name (<= 63).
    prefix, _, label = value.rpartition("/")
    if len(label) > 63:
        return f"the name part of a label key must be at most 63 characters (has {len(label)})"
    if len(prefix) > 253:
        return f"the prefix of a label key must be at most 253 characters (has {len(prefix)})"
    return None


# The kubelet and the runtime own these: an emptyDir or secret volume there would hide the
# kernel's interfaces or the files the kubelet manages (runc refuses mounts below /proc).
_NO_MOUNT_BELOW = ("/proc", "/sys", "/dev")
_NO_MOUNT_AT = (
    "/etc",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/var/run/secrets/kubernetes.io",
    "/run/secrets/kubernetes.io",
)


def _check_mount_point(value: str) -> str | None:
    if value == "/dev/shm":
        return "must not be /dev/shm: the container runtime already mounts a writable tmpfs there"
    for top in _NO_MOUNT_BELOW:
        if value == top or value.startswith(top + "/"):
            return f"must not be {top} or below it (the kernel's interfaces live there)"
    if value == "/etc":
        return "must not be /etc: an empty folder there hides the image's configuration"
    if value in _NO_MOUNT_AT or value.startswith("/var/run/secrets/kubernetes.io/"):
        return f"must not be {value}: the kubelet manages what is mounted there"
    return None


def _check_descending(value: str) -> str | None:
    # The kubelet refuses a localhostProfile with '..' parts; '.' and '//' are refused too
    # so one profile has one spelling.
    if any(part in ("", ".", "..") for part in value.split("/")):
        return "must be a relative path without '.', '..' or empty parts"
    return None


def _check_text(value: str) -> str | None:
    if not value.replace("\n", "").replace("\t", "").isprintable():
        return "must not contain control or invisible characters (newline and tab allowed)"
    return None


def _check_path_text(value: str) -> str | None:
    if not value.isprintable():
        return "must not contain control or invisible characters"
    return None


def _check_project_path(value: str) -> str | None:
    if not value.isprintable():
        return "must not contain control or invisible characters"
    if value.startswith("/") or posixpath.normpath(value).split("/")[0] == "..":
        return "must be a path inside the project folder (relative, without leading '..')"
    return None


def _check_ms(value: str) -> str | None:
    return None if value else "must not be empty"


def name(description: str = "") -> Str:
    """A DNS-1123 label."""
    return Str(
        DNS_LABEL,
        "a DNS-1123 label ([a-z0-9-], alphanumeric at both ends)",
        63,
        description=description,
    )


def port_name() -> Str:
    """An IANA service name, as Kubernetes requires for port names."""
    return Str(
        PORT_NAME, "a port name ([a-z0-9-], alphanumeric at both ends)", 15, (_check_port_name,)
    )


PORT_NUMBER = Int(1, 65535)
PORT_REF: Spec = AnyOf((port_name(), PORT_NUMBER), "a port name or container port number")
PROTOCOL = Enum(PROTOCOLS)
CIDR = Str(None, "", 43, (_check_cidr,), "an IPv4 or IPv6 network, e.g. 10.0.0.0/16")
ABS_PATH = Str(None, "", 4096, (_check_abs_path,))
MOUNT_PATH = Str(None, "", 4096, (_check_abs_path, _check_mount_point))
LABELS = Map(
    Str(LABEL_KEY, "a Kubernetes label key", 317, (_check_label_key,)),
    Str(LABEL_VALUE, "a Kubernetes label value", 63),
)
CAPABILITY = Enum(CAPABILITIES, "a Linux capability without the CAP_ prefix")
QUANTITIES = Obj(
    {
        "cpu": Field(Str(CPU, "a CPU quantity such as 100m or 1.5")),
        "memory": Field(Str(MEMORY, "a memory quantity such as 64Mi")),
        "ephemeral-storage": Field(Str(MEMORY, "a storage quantity such as 64Mi")),
    }
)

_PROBE_PORT = Field(PORT_REF, True, "one of this service's own ports")
PROBE = Obj(
    {
        "http": Field(
            Obj(
                {
                    "path": Field(Str(HTTP_PATH, "an HTTP path starting with /", 1024)),
                    "port": _PROBE_PORT,
                }
            )
        ),
        "grpc": Field(
            Obj(
                {
                    "port": _PROBE_PORT,
                    "service": Field(Str(r"[A-Za-z0-9_.\-/]+", "a gRPC service name", 253)),
                }
            )
        ),
        "tcp": Field(Obj({"port": _PROBE_PORT})),
        "initialDelaySeconds": Field(Int(0, 3600)),
        "periodSeconds": Field(Int(1, 3600)),
        "timeoutSeconds": Field(Int(1, 3600)),
        "failureThreshold": Field(Int(1, 1000)),
    },
    exactly_one=("http", "grpc", "tcp"),
)

DEPENDENCY = Obj(
    {
        "service": Field(name(), description="another manifest's metadata.name"),
        "namespace": Field(name(), description="the callee's namespace (default: this one's)"),
        "host": Field(
            Str(HOSTNAME, "a lowercase DNS name", 253, (_check_hostname,)),
            description="an external DNS name",
        ),
        "cidr": Field(CIDR, description="an external network"),
        "cidrs": Field(
            List(CIDR, unique=True, min_items=1), description="the networks behind a host"
        ),
        "ports": Field(List(PORT_REF, unique=True, min_items=1)),
        "protocol": Field(PROTOCOL),
    },
    exactly_one=("service", "host", "cidr"),
)

INGRESS_FROM = Obj(
    {
        "namespace": Field(name(), description="callers' namespace"),
        "podLabels": Field(LABELS, description="callers' pod labels"),
        "cidr": Field(CIDR, description="callers' network (load balancers, nodes)"),
        "except": Field(List(CIDR, unique=True), description="networks excluded from cidr"),
    }
)

INGRESS = Obj(
    {
        "from": Field(
            AnyOf((Enum(PEER_ROLES), INGRESS_FROM)),
            True,
            "callers: namespace/podLabels/cidr, or a role from cgen.yaml "
            "(ingress-controller, metrics-scraper)",
        ),
        "ports": Field(List(PORT_REF, unique=True, min_items=1)),
    }
)

PORT = Obj(
    {
        "name": Field(port_name(), True),
        "port": Field(PORT_NUMBER, True),
        "servicePort": Field(PORT_NUMBER),
        "protocol": Field(PROTOCOL),
        "scrape": Field(Bool(), description="the metrics scraper of cgen.yaml may call it"),
        "container": Field(
            Str(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", "a sidecar's name", 40),
            description="the sidecar that listens on it (default: the service's container)",
        ),
    }
)
SECRET = Obj(
    {
        "secret": Field(Str(DNS_SUBDOMAIN, "a Kubernetes Secret name", 253), True),
        "mountPath": Field(MOUNT_PATH, True),
    }
)
BUILD = Obj(
    {
        "entrypoint": Field(List(Str(None, "", 4096, (_check_text,)), min_items=1)),
        "context": Field(
            Str(None, "", 4096, (_check_path_text, _check_ms)),
            description="build context folder, relative to the manifest",
        ),
        "prebuilt": Field(
            Bool(),
            description="run the image as it is: no Dockerfile; the image must be pinned by digest",
        ),
    }
)

MANIFEST_SPEC = Obj(
    {
        "runtime": Field(
            name(
                "a runtime profile: python, node, go, java, dotnet, static, "
                "a server (postgresql, redis, nginx, memcached, mariadb, rabbitmq), "
                "or one of the project's own"
            ),
            True,
        ),
        "image": Field(
            Str(IMAGE, "an image reference (repository[:tag][@sha256:digest])", 512), True
        ),
        "replicas": Field(Int(0, 1000)),
        "user": Field(Int(10000, 2147483647), description="uid = gid; >= 10000"),
        "ports": Field(List(PORT)),
        "dependencies": Field(List(DEPENDENCY)),
        "ingress": Field(List(INGRESS)),
        "capabilities": Field(List(CAPABILITY, unique=True)),
        "syscalls": Field(List(Str(SYSCALL, "a syscall name"), unique=True)),
        "writablePaths": Field(List(MOUNT_PATH, unique=True)),
        "secrets": Field(List(SECRET)),
        "probes": Field(
            Obj({"readiness": Field(PROBE), "liveness": Field(PROBE), "startup": Field(PROBE)})
        ),
        "resources": Field(Obj({"requests": Field(QUANTITIES), "limits": Field(QUANTITIES)})),
        "build": Field(BUILD),
        "seccomp": Field(
            Obj(
                {
                    "mode": Field(
                        Enum(SECCOMP_MODES),
                        description="audit logs instead of denying (observe first)",
                    ),
                }
            )
        ),
        **WORKLOAD_FIELDS,
    }
)
_CONTAINER = container_spec(dict(MANIFEST_SPEC.fields))
MANIFEST_SPEC = Obj(
    {
        **MANIFEST_SPEC.fields,
        "sidecars": Field(
            List(_CONTAINER, min_items=1),
            description="native sidecars: run beside the service for the pod's life",
        ),
        "initContainers": Field(
            List(_CONTAINER, min_items=1),
            description="run to completion, in order, before the service starts",
        ),
    }
)

MANIFEST = Obj(
    {
        "apiVersion": Field(Const("cgen/v1"), True),
        "kind": Field(Const("Service"), True),
        "metadata": Field(
            Obj(
                {
                    "name": Field(name("the service name"), True),
                    "namespace": Field(name("default: cgen.yaml namespace, else 'default'")),
                    "labels": Field(
                        LABELS, description="extra pod labels (never policy selectors)"
                    ),
                }
            ),
            True,
        ),
        "spec": Field(MANIFEST_SPEC, True),
    },
    description="A cgen service manifest (cgen/v1)",
)

UNMANAGED = Obj(
    {
        "namespace": Field(name(), True),
        "podLabels": Field(LABELS, True),
        "ports": Field(
            List(
                Obj(
                    {
                        "name": Field(port_name(), True),
                        "port": Field(PORT_NUMBER, True),
                        "protocol": Field(PROTOCOL),
                    }
                ),
                min_items=1,
            ),
            True,
        ),
    }
)

ROLE = Obj(
    {
        "namespace": Field(name(), True),
        "podLabels": Field(LABELS, True),
    }
)

CONFIG = Obj(
    {
        "namespace": Field(name(), description="default namespace of manifests without one"),
        "out": Field(
            Str(None, "", 4096, (_check_project_path, _check_ms)),
            description="output folder relative to cgen.yaml (default: out/ in the current folder)",
        ),
        "dialect": Field(Enum(DIALECTS), description="network policy dialect"),
        "formats": Field(List(Enum(OUTPUT_FORMATS), unique=True, min_items=1)),
        "profiles": Field(
            Str(None, "", 4096, (_check_project_path, _check_ms)),
            description="folder of the project's own runtime profiles",
        ),
        "imageLock": Field(
            Str(None, "", 4096, (_check_project_path, _check_ms)),
            description="image lock file, relative to cgen.yaml (default: images.lock)",
        ),
        "createNamespaces": Field(Bool(), description="write Namespace objects (default: true)"),
        "dns": Field(
            Obj(
                {
                    "namespace": Field(name(), description="namespace of the cluster DNS pods"),
                    "podLabels": Field(LABELS, description="labels of the cluster DNS pods"),
                    "nodeLocal": Field(
                        Str(None, "", 45, (_check_ip,)),
                        description="NodeLocal DNSCache address (e.g. 169.254.20.10), "
                        "reached as an ipBlock",
                    ),
                }
            )
        ),
        "podCidrs": Field(
            List(CIDR, unique=True),
            description="the cluster's pod networks (never reached through external egress)",
        ),
        "serviceCidrs": Field(
            List(CIDR, unique=True),
            description="the cluster's service networks (never reached through external egress)",
        ),
        "ingressController": Field(ROLE, description="who `from: ingress-controller` means"),
        "metricsScraper": Field(ROLE, description="who `from: metrics-scraper` and scrape mean"),
        "registryMirrors": Field(
            Map(Str(_DOMAIN, "a registry host", 253), Str(_DOMAIN, "a registry host", 253)),
            description="registry host -> pull-through mirror host, for base images",
        ),
        "egressExcept": Field(
            List(CIDR, unique=True), description="networks never reachable through external egress"
        ),
        "unmanaged": Field(
            Map(name(), UNMANAGED),
            description="workloads cgen does not manage, callable by name from any manifest",
        ),
        "signing": SIGNING_FIELD,
        "ci": CI_FIELD,
        "writableSizeLimit": Field(
            Str(MEMORY, "a storage quantity such as 64Mi"),
            description="sizeLimit of each writable path's emptyDir",
        ),
        "seccomp": Field(
            Obj(
                {
                    "mode": Field(Enum(SECCOMP_MODES)),
                    "delivery": Field(
                        Enum(SECCOMP_DELIVERIES),
                        description="raw JSON for the kubelet, or Security Profiles Operator",
                    ),
                    "localhostPrefix": Field(
                        Str(
                            r"[a-z0-9]([-a-z0-9_./]*[a-z0-9])?",
                            "a relative path",
                            200,
                            (_check_descending,),
                        ),
                        description="folder below /var/lib/kubelet/seccomp",
                    ),
                }
            )
        ),
    },
    description="cgen project configuration (cgen.yaml)",
)
