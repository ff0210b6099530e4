"""Golden cases: tests/cases/<name>/input renders to expected/ (or fails as expected_error.txt).

Regenerate after an intended change with `pytest tests/test_golden.py --update-golden`
and review the diff like any other code change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cgen, tree

CASES = ROOT / "tests" / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "input").is_dir())


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, tmp_path: Path, update_golden: bool) -> None:
    case = CASES / name
    inputs = case / "input"
    out = tmp_path / "out"
    proc = run_cgen(["render", inputs.relative_to(ROOT).as_posix(), "--out", str(out)])
    error_file = case / "expected_error.txt"
    if update_golden:
        if proc.returncode:
            error_file.write_text(proc.stderr, encoding="utf-8")
            shutil.rmtree(case / "expected", ignore_errors=True)
        else:
            _write_tree(case / "expected", tree(out))
            error_file.unlink(missing_ok=True)
        return
    if error_file.exists():
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stderr == error_file.read_text(encoding="utf-8")
        assert "Traceback" not in proc.stderr
        assert not out.exists(), "a failed render must write nothing"
        return
    assert proc.returncode == 0, proc.stderr
    expected = tree(case / "expected")
    actual = tree(out)
    assert sorted(actual) == sorted(expected)
    for rel, data in expected.items():
        assert actual[rel].decode() == data.decode(), rel
