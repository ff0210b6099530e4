"""`cgen seccomp learn`: the syscalls an audit log saw, as manifest lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import generator
from generator.cli.app import Paths, app

seccomp_app = typer.Typer(help="Seccomp profiles: learn what a service still needs.")
app.add_typer(seccomp_app, name="seccomp")


@seccomp_app.command("learn")
def seccomp_learn(
    paths: Paths,
    log: Annotated[
        list[Path],
        typer.Option(
            "--log",
            help="Kernel audit log (dmesg, kern.log, audit.log) or strace output; - for stdin.",
        ),
    ],
    service: Annotated[
        str | None,
        typer.Option(help="Attribute every record to this service (NAME or NAMESPACE/NAME)."),
    ] = None,
) -> None:
    """Print the spec.syscalls lines to add for the syscalls an audit log or strace saw.

    Audit records (type=1326, from seccomp.mode: audit) are mapped from number to name per
    architecture and attributed to the service named by --service, else to the one whose
    runtime runs the record's program. Dangerous syscalls are never proposed silently:
    they are printed commented out, with why, and a warning goes to stderr.
    """
    learned = generator.seccomp_learn(paths, log, service=service)
    typer.echo(learned.text, nl=False)
    if learned.dangerous:
        typer.echo(
            f"warning: {learned.dangerous} dangerous syscall(s) seen and not proposed "
            "(the commented lines say why)",
            err=True,
        )
