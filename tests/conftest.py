"""Shared fixtures and hooks: the repo root, a cgen runner, --update-golden, the marker guard."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
import traceback
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
# The runc/strace harness and the seccomp corpus, shared with bench/ (harness/README.md).
sys.path.insert(0, str(ROOT / "harness"))
sys.path.insert(0, str(ROOT / "harness" / "corpus"))

# The marker guard's hooks (tests/marker_guard.py), found through the line above.
from marker_guard import pytest_runtest_call, pytest_runtest_setup  # noqa: E402, F401

# --------------------------------------------------------------------------- golden cases


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
    changes: list[str] = config.stash.get(GOLDEN_CHANGES, [])
    for line in sorted(changes) or ["(none)"]:
        terminalreporter.write_line(line)


# --------------------------------------------------------------------------- helpers


def run_cgen(
    args: Sequence[str], cwd: Path = ROOT, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the `cgen` command line (its real entry point) and capture what it prints.

    It runs in this process (a fresh interpreter per call would cost most of the fast
    suite's time), or in a `python -m generator` process of its own when env is given
    (hash seeds, locales and registry credentials need one) or when called from another
    thread (the working folder and sys.stdout are the whole process's).
    """
    argv = ["cgen", *args]
    if env is not None or threading.current_thread() is not threading.main_thread():
        proc = subprocess.run(
            [sys.executable, "-m", "generator", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        proc = _in_process(argv, cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"cgen {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _in_process(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    from generator.cli import main

    # What `python -m generator` sees, so usage messages name the program the same way.
    as_main = types.ModuleType("__main__")
    as_main.__package__ = "generator"
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, saved_main, saved_cwd, code = sys.argv, sys.modules["__main__"], Path.cwd(), 0
    sys.argv = [str(ROOT / "generator" / "__main__.py"), *argv[1:]]
    sys.modules["__main__"] = as_main
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except Exception:  # what the interpreter would print, so "Traceback" checks still see it
        stderr.write(traceback.format_exc())
        code = 1
    finally:
        sys.argv, sys.modules["__main__"] = saved_argv, saved_main
        os.chdir(saved_cwd)
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below folder (except cgen's state) by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".cgen" not in p.relative_to(folder).parts
    }
