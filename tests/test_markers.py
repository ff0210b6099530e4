"""The marker guard: a test without `oracle`/`container` cannot start such a tool.

This module's tests carry neither marker, so the guard of tests/conftest.py is active
here; each refusal is taken back from the guard so that the test itself passes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import oracles
import pytest
from marker_guard import GUARD, MARKER_OF_TOOL


@pytest.mark.parametrize(
    ("argv", "marker"),
    [
        (["runc", "--version"], "container"),
        (["/usr/bin/podman", "info"], "container"),
        (["checkov", "--version"], "oracle"),
        ([Path("/opt/somewhere/bin/nca"), "--help"], "oracle"),
    ],
)
def test_a_fast_test_cannot_start_a_marked_tool(argv: list[str | Path], marker: str) -> None:
    tool = Path(argv[0]).name
    with pytest.raises(pytest.fail.Exception, match=rf"without @pytest.mark.{marker} ran {tool}"):
        subprocess.run(argv, capture_output=True, check=False)
    assert GUARD.take() == [f"a test without @pytest.mark.{marker} ran {tool}; mark it {marker}"]


def test_a_fast_test_cannot_use_an_oracle_library() -> None:
    deployment = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    with pytest.raises(pytest.fail.Exception, match="ran kubernetes-validate"):
        oracles.k8s_validate(deployment)
    assert len(GUARD.take()) == 1


def test_other_programs_run_freely() -> None:
    proc = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True)
    assert proc.stdout == "ok\n" and GUARD.take() == []


@pytest.mark.oracle
def test_a_marked_test_may() -> None:
    assert GUARD.markers is not None and "oracle" in GUARD.markers
    GUARD.audit("subprocess.Popen", ("/opt/cgen-tools/bin/checkov", [], None, None))
    with pytest.raises(pytest.fail.Exception, match="mark it container"):
        GUARD.audit("subprocess.Popen", ("runc", [], None, None))
    assert GUARD.take() == ["a test without @pytest.mark.container ran runc; mark it container"]


def test_every_tool_has_a_registered_marker(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(MARKER_OF_TOOL.values()) == {"oracle", "container"} <= registered
