"""The `cgen` command: options in, one library call, errors out as messages. No logic here.

app.py holds the typer app and the core commands; adopt.py and seccomp.py add theirs.
"""

from __future__ import annotations

import os
import sys

import typer

from generator.cli import adopt, seccomp  # noqa: F401  (they add their commands to app)
from generator.cli.app import WRITERS, app, invoked
from generator.errors import CgenError, CheckFailed, ManifestError


def main() -> None:
    """Entry point: run the app, turning cgen's errors into messages and exit codes."""
    invoked.clear()
    try:
        app()
    except CheckFailed as exc:
        sys.stdout.write(exc.diff)
        typer.echo(f"error: {exc.summary}", err=True)
        sys.exit(exc.exit_code)
    except ManifestError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        written = "; nothing was written" if set(invoked) & WRITERS else ""
        typer.echo(f"{len(exc.problems)} problem(s) found{written}", err=True)
        sys.exit(exc.exit_code)
    except CgenError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        typer.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    except Exception as exc:  # a bug in cgen: say so briefly instead of a traceback
        if os.environ.get("CGEN_DEBUG"):
            raise
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set CGEN_DEBUG=1 for details and please report it)",
            err=True,
        )
        sys.exit(70)
