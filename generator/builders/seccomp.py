"""The per-service OCI seccomp profile: runtime baseline + capability groups + manifest."""

from __future__ import annotations

from typing import Any

from ..artifact import Artifact
from ..model import Service
from ..project import Project
from ..serialize import json_text

EPERM = 1
ENOSYS = 38
ARCHITECTURES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"]


def allowed_syscalls(project: Project, svc: Service) -> dict[str, str]:
    """Every allowed syscall and why: 'runtime <name>', 'capability <CAP>' or 'manifest'."""
    reasons: dict[str, str] = {}
    baseline = project.runtime(svc).seccomp
    for name in baseline.syscalls:
        reasons.setdefault(name, f"runtime {baseline.name}")
    groups = project.profiles.capability_syscalls()
    for cap in svc.capabilities:
        for name in groups.get(cap, ()):
            reasons.setdefault(name, f"capability {cap}")
    for name in svc.syscalls:
        reasons.setdefault(name, "manifest")
    return dict(sorted(reasons.items()))


def profile(project: Project, svc: Service) -> dict[str, Any]:
    """The OCI seccomp JSON: deny by default (EPERM, or log in audit mode)."""
    allowed = allowed_syscalls(project, svc)
    enosys = [n for n in project.runtime(svc).seccomp.enosys if n not in allowed]
    mode = svc.seccomp_mode or project.config.seccomp_mode
    rules: list[dict[str, Any]] = [{"names": list(allowed), "action": "SCMP_ACT_ALLOW"}]
    if enosys:
        # Runtimes probe these and fall back on ENOSYS; a kill here would crash them.
        rules.append({"names": enosys, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    result: dict[str, Any] = {
        "defaultAction": "SCMP_ACT_LOG" if mode == "audit" else "SCMP_ACT_ERRNO",
    }
    if mode != "audit":
        result["defaultErrnoRet"] = EPERM
    result["architectures"] = ARCHITECTURES
    result["syscalls"] = rules
    return result


def localhost_profile(project: Project, svc: Service) -> str:
    """Where the kubelet finds this service's profile, relative to /var/lib/kubelet/seccomp."""
    return f"{project.config.seccomp_prefix}/{svc.namespace}/{svc.name}.json"


def pod_seccomp_profile(project: Project, svc: Service) -> dict[str, str]:
    """The container's seccompProfile field (a Localhost profile of its own)."""
    return {"type": "Localhost", "localhostProfile": localhost_profile(project, svc)}


def artifacts(project: Project, svc: Service) -> list[Artifact]:
    """The service's seccomp files."""
    base = f"{svc.namespace}/{svc.name}"
    return [Artifact(f"{base}/seccomp.json", json_text(profile(project, svc)))]


def service_objects(project: Project, svc: Service) -> dict[str, dict[str, Any]]:
    """Kubernetes objects that deliver the profile (none when the kubelet reads raw JSON)."""
    return {}
