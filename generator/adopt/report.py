"""The import report: what was inferred and from where, what was not, what was dropped."""

from __future__ import annotations

from typing import Any

from generator.adopt.notes import TITLES
from generator.adopt.run import ImportResult
from generator.serialize import json_text

FORMATS = ("text", "json")


def text(result: ImportResult, *, dry_run: bool = False) -> str:
    """The report as sections of one line per finding."""
    verb = "would write" if dry_run else "wrote"
    counts = {kind: sum(n.kind == kind for n in result.notes) for kind in TITLES}
    lines = [
        f"imported {result.workloads} workload(s): {verb} {len(result.files)} manifest(s) "
        f"below {result.out.as_posix()}/",
        f"{counts['inferred']} inferred, {counts['unsupported']} not imported, "
        f"{counts['dropped']} privilege(s) dropped, {counts['cut']} connection cut(s)",
    ]
    if result.skipped:
        lines += ["", "Objects left to their owners:", *(f"  {s}" for s in result.skipped)]
    for kind, title in TITLES.items():
        chosen = [n for n in result.notes if n.kind == kind]
        if chosen:
            lines += ["", f"{title}:"] + [f"  {n.line()}" for n in chosen]
    return "\n".join(lines) + "\n"


def as_json(result: ImportResult) -> str:
    """The report as data, for other tools."""
    body: dict[str, Any] = {
        "out": result.out.as_posix(),
        "files": sorted(result.files),
        "workloads": result.workloads,
        "skipped": result.skipped,
        "notes": [
            {
                "kind": n.kind,
                "subject": n.subject,
                "text": n.text,
                "where": str(n.where) if n.where else None,
            }
            for n in result.notes
        ],
    }
    return json_text(body)
