"""`cgen diff`: each kind of widening and narrowing as a golden case, with its exit status.

A case is a folder under tests/data/diff/: base/ and head/ (two states of one project),
case.yaml (what the case is about and the exit status it must give) and expected.txt
(the plain-text report, where `{allowed}` stands for a new or removed service's whole
seccomp allow list); --update-golden rewrites expected.txt, never the exit status.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cgen

import generator

CASES = ROOT / "tests" / "data" / "diff"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _allow_lists(case: Path) -> dict[str, str]:
    """NS/NAME -> the service's whole seccomp allow list, as the report joins it.

    A new or removed service lists every syscall its runtime allows; the golden files name
    that list by a placeholder, so a measured baseline that changes does not touch them.
    """
    from generator.seccomp.profile import reasons

    found: dict[str, str] = {}
    for side in ("base", "head"):
        project, _ = generator.load([case / side], allow_unpinned=True)
        for svc in project.services:
            names = ", ".join(sorted(reasons(project, svc)))
            found[f"{svc.namespace}/{svc.name}"] = names
    return found


@pytest.mark.parametrize("name", NAMES)
def test_diff_case(name: str, golden_changes: list[str] | None) -> None:
    case = CASES / name
    want_exit = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))["exit"]
    proc = run_cgen(["diff", "base", "head", "--format", "text"], cwd=case)
    assert proc.returncode == want_exit, proc.stdout + proc.stderr
    assert proc.stderr == ""
    lists = _allow_lists(case)
    expected = case / "expected.txt"
    if golden_changes is not None:
        text = proc.stdout
        for subject, names in lists.items():
            for end in (" [", "\n"):
                text = text.replace(f"{subject}: {names}{end}", f"{subject}: {{allowed}}{end}")
        if not expected.exists() or expected.read_text(encoding="utf-8") != text:
            expected.write_text(text, encoding="utf-8")
            golden_changes.append(expected.relative_to(ROOT).as_posix())
    want = expected.read_text(encoding="utf-8")
    for subject, names in lists.items():
        want = want.replace(f"{subject}: {{allowed}}", f"{subject}: {names}")
    assert proc.stdout == want


def test_every_kind_of_privilege_has_a_widening_case() -> None:
    """Each category of the report is widened by at least one case."""
    from generator.review.facts import CATEGORIES

    widened: set[str] = set()
    for name in NAMES:
        proc = run_cgen(["diff", "base", "head", "--format", "json"], cwd=CASES / name)
        body = json.loads(proc.stdout)
        widened |= {c["category"] for c in body["changes"] if c["direction"] != "narrowed"}
    assert widened == set(CATEGORIES)


def test_json_and_markdown_say_the_same() -> None:
    case = CASES / "capability-added"
    body = json.loads(run_cgen(["diff", "base", "head", "-f", "json"], cwd=case).stdout)
    assert body["widened"] is True
    markdown = run_cgen(["diff", "base", "head"], cwd=case).stdout
    assert markdown.startswith("## cgen privilege diff")
    for change in body["changes"]:
        assert change["item"] in markdown
        assert change["head"] is None or change["head"] in markdown


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_base_is_a_git_revision(tmp_path: Path) -> None:
    """BASE as a revision reads that commit's tree; locations name REV:path."""
    case = CASES / "connection-opened"
    repo = tmp_path / "repo"
    shutil.copytree(case / "base", repo / "services")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    for file in (case / "head").iterdir():
        shutil.copy(file, repo / "services" / file.name)
    at_top = run_cgen(["diff", "HEAD", "services", "-f", "json"], cwd=repo)
    assert at_top.returncode == 1, at_top.stderr
    inside = run_cgen(["diff", "HEAD", ".", "-f", "json"], cwd=repo / "services")
    assert inside.returncode == 1, inside.stderr
    folders = run_cgen(["diff", "base", "head", "-f", "json"], cwd=case)
    items = [
        {
            (c["category"], c["subject"], c["item"], c["direction"])
            for c in json.loads(p.stdout)["changes"]
        }
        for p in (at_top, inside, folders)
    ]
    assert items[0] == items[1] == items[2] != set()
    lines = [c["base"] for c in json.loads(at_top.stdout)["changes"] if c["base"]]
    assert all(line.startswith("HEAD:services/") for line in lines)
    clean = run_cgen(["diff", "HEAD", "services"], cwd=repo)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "head")
    same = run_cgen(["diff", "HEAD", "services", "-f", "text"], cwd=repo)
    assert (clean.returncode, same.returncode) == (1, 0)
    assert "No privilege changed." in same.stdout


def test_a_new_project_is_all_widening(tmp_path: Path) -> None:
    """A revision without the manifests is an empty base: everything is new."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("x\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "empty")
    shutil.copytree(CASES / "no-change" / "head", repo / "services")
    proc = run_cgen(["diff", "HEAD", "services", "-f", "json"], cwd=repo)
    assert proc.returncode == 1
    assert all(c["direction"] == "widened" for c in json.loads(proc.stdout)["changes"])


def test_bad_base_is_a_clear_error(tmp_path: Path) -> None:
    case = CASES / "no-change"
    proc = run_cgen(["diff", "no-such-revision", "head"], cwd=case)
    assert proc.returncode == 2
    assert "neither a folder nor a git revision" in proc.stderr
    assert "Traceback" not in proc.stderr
    broken = tmp_path / "broken"
    shutil.copytree(case / "base", broken)
    (broken / "api.yaml").write_text("apiVersion: cgen/v1\nkind: Service\n", encoding="utf-8")
    proc = run_cgen(["diff", str(broken), str(case / "head")])
    assert proc.returncode == 1
    assert "api.yaml" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cgen(["diff", "base", "head", "-f", "yaml"], cwd=case)
    assert proc.returncode == 2 and "choose markdown, text, json" in proc.stderr
