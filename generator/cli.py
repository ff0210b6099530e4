"""The `cgen` command: options in, one library call, errors out as messages. No logic here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

import generator
from generator.errors import CgenError, CheckFailed, ManifestError, Problem
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
def validate(paths: Paths, as_json: AsJson = False) -> None:
    """Run every check on the manifests; write nothing."""
    if not as_json:
        _warn(generator.validate(paths))
        typer.echo("ok")
        return
    try:
        warnings = generator.validate(paths)
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
        bool, typer.Option("--check", help="Fail when a tag has moved or an image is not pinned.")
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
    """Pin every base image to its digest in images.lock (beside cgen.yaml)."""
    report = generator.pin(paths, check=check, plain_http=plain_http or [], timeout=timeout)
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


@app.command("diff")
def diff(
    base: Annotated[str, typer.Argument(help="A git revision (main, HEAD~1) or a folder.")],
    paths: Paths,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="markdown, text or json.")
    ] = "markdown",
) -> None:
    """Print the privilege diff from BASE to the manifests under PATHS.

    Connections opened and closed, capabilities, syscalls, secrets, writable and persistent
    paths, external networks, image digests and Pod Security levels, each with the manifest
    line on each side. Exit status: 0 when nothing widened, 1 when privilege widened.
    """
    from generator.review.report import FORMATS, render

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: choose {', '.join(FORMATS)}", param_hint="--format")
    result = generator.diff(paths, base)
    typer.echo(render(result, fmt), nl=False)
    if result.widened:
        raise typer.Exit(1)


def _has_tf(folder: Path) -> bool:
    return next(folder.rglob("*.tf"), None) is not None


@app.command("import")
def import_(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Kubernetes YAML or Terraform (.tf) files or folders.", show_default=False
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the manifests.")] = Path(
        "services"
    ),
    namespace: Annotated[str, typer.Option(help="Namespace of objects that name none.")] = (
        "default"
    ),
    runtime: Annotated[
        list[str] | None,
        typer.Option(help="WORKLOAD=RUNTIME: the runtime of a workload (repeatable)."),
    ] = None,
    skip_unknown: Annotated[
        bool, typer.Option("--skip-unknown", help="Leave out objects of unknown kinds.")
    ] = False,
    from_cluster: Annotated[
        bool, typer.Option("--from-cluster", help="Read the cluster instead (read-only).")
    ] = False,
    kubeconfig: Annotated[Path | None, typer.Option(help="With --from-cluster.")] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context.")] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include-namespace", help="Namespace to read (repeatable; default: all)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, write nothing.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Report: text or json.")] = "text",
) -> None:
    """Write one cgen manifest per workload of Kubernetes YAML, Terraform (.tf) or a cluster.

    The report says what was inferred and from which object and field, what could not be
    (also left as comments in the manifests), which privileges the running objects hold
    that the manifests drop, and which connections the imported policies allowed that the
    manifests would cut. An existing manifest is never overwritten.
    """
    from generator.adopt.report import FORMATS, as_json, text
    from generator.adopt.run import parse_runtimes

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: choose {', '.join(FORMATS)}", param_hint="--format")
    if bool(sources) == from_cluster:
        raise typer.BadParameter("give Kubernetes YAML files or folders, or --from-cluster")
    runtimes = parse_runtimes(runtime or [])
    if from_cluster:
        result = generator.import_cluster(
            out,
            kubeconfig=kubeconfig,
            context=context,
            namespaces=include or [],
            runtimes=runtimes,
            dry_run=dry_run,
        )
    elif sources and all(s.suffix == ".tf" or (s.is_dir() and _has_tf(s)) for s in sources):
        result = generator.import_terraform(
            sources,
            out,
            namespace=namespace,
            runtimes=runtimes,
            skip_unknown=skip_unknown,
            dry_run=dry_run,
        )
    else:
        result = generator.import_yaml(
            sources or [],
            out,
            namespace=namespace,
            runtimes=runtimes,
            skip_unknown=skip_unknown,
            dry_run=dry_run,
        )
    typer.echo(as_json(result) if fmt == "json" else text(result, dry_run=dry_run), nl=False)


@app.command("init")
def init(
    source: Annotated[Path, typer.Argument(help="The service's source folder.")] = Path("."),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Manifest file (default: NAME.yaml).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Service name (default: the folder's).")] = None,
    runtime: Annotated[
        str | None, typer.Option(help="Runtime profile (default: from the project files).")
    ] = None,
    port: Annotated[
        list[str] | None,
        typer.Option(help="PORT, NAME=PORT or PORT/udp (repeatable; default: Dockerfile EXPOSE)."),
    ] = None,
    image: Annotated[str | None, typer.Option(help="Image repository to push to.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Namespace.")] = None,
) -> None:
    """Write a first manifest for a service from its source folder; never overwrite a file.

    The runtime comes from the project files (pyproject.toml or requirements.txt, package.json,
    go.mod, *.csproj, pom.xml or build.gradle, Cargo.toml), the ports from --port or the
    Dockerfile's EXPOSE; it says which lock file the build will need, and shows every
    optional field as a comment.
    """
    result = generator.init(
        source, out, name=name, runtime=runtime, ports=port, image=image, namespace=namespace
    )
    for line in result.lines:
        typer.echo(f"{result.path}: {line}")
    typer.echo(f"wrote {result.path}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cgen {generator.version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Least-privilege Kubernetes, seccomp and Dockerfile artifacts from service manifests."""


def main() -> None:
    """Entry point: run the app, turning cgen's errors into messages and exit codes."""
    try:
        app()
    except CheckFailed as exc:
        sys.stdout.write(exc.diff)
        typer.echo(f"error: {exc.summary}", err=True)
        sys.exit(exc.exit_code)
    except ManifestError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"{len(exc.problems)} problem(s) found; nothing was written", err=True)
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
