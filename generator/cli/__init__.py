"""The `cgen` command: options in, one library call, errors out as messages. No logic here.

app.py holds the typer app and the core commands; adopt.py and seccomp.py add theirs;
commands.py what render, validate and check do, which fast.py calls without typer when
the command line is a plain one (typer is imported only when it is needed).
"""

from __future__ import annotations

import os
import sys

from generator.cli import fast
from generator.cli.commands import WRITERS, BadFormat, echo, invoked
from generator.errors import CgenError, CheckFailed, ManifestError


def _run(argv: list[str]) -> None:
    """Run the command: on the fast path when argv is a plain one, else through typer."""
    body = fast.parse(argv)
    if body is not None:
        invoked[:] = argv[:1]
        try:
            status = body()
        except BadFormat:  # refused before anything ran: typer says it as a usage error
            pass
        else:
            if status:
                sys.exit(status)
            return
    from generator.cli import adopt, seccomp  # noqa: F401  (they add their commands to app)
    from generator.cli.app import app

    app()


def main() -> None:
    """Entry point: run the app, turning cgen's errors into messages and exit codes."""
    invoked.clear()
    try:
        _run(sys.argv[1:])
    except CheckFailed as exc:
        sys.stdout.write(exc.diff)
        echo(f"error: {exc.summary}", err=True)
        sys.exit(exc.exit_code)
    except ManifestError as exc:
        for problem in exc.problems:
            echo(f"error: {problem}", err=True)
        written = "; nothing was written" if set(invoked) & WRITERS else ""
        echo(f"{len(exc.problems)} problem(s) found{written}", err=True)
        sys.exit(exc.exit_code)
    except CgenError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    except Exception as exc:  # a bug in cgen: say so briefly instead of a traceback
        if os.environ.get("CGEN_DEBUG"):
            raise
        echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set CGEN_DEBUG=1 for details and please report it)",
            err=True,
        )
        sys.exit(70)
