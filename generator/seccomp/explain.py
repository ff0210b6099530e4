"""Why each syscall of a service's seccomp profile is allowed (or not): `cgen syscalls`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from generator.errors import UsageError
from generator.model import Service
from generator.project import Project
from generator.runtime.shipped import profiles_root
from generator.seccomp import policy
from generator.seccomp import profile as seccomp
from generator.seccomp.names import CLONE_NAMESPACE_FLAGS, known_syscalls
from generator.suggest import did_you_mean

CORPUS_FILE = "seccomp/corpus.yaml"


@cache
def corpus_needs() -> dict[str, dict[str, list[str]]]:
    """{baseline: {syscall: [workload, ...]}} from profiles/seccomp/corpus.yaml."""
    path = profiles_root() / CORPUS_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: dict(entry["syscalls"]) for name, entry in data["runtimes"].items()}


def _why(reason: seccomp.Reason, needs: dict[str, list[str]], name: str) -> str:
    """One reason in words: the corpus workloads behind a baseline entry."""
    if reason.kind == "runtime":
        workloads = needs.get(name)
        if workloads:
            return f"runtime {reason.detail} (needed by {', '.join(workloads)})"
        return f"runtime {reason.detail} (its own workload, runc init or an aarch64 equivalent)"
    if reason.kind == "harmless":
        return f"harmless: {reason.detail}"
    return str(reason)


def find_service(project: Project, ref: str | None) -> Service:
    """The service ref names (NAME or NAMESPACE/NAME; optional with one service)."""
    services = project.services
    if ref is None:
        if len(services) == 1:
            return services[0]
        raise UsageError("--service: name a service (NAME or NAMESPACE/NAME)")
    namespace, _, name = ref.rpartition("/")
    found = [s for s in services if s.name == name and namespace in ("", s.namespace)]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{s.namespace}/{s.name}" for s in services)
    names = [f"{s.namespace}/{s.name}" if namespace else s.name for s in services]
    what = "is ambiguous" if found else "is not among the manifests" + did_you_mean(ref, names)
    raise UsageError(f"--service: {ref!r} {what} (services: {known})")


def _provenance(project: Project, svc: Service) -> str:
    base = project.runtime(svc).seccomp
    src = base.source
    kind = "measured" if src["measured"] else "derived, not measured"
    return (
        f"runtime baseline {base.name} ({base.path}): {kind}; {src['runtime']}; "
        f"workload {src['workload']}; {src['date']}"
    )


def _lines(project: Project, svc: Service, only: str | None) -> tuple[list[str], bool]:
    allowed = seccomp.reasons(project, svc)
    enosys = seccomp.enosys_syscalls(project, svc)
    names = [only] if only is not None else [*allowed, *enosys]
    needs = corpus_needs().get(project.runtime(svc).seccomp.name, {})
    width = max(len(n) for n in names)
    lines: list[str] = []
    denied = False
    for name in names:
        if name in allowed:
            why = "; ".join(_why(r, needs, name) for r in allowed[name])
            if name == "clone" and seccomp.clone_filtered(svc):
                why += f"; only without namespace flags (arg0 & 0x{CLONE_NAMESPACE_FLAGS:08X} == 0)"
            verdict = "allow"
        elif name in enosys:
            verdict = "ENOSYS"
            why = f"runtime {svc.runtime} probes it and falls back when it answers ENOSYS"
        else:
            denied = True
            verdict = "LOG" if seccomp.mode(project, svc) == "audit" else "EPERM"
            groups = project.profiles.capability_syscalls()
            caps = sorted(c for c, calls in groups.items() if name in calls)
            hint = f"; capability {' or '.join(caps)} would unlock it" if caps else ""
            why = (
                f"not in the {svc.runtime} baseline, no declared capability unlocks it, "
                f"not in spec.syscalls{hint}"
            )
            if name in policy.dangerous():
                why += f"; dangerous: {policy.dangerous()[name]}"
        lines.append(f"{name:<{width}}  {verdict:<6}  {why}")
    return lines, denied


@dataclass(frozen=True)
class SyscallReport:
    """Why each syscall of one service's profile is allowed; denied is set when the one
    syscall asked about is not."""

    text: str
    denied: bool


def explain_syscalls(project: Project, service: str | None, syscall: str | None) -> SyscallReport:
    """Say why each syscall of a service's seccomp profile is allowed (or the one asked)."""
    svc = find_service(project, service)
    if syscall is not None and syscall not in known_syscalls():
        raise UsageError(f"--syscall: {syscall!r} is not a syscall libseccomp knows")
    mode = seccomp.mode(project, svc)
    default = "SCMP_ACT_LOG (audit)" if mode == "audit" else "SCMP_ACT_ERRNO (EPERM)"
    lines, denied = _lines(project, svc, syscall)
    base = project.runtime(svc).seccomp.name
    header = [
        f"{svc.namespace}/{svc.name} ({svc.source}): runtime {svc.runtime}, {mode} mode, "
        f"default {default}, localhostProfile {seccomp.localhost_profile(project, svc)}",
        _provenance(project, svc),
    ]
    if syscall is None:
        allowed = len(seccomp.reasons(project, svc))
        header.append(f"{allowed} allowed, {len(seccomp.enosys_syscalls(project, svc))} ENOSYS")
        workloads = sorted({w for ws in corpus_needs().get(base, {}).values() for w in ws})
        if workloads:
            header.append(f"corpus ({CORPUS_FILE}): {', '.join(workloads)}")
    return SyscallReport("\n".join([*header, "", *lines]) + "\n", denied)
