"""The two fixed syscall lists: harmless (every profile allows them) and dangerous (no
baseline may allow them; a capability or a manifest line that opens one is warned about).

Both are data, shipped in profiles/seccomp/ and never taken from a project's own profiles
folder: a project may add baselines, not shrink the dangerous set.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from generator.errors import ManifestError, Problem
from generator.loader import Document
from generator.manifest.formats import SYSCALL
from generator.model import Service
from generator.runtime.shipped import profiles_root
from generator.schema import Field, Map, Obj, Str, load_checked
from generator.seccomp.names import known_syscalls

HARMLESS_FILE = "seccomp/harmless.yaml"
DANGEROUS_FILE = "seccomp/dangerous.yaml"

_LIST = Obj(
    {
        "source": Field(Str(max_len=500), True),
        "syscalls": Field(Map(Str(SYSCALL, "a syscall name"), Str(max_len=500)), True),
    }
)


def _load(relative: str) -> Document:
    doc = load_checked(Path(str(profiles_root() / relative)), f"<cgen>/profiles/{relative}", _LIST)
    known = known_syscalls()
    problems = [
        Problem(doc.at(f"syscalls.{name}"), f"syscalls.{name}", "not a syscall libseccomp knows")
        for name in doc.data["syscalls"]
        if name not in known
    ]
    if problems:
        raise ManifestError(problems=problems)
    return doc


@cache
def dangerous() -> Mapping[str, str]:
    """Dangerous syscalls, each with why (profiles/seccomp/dangerous.yaml)."""
    return dict(_load(DANGEROUS_FILE).data["syscalls"])


@cache
def harmless() -> Mapping[str, str]:
    """Syscalls every profile allows, each with why (profiles/seccomp/harmless.yaml)."""
    doc = _load(HARMLESS_FILE)
    both = [n for n in doc.data["syscalls"] if n in dangerous()]
    if both:
        raise ManifestError(
            problems=[
                Problem(doc.at(f"syscalls.{n}"), f"syscalls.{n}", "is also in dangerous.yaml")
                for n in both
            ]
        )
    return dict(doc.data["syscalls"])


def refuse_dangerous(doc: Document, keypaths: list[str]) -> None:
    """Refuse a baseline (doc) whose allowed syscalls (at keypaths) include a dangerous one."""
    bad = dangerous()
    problems = []
    for keypath in keypaths:
        key, index = keypath[:-1].split("[")
        name = doc.data[key][int(index)]
        if name in bad:
            problems.append(
                Problem(
                    doc.at(keypath),
                    keypath,
                    f"{name!r} is dangerous ({bad[name]}): no baseline may allow it; "
                    "declare a capability or list it in the service's spec.syscalls",
                )
            )
    if problems:
        raise ManifestError(problems=problems)


def warnings(
    services: list[Service], capability_syscalls: Mapping[str, tuple[str, ...]]
) -> list[Problem]:
    """A warning at each capability or spec.syscalls line that opens a dangerous syscall."""
    bad = dangerous()
    found: list[Problem] = []
    for svc in services:
        for cap, keypath in svc.capability_keys:
            opened = [n for n in capability_syscalls.get(cap, ()) if n in bad]
            if opened:
                found.append(
                    Problem(
                        svc.doc.at(keypath),
                        keypath,
                        f"capability {cap} opens dangerous syscalls in the seccomp profile: "
                        f"{', '.join(opened)}",
                    )
                )
        for name, keypath in svc.syscall_keys:
            if name in bad:
                found.append(
                    Problem(
                        svc.doc.at(keypath),
                        keypath,
                        f"{name!r} is a dangerous syscall ({bad[name]}); allowed because "
                        "this line asks for it",
                    )
                )
    return sorted(found)
