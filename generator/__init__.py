"""cgen: least-privilege Kubernetes, seccomp, Dockerfile and Terraform artifacts from manifests.

The public API; the CLI (generator.cli) is a thin shell over these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import writer
from .artifact import Artifact
from .errors import CgenError, CheckFailed, Problem, UserError
from .project import Project, load_project

__all__ = [
    "Artifact",
    "CgenError",
    "Report",
    "UserError",
    "build",
    "check",
    "load",
    "render",
    "schema",
    "validate",
]


@dataclass
class Report:
    """What a render did (or would do)."""

    out: Path
    plan: writer.Plan
    warnings: list[Problem]


def load(paths: list[Path], out: Path | None = None) -> tuple[Project, Path]:
    """Load and validate the manifests under paths; returns the project and its output folder."""
    return load_project(paths, out)


def build(
    project: Project, *, allow_unpinned: bool = False, formats: tuple[str, ...] | None = None
) -> list[Artifact]:
    """Every artifact of the project (pure: touches no file); formats default to cgen.yaml's."""
    from .compose import render as render_all

    return render_all(project, allow_unpinned=allow_unpinned, formats=formats)


def render(
    paths: list[Path],
    out: Path | None = None,
    *,
    force: bool = False,
    allow_unpinned: bool = False,
    dry_run: bool = False,
    formats: tuple[str, ...] | None = None,
) -> Report:
    """Render the manifests under paths into the output folder (atomically)."""
    project, out_dir = load(paths, out)
    artifacts = build(project, allow_unpinned=allow_unpinned, formats=formats)
    if out_dir.exists() and not dry_run:
        writer.recover(out_dir)
    result = writer.plan(out_dir, artifacts)
    if dry_run:
        writer.refuse_unsafe(result, force=force)  # a dry run says what the real one would
    else:
        writer.apply(result, force=force)
    return Report(out_dir, result, project.warnings)


def validate(paths: list[Path]) -> list[Problem]:
    """Run every check without writing; returns warnings, raises on errors."""
    project, _ = load(paths)
    build(project, allow_unpinned=True)
    return project.warnings


def check(
    paths: list[Path],
    out: Path | None = None,
    *,
    allow_unpinned: bool = False,
    formats: tuple[str, ...] | None = None,
) -> Report:
    """Raise CheckFailed with a unified diff when the output folder is stale or hand-edited."""
    project, out_dir = load(paths, out)
    result = writer.plan(out_dir, build(project, allow_unpinned=allow_unpinned, formats=formats))
    if writer.pending(out_dir):
        raise CheckFailed(
            diff="",
            summary=f"{out_dir}: an interrupted render is pending; run cgen render to finish it",
        )
    if result.changed:
        parts = [f"{len(result.writes)} to write", f"{len(result.deletes)} to remove"]
        if result.edited:
            parts.append(f"edited by hand: {', '.join(result.edited)}")
        raise CheckFailed(
            diff=writer.diff(result),
            summary=f"{out_dir} is not what the manifests produce ("
            f"{'; '.join(parts)}); run cgen render",
        )
    return Report(out_dir, result, project.warnings)


def schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the manifest, for editors."""
    from .manifest_schema import MANIFEST

    body = MANIFEST.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cgen.dev/schema/manifest-v1.json",
        "title": "cgen manifest",
        **body,
    }
