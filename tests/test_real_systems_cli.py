"""Real systems through the CLI: config and patch files are inputs like manifests (a change
reaches the output, `cgen check` sees a stale copy), and they never leave the project."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, run_cgen

CASES = ROOT / "tests" / "cases"


def _copy(case: str, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CASES / case / "input", project)
    return project


def test_a_changed_config_file_rolls_the_pods(tmp_path: Path) -> None:
    project = _copy("stateful-storage", tmp_path)
    out = tmp_path / "out"
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    before = (out / "data/db/statefulset.yaml").read_text(encoding="utf-8")
    (project / "conf" / "connections.conf").write_text("max_connections = 80\n")
    assert run_cgen(["check", str(project), "--out", str(out)]).returncode == 1
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    after = (out / "data/db/statefulset.yaml").read_text(encoding="utf-8")
    assert "max_connections = 80" in (out / "data/db/configmap-tuning.yaml").read_text()
    digest = [line for line in after.splitlines() if "config-sha256" in line]
    assert digest and digest[0] not in before


def test_check_sees_a_changed_patch(tmp_path: Path) -> None:
    project = _copy("unmanaged-and-patches", tmp_path)
    out = tmp_path / "out"
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    assert run_cgen(["check", str(project), "--out", str(out)]).returncode == 0
    patch = project / "patches" / "api-rollout.yaml"
    patch.write_text(patch.read_text().replace("maxSurge: 0", "maxSurge: 1"))
    proc = run_cgen(["check", str(project), "--out", str(out)])
    assert proc.returncode == 1
    assert "+    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}" in proc.stdout


def test_a_patch_named_by_a_manifest_is_not_read_as_a_manifest(tmp_path: Path) -> None:
    project = _copy("unmanaged-and-patches", tmp_path)
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0, proc.stderr


def test_a_symlink_out_of_the_project_is_refused(tmp_path: Path) -> None:
    project = _copy("stateful-storage", tmp_path)
    secret = tmp_path / "secret.conf"
    secret.write_text("password = hunter2\n")
    link = project / "conf" / "connections.conf"
    link.unlink()
    link.symlink_to(secret)
    out = tmp_path / "out"
    proc = run_cgen(["render", str(project), "--out", str(out)])
    assert proc.returncode == 1
    assert "spec.config[0].files.connections.conf: conf/connections.conf: must stay inside" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_validate_reports_a_patch_the_terraform_output_cannot_carry(tmp_path: Path) -> None:
    project = _copy("unmanaged-and-patches", tmp_path)
    config = project / "cgen.yaml"
    config.write_text(config.read_text() + "formats: [kubernetes, terraform]\n")
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 1
    assert "api.yaml:10:" in proc.stderr and "spec.patches[0]" in proc.stderr
