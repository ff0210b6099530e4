"""Pin every base image the manifests need to its digest, into images.lock (`cgen pin`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.images.frontend import FRONTEND
from generator.images.lock import PinResult, compare, is_pinned, write_lock
from generator.project import Project


def needed_images(project: Project) -> list[str]:
    """Base images (as the runtime profiles name them) that the services' Dockerfiles use,
    and the BuildKit frontend their `# syntax=` line names."""
    images = {
        image
        for svc in project.graph.services
        if not svc.prebuilt
        for image in (project.runtime(svc).build_image, project.runtime(svc).runtime_image)
    }
    if images:
        images.add(FRONTEND)
    return sorted(image for image in images if not is_pinned(image))


def resolve(project: Project, plain_http: list[str], timeout: float) -> PinResult:
    """Resolve every needed image through its registry (or mirror) and compare to the lock."""
    from generator.images.registry import resolver

    registry = resolver(project.config.registry_mirrors, plain_http, timeout)
    digests = {image: registry.digest(image) for image in needed_images(project)}
    return compare(project.image_lock, digests)


def describe(result: PinResult) -> list[str]:
    """One line per added, moved and removed image."""
    lines = [f"  added {image}" for image in result.added]
    lines += [f"  moved {image}: {old} -> {new}" for image, old, new in result.moved]
    lines += [f"  removed {image} (no manifest uses it)" for image in result.removed]
    return lines


@dataclass(frozen=True)
class PinReport:
    """What `cgen pin` found and did: the lines to show, and whether it wrote the lock."""

    lines: list[str]
    written: bool


def pin_images(
    project: Project, *, check: bool, plain_http: list[str], timeout: float
) -> PinReport:
    """Resolve, then either check the lock (raise when stale) or write it when it changed."""
    result = resolve(project, plain_http, timeout)
    lock_file: Path = project.config_dir / project.config.image_lock
    if check:
        if result.added or result.moved:
            raise UserError(
                f"{result.path} is stale: base image tags have moved or are not pinned; "
                "review the change and run `cgen pin`\n" + "\n".join(describe(result))
            )
        return PinReport([f"{result.path}: every tag still points to its pinned digest"], False)
    if not result.changed and lock_file.is_file():
        return PinReport([f"{result.path}: up to date ({len(result.digests)} images)"], False)
    write_lock(lock_file, result.digests)
    lines = [*describe(result), f"{result.path}: pinned {len(result.digests)} images"]
    return PinReport(lines, True)
