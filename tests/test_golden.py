"""Golden cases: tests/cases/<name>/input renders to what expected/ keeps, or fails.

A case that renders has a `golden.yaml` whose `keep` lists glob patterns (relative to the
output folder; `*` stays within one folder, `**` spans any number of them) of the files it
is about; `expected/` holds exactly those files, byte for byte, and every pattern must
match at least one rendered file. A case that must fail has `expected_error.txt` (cgen's
whole stderr) instead.

After an intended change, `python -m pytest tests/test_golden.py --update-golden` rewrites
the kept files and error texts, lists each file it changed at the end of the run, and
refuses to turn a success case into an error case or back: that change is made by hand.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cgen, tree

CASES = ROOT / "tests" / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "input").is_dir())
GOLDEN = "golden.yaml"
ERROR = "expected_error.txt"


def matches(pattern: str, path: str) -> bool:
    """Whether a POSIX path matches a glob whose `*` stays in one folder and `**` spans any."""

    def match(pat: Sequence[str], parts: Sequence[str]) -> bool:
        if not pat:
            return not parts
        if pat[0] == "**":
            return any(match(pat[1:], parts[i:]) for i in range(len(parts) + 1))
        return bool(parts) and fnmatch.fnmatchcase(parts[0], pat[0]) and match(pat[1:], parts[1:])

    return match(pattern.split("/"), path.split("/"))


def keep_patterns(case: Path) -> list[str]:
    """The `keep` globs of a success case; a case must say which kind it is."""
    golden, error = case / GOLDEN, case / ERROR
    if golden.exists() == error.exists():
        pytest.fail(
            f"{case.name}: needs exactly one of {GOLDEN} (`keep:` globs of the files a "
            f"successful render is about) and {ERROR} (the render must fail)",
            pytrace=False,
        )
    if error.exists():
        return []
    data = yaml.safe_load(golden.read_text(encoding="utf-8"))
    keep = data.get("keep") if isinstance(data, dict) else None
    if not (isinstance(keep, list) and keep and all(isinstance(k, str) for k in keep)):
        pytest.fail(f"{case.name}/{GOLDEN}: `keep` must be a non-empty list of globs")
    return keep


def kept(files: dict[str, bytes], patterns: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """The files any pattern keeps, and the patterns that keep nothing."""
    selected = {rel: data for rel, data in files.items() if any(matches(p, rel) for p in patterns)}
    unused = [p for p in patterns if not any(matches(p, rel) for rel in files)]
    return selected, unused


def update(case: Path, stderr: str | None, files: dict[str, bytes], root: Path = ROOT) -> list[str]:
    """Rewrite the case's golden files from a render; what changed, paths relative to root.

    ``stderr`` is None when the render succeeded. Refuses (fails the test) when the case
    would change kind: an expected error that now renders, or a success that now fails.
    """
    expects_error = (case / ERROR).exists()
    if expects_error != (stderr is not None):
        was, now = ("fails", "renders") if expects_error else ("renders", "fails")
        pytest.fail(
            f"{case.name} {was} in its golden files but {now} now; --update-golden does not "
            f"change a case's kind: check the change, then swap {GOLDEN} and {ERROR} by hand"
            + (f"\n{stderr}" if stderr else ""),
            pytrace=False,
        )
    wanted = {ERROR: stderr.encode("utf-8")} if stderr is not None else {}
    wanted |= {f"expected/{rel}": data for rel, data in files.items()}
    present = {f"expected/{rel}": data for rel, data in tree(case / "expected").items()}
    if expects_error:
        present[ERROR] = (case / ERROR).read_bytes()
    changed: list[str] = []
    for rel in sorted(present.keys() | wanted.keys()):
        target = case / rel
        where = target.relative_to(root).as_posix()
        if rel not in wanted:
            target.unlink()
            changed.append(f"removed  {where}")
        elif present.get(rel) != wanted[rel]:
            changed.append(f"{'updated' if rel in present else 'added':8} {where}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(wanted[rel])
    expected = case / "expected"
    for folder in [*sorted(expected.rglob("*"), reverse=True), expected]:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return changed


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, tmp_path: Path, golden_changes: list[str] | None) -> None:
    case = CASES / name
    patterns = keep_patterns(case)
    out = tmp_path / "out"
    proc = run_cgen(["render", (case / "input").relative_to(ROOT).as_posix(), "--out", str(out)])
    assert "Traceback" not in proc.stderr, proc.stderr
    rendered = tree(out) if proc.returncode == 0 else {}
    selected, unused = kept(rendered, patterns)
    if golden_changes is not None:
        golden_changes += update(case, proc.stderr if proc.returncode else None, selected)
    if not patterns:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stderr == (case / ERROR).read_text(encoding="utf-8")
        assert not out.exists(), "a failed render must write nothing"
        return
    assert proc.returncode == 0, proc.stderr
    assert not unused, f"{GOLDEN}: these patterns keep no rendered file: {unused}"
    expected = tree(case / "expected")
    assert selected.keys() == expected.keys(), (
        f"kept but not in expected/: {sorted(selected.keys() - expected.keys())}; "
        f"in expected/ but not kept: {sorted(expected.keys() - selected.keys())} "
        f"(see {GOLDEN}; --update-golden rewrites expected/)"
    )
    for rel, data in expected.items():
        assert selected[rel].decode() == data.decode(), rel


# --------------------------------------------------------------------------- the machinery


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*/*/Dockerfile", "apps/web/Dockerfile", True),
        ("*/*/Dockerfile", "apps/web/Dockerfile.dockerignore", False),
        ("*/Dockerfile", "apps/web/Dockerfile", False),  # `*` stays in one folder
        ("**/*.tf", "main.tf", True),
        ("**/*.tf", "ns/api/main.tf", True),
        ("**", "kustomization.yaml", True),
        ("ns/**/policy.yaml", "ns/policy.yaml", True),
        ("*/_namespace/*-*.yaml", "shop/_namespace/default-deny.yaml", True),
        ("*/_namespace/*-*.yaml", "shop/_namespace/namespace.yaml", False),
    ],
)
def test_keep_patterns(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


def test_a_pattern_that_keeps_nothing_is_reported() -> None:
    files = {"a/x.yaml": b"1", "a/Dockerfile": b"2"}
    assert kept(files, ["*/*.yaml", "*/*.json"]) == ({"a/x.yaml": b"1"}, ["*/*.json"])


def _case(root: Path, kind: str) -> Path:
    case = root / "cases" / "some-case"
    (case / "expected" / "a").mkdir(parents=True)
    (case / "expected" / "a" / "old.yaml").write_bytes(b"old\n")
    (case / "expected" / "a" / "same.yaml").write_bytes(b"same\n")
    (case / kind).write_text("keep: ['a/*']\n" if kind == GOLDEN else "error: before\n")
    return case


def test_update_rewrites_only_what_changed_and_says_so(tmp_path: Path) -> None:
    case = _case(tmp_path, GOLDEN)
    changed = update(case, None, {"a/same.yaml": b"same\n", "a/new.yaml": b"new\n"}, tmp_path)
    assert changed == [
        "added    cases/some-case/expected/a/new.yaml",
        "removed  cases/some-case/expected/a/old.yaml",
    ]
    assert tree(case / "expected") == {"a/new.yaml": b"new\n", "a/same.yaml": b"same\n"}
    error_case = _case(tmp_path / "e", ERROR)
    changed = update(error_case, "error: after\n", {}, tmp_path / "e")
    assert (error_case / ERROR).read_text() == "error: after\n"
    assert not (error_case / "expected").exists()
    assert changed[-1] == "updated  cases/some-case/expected_error.txt"


@pytest.mark.parametrize(("kind", "stderr"), [(GOLDEN, "error: now broken\n"), (ERROR, None)])
def test_update_refuses_to_change_a_case_kind(
    tmp_path: Path, kind: str, stderr: str | None
) -> None:
    case = _case(tmp_path, kind)
    before = {p: p.read_bytes() for p in case.rglob("*") if p.is_file()}
    with pytest.raises(pytest.fail.Exception, match="does not change a case's kind"):
        update(case, stderr, {"a/x.yaml": b"x\n"}, tmp_path)
    assert {p: p.read_bytes() for p in case.rglob("*") if p.is_file()} == before
