"""Pod Security Standards: which level a namespace's generated pods meet.

Every generated pod meets "restricted" except for capabilities a manifest adds: restricted
allows only NET_BIND_SERVICE, baseline a fixed list (kubernetes.io/docs/concepts/security/
pod-security-standards), anything more needs "privileged".
"""

from __future__ import annotations

from generator.errors import Problem
from generator.model import Service

RESTRICTED_CAPS = frozenset({"NET_BIND_SERVICE"})
BASELINE_CAPS = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip
LEVELS = ("restricted", "baseline", "privileged")


def service_level(svc: Service) -> str:
    """The strictest Pod Security level this service's pod meets."""
    caps = set(svc.capabilities)
    if caps <= RESTRICTED_CAPS:
        return "restricted"
    return "baseline" if caps <= BASELINE_CAPS else "privileged"


def namespace_level(services: list[Service]) -> tuple[str, list[str]]:
    """The level to enforce in a namespace, and which services lowered it, and why."""
    level = "restricted"
    reasons: list[str] = []
    for svc in services:
        own = service_level(svc)
        if own != "restricted":
            extra = sorted(set(svc.capabilities) - RESTRICTED_CAPS)
            reasons.append(f"{svc.name} adds {', '.join(extra)} ({own})")
            level = max(level, own, key=LEVELS.index)
    return level, reasons


def warnings(services: list[Service]) -> list[Problem]:
    """A warning for every service whose capabilities lower its namespace's level."""
    found = []
    for svc in services:
        own = service_level(svc)
        if own != "restricted":
            found.append(Problem(svc.doc.at("spec.capabilities"), "spec.capabilities",
                                 f"lowers the Pod Security level of namespace {svc.namespace} "
                                 f"to {own}: restricted allows only NET_BIND_SERVICE"))  # fmt: skip
    return found
