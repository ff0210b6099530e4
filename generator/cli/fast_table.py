"""Derived from the typer app by generator/cli/fast.py (`python -m generator.cli.fast`
writes it); a test keeps it equal to what derive() finds. Do not edit."""

from typing import Any

COMMANDS: dict[str, dict[str, Any]] = {
    "check": {
        "argument": "paths",
        "defaults": {"allow_unpinned": False, "as_json": False, "formats": None, "out": None},
        "options": {
            "--allow-unpinned": ("allow_unpinned", True),
            "--format": ("formats", "str*"),
            "--json": ("as_json", True),
            "--out": ("out", "path"),
            "-f": ("formats", "str*"),
            "-o": ("out", "path"),
        },
    },
    "render": {
        "argument": "paths",
        "defaults": {
            "allow_unpinned": False,
            "dry_run": False,
            "force": False,
            "formats": None,
            "out": None,
        },
        "options": {
            "--allow-unpinned": ("allow_unpinned", True),
            "--dry-run": ("dry_run", True),
            "--force": ("force", True),
            "--format": ("formats", "str*"),
            "--no-force": ("force", False),
            "--out": ("out", "path"),
            "-f": ("formats", "str*"),
            "-o": ("out", "path"),
        },
    },
    "validate": {
        "argument": "paths",
        "defaults": {"allow_unpinned": False, "as_json": False},
        "options": {"--allow-unpinned": ("allow_unpinned", True), "--json": ("as_json", True)},
    },
}
