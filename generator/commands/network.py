"""`cgen graph` and `cgen explain`: the allowed connectivity, drawn and questioned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Paths = Annotated[
    list[Path],
    typer.Argument(help="Manifest files or folders (searched recursively).", show_default=False),
]
EXIT_DENIED = 3


def graph(
    paths: Paths,
    fmt: Annotated[str, typer.Option("--format", "-f", help="mermaid, dot or table.")] = "mermaid",
    dns: Annotated[bool, typer.Option(help="Include the cluster DNS flows.")] = True,
) -> None:
    """Print the allowed connectivity: Mermaid (for pull requests), DOT or a table."""
    from generator.netgraph import FORMATS, render_graph
    from generator.netmodel import for_project
    from generator.project import load_project

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: choose {', '.join(FORMATS)}", param_hint="--format")
    project, _ = load_project(paths)
    typer.echo(render_graph(for_project(project), fmt, dns), nl=False)


def explain(
    src: Annotated[str, typer.Argument(help="Who sends: NAME, NAMESPACE/NAME, NS[k=v], IP...")],
    dst: Annotated[
        str, typer.Argument(help="Who receives, optionally :PORT (8080, grpc, 53/udp).")
    ],
    paths: Paths,
) -> None:
    """Say whether SRC may open a connection to DST[:PORT], and which manifest lines allow it.

    Exit status: 0 allowed, 3 denied, 1 on errors.
    """
    from generator.netexplain import explain as evaluate
    from generator.netexplain import parse_endpoint, parse_port, split_port
    from generator.netmodel import for_project
    from generator.project import load_project

    project, _ = load_project(paths)
    model = for_project(project)
    source = parse_endpoint(src, model)
    target_text, port_text = split_port(dst)
    target = parse_endpoint(target_text, model)
    port = parse_port(port_text, target) if port_text is not None else None
    verdict = evaluate(model, source, target, port)
    typer.echo(verdict.text(), nl=False)
    if not verdict.allowed:
        raise typer.Exit(EXIT_DENIED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the cgen app."""
    app.command()(graph)
    app.command()(explain)
