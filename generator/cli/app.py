"""The typer app, the options every command shares, and the core commands: render,
validate, check, schema, graph, explain, pin, syscalls. Options in, one library call out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

import generator
from generator.cli import commands

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


def _run(status: int) -> None:
    if status:
        raise typer.Exit(status)


def _usage(body: Callable[..., int], **options: Any) -> int:
    """Run a command body, its --format refusal as typer's usage error.

    The commands below pass their parameters on as they are (**locals()): a body takes the
    names typer parses, which is what lets the fast path (fast.py) call it without typer.
    """
    try:
        return body(**options)
    except commands.BadFormat as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None


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
    _run(_usage(commands.render, **locals()))


AsJson = Annotated[
    bool, typer.Option("--json", help="Print the result (or the errors) as JSON on stdout.")
]


@app.command()
def validate(paths: Paths, as_json: AsJson = False, allow_unpinned: Unpinned = False) -> None:
    """Run every check on the manifests; write nothing."""
    _run(commands.validate(**locals()))


@app.command()
def check(
    paths: Paths,
    out: Out = None,
    allow_unpinned: Unpinned = False,
    formats: Formats = None,
    as_json: AsJson = False,
) -> None:
    """CI gate: exit 1 with a unified diff when the output is stale or edited by hand."""
    _run(_usage(commands.check, **locals()))


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
    """Print the allowed connectivity: Mermaid (for pull requests), DOT, a table or JSON."""

    def draw() -> int:
        typer.echo(generator.graph(paths, fmt, dns=dns), nl=False)
        return 0

    _run(commands.json_failures(draw) if fmt == "json" else draw())


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

    def answer() -> int:
        verdict = generator.explain(paths, src, dst)
        if as_json:
            commands.print_json({"ok": True, "problems": [], **verdict.as_dict()})
        else:
            typer.echo(verdict.text(), nl=False)
        return 0 if verdict.allowed else EXIT_DENIED

    _run(commands.json_failures(answer) if as_json else answer())


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
    from generator.images.pin import PinFailed

    try:
        report = generator.pin(
            paths, check=check, offline=offline, plain_http=plain_http or [], timeout=timeout
        )
    except PinFailed as exc:  # what it found still shows (ages), then every problem
        for line in exc.lines:
            typer.echo(line)
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(exc.exit_code) from None
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


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Least-privilege Kubernetes, seccomp and Dockerfile artifacts from service manifests."""
    commands.invoked[:] = [ctx.invoked_subcommand or ""]
