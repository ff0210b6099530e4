"""A one-service render or validate imports only what it needs: the fast path parses its
command line from a table derived from the typer app, and passes what typer would."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from generator.cli import commands, fast
from generator.cli.fast_table import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
APP: Any = importlib.import_module("generator.cli.app").app

# Modules a render or validate must not import: the CLI framework and what it brings
# (pydantic, rich, click), and the libraries of other commands (kubernetes for import
# from a cluster, hcl2 for Terraform, the validators the tests use).
HEAVY = ("typer", "click", "pydantic", "rich", "kubernetes", "hcl2", "jsonschema", "lark")
# Standard modules only some runs need: near-name hints, a failing check's diff, Cargo.lock.
LAZY = ("difflib", "tomllib")

SERVICE = """\
apiVersion: cgen/v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  runtime: python
  image: registry.example.com/api:1.0
  ports: [{name: http, port: 8080}]
"""


def test_the_fast_path_table_is_derived_from_the_typer_app() -> None:
    assert fast.derive(APP) == COMMANDS, "run: python -m generator.cli.fast && ruff format"


FAST = [
    ["render", "svc"],
    ["render", "a.yaml", "b", "--out", "o", "--force", "--dry-run", "--allow-unpinned"],
    ["render", "--out=o", "svc", "-f", "kubernetes", "--format=terraform", "--no-force"],
    ["render", "-o", "o", "svc", "--force", "--no-force"],
    ["validate", "svc", "--json"],
    ["check", "svc", "-o", "o", "--allow-unpinned", "--json", "-f", "terraform"],
]
TYPER_ONLY = [
    [],
    ["--version"],
    ["render"],
    ["render", "--help"],
    ["render", "svc", "--"],
    ["render", "svc", "-oo"],
    ["render", "svc", "--out"],
    ["render", "svc", "--out", "--force"],
    ["render", "svc", "--out", "a", "--out", "b"],
    ["render", "svc", "--force=yes"],
    ["render", "svc", "--unknown"],
    ["render", ""],
    ["validate", "svc", "--out", "o"],
    ["schema"],
    ["graph", "svc"],
]


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_the_fast_path_passes_what_typer_passes(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def record(**options: Any) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(commands, argv[0], record)
    body = fast.parse(argv)
    assert body is not None
    body()
    typer.main.get_command(APP).main(argv, prog_name="cgen", standalone_mode=False)
    assert len(seen) == 2 and seen[0] == seen[1]


@pytest.mark.parametrize("argv", TYPER_ONLY, ids=lambda argv: " ".join(argv) or "(none)")
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert fast.parse(argv) is None


def _imports_of(args: list[str], cwd: Path) -> set[str]:
    """The modules a fresh `cgen` process has imported when it exits."""
    script = (
        "import sys\nfrom generator.cli import main\nsys.argv = ['cgen', *sys.argv[1:]]\n"
        "try:\n    main()\nfinally:\n    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.splitlines()[-1].split())


@pytest.mark.parametrize(
    "args",
    [
        ["render", "svc", "--allow-unpinned", "--out", "out"],
        ["validate", "svc"],
        ["check", "svc", "--allow-unpinned", "--out", "out"],
    ],
    ids=lambda args: args[0],
)
def test_render_validate_and_check_import_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "api.yaml").write_text(SERVICE, encoding="utf-8")
    if args[0] == "check":
        _imports_of(["render", "svc", "--allow-unpinned", "--out", "out"], tmp_path)
    imported = _imports_of(args, tmp_path)
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY + LAZY)
    assert not heavy, f"cgen {args[0]} imported {heavy}"
    assert "generator.cli.app" not in imported


def test_the_heavy_modules_are_seen_when_they_are_imported(tmp_path: Path) -> None:
    # The check above is only worth something if it sees an import: help needs typer.
    assert "typer" in _imports_of(["render", "--help"], tmp_path)
