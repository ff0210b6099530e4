"""The typer app, the options every command shares, and the core commands: render,
validate, check, schema, graph, explain, pin, syscalls. Options in, one library call out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

import generator
from generator.errors import CheckFailed, ManifestError, Problem
from generator.model import OUTPUT_FORMATS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Least-privilege Kubernetes, seccomp and Dockerfile artifacts from service manifests.",
)

Paths = Annotated[
    list[Path],
    typer.Argument(help="Manifest files or folders (searched recursively).", show_default=False),
]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: out/).")]
Formats = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help="Output formats: kubernetes, terraform (repeatable; default: cgen.yaml formats).",
    ),
]
Unpinned = Annotated[
    bool, typer.Option("--allow-unpinned", help="Render base images without digests (loudly).")
]


def _formats(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    for value in values:
        if value not in OUTPUT_FORMATS:
            raise typer.BadParameter(
                f"{value!r}: choose {' or '.join(OUTPUT_FORMATS)}", param_hint="--format"
            )
    return tuple(dict.fromkeys(values))


def _warn(warnings: list[Problem]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command()
def render(
    paths: Paths,
    out: Out = None,
    force: Annotated[bool, typer.Option(help="Overwrite files edited by hand.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, write nothing.")] = False,
    allow_unpinned: Unpinned = False,
    formats: Formats = None,
) -> None:
    """Write the artifacts of every manifest into the output folder."""
    report = generator.render(
        paths,
        out,
        force=force,
        allow_unpinned=allow_unpinned,
        dry_run=dry_run,
        formats=_formats(formats),
    )
    _warn(report.warnings)
    plan = report.plan
    verb = "would write" if dry_run else "wrote"
    typer.echo(
        f"{report.out}: {verb} {len(plan.writes)}, removed {len(plan.deletes)}, "
        f"unchanged {len(plan.unchanged)}{_skipped(plan.skipped)}"
    )


def _skipped(skipped: bool) -> str:
    return "; inputs unchanged since the last render, nothing was built" if skipped else ""


AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def validate(paths: Paths, as_json: AsJson = False, allow_unpinned: Unpinned = False) -> None:
    """Run every check on the manifests; write nothing."""
    if not as_json:
        _warn(generator.validate(paths, allow_unpinned=allow_unpinned))
        typer.echo("ok")
        return
    try:
        warnings = generator.validate(paths, allow_unpinned=allow_unpinned)
    except ManifestError as exc:
        _print_json({"ok": False, "problems": [p.as_dict() for p in exc.problems], "warnings": []})
        raise typer.Exit(exc.exit_code) from None
    _print_json({"ok": True, "problems": [], "warnings": [w.as_dict() for w in warnings]})


@app.command()
def check(
    paths: Paths,
    out: Out = None,
    allow_unpinned: Unpinned = False,
    formats: Formats = None,
    as_json: AsJson = False,
) -> None:
    """CI gate: exit 1 with a unified diff when the output is stale or edited by hand."""
    if as_json:
        try:
            report = generator.check(
                paths, out, allow_unpinned=allow_unpinned, formats=_formats(formats)
            )
        except CheckFailed as exc:
            _print_json({"upToDate": False, "summary": exc.summary, "diff": exc.diff})
            raise typer.Exit(exc.exit_code) from None
        _print_json(
            {
                "upToDate": True,
                "out": str(report.out),
                "files": len(report.plan.unchanged),
                "warnings": [w.as_dict() for w in report.warnings],
            }
        )
        return
    report = generator.check(paths, out, allow_unpinned=allow_unpinned, formats=_formats(formats))
    _warn(report.warnings)
    typer.echo(
        f"{report.out}: up to date ({len(report.plan.unchanged)} files)"
        + _skipped(report.plan.skipped)
    )


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (for yaml-language-server and other editors)."""
    typer.echo(json.dumps(generator.schema(), indent=2, sort_keys=False))


EXIT_DENIED = 3


@app.command()
def graph(
    paths: Paths,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="mermaid, dot, table or json.")
    ] = "mermaid",
    dns: Annotated[bool, typer.Option(help="Include the cluster DNS flows.")] = True,
) -> None:
    """Print the allowed connectivity: Mermaid (for pull requests), DOT or a table."""
    typer.echo(generator.graph(paths, fmt, dns=dns), nl=False)


@app.command()
def explain(
    src: Annotated[str, typer.Argument(help="Who sends: NAME, NAMESPACE/NAME, NS[k=v], IP...")],
    dst: Annotated[
        str, typer.Argument(help="Who receives, optionally :PORT (8080, grpc, 53/udp).")
    ],
    paths: Paths,
    as_json: AsJson = False,
) -> None:
    """Say whether SRC may open a connection to DST[:PORT], and which manifest lines allow it.

    Exit status: 0 allowed, 3 denied, 1 on errors.
    """
    verdict = generator.explain(paths, src, dst)
    if as_json:
        _print_json(verdict.as_dict())
    else:
        typer.echo(verdict.text(), nl=False)
    if not verdict.allowed:
        raise typer.Exit(EXIT_DENIED)


@app.command("pin")
def pin(
    paths: Paths,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Say how old the pins are; fail when a tag has moved or an image is not pinned.",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="No registry: fill images.lock from the pins cgen ships (with --check: "
            "only whether every image is pinned, and how old).",
        ),
    ] = False,
    plain_http: Annotated[
        list[str] | None,
        typer.Option(
            "--plain-http",
            metavar="HOST[:PORT]",
            help="Registry reachable without TLS (loopback registries always are).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per registry request.")] = 30.0,
) -> None:
    """Pin every image cgen does not build (base, prebuilt, sidecar) to its digest in
    images.lock (beside cgen.yaml)."""
    report = generator.pin(
        paths, check=check, offline=offline, plain_http=plain_http or [], timeout=timeout
    )
    for line in report.lines:
        typer.echo(line)


@app.command()
def syscalls(
    paths: Paths,
    service: Annotated[
        str | None, typer.Option(help="NAME or NAMESPACE/NAME (optional with one service).")
    ] = None,
    syscall: Annotated[
        str | None, typer.Option(help="Explain only this syscall (exit 3 when it is denied).")
    ] = None,
) -> None:
    """Say why each syscall of a service's seccomp profile is allowed.

    The reason is the runtime baseline (with where its list came from), a declared
    capability (the syscalls Docker's profile unlocks for it) or the manifest's
    spec.syscalls, with the manifest line. Exit status: 0, 3 when --syscall is denied.
    """
    report = generator.syscalls(paths, service=service, syscall=syscall)
    typer.echo(report.text, nl=False)
    if report.denied:
        raise typer.Exit(EXIT_DENIED)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cgen {generator.version()}")
        raise typer.Exit()


# The commands that write files: only their failures may say "nothing was written".
WRITERS = frozenset({"render", "pin", "import", "init"})
invoked: list[str] = []


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Least-privilege Kubernetes, seccomp and Dockerfile artifacts from service manifests."""
    invoked[:] = [ctx.invoked_subcommand or ""]
