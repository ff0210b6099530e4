"""`cgen diff`, `cgen import` and `cgen init`: review a change, adopt what runs, start a
service. Options in, one library call out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import generator
from generator.cli.app import Paths, app


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
    namespace: Annotated[
        str | None,
        typer.Option(
            help="Namespace (default: cgen.yaml's namespace beside the manifest, "
            "else the service name)."
        ),
    ] = None,
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
