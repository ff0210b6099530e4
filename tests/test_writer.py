"""The writer: atomic, journaled renders that survive interruption at any step."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, tree

import generator
from generator.output import writer

EXAMPLE = ROOT / "examples" / "shop"


def _copy_example(tmp_path: Path) -> Path:
    dest = tmp_path / "shop"
    shutil.copytree(EXAMPLE, dest)
    return dest


def _change(project: Path) -> None:
    manifest = project / "shop" / "frontend.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 5"))
    (project / "shop" / "email.yaml").unlink()
    checkout = project / "shop" / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("    - service: email\n", ""))


class Crash(Exception):
    """Stands for a kill -9 in the middle of a render."""


def _count_replaces(project: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    calls = {"n": 0}
    real_replace = os.replace

    def counting(src: str | Path, dst: str | Path) -> None:
        calls["n"] += 1
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting)
    generator.render([project], out)
    monkeypatch.setattr(os, "replace", real_replace)
    return calls["n"]


def test_interrupted_render_leaves_old_or_new_never_a_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy_example(tmp_path)
    base = tmp_path / "base"
    generator.render([project], base)
    old = tree(base)
    _change(project)
    new_out = tmp_path / "new"
    generator.render([project], new_out)
    new = tree(new_out)
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    total = _count_replaces(project, probe, monkeypatch)
    assert total >= 6  # staging writes, the journal, the moves into place, the state
    real_replace = os.replace
    for fail_at in range(1, total + 1):  # a crash at every single step of the render
        out = tmp_path / f"out-{fail_at}"
        shutil.copytree(base, out)
        calls = {"n": 0}

        def flaky_replace(
            src: str | Path, dst: str | Path, at: int = fail_at, calls: dict[str, int] = calls
        ) -> None:
            calls["n"] += 1
            if calls["n"] == at:
                raise Crash
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", flaky_replace)
        with pytest.raises(Crash):
            generator.render([project], out)
        monkeypatch.setattr(os, "replace", real_replace)
        journal = out / writer.STATE_DIR / "journal.json"
        if not journal.exists():
            assert tree(out) == old, fail_at  # before the commit point: the old output stands
        # Any later cgen run finishes (or discards) the interrupted render first.
        generator.render([project], out)
        assert tree(out) == new, fail_at
        assert not journal.exists()
        assert not (out / writer.STATE_DIR / "staging").exists()
        generator.check([project], out)


def test_recover_rolls_a_committed_journal_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy_example(tmp_path)
    out = tmp_path / "out"
    generator.render([project], out)
    _change(project)

    def stop(*_: object) -> None:
        raise Crash

    monkeypatch.setattr(writer, "_apply_journal", stop)
    with pytest.raises(Crash):
        generator.render([project], out)
    monkeypatch.undo()
    assert (out / writer.STATE_DIR / "journal.json").exists()
    with pytest.raises(generator.CgenError, match="interrupted render is pending"):
        generator.check([project], out)
    assert writer.recover(out)
    generator.check([project], out)


def test_unsafe_paths_are_refused(tmp_path: Path) -> None:
    for bad in ("../x", "/etc/passwd", "a/../../b", ".cgen/state.json", "a//b", "a/./b"):
        with pytest.raises(generator.UserError):
            writer.plan(tmp_path, [generator.Artifact(bad, "x\n")])


def test_files_are_world_readable_and_identical_files_untouched(tmp_path: Path) -> None:
    project = _copy_example(tmp_path)
    out = tmp_path / "out"
    generator.render([project], out)
    target = out / "shop" / "frontend" / "deployment.yaml"
    assert target.stat().st_mode & 0o777 == 0o644
    before = target.stat().st_mtime_ns
    report = generator.render([project], out)
    assert not report.plan.changed
    assert target.stat().st_mtime_ns == before
