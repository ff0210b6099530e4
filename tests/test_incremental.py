"""A render or check of an unchanged project builds nothing; any change is still caught."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cgen, tree

import generator
from generator.errors import CheckFailed
from generator.output import journal, writer

EXAMPLE = ROOT / "examples" / "shop"


def _rendered(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project)
    out = tmp_path / "out"
    first = generator.render([project], out)
    assert not first.plan.skipped and first.plan.writes
    return project, out


def test_an_unchanged_render_and_check_build_nothing(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    before = tree(out)
    full = generator.render([project], out, force=True)
    again = generator.render([project], out)
    assert again.plan.skipped and not again.plan.changed
    assert sorted(again.plan.unchanged) == sorted(full.plan.state)
    assert again.warnings == full.warnings  # shown again, as the full render showed them
    checked = generator.check([project], out)
    assert checked.plan.skipped and checked.warnings == full.warnings
    assert tree(out) == before


def test_render_and_check_say_they_built_nothing(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    note = "inputs unchanged since the last render, nothing was built"
    for command in ("render", "check"):
        shown = run_cgen([command, str(project), "--out", str(out)], check=True)
        assert note in shown.stdout, command


def test_an_input_change_is_built(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    manifest = project / "shop" / "frontend.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 5"))
    changed = generator.render([project], out)
    assert not changed.plan.skipped and changed.plan.writes
    generator.check([project], out)


def test_a_new_file_in_the_project_is_built(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    extra = (project / "shop" / "email.yaml").read_text().replace("name: email", "name: email2")
    (project / "shop" / "email2.yaml").write_text(extra)
    added = generator.render([project], out)
    assert not added.plan.skipped
    assert any("email2" in art.path for art in added.plan.writes)


def test_a_hand_edit_in_the_output_is_still_caught(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    target = next(p for p in sorted(out.rglob("deployment.yaml")))
    target.write_text(target.read_text() + "# edited\n")
    with pytest.raises(generator.CgenError, match="edited by hand"):
        generator.check([project], out)
    with pytest.raises(generator.CgenError, match="edited by hand"):
        generator.render([project], out)
    forced = generator.render([project], out, force=True)
    assert not forced.plan.skipped and forced.plan.writes
    assert generator.render([project], out).plan.skipped


def test_a_deleted_output_file_is_written_again(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    before = tree(out)
    target = next(p for p in sorted(out.rglob("seccomp.json")))
    target.unlink()
    with pytest.raises(generator.CgenError, match="not what the manifests produce"):
        generator.check([project], out)
    again = generator.render([project], out)
    assert not again.plan.skipped and again.plan.writes
    assert tree(out) == before


def test_force_builds_and_rewrites(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    forced = generator.render([project], out, force=True)
    assert not forced.plan.skipped


def test_a_record_of_another_state_is_not_trusted(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    state = out / writer.STATE_DIR / "state.json"
    state.write_text(state.read_text().replace('"version": 1', '"version": 1 '))
    assert not generator.render([project], out).plan.skipped


def test_staged_files_are_synced_one_by_one_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "_syncfs", lambda fd: False)
    project, out = _rendered(tmp_path)
    generator.check([project], out)


def test_a_change_behind_a_linked_manifest_is_built(tmp_path: Path) -> None:
    project, out = _rendered(tmp_path)
    elsewhere = tmp_path / "elsewhere.yaml"
    manifest = project / "shop" / "frontend.yaml"
    elsewhere.write_text(manifest.read_text())
    manifest.unlink()
    manifest.symlink_to(elsewhere)
    generator.render([project], out)
    assert generator.render([project], out).plan.skipped
    elsewhere.write_text(elsewhere.read_text().replace("replicas: 2", "replicas: 5"))
    changed = generator.render([project], out)
    assert not changed.plan.skipped and changed.plan.writes


def test_a_looping_link_in_the_project_does_not_stop_skipping(tmp_path: Path) -> None:
    # A link that points at itself cannot be followed: its target text is what is hashed.
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project)
    (project / "loop").symlink_to("loop")
    out = tmp_path / "out"
    assert generator.render([project], out).plan.writes
    assert generator.render([project], out).plan.skipped
    (project / "loop").unlink()
    (project / "loop").symlink_to("elsewhere")
    assert not generator.render([project], out).plan.skipped


def test_a_record_made_on_another_machine_never_skips_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "here"))
    project, out = _rendered(tmp_path)
    assert generator.render([project], out).plan.skipped
    # A fresh clone in CI, or another user: the record's key is not there.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert not generator.check([project], out).plan.skipped
    assert not generator.render([project], out).plan.skipped


def test_a_forged_record_cannot_hide_an_edit_from_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project, out = _rendered(tmp_path)
    # Someone widens a policy by hand and rewrites state.json and inputs.json to match:
    # every hash agrees, but without the key the record is not trusted and check builds.
    policy = out / "shop" / "frontend" / "networkpolicy.yaml"
    policy.write_text(policy.read_text().replace("port: 8080", "port: 1"), encoding="utf-8")
    state_path = out / ".cgen" / "state.json"
    state = json.loads(state_path.read_text())
    state["files"]["shop/frontend/networkpolicy.yaml"] = hashlib.sha256(
        policy.read_bytes()
    ).hexdigest()
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    record_path = out / ".cgen" / "inputs.json"
    record = json.loads(record_path.read_text())
    record["state"] = hashlib.sha256(state_path.read_bytes()).hexdigest()
    record["mac"] = "0" * 64
    record_path.write_text(json.dumps(record, sort_keys=True) + "\n")
    with pytest.raises(CheckFailed):
        generator.check([project], out)
