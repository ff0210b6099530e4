"""Shared fixtures: the repo root, a cgen runner, and the --update-golden flag."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the kept files of tests/cases/*/expected (or expected_error.txt) "
        "from the current output; never turns a success case into an error case or back",
    )


GOLDEN_CHANGES = pytest.StashKey[list[str]]()


@pytest.fixture
def golden_changes(request: pytest.FixtureRequest) -> list[str] | None:
    """Where test_golden records the files it rewrote; None without --update-golden."""
    if not request.config.getoption("--update-golden"):
        return None
    return request.config.stash.setdefault(GOLDEN_CHANGES, [])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("--update-golden"):
        return
    terminalreporter.section("golden files changed")
    for line in sorted(config.stash.get(GOLDEN_CHANGES, [])) or ["(none)"]:
        terminalreporter.write_line(line)


def run_cgen(
    args: Sequence[str], cwd: Path = ROOT, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real `cgen` command line (as a user would) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"cgen {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below folder (except cgen's state) by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".cgen" not in p.relative_to(folder).parts
    }
