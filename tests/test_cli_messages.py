"""What the command line says after problems fits the command that found them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, run_cgen

BROKEN = ROOT / "tests" / "cases" / "bad-port" / "input"


@pytest.mark.parametrize("command", ["validate", "check", "graph"])
def test_commands_that_write_nothing_never_say_nothing_was_written(command: str) -> None:
    proc = run_cgen([command, str(BROKEN)])
    assert proc.returncode == 1, proc.stderr
    assert "1 problem(s) found\n" in proc.stderr
    assert "nothing was written" not in proc.stderr


def test_render_says_nothing_was_written(tmp_path: Path) -> None:
    proc = run_cgen(["render", str(BROKEN), "--out", str(tmp_path / "out")])
    assert proc.returncode == 1, proc.stderr
    assert "1 problem(s) found; nothing was written\n" in proc.stderr
    assert not (tmp_path / "out").exists()
