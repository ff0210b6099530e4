"""Progress on stderr: on a terminal once a run takes a second, never in CI or when piped;
CGEN_PROGRESS=1 shows it at once, CGEN_PROGRESS=0 never."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import progress

ROOT = Path(__file__).resolve().parent.parent


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [
        (True, {}, progress.DELAY),
        (True, {"CI": "true"}, None),
        (False, {}, None),
        (True, {"CGEN_PROGRESS": "0"}, None),
        (False, {"CGEN_PROGRESS": "1"}, 0.0),
        (False, {"CGEN_PROGRESS": "1", "CI": "1"}, 0.0),
        (True, {"CGEN_PROGRESS": "yes"}, progress.DELAY),
    ],
)
def test_when_progress_shows(tty: bool, environ: dict[str, str], expected: float | None) -> None:
    stream = _Terminal() if tty else io.StringIO()
    assert progress.delay(stream, environ) == expected


def test_nothing_is_printed_before_the_delay_then_each_step_and_the_times() -> None:
    stream = io.StringIO()
    report = progress._Reporter(stream, progress.LABELS)
    report.step("inputs")
    report.step("load")
    assert stream.getvalue() == ""  # a run shorter than the delay says nothing
    report.show()  # what the timer does once the delay has passed
    report.step("build")
    report.finish()
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "cgen: loading and checking the manifests",
        "cgen: building the artifacts",
    ]
    assert lines[2].startswith("cgen: done in ") and "(inputs " in lines[2]
    assert "load " in lines[2] and "build " in lines[2] and len(lines) == 3


def test_a_short_run_says_nothing_at_the_end() -> None:
    stream = io.StringIO()
    report = progress._Reporter(stream, progress.LABELS)
    report.step("inputs")
    report.finish()
    assert stream.getvalue() == ""


def _cgen(
    tmp_path: Path, environ: dict[str, str], *args: str, stderr: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run cgen on a copy of the example shop (its output goes to tmp_path/out)."""
    project = tmp_path / "shop"
    if not project.exists():
        shutil.copytree(ROOT / "examples" / "shop", project)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", progress.ENV)}
    env.update(environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "generator", *args, "shop"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.PIPE,
        text=True,
    )


def _render(tmp_path: Path, environ: dict[str, str], stderr: int | None = None) -> str:
    proc = _cgen(tmp_path, environ, "render", "--force", stderr=stderr)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr or ""


def test_forced_progress_names_each_step(tmp_path: Path) -> None:
    err = _render(tmp_path, {progress.ENV: "1"})
    assert "cgen: loading and checking the manifests (" in err
    assert "cgen: writing the output folder (" in err and "cgen: done in " in err


def test_a_failing_check_still_says_what_each_step_took(tmp_path: Path) -> None:
    _render(tmp_path, {progress.ENV: "0"})
    policy = tmp_path / "out" / "shop" / "frontend" / "networkpolicy.yaml"
    policy.write_text(policy.read_text() + "# edited\n")
    proc = _cgen(tmp_path, {progress.ENV: "1"}, "check")
    assert proc.returncode == 1 and "networkpolicy.yaml" in proc.stdout
    lines = proc.stderr.splitlines()
    (done,) = [line for line in lines if line.startswith("cgen: done in ")]
    assert "inputs " in done and "load " in done and "write " in done, proc.stderr
    assert lines[-1].startswith("error: "), proc.stderr  # the times, then the verdict


def test_piped_stderr_gets_no_progress(tmp_path: Path) -> None:
    assert "cgen:" not in _render(tmp_path, {})


@pytest.mark.parametrize(
    ("environ", "shown"),
    [({"CI": "true"}, False), ({progress.ENV: "0"}, False), ({progress.ENV: "1"}, True)],
    ids=["CI", "off", "forced"],
)
def test_a_terminal_in_ci_or_with_progress_off_gets_none(
    tmp_path: Path, environ: dict[str, str], shown: bool
) -> None:
    main, side = pty.openpty()
    try:
        _render(tmp_path, environ, stderr=side)
        os.close(side)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal's other side is closed: all is read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main)
    assert (b"cgen: loading and checking the manifests" in seen) == shown
