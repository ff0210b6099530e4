"""`cgen pin`: resolve every base image the manifests need to its digest, into images.lock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UserError
from ..imagelock import PinResult, compare, write_lock
from ..project import Project, load_project


def needed_images(project: Project) -> list[str]:
    """Base images (as the runtime profiles name them) that the services' Dockerfiles use."""
    from ..builders.dockerfile import base_images

    images = {image for svc in project.graph.services for image in base_images(project, svc)}
    return sorted(image for image in images if "@sha256:" not in image)


def pin(project: Project, plain_http: list[str], timeout: float) -> PinResult:
    """Resolve every needed image through its registry (or mirror) and compare to the lock."""
    from ..registry import resolver

    registry = resolver(project.config.registry_mirrors, plain_http, timeout)
    digests = {image: registry.digest(image) for image in needed_images(project)}
    return compare(project.image_lock, digests)


def _describe(result: PinResult) -> list[str]:
    lines = [f"  added {image}" for image in result.added]
    lines += [f"  moved {image}: {old} -> {new}" for image, old, new in result.moved]
    lines += [f"  removed {image} (no manifest uses it)" for image in result.removed]
    return lines


def register(app: typer.Typer) -> None:
    """Add `cgen pin` to the cgen app."""

    @app.command("pin")
    def pin_command(
        paths: Annotated[
            list[Path],
            typer.Argument(
                help="Manifest files or folders (searched recursively).", show_default=False
            ),
        ],
        check: Annotated[
            bool,
            typer.Option("--check", help="Fail when a tag has moved or an image is not pinned."),
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
        project, _ = load_project(paths)
        result = pin(project, plain_http or [], timeout)
        lock_file = project.config_dir / project.config.image_lock
        if check:
            stale = result.added or result.moved
            if stale:
                raise UserError(
                    f"{result.path} is stale: base image tags have moved or are not pinned; "
                    "review the change and run `cgen pin`\n" + "\n".join(_describe(result))
                )
            typer.echo(f"{result.path}: every tag still points to its pinned digest")
            return
        if not result.changed and lock_file.is_file():
            typer.echo(f"{result.path}: up to date ({len(result.digests)} images)")
            return
        write_lock(lock_file, result.digests)
        for line in _describe(result):
            typer.echo(line)
        typer.echo(f"{result.path}: pinned {len(result.digests)} images")
