"""Syscall names libseccomp knows, and the check of the manifests' `spec.syscalls`."""

from __future__ import annotations

from functools import cache

from generator.errors import Problem
from generator.model import Service
from generator.runtime.shipped import profiles_root
from generator.suggest import close_names

# The architectures every profile covers (libseccomp's names), and the clone(2) flags that
# create namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. clone
# without any of them (threads, fork) is allowed; with one it would do what the denied
# unshare does. Docker's profile masks argument 0 the same way unless CAP_SYS_ADMIN.
ARCHITECTURES = ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64")
CLONE_NAMESPACE_FLAGS = 0x7E020000


def architectures_text() -> str:
    """The covered architectures for messages: 'x86_64, x86, x32 or aarch64'."""
    names = [a.removeprefix("SCMP_ARCH_").lower() for a in ARCHITECTURES]
    return f"{', '.join(names[:-1])} or {names[-1]}"


NAMES_FILE = "seccomp/syscall-names.txt"


@cache
def known_syscalls() -> frozenset[str]:
    """Names libseccomp knows on the profile's architectures (profiles/seccomp)."""
    text = profiles_root().joinpath(NAMES_FILE).read_text(encoding="utf-8")
    return frozenset(ln for ln in text.splitlines() if ln and not ln.startswith("#"))


def validate(services: list[Service]) -> list[Problem]:
    """Problems with the manifests' `spec.syscalls`: names libseccomp does not know."""
    known = known_syscalls()
    problems: list[Problem] = []
    for svc in services:
        for name, keypath in svc.syscall_keys:
            if name in known:
                continue
            close = close_names(name, known, limit=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    svc.doc.at(keypath),
                    keypath,
                    f"{name!r} is not a syscall libseccomp knows on {architectures_text()} "
                    f"(runc would silently skip it){hint}",
                )
            )
    return problems
