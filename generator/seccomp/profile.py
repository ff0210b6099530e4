"""The per-service OCI seccomp profile: runtime baseline + capability groups + manifest.

Delivery is either raw OCI JSON for the kubelet (`localhostProfile: <prefix>/<ns>/<name>.json`
under /var/lib/kubelet/seccomp) or, with `seccomp.delivery: operator` in cgen.yaml, also a
Security Profiles Operator SeccompProfile object that the operator installs as
`operator/<ns>/<name>.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.errors import Location
from generator.layout import metadata
from generator.model import Service
from generator.project import Project
from generator.seccomp import policy
from generator.seccomp.names import ARCHITECTURES, CLONE_NAMESPACE_FLAGS
from generator.serialize import Artifact, json_text

EPERM = 1
ENOSYS = 38
# x86_64 with its 32-bit (x86) and x32 ABIs, as Docker's profile does, and aarch64. One
# file serves both node kinds: libseccomp resolves each name per architecture, and runc
# skips a name the native architecture does not know. aarch64's 32-bit ARM compat ABI is
# left out on purpose: such processes get libseccomp's bad-architecture action.
SYS_ADMIN = "SYS_ADMIN"
SPO_API_VERSION = "security-profiles-operator.x-k8s.io/v1beta1"
SPO_FILE = "seccompprofile.yaml"


@dataclass(frozen=True)
class Reason:
    """Why one syscall is allowed: kind 'runtime', 'harmless', 'capability' or 'manifest'."""

    kind: str
    detail: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f" ({self.location})" if self.location is not None else ""
        return f"{self.kind} {self.detail}{where}"


def reasons(project: Project, svc: Service) -> dict[str, list[Reason]]:
    """Every allowed syscall with every reason it is allowed, sorted by name."""
    found: dict[str, list[Reason]] = {}
    baseline = project.runtime(svc).seccomp
    for name in baseline.syscalls:
        found.setdefault(name, []).append(Reason("runtime", baseline.name))
    for name, why in policy.harmless().items():
        found.setdefault(name, []).append(Reason("harmless", why))
    groups = project.profiles.capability_syscalls()
    for cap, keypath in svc.capability_keys:
        where = svc.doc.at(keypath)
        for name in groups.get(cap, ()):
            found.setdefault(name, []).append(Reason("capability", cap, where))
    for name, keypath in svc.syscall_keys:
        found.setdefault(name, []).append(Reason("manifest", keypath, svc.doc.at(keypath)))
    return dict(sorted(found.items()))


def enosys_syscalls(project: Project, svc: Service) -> list[str]:
    """Optional syscalls the runtime probes: answered ENOSYS so it falls back."""
    allowed = reasons(project, svc)
    return [n for n in project.runtime(svc).seccomp.enosys if n not in allowed]


def mode(project: Project, svc: Service) -> str:
    """'enforce' or 'audit': the service's own choice, else cgen.yaml's."""
    return svc.seccomp_mode or project.config.seccomp_mode


def clone_filtered(svc: Service) -> bool:
    """Whether clone is limited to no namespace flags (always, unless SYS_ADMIN)."""
    return SYS_ADMIN not in svc.capabilities


def profile(project: Project, svc: Service) -> dict[str, Any]:
    """The OCI seccomp JSON: deny by default (EPERM, or log in audit mode)."""
    allowed = list(reasons(project, svc))
    restrict_clone = "clone" in allowed and clone_filtered(svc)
    names = [n for n in allowed if not (restrict_clone and n == "clone")]
    rules: list[dict[str, Any]] = [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    if restrict_clone:
        mask = {"index": 0, "value": CLONE_NAMESPACE_FLAGS, "valueTwo": 0}
        rules.append(
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{**mask, "op": "SCMP_CMP_MASKED_EQ"}],
            }
        )
    enosys = enosys_syscalls(project, svc)
    if enosys:
        # Runtimes probe these and fall back on ENOSYS; EPERM or a kill would break them.
        rules.append({"names": enosys, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    audit = mode(project, svc) == "audit"
    result: dict[str, Any] = {"defaultAction": "SCMP_ACT_LOG" if audit else "SCMP_ACT_ERRNO"}
    if not audit:
        result["defaultErrnoRet"] = EPERM
    result["architectures"] = list(ARCHITECTURES)
    result["syscalls"] = rules
    return result


def localhost_profile(project: Project, svc: Service) -> str:
    """Where the kubelet finds this service's profile, relative to /var/lib/kubelet/seccomp."""
    if project.config.seccomp_delivery == "operator":
        # Where the Security Profiles Operator writes a namespaced SeccompProfile.
        return f"operator/{svc.namespace}/{svc.name}.json"
    return f"{project.config.seccomp_prefix}/{svc.namespace}/{svc.name}.json"


def pod_seccomp_profile(project: Project, svc: Service) -> dict[str, str]:
    """The container's seccompProfile field (a Localhost profile of its own)."""
    return {"type": "Localhost", "localhostProfile": localhost_profile(project, svc)}


def artifacts(project: Project, svc: Service) -> list[Artifact]:
    """The service's seccomp files (the raw OCI JSON, whatever the delivery)."""
    base = f"{svc.namespace}/{svc.name}"
    return [Artifact(f"{base}/seccomp.json", json_text(profile(project, svc)))]


def seccomp_profile_object(project: Project, svc: Service) -> dict[str, Any]:
    """The Security Profiles Operator SeccompProfile carrying the same profile."""
    spec: dict[str, Any] = {"disabled": False}
    for key, value in profile(project, svc).items():
        # The CRD has no defaultErrnoRet (the API server would prune it); EPERM is what
        # runc returns for SCMP_ACT_ERRNO without one, so the installed profile is the same.
        if key != "defaultErrnoRet":
            spec[key] = value
    return {
        "apiVersion": SPO_API_VERSION,
        "kind": "SeccompProfile",
        "metadata": metadata(svc),
        "spec": spec,
    }


def service_objects(project: Project, svc: Service) -> dict[str, dict[str, Any]]:
    """Kubernetes objects that deliver the profile (none when the kubelet reads raw JSON)."""
    if project.config.seccomp_delivery != "operator":
        return {}
    return {SPO_FILE: seccomp_profile_object(project, svc)}
