"""The marker guard: a test without its marker cannot start an oracle or a container tool.

Markers (registered in pyproject.toml, --strict-markers): ``oracle`` for tests that run a
third-party tool judging the output, ``container`` for tests that start runc, podman,
buildah or a registry (and ``slow`` for tests slow by design).
``python -m pytest -m "not oracle and not container and not slow"`` runs the fast tests
alone; the hooks below (imported by conftest.py) fail a test that starts such a tool
without its marker, so the split cannot silently rot.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from oracle_base import AUDIT_EVENT

# Executables (by file name) that only tests carrying the marker may start. The oracle
# wrappers of Python libraries (kubernetes-validate, python-hcl2) raise AUDIT_EVENT with
# their package name instead (tests/oracle_base.py).
MARKER_OF_TOOL = {
    **dict.fromkeys(
        ("checkov", "hadolint", "nca", "hcl2json", "kubectl", "kustomize", "actionlint", "zizmor"),
        "oracle",
    ),
    **dict.fromkeys(("kubernetes-validate", "python-hcl2", "terraform", "kubeconform"), "oracle"),
    **dict.fromkeys(
        ("runc", "crun", "podman", "buildah", "skopeo", "docker", "docker-registry"),
        "container",
    ),
}


@dataclass
class ToolGuard:
    """Refuses, through a Python audit hook, tools a running test is not marked for."""

    markers: frozenset[str] | None = None  # None: no test is running (collection, teardown)
    refused: list[str] = field(default_factory=list)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """The audit hook: started processes and oracle wrappers of the running test."""
        if self.markers is None:
            return
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn"):
            tool = Path(os.fsdecode(args[0])).name
        elif event == AUDIT_EVENT:
            tool = str(args[0])
        else:
            return
        marker = MARKER_OF_TOOL.get(tool)
        if marker is None or marker in self.markers:
            return
        message = f"a test without @pytest.mark.{marker} ran {tool}; mark it {marker}"
        self.refused.append(message)
        pytest.fail(message, pytrace=False)  # BaseException: no `except Exception` hides it

    def take(self) -> list[str]:
        """The refusals so far, forgotten (for the guard's own test)."""
        refused, self.refused = self.refused, []
        return refused


GUARD = ToolGuard()
# Audit hooks cannot be removed: one for the whole process, switched on per test phase.
sys.addaudithook(GUARD.audit)


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    GUARD.markers = frozenset(mark.name for mark in item.iter_markers())
    GUARD.refused.clear()
    try:
        yield
    finally:
        GUARD.markers = None
    if GUARD.refused:  # refused in a thread, or the exception was swallowed
        pytest.fail("; ".join(GUARD.take()), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)
    return None
