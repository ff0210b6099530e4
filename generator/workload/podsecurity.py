"""Pod Security Standards: the level each namespace enforces, and the capabilities above it.

Every generated pod meets "restricted" except for capabilities a manifest adds: restricted
allows only NET_BIND_SERVICE, baseline a fixed list (kubernetes.io/docs/concepts/security/
pod-security-standards), anything more needs "privileged". A namespace enforces
"restricted" unless cgen.yaml lowers it on purpose (`podSecurity:`, with a reason); a
capability above its namespace's level is an error, never a silent lowering of the
namespace, which would weaken every other pod in it.
"""

from __future__ import annotations

from generator.errors import Location, Problem
from generator.model import Config, NamespaceSecurity, Service
from generator.suggest import did_you_mean

RESTRICTED_CAPS = frozenset({"NET_BIND_SERVICE"})
BASELINE_CAPS = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip
LEVELS = ("restricted", "baseline", "privileged")
REASON_ANNOTATION = "cgen.dev/pod-security-reason"


def capability_level(capability: str) -> str:
    """The strictest Pod Security level that allows a container to add this capability."""
    if capability in RESTRICTED_CAPS:
        return "restricted"
    return "baseline" if capability in BASELINE_CAPS else "privileged"


def service_level(svc: Service) -> str:
    """The strictest Pod Security level this service's pod meets."""
    return max(map(capability_level, svc.capabilities), key=LEVELS.index, default="restricted")


def lowered(config: Config, namespace: str) -> NamespaceSecurity | None:
    """cgen.yaml's podSecurity entry of a namespace, if it lowers that namespace."""
    return next((n for n in config.pod_security if n.namespace == namespace), None)


def namespace_level(config: Config, namespace: str) -> str:
    """The level the namespace enforces: cgen.yaml's on purpose, else restricted."""
    entry = lowered(config, namespace)
    return entry.level if entry is not None else "restricted"


def namespace_notes(config: Config, namespace: str, pods: list[Service]) -> list[str]:
    """Why a namespace enforces less than restricted: cgen.yaml's reason, then who needs it."""
    entry = lowered(config, namespace)
    if entry is None:
        return []
    head = f"Pod Security enforce level {entry.level}, not restricted"
    notes = [f"{head} (cgen.yaml {entry.keypath}):", f"  {entry.reason}"]
    for svc in pods:
        extra = sorted(set(svc.capabilities) - RESTRICTED_CAPS)
        if extra:
            notes.append(f"  {svc.name} adds {', '.join(extra)} ({service_level(svc)})")
    return notes


def _config_at(config: Config, keypath: str) -> Location:
    if config.doc is not None:
        return config.doc.key_at(keypath)
    return Location(config.path or "cgen.yaml")


def problems(config: Config, services: list[Service]) -> list[Problem]:
    """An error for every capability above its namespace's level, saying how to allow it."""
    found = []
    for svc in services:
        allowed = namespace_level(config, svc.namespace)
        entry = lowered(config, svc.namespace)
        for capability, keypath in svc.capability_keys:
            need = capability_level(capability)
            if LEVELS.index(need) <= LEVELS.index(allowed):
                continue
            if entry is None:
                source = "enforces restricted (the default)"
                how = (f"lower the namespace on purpose in cgen.yaml: podSecurity: "
                       f"{{{svc.namespace}: {{level: {need}, reason: <why>}}}}")  # fmt: skip
            else:
                source = f"enforces {allowed} (cgen.yaml {entry.keypath})"
                how = f"set {entry.keypath}.level to {need} in cgen.yaml"
            found.append(Problem(
                svc.doc.at(keypath), keypath,
                f"{capability} needs Pod Security level {need}, but namespace "
                f"{svc.namespace} {source}; drop the capability, or {how}",
                (_config_at(config, entry.keypath),) if entry is not None else (),
            ))  # fmt: skip
    return found


def warnings(config: Config, services: list[Service]) -> list[Problem]:
    """A warning for every namespace cgen.yaml lowers further than its pods need."""
    found = []
    for entry in config.pod_security:
        pods = [s for s in services if s.namespace == entry.namespace]
        if not pods:
            # Likelier a misspelt namespace than a wish to lower an empty one.
            hint = did_you_mean(entry.namespace, {s.namespace for s in services})
            found.append(Problem(
                _config_at(config, entry.keypath), entry.keypath,
                f"no cgen service in namespace {entry.namespace!r}, so this entry lowers "
                f"nothing{hint}",
            ))  # fmt: skip
            continue
        need = max(map(service_level, pods), key=LEVELS.index, default="restricted")
        if need != entry.level:
            found.append(Problem(
                _config_at(config, f"{entry.keypath}.level"), f"{entry.keypath}.level",
                f"lowers namespace {entry.namespace} to {entry.level}, but its pods need "
                f"only {need}: every pod there may now do more than it needs",
            ))  # fmt: skip
    return found
