"""The output folder under attack: planted state, racing renders, readers during an apply."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, run_cgen, tree

import generator

MINIMAL = ROOT / "tests" / "cases" / "minimal" / "input"
EXAMPLE = ROOT / "examples" / "shop"
KUSTOMIZATION = "kustomization.yaml"
Split = tuple[dict[str, bytes], set[tuple[str, bytes]]]
Entry = bytes | str | tuple[str, str]


def snapshot(folder: Path) -> dict[str, Entry]:
    """Everything below folder, cgen's state included: bytes, link targets and folders."""
    found: dict[str, Entry] = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


def _fails(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project, its rendered out/ beside it, and an outside folder with a precious file."""
    shutil.copytree(MINIMAL, tmp_path / "proj")
    (tmp_path / "outside" / "folder").mkdir(parents=True)
    (tmp_path / "outside" / "precious").write_text("keep me where I am\n")
    monkeypatch.chdir(tmp_path)
    generator.render([Path("proj")], Path("out"))
    shutil.copytree(tmp_path / "out", tmp_path / "reference")
    return tmp_path


def _journal(ws: Path, body: object, staged: dict[str, bytes] | None = None) -> None:
    state = ws / "out" / ".cgen"
    (state / "journal.json").write_text(json.dumps(body))
    for name, data in (staged or {}).items():
        (state / "staging").mkdir(exist_ok=True)
        (state / "staging" / name).write_bytes(data)


def _state(ws: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((ws / "out" / ".cgen" / "state.json").read_text())["files"]
    return files


EVIL = b"kind: Secret  # planted\n"
H = _sha(EVIL)
API = "team-a/api/deployment.yaml"


def _staged_from_outside(ws: Path) -> str:
    _journal(ws, {"writes": [["../../../outside/precious", API]], "deletes": [], "state": {API: H}})
    return "writes[0][0]"


def _staged_absolute(ws: Path) -> str:
    source = str(ws / "outside" / "precious")
    _journal(ws, {"writes": [[source, API]], "deletes": [], "state": {API: H}})
    return "writes[0][0]"


def _target_outside(ws: Path) -> str:
    target = "../outside/planted"
    _journal(ws, {"writes": [["0", target]], "deletes": [], "state": {target: H}}, {"0": EVIL})
    return "state: '../outside/planted'"


def _delete_outside(ws: Path) -> str:
    _journal(ws, {"writes": [], "deletes": ["../outside/precious"], "state": {}})
    return "deletes[0]"


def _delete_own_state(ws: Path) -> str:
    _journal(ws, {"writes": [], "deletes": [".cgen/state.json"], "state": {}})
    return "deletes[0]: '.cgen/state.json' is not a relative path"


def _staging_is_a_link(ws: Path) -> str:
    (ws / "outside" / "0").write_bytes(EVIL)
    _journal(ws, {"writes": [["0", API]], "deletes": [], "state": {API: H}})
    (ws / "out" / ".cgen" / "staging").symlink_to(ws / "outside")
    return "staging folder"


def _staged_file_is_a_link(ws: Path) -> str:
    _journal(ws, {"writes": [["0", API]], "deletes": [], "state": {API: H}})
    (ws / "out" / ".cgen" / "staging").mkdir()
    (ws / "out" / ".cgen" / "staging" / "0").symlink_to(ws / "outside" / "precious")
    return "writes[0][0]: the staged file is a link"


def _target_through_a_link(ws: Path) -> str:
    (ws / "out" / "team-a" / "evil").symlink_to(ws / "outside" / "folder")
    target = "team-a/evil/planted"
    _journal(ws, {"writes": [["0", target]], "deletes": [], "state": {target: H}}, {"0": EVIL})
    return "link out of the output folder"


def _staged_bytes_not_hashed(ws: Path) -> str:
    _journal(ws, {"writes": [["0", API]], "deletes": [], "state": {API: "0" * 64}}, {"0": EVIL})
    return "writes[0][0]: the staged file does not match its hash"


def _target_is_a_user_folder(ws: Path) -> str:
    (ws / "out" / "team-a" / "notes").mkdir()
    (ws / "out" / "team-a" / "notes" / "mine.md").write_text("a person's notes\n")
    target = "team-a/notes"
    _journal(ws, {"writes": [["0", target]], "deletes": [], "state": {target: H}}, {"0": EVIL})
    return "team-a/notes (a folder stands where cgen writes a file)"


def _journal_is_a_folder(ws: Path) -> str:
    (ws / "out" / ".cgen" / "journal.json").mkdir()
    return "is a dir, not a file"


def _journal_wrong_shape(ws: Path) -> str:
    _journal(ws, {"writes": "0", "deletes": [], "state": {}})
    return "writes: must be a list"


def _state_outside(ws: Path) -> str:
    files = _state(ws) | {"../outside/precious": _sha(b"keep me where I am\n")}
    (ws / "out" / ".cgen" / "state.json").write_text(json.dumps({"files": files}))
    return "state.json: files: '../outside/precious'"


def _state_names_a_parent_folder(ws: Path) -> str:
    files = _state(ws) | {"team-a": "0" * 64}
    (ws / "out" / ".cgen" / "state.json").write_text(json.dumps({"files": files}))
    return "state.json: files: 'team-a' is a file and the folder of"


def _state_is_a_folder(ws: Path) -> str:
    (ws / "out" / ".cgen" / "state.json").unlink()
    (ws / "out" / ".cgen" / "state.json").mkdir()
    return "state.json: is a dir, not a file"


def _state_bad_hash(ws: Path) -> str:
    files = _state(ws) | {API: "not-a-hash"}
    (ws / "out" / ".cgen" / "state.json").write_text(json.dumps({"files": files}))
    return "is not a SHA-256 hex digest"


HOSTILE: dict[str, Callable[[Path], str]] = {
    f.__name__.lstrip("_"): f
    for f in (
        _staged_from_outside,
        _staged_absolute,
        _target_outside,
        _delete_outside,
        _delete_own_state,
        _staging_is_a_link,
        _staged_file_is_a_link,
        _target_through_a_link,
        _staged_bytes_not_hashed,
        _target_is_a_user_folder,
        _journal_is_a_folder,
        _journal_wrong_shape,
        _state_outside,
        _state_names_a_parent_folder,
        _state_is_a_folder,
        _state_bad_hash,
    )
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_planted_state_is_refused_with_its_location_and_force_recovers(
    workspace: Path, name: str
) -> None:
    ws = workspace
    where = HOSTILE[name](ws)
    file = "state.json" if name.startswith("state") else "journal.json"
    before = snapshot(ws)
    proc = run_cgen(["render", "proj", "--out", "out"], cwd=ws)
    _fails(proc, f"error: out/.cgen/{file}: ", where, "--force")
    assert snapshot(ws) == before  # nothing moved, inside out/ or outside it
    with pytest.raises(generator.CgenError, match=re.escape(f"out/.cgen/{file}: ")):
        generator.check([Path("proj")], Path("out"))
    with pytest.raises(generator.CgenError, match=re.escape(f"out/.cgen/{file}: ")):
        generator.render([Path("proj")], Path("out"), dry_run=True)
    assert snapshot(ws) == before
    # --force is always a way out, and still never reaches outside the output folder.
    generator.render([Path("proj")], Path("out"), force=True)
    outside = {k: v for k, v in before.items() if k.startswith("outside")}
    assert {k: v for k, v in snapshot(ws).items() if k.startswith("outside")} == outside
    reference = tree(ws / "reference")
    assert {k: tree(ws / "out").get(k) for k in reference} == reference
    assert not (ws / "out" / ".cgen" / "journal.json").exists()
    generator.check([Path("proj")], Path("out"))


def test_a_state_entry_naming_a_folder_no_longer_wedges_renders(workspace: Path) -> None:
    ws = workspace
    (ws / "out" / "docs").mkdir()
    (ws / "out" / "docs" / "runbook.md").write_text("a person's runbook\n")
    files = _state(ws) | {"docs": "0" * 64}
    (ws / "out" / ".cgen" / "state.json").write_text(json.dumps({"version": 1, "files": files}))
    manifest = ws / "proj" / "api.yaml"
    manifest.write_text(manifest.read_text().replace("port: 8080", "port: 8081"))
    run_cgen(["render", "proj", "--out", "out"], cwd=ws, check=True)
    assert (ws / "out" / "docs" / "runbook.md").read_text() == "a person's runbook\n"
    assert "docs" not in _state(ws)
    generator.check([Path("proj")], Path("out"))


def _second_project(tmp_path: Path) -> Path:
    dest = tmp_path / "other"
    shutil.copytree(MINIMAL, dest)
    text = (dest / "api.yaml").read_text()
    text = text.replace("name: api", "name: web").replace("namespace: team-a", "namespace: b")
    (dest / "api.yaml").write_text(text.replace("port: 8080", "port: 9090"))
    return dest


def _holds_one_tree(out: Path, trees: list[dict[str, bytes]]) -> int:
    """Which project's tree out holds: its file set exactly, each file as state.json
    records it, and the one file both projects write (the root kustomization) its own."""
    files = tree(out)
    recorded = json.loads((out / ".cgen" / "state.json").read_text())["files"]
    assert sorted(recorded) == sorted(files)  # no orphans, nothing unrecorded
    assert all(_sha(files[path]) == digest for path, digest in recorded.items())
    assert not (out / ".cgen" / "journal.json").exists()
    assert not (out / ".cgen" / "staging").exists()
    owners = [n for n, t in enumerate(trees) if set(t) == set(files)]
    assert len(owners) == 1, [sorted(set(files) ^ set(t)) for t in trees]
    root = "kustomization.yaml"
    assert files[root] == trees[owners[0]][root]
    return owners[0]


@pytest.mark.slow  # 40 real cgen processes
def test_two_renders_racing_into_one_folder_leave_exactly_one_project(tmp_path: Path) -> None:
    projects = [tmp_path / "proj", _second_project(tmp_path)]
    shutil.copytree(MINIMAL, projects[0])
    trees = []
    for project in projects:
        generator.render([project], tmp_path / f"ref-{project.name}")
        trees.append(tree(tmp_path / f"ref-{project.name}"))
    assert set(trees[0]) != set(trees[1])
    winners = []
    with ThreadPoolExecutor(2) as pool:
        for run in range(20):
            out = tmp_path / f"race-{run}"
            if run % 2:  # half the races start from a tree one of the projects rendered
                generator.render([projects[run % 4 // 2]], out)
            args = [["render", str(p), "--out", str(out)] for p in projects]
            # env makes each a real `python -m generator` process of its own.
            jobs = [pool.submit(run_cgen, a, ROOT, {"CGEN_RACE": str(run)}) for a in args]
            for job in jobs:
                proc = job.result()
                assert proc.returncode == 0, proc.stderr  # serialized: both finish
                assert "Traceback" not in proc.stderr
            winners.append(_holds_one_tree(out, trees))
    print(f"20 races: project 0 last {winners.count(0)} times, project 1 {winners.count(1)}")
    # check agrees with the tree: up to date for the project it holds, stale for the other.
    checks = [run_cgen(["check", str(p), "--out", str(out)]).returncode for p in projects]
    assert sorted(checks) == [0, 1] and checks[winners[-1]] == 0


def _kustomized(files: dict[str, bytes], folder: str) -> dict[str, bytes]:
    prefix = f"{folder}/" if folder else ""
    return {p: v for p, v in files.items() if p.startswith(prefix)}


def _consistent(seen: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """Every kustomization present builds exactly the old or the new files below it (or,
    when one it lists is withdrawn, fails)."""

    def split(
        files: dict[str, bytes], folder: str
    ) -> tuple[dict[str, bytes], set[tuple[str, bytes]]]:
        here = _kustomized(files, folder)
        kusts = {(p, v) for p, v in here.items() if p.endswith(KUSTOMIZATION)}
        return {p: v for p, v in here.items() if not p.endswith(KUSTOMIZATION)}, kusts

    for path in (p for p in seen if p.endswith(KUSTOMIZATION)):
        folder = path.rpartition("/")[0]
        plain, kusts = split(seen, folder)
        versions = [split(version, folder) for version in (old, new)]
        if not any(plain == other and kusts <= others for other, others in versions):
            return False
    return True


def _change(project: Path) -> None:
    frontend = project / "shop" / "frontend.yaml"
    frontend.write_text(frontend.read_text().replace("replicas: 2", "replicas: 5"))
    (project / "shop" / "email.yaml").unlink()
    checkout = project / "shop" / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("    - service: email\n", ""))
    payment = project / "payments" / "payment.yaml"
    payment.write_text(payment.read_text().replace("port: 50051", "port: 50052"))


def test_readers_during_an_apply_never_build_a_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project)
    generator.render([project], tmp_path / "old")
    _change(project)
    generator.render([project], tmp_path / "new")
    old, new = tree(tmp_path / "old"), tree(tmp_path / "new")
    out = tmp_path / "out"
    shutil.copytree(tmp_path / "old", out)
    journal = out / ".cgen" / "journal.json"
    seen: list[dict[str, bytes]] = []
    real = {name: getattr(os, name) for name in ("replace", "unlink", "rmdir")}

    def watched(name: str) -> Callable[..., None]:
        def call(*args: object, **kwargs: object) -> None:
            if journal.exists():  # a reader looking between the commit and the end
                seen.append(tree(out))
            real[name](*args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(os, name, watched(name))
    generator.render([project], out)
    monkeypatch.undo()
    assert tree(out) == new
    mixes = [s for s in seen if s not in (old, new)]
    print(f"{len(seen)} moments between commit and end, {len(mixes)} of them a mix")
    assert len(mixes) >= 5  # the tree really is a mix for a while...
    assert all(_consistent(s, old, new) for s in seen)  # ...that no kustomization shows
    # Each such moment is where a kill -9 could leave the tree until the next render: the
    # journal is the marker that readers and cgen check see, and nothing else changes.
    for at in (1, len(seen) // 2, len(seen)):
        killed = tmp_path / f"killed-{at}"
        shutil.copytree(tmp_path / "old", killed)
        _crash_after_commit(monkeypatch, killed, at)
        with pytest.raises(Crash):
            generator.render([project], killed)
        monkeypatch.undo()
        assert _consistent(tree(killed), old, new)
        with pytest.raises(generator.CgenError, match="interrupted render is pending"):
            generator.check([project], killed)
        generator.render([project], killed)
        assert tree(killed) == new


class Crash(Exception):
    """Stands for a kill -9 in the middle of an apply."""


def _crash_after_commit(monkeypatch: pytest.MonkeyPatch, out: Path, at: int) -> None:
    journal = out / ".cgen" / "journal.json"
    count = {"n": 0}
    real = {name: getattr(os, name) for name in ("replace", "unlink", "rmdir")}

    def crashing(name: str) -> Callable[..., None]:
        def call(*args: object, **kwargs: object) -> None:
            if journal.exists():
                count["n"] += 1
                if count["n"] == at:
                    raise Crash
            real[name](*args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(os, name, crashing(name))


HIDDEN = {
    "out/extra/late.yaml": ([], "out/extra/late.yaml: a cgen manifest inside out,"),
    "generated/team-a/late.yml": (
        ["--out", "generated"],
        "generated/team-a/late.yml: a cgen manifest inside generated,",
    ),
    "own/late.yaml": (["--out", "out"], "own/late.yaml: a cgen manifest inside own,"),
}


@pytest.mark.parametrize("where", sorted(HIDDEN))
def test_a_manifest_inside_a_skipped_folder_is_an_error_not_a_silent_omission(
    tmp_path: Path, where: str
) -> None:
    project = tmp_path / "proj"
    shutil.copytree(MINIMAL, project)
    (project / "cgen.yaml").write_text("profiles: own\n")
    (project / "own").mkdir()
    flags, needle = HIDDEN[where]
    run_cgen(["render", ".", *flags], cwd=project, check=True)
    late = (MINIMAL / "api.yaml").read_text().replace("name: api", "name: late")
    (project / where).parent.mkdir(parents=True, exist_ok=True)
    (project / where).write_text(late)
    before = snapshot(tmp_path)
    for command in (["validate", "."], ["render", ".", *flags], ["check", ".", *flags]):
        _fails(run_cgen(command, cwd=project), needle, "would never be rendered")
        assert snapshot(tmp_path) == before, command
