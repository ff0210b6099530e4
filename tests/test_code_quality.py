"""The code stays clean: ruff (lint and format) and mypy --strict pass, modules stay small."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

MAX_LINES = 420  # "no module over ~400 lines without a reason"
# Declarative data (the manifest schema) may run a little longer than logic.
LONGER = {"generator/manifest_schema.py": 460}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout
    fmt = _run("ruff", "format", "--check", "generator", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout


def test_mypy_strict() -> None:
    proc = _run("mypy", "generator")
    assert proc.returncode == 0, proc.stdout


def test_modules_stay_small() -> None:
    for path in sorted((ROOT / "generator").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= LONGER.get(rel, MAX_LINES), f"{rel} has {lines} lines"
