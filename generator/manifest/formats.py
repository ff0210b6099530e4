"""The value formats of the manifest and cgen.yaml: patterns, capability names and the
checks Kubernetes, the kubelet and runc apply to single values (names, paths, networks)."""

from __future__ import annotations

import posixpath

from generator.network import cidr
from generator.schema import List, Str

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = rf"{DNS_LABEL}(\.{DNS_LABEL})*"
HOSTNAME = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?"
LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_KEY = rf"({DNS_SUBDOMAIN}/)?{LABEL_NAME}"
LABEL_VALUE = rf"({LABEL_NAME})?"
PORT_NAME = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_NAME_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
DOMAIN = (
    r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:[0-9]+)?"
)
IMAGE = (
    rf"({DOMAIN}/)?{_NAME_COMPONENT}(/{_NAME_COMPONENT})*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?"
)
CPU = r"([1-9][0-9]{0,5}m|[0-9]{1,3}(\.[0-9]{1,3})?)"
MEMORY = r"[1-9][0-9]{0,9}(Ki|Mi|Gi|Ti|k|M|G|T)?"
SYSCALL = r"[a-z_][a-z0-9_]{0,63}"
HTTP_PATH = r"/[\x21-\x7e]*"

# Where each length limit comes from, said in the error that enforces it.
WHY_DNS_LABEL = "a DNS-1123 label, RFC 1123: Kubernetes puts these names into DNS"
WHY_PORT_NAME = "Kubernetes port names are IANA service names: RFC 6335, IANA_SVC_NAME"
WHY_SUBDOMAIN = "a DNS-1123 subdomain, RFC 1123, as Kubernetes requires for object names"
WHY_DNS_NAME = "the longest DNS name, RFC 1035"
WHY_LABEL_KEY = "a Kubernetes label key: a 253-character DNS prefix, '/' and a 63-character name"
WHY_LABEL_VALUE = "Kubernetes allows label values of at most 63 characters"
WHY_PATH = "PATH_MAX, the longest path Linux accepts"
WHY_CIDR = "the longest IPv6 network: 39 characters and /128"
WHY_IP = "the longest IPv6 address, INET6_ADDRSTRLEN"
WHY_IMAGE = "room for a 255-character repository (the registries' limit), a tag and a digest"
WHY_PREFIXED = "room for what cgen adds to it within a 63-character DNS-1123 name"
WHY_CONFIGMAP = "a ConfigMap holds at most 1 MiB"
WHY_OWN = "cgen's own bound"

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
    if "--" in value:
        return f"must not contain '--' ({WHY_PORT_NAME})"
    if not any(c.isalpha() for c in value):
        return f"must contain at least one letter ({WHY_PORT_NAME})"
    return None


def check_cidr(value: str) -> str | None:
    if "/" not in value:
        return f"{value!r} is not a CIDR: add the prefix length (e.g. /32)"
    if "%" in value:
        return f"{value!r} has a scope id (%...), which no network policy accepts"
    try:
        cidr.network(value, strict=True)
    except cidr.CidrError as exc:
        return f"{value!r} is not a CIDR with its host bits zero ({exc})"
    return None


def check_ip(value: str) -> str | None:
    try:
        cidr.address_network(value)
    except cidr.CidrError:
        return f"{value!r} is not an IP address"
    return None


def check_abs_path(value: str) -> str | None:
    if not value.startswith("/") or value == "/":
        return "must be an absolute path below /"
    if posixpath.normpath(value) != value or "/../" in value + "/":
        return "must be a normalized absolute path (no '..', '.', '//' or trailing '/')"
    if not value.isprintable() or ":" in value:
        return "must not contain control or invisible characters, or ':'"
    return None


def check_hostname(value: str) -> str | None:
    if len(value) > 253:
        return f"must be at most 253 characters ({WHY_DNS_NAME})"
    if "." not in value:
        return "must be a fully qualified DNS name (with a dot)"
    if any(len(part) > 63 for part in value.split(".")):
        return "each dot-separated part of a DNS name must be at most 63 characters (RFC 1035)"
    return None


def check_label_key(value: str) -> str | None:
    # Kubernetes: an optional DNS subdomain prefix (<= 253) and a name (<= 63).
    prefix, _, label = value.rpartition("/")
    if len(label) > 63:
        return (
            f"the name part of a label key must be at most 63 characters (has {len(label)}; "
            "Kubernetes label names)"
        )
    if len(prefix) > 253:
        return (
            f"the prefix of a label key must be at most 253 characters (has {len(prefix)}; "
            f"{WHY_SUBDOMAIN})"
        )
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


def check_mount_point(value: str) -> str | None:
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


def check_descending(value: str) -> str | None:
    # The kubelet refuses a localhostProfile with '..' parts; '.' and '//' are refused too
    # so one profile has one spelling.
    if any(part in ("", ".", "..") for part in value.split("/")):
        return "must be a relative path without '.', '..' or empty parts"
    return None


def check_text(value: str) -> str | None:
    if not value.replace("\n", "").replace("\t", "").isprintable():
        return "must not contain control or invisible characters (newline and tab allowed)"
    return None


def check_path_text(value: str) -> str | None:
    if not value.isprintable():
        return "must not contain control or invisible characters"
    return None


def check_project_path(value: str) -> str | None:
    if not value.isprintable():
        return "must not contain control or invisible characters"
    if value.startswith("/") or posixpath.normpath(value).split("/")[0] == "..":
        return "must be a path inside the project folder (relative, without leading '..')"
    return None


def check_ms(value: str) -> str | None:
    return None if value else "must not be empty"


def name(description: str = "") -> Str:
    """A DNS-1123 label."""
    return Str(
        DNS_LABEL,
        "a DNS-1123 label ([a-z0-9-], alphanumeric at both ends)",
        63,
        description=description,
        why=WHY_DNS_LABEL,
    )


def app_files(description: str = "") -> List:
    """Files and folders of a build context that a Dockerfile COPYs by name: relative,
    without '.', '..', globs, variables, blanks or a leading '-' (a COPY flag)."""
    path = Str(
        r"[A-Za-z0-9_.@+][A-Za-z0-9_.@+-]*(/[A-Za-z0-9_.@+-]+)*",
        "a relative path of letters, digits and _ . @ + - that does not start with - "
        "(no globs, blanks or $)",
        255,
        (check_descending,),
        why=WHY_OWN,
    )
    return List(path, unique=True, min_items=1, description=description)


def port_name() -> Str:
    """An IANA service name, as Kubernetes requires for port names."""
    return Str(
        PORT_NAME,
        "a port name ([a-z0-9-], alphanumeric at both ends)",
        15,
        (_check_port_name,),
        why=WHY_PORT_NAME,
    )
