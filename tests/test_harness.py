"""The test harness itself: run_cgen in-process behaves as the installed command does."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, run_cgen, tree


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "tests/cases/pure-client/input"],  # warnings on stderr, exit 0
        ["render", "tests/cases/bad-port/input"],  # located errors, exit 1
        ["render", "--no-such-option", "x"],  # a usage error from the option parser
        ["explain", "nobody", "nothing", "tests/topologies/cycles/manifests"],
    ],
)
def test_in_process_runs_equal_a_process_of_their_own(args: list[str]) -> None:
    inside = run_cgen(args)
    outside = run_cgen(args, env={})  # any env means a `python -m generator` process
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        outside.returncode,
        outside.stdout,
        outside.stderr,
    )
    assert inside.returncode != 0 or inside.stderr


def test_in_process_renders_write_where_a_process_would(tmp_path: Path) -> None:
    source = str(ROOT / "tests" / "cases" / "minimal" / "input")
    before = Path.cwd()
    run_cgen(["render", source, "--out", "a"], cwd=tmp_path, check=True)
    assert Path.cwd() == before  # the working folder is given back
    run_cgen(["render", source, "--out", "b"], cwd=tmp_path, env={}, check=True)
    assert tree(tmp_path / "a") == tree(tmp_path / "b") != {}
