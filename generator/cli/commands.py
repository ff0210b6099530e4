"""What render, validate and check do once their options are parsed: one library call, the
lines it prints, the exit status. No typer here: the typer commands in app.py and the fast
path in fast.py both call these, so a one-service render does not pay for typer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import generator
from generator.cli import progress
from generator.errors import CgenError, CheckFailed, ManifestError, Problem
from generator.model import OUTPUT_FORMATS

# The commands that write files: only their failures may say "nothing was written".
WRITERS = frozenset({"render", "pin", "import", "init"})
# The command this run invoked (set by the fast path or typer's callback).
invoked: list[str] = []


class BadFormat(ValueError):
    """A --format value cgen does not write (app.py turns it into typer's usage error)."""


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print text and a newline on stdout (or stderr), flushed at once as typer.echo does."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n" if nl else text)
    stream.flush()


def chosen_formats(values: list[str] | None) -> tuple[str, ...] | None:
    """The --format values in order, once each; None when none were given."""
    if not values:
        return None
    for value in values:
        if value not in OUTPUT_FORMATS:
            raise BadFormat(f"{value!r}: choose {' or '.join(OUTPUT_FORMATS)}")
    return tuple(dict.fromkeys(values))


def _warn(warnings: list[Problem]) -> None:
    for warning in warnings:
        echo(f"warning: {warning}", err=True)


def _skipped(skipped: bool) -> str:
    return "; inputs unchanged since the last render, nothing was built" if skipped else ""


def print_json(data: object) -> None:
    """Print one JSON document on stdout (--json, graph -f json)."""
    echo(json.dumps(data, indent=2, ensure_ascii=False))


def problems_of(exc: CgenError | OSError) -> list[dict[str, object]]:
    """A failure's problems for --json: as validate gives them (file, line, column, key,
    message, related); an error that has no place in a file has nulls there."""
    if isinstance(exc, ManifestError):
        return [p.as_dict() for p in exc.problems]
    place: object = None
    if isinstance(exc, OSError):
        message, place = exc.strerror or str(exc), exc.filename
    else:
        message = str(exc)
    file = None if place is None else str(place)
    keys = {"file": file, "line": None, "column": None, "key": None}
    return [{**keys, "message": message, "related": []}]


def json_failures(body: Callable[[], int], **shape: object) -> int:
    """Run a --json command: a failure is a JSON document on stdout too, `{"ok": false,
    "problems": [...], **shape}`, with the exit status the text mode has."""
    try:
        return body()
    except (CgenError, OSError) as exc:
        print_json({"ok": False, "problems": problems_of(exc), **shape})
        return exc.exit_code if isinstance(exc, CgenError) else 1


def render(
    paths: list[Path],
    out: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    allow_unpinned: bool = False,
    formats: list[str] | None = None,
) -> int:
    """`cgen render`: write the artifacts; returns the exit status."""
    chosen = chosen_formats(formats)
    with progress.reporter() as told:
        report = generator.render(
            paths,
            out,
            force=force,
            allow_unpinned=allow_unpinned,
            dry_run=dry_run,
            formats=chosen,
            progress=told,
        )
    _warn(report.warnings)
    plan = report.plan
    verb = "would write" if dry_run else "wrote"
    echo(
        f"{report.out}: {verb} {len(plan.writes)}, removed {len(plan.deletes)}, "
        f"unchanged {len(plan.unchanged)}{_skipped(plan.skipped)}"
    )
    return 0


def validate(paths: list[Path], as_json: bool = False, allow_unpinned: bool = False) -> int:
    """`cgen validate`: every check, nothing written; returns the exit status."""
    if not as_json:
        _warn(generator.validate(paths, allow_unpinned=allow_unpinned))
        echo("ok")
        return 0

    def answer() -> int:
        warnings = generator.validate(paths, allow_unpinned=allow_unpinned)
        print_json({"ok": True, "problems": [], "warnings": [w.as_dict() for w in warnings]})
        return 0

    return json_failures(answer, warnings=[])


def _check(
    paths: list[Path], out: Path | None, allow_unpinned: bool, chosen: tuple[str, ...] | None
) -> generator.Report:
    with progress.reporter({**progress.LABELS, "write": "comparing the output folder"}) as told:
        return generator.check(
            paths, out, allow_unpinned=allow_unpinned, formats=chosen, progress=told
        )


def _check_json(
    paths: list[Path], out: Path | None, allow_unpinned: bool, chosen: tuple[str, ...] | None
) -> int:
    try:
        report = _check(paths, out, allow_unpinned, chosen)
    except CheckFailed as exc:
        stale = {"upToDate": False, "summary": exc.summary, "diff": exc.diff}
        print_json({"ok": False, "problems": [], **stale})
        return exc.exit_code
    print_json(
        {
            "ok": True,
            "problems": [],
            "upToDate": True,
            "out": str(report.out),
            "files": len(report.plan.unchanged),
            "warnings": [w.as_dict() for w in report.warnings],
        }
    )
    return 0


def check(
    paths: list[Path],
    out: Path | None = None,
    allow_unpinned: bool = False,
    formats: list[str] | None = None,
    as_json: bool = False,
) -> int:
    """`cgen check`: is the output up to date; returns the exit status."""
    chosen = chosen_formats(formats)
    if as_json:
        answer = partial(_check_json, paths, out, allow_unpinned, chosen)
        return json_failures(answer, upToDate=False)
    report = _check(paths, out, allow_unpinned, chosen)
    _warn(report.warnings)
    echo(
        f"{report.out}: up to date ({len(report.plan.unchanged)} files)"
        + _skipped(report.plan.skipped)
    )
    return 0
