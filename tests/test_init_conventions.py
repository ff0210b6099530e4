"""Everyday conventions: `cgen --version` and the pre-commit hooks."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from conftest import ROOT, run_cgen

from generator.release import VERSION


def test_version_is_the_distribution_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" in project["dynamic"]  # built from generator/release.py, never restated
    proc = run_cgen(["--version"])
    assert proc.returncode == 0
    assert proc.stdout == f"cgen {VERSION}\n" == f"cgen {metadata.version('cgen')}\n"


def test_pre_commit_hooks_run_real_commands(tmp_path: Path) -> None:
    rendered = run_cgen(["render", "examples/shop", "--out", str(tmp_path / "out")])
    assert rendered.returncode == 0, rendered.stderr
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"cgen-validate", "cgen-check"}
    for hook in hooks:
        program, command = hook["entry"].split()
        assert program == "cgen" and hook["language"] == "python"
        assert hook["pass_filenames"] is False  # the whole project, never single files
        assert run_cgen([command, "--help"]).returncode == 0
        out = ["--out", str(tmp_path / "out")] if command == "check" else []
        proc = run_cgen([command, "examples/shop", *out])
        assert proc.returncode == 0, proc.stderr


def test_the_documented_ci_jobs_and_hooks_are_valid_yaml() -> None:
    text = (ROOT / "docs" / "adopt.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    assert len(blocks) >= 3
    for block in blocks:
        assert yaml.safe_load(block) is not None
    github = next(yaml.safe_load(b) for b in blocks if "jobs" in b)
    steps = github["jobs"]["cgen"]["steps"]
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "cgen check" in runs and "cgen diff" in runs
