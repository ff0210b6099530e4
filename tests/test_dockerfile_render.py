"""Dockerfile rendering details: the user's own templates, broken template names."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, run_cgen

CASE = ROOT / "tests" / "cases" / "docker-user-profile" / "input"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CASE, project)
    return project


def test_a_user_base_template_applies_to_shipped_runtimes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    shipped = (ROOT / "templates" / "dockerfile" / "base.Dockerfile.j2").read_text()
    marker = "# Reviewed by the platform team."
    (project / "base-images" / "templates" / "base.Dockerfile.j2").write_text(
        shipped.replace("{{ header }}\n", "{{ header }}\n" + marker + "\n", 1)
    )
    out = tmp_path / "out"
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    # node keeps cgen's profile and template, yet its base layout is the user's.
    assert marker in (out / "apps" / "web" / "Dockerfile").read_text()
    assert marker in (out / "apps" / "api" / "Dockerfile").read_text()


def test_a_template_that_exists_nowhere_is_a_located_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    profile = project / "base-images" / "python.yaml"
    profile.write_text(
        profile.read_text().replace(
            "template: python.Dockerfile.j2", "template: pyton.Dockerfile.j2"
        )
    )
    out = tmp_path / "out"
    proc = run_cgen(["render", str(project), "--out", str(out)])
    assert proc.returncode == 1
    assert f"{profile}: template: no template pyton.Dockerfile.j2" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
