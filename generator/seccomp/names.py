"""Syscall names libseccomp knows, and the check of the manifests' `spec.syscalls`."""

from __future__ import annotations

import difflib
from functools import cache

from generator.errors import Problem
from generator.model import Service
from generator.runtime.shipped import profiles_root

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
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    svc.doc.at(keypath),
                    keypath,
                    f"{name!r} is not a syscall libseccomp knows on x86_64, x86, x32 or "
                    f"aarch64 (runc would silently skip it){hint}",
                )
            )
    return problems
