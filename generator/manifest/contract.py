"""The manifest (cgen/v1) and cgen.yaml described once, for validation and `cgen schema`."""

from __future__ import annotations

from generator.manifest.formats import (
    CAPABILITIES,
    CPU,
    DNS_SUBDOMAIN,
    DOMAIN,
    HOSTNAME,
    HTTP_PATH,
    IMAGE,
    LABEL_KEY,
    LABEL_VALUE,
    MEMORY,
    SYSCALL,
    WHY_CIDR,
    WHY_DNS_NAME,
    WHY_IMAGE,
    WHY_IP,
    WHY_LABEL_KEY,
    WHY_LABEL_VALUE,
    WHY_OWN,
    WHY_PATH,
    WHY_PREFIXED,
    WHY_SUBDOMAIN,
    app_files,
    check_abs_path,
    check_cidr,
    check_descending,
    check_hostname,
    check_ip,
    check_label_key,
    check_mount_point,
    check_ms,
    check_path_text,
    check_project_path,
    check_text,
    name,
    port_name,
)
from generator.manifest.workload_contract import WORKLOAD_FIELDS, container_spec
from generator.model import (
    DIALECTS,
    LOWERED_LEVELS,
    OUTPUT_FORMATS,
    PEER_ROLES,
    PROTOCOLS,
    SECCOMP_DELIVERIES,
    SECCOMP_MODES,
)
from generator.schema import AnyOf, Bool, Const, Enum, Field, Int, List, Map, Obj, Spec, Str
from generator.supply.contract import CI_FIELD, SIGNING_FIELD

PORT_NUMBER = Int(1, 65535)
PORT_REF: Spec = AnyOf((port_name(), PORT_NUMBER), "a port name or container port number")
PROTOCOL = Enum(PROTOCOLS)
CIDR = Str(None, "", 43, (check_cidr,), "an IPv4 or IPv6 network, e.g. 10.0.0.0/16", WHY_CIDR)
ABS_PATH = Str(None, "", 4096, (check_abs_path,), why=WHY_PATH)
MOUNT_PATH = Str(None, "", 4096, (check_abs_path, check_mount_point), why=WHY_PATH)
LABELS = Map(
    Str(LABEL_KEY, "a Kubernetes label key", 317, (check_label_key,), why=WHY_LABEL_KEY),
    Str(LABEL_VALUE, "a Kubernetes label value", 63, why=WHY_LABEL_VALUE),
)
CAPABILITY = Enum(CAPABILITIES, "a Linux capability without the CAP_ prefix")
REGISTRY_HOST = Str(DOMAIN, "a registry host", 253, why=WHY_DNS_NAME)
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
                    "path": Field(
                        Str(HTTP_PATH, "an HTTP path starting with /", 1024, why=WHY_OWN)
                    ),
                    "port": _PROBE_PORT,
                }
            )
        ),
        "grpc": Field(
            Obj(
                {
                    "port": _PROBE_PORT,
                    "service": Field(
                        Str(r"[A-Za-z0-9_.\-/]+", "a gRPC service name", 253, why=WHY_OWN)
                    ),
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
            Str(HOSTNAME, "a lowercase DNS name", 253, (check_hostname,), why=WHY_DNS_NAME),
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
            Str(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", "a sidecar's name", 40, why=WHY_PREFIXED),
            description="the sidecar that listens on it (default: the service's container)",
        ),
    }
)
SECRET = Obj(
    {
        "secret": Field(
            Str(DNS_SUBDOMAIN, "a Kubernetes Secret name", 253, why=WHY_SUBDOMAIN), True
        ),
        "mountPath": Field(MOUNT_PATH, True),
    }
)
BUILD = Obj(
    {
        "entrypoint": Field(List(Str(None, "", 4096, (check_text,), why=WHY_OWN), min_items=1)),
        "context": Field(
            Str(None, "", 4096, (check_path_text, check_ms), why=WHY_PATH),
            description="build context folder, relative to the manifest",
        ),
        "prebuilt": Field(
            Bool(),
            description="run the image as it is: no Dockerfile; the image must be pinned by digest",
        ),
        "appFiles": Field(
            app_files(
                "the app's own files and folders in the build context that the runtime stage "
                "receives, beside the locked dependencies (default: the runtime profile's)"
            )
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
            Str(IMAGE, "an image reference (repository[:tag][@sha256:digest])", 512, why=WHY_IMAGE),
            True,
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

POD_SECURITY = Obj(
    {
        "level": Field(
            Enum(LOWERED_LEVELS), True, "the Pod Security level to enforce instead of restricted"
        ),
        "reason": Field(
            Str(r".*\S.*", "a sentence", 500, (check_path_text,), why=WHY_OWN),
            True,
            "why the namespace needs it; kept in the Namespace object as an annotation",
        ),
    }
)

CONFIG = Obj(
    {
        "namespace": Field(name(), description="default namespace of manifests without one"),
        "out": Field(
            Str(None, "", 4096, (check_project_path, check_ms), why=WHY_PATH),
            description="output folder relative to cgen.yaml (default: out/ in the current folder)",
        ),
        "dialect": Field(Enum(DIALECTS), description="network policy dialect"),
        "formats": Field(List(Enum(OUTPUT_FORMATS), unique=True, min_items=1)),
        "profiles": Field(
            Str(None, "", 4096, (check_project_path, check_ms), why=WHY_PATH),
            description="folder of the project's own runtime profiles",
        ),
        "imageLock": Field(
            Str(None, "", 4096, (check_project_path, check_ms), why=WHY_PATH),
            description="image lock file, relative to cgen.yaml (default: images.lock)",
        ),
        "createNamespaces": Field(Bool(), description="write Namespace objects (default: true)"),
        "dns": Field(
            Obj(
                {
                    "namespace": Field(name(), description="namespace of the cluster DNS pods"),
                    "podLabels": Field(LABELS, description="labels of the cluster DNS pods"),
                    "nodeLocal": Field(
                        Str(None, "", 45, (check_ip,), why=WHY_IP),
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
            Map(REGISTRY_HOST, REGISTRY_HOST),
            description="registry host -> pull-through mirror host, for base images",
        ),
        "egressExcept": Field(
            List(CIDR, unique=True), description="networks never reachable through external egress"
        ),
        "unmanaged": Field(
            Map(name(), UNMANAGED),
            description="workloads cgen does not manage, callable by name from any manifest",
        ),
        "podSecurity": Field(
            Map(name(), POD_SECURITY),
            description="namespaces whose Pod Security enforce level is lowered on purpose",
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
                            (check_descending,),
                            why=WHY_OWN,
                        ),
                        description="folder below /var/lib/kubelet/seccomp",
                    ),
                }
            )
        ),
    },
    description="cgen project configuration (cgen.yaml)",
)
