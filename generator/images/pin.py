"""Pin every image cgen does not build to its digest, into images.lock (`cgen pin`).

Online, tags are resolved through the registries (or their mirrors). Offline, the lock is
filled from the pins cgen ships (shipped.py), which cover the base images of its own
runtime profiles and the Dockerfile frontend; nothing else can be pinned without a registry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.images.frontend import FRONTEND
from generator.images.lock import ImageLock, PinResult, compare, is_pinned, write_lock
from generator.images.shipped import age, oldest, shipped_lock
from generator.project import Project


def needed_images(project: Project) -> list[str]:
    """Every tag-only image the project runs or builds on: the base images (as the runtime
    profiles name them) and BuildKit frontend of its Dockerfiles, and its prebuilt,
    sidecar and init container images."""
    images = {
        image
        for svc in project.graph.services
        if not svc.prebuilt
        for image in (project.runtime(svc).build_image, project.runtime(svc).runtime_image)
    }
    if images:
        images.add(FRONTEND)
    images |= {svc.image for svc in project.services if svc.prebuilt}
    images |= {c.image for svc in project.services for c in svc.containers}
    return sorted(image for image in images if not is_pinned(image))


def _lock_file(project: Project) -> Path:
    return project.config_dir / project.config.image_lock


def _own_lock(project: Project) -> ImageLock:
    """The project's lock file as it is (empty when there is none, never the shipped pins)."""
    lock = project.image_lock
    return ImageLock(lock.path) if lock.shipped else lock


def resolve(project: Project, plain_http: list[str], timeout: float) -> PinResult:
    """Resolve every needed image through its registry (or mirror) and compare to the lock."""
    from generator.images.registry import resolver

    registry = resolver(project.config.registry_mirrors, plain_http, timeout)
    digests = {image: registry.digest(image) for image in needed_images(project)}
    return compare(_own_lock(project), digests)


def from_shipped(project: Project) -> PinResult:
    """The lock filled offline: the entries it has, else the digests cgen ships."""
    lock, shipped = _own_lock(project), shipped_lock()
    digests: dict[str, str] = {}
    missing: list[str] = []
    for image in needed_images(project):
        found = lock.digests.get(image) or shipped.digests.get(image)
        if found is None:
            missing.append(image)
        else:
            digests[image] = found
    if missing:
        raise UserError(
            "cgen ships no pin for "
            + ", ".join(missing)
            + f" and {lock.path} has none: run `cgen pin` where the registry is reachable "
            "(or pin the manifest's image inline: repository:tag@sha256:...)"
        )
    return compare(lock, digests)


def describe(result: PinResult) -> list[str]:
    """One line per added, moved and removed image."""
    lines = [f"  added {image}" for image in result.added]
    lines += [f"  moved {image}: {old} -> {new}" for image, old, new in result.moved]
    lines += [f"  removed {image} (no manifest uses it)" for image in result.removed]
    return lines


def ages(project: Project, today: datetime.date) -> list[str]:
    """How old each pin is: the project's lock (or that it has none) and the shipped pins."""
    lock, shipped = _own_lock(project), shipped_lock()
    lines: list[str] = []
    if not _lock_file(project).is_file():
        lines.append(f"{lock.path}: no such file (renders use the pins cgen ships)")
    for image in needed_images(project):
        if image in lock.digests:
            lines.append(f"  {image}: {age(lock.resolved.get(image), today)}")
        elif image in shipped.digests:
            when = age(shipped.resolved.get(image), today)
            lines.append(f"  {image}: not in {lock.path}; cgen ships a pin ({when})")
        else:
            lines.append(f"  {image}: not in {lock.path}, and cgen ships no pin for it")
    newest = max(shipped.resolved.values(), default=None)
    lines.append(
        f"cgen's shipped pins ({len(shipped.digests)} images): oldest {age(oldest(shipped), today)}"
        + (f"; newest {age(newest, today)}" if newest and newest != oldest(shipped) else "")
    )
    return lines


@dataclass(frozen=True)
class PinReport:
    """What `cgen pin` found and did: the lines to show, and whether it wrote the lock."""

    lines: list[str]
    written: bool


def _dates(
    project: Project, result: PinResult, today: datetime.date, offline: bool
) -> dict[str, str]:
    """Each entry's resolution day: kept while its digest stays, else today's (or, for a
    shipped pin, the day cgen's release resolved it)."""
    old, shipped = _own_lock(project), shipped_lock()
    dates: dict[str, str] = {}
    for image, digest in result.digests.items():
        if old.digests.get(image) == digest and image in old.resolved:
            dates[image] = old.resolved[image]
        elif offline and shipped.digests.get(image) == digest and image in shipped.resolved:
            dates[image] = shipped.resolved[image]
        elif not offline:
            dates[image] = today.isoformat()
    return dates


def pin_images(
    project: Project,
    *,
    check: bool,
    offline: bool = False,
    plain_http: list[str],
    timeout: float,
    today: datetime.date | None = None,
) -> PinReport:
    """Resolve (or, offline, take the shipped pins), then either check the lock (raise when
    stale) or write it when it changed."""
    day = today or datetime.datetime.now(datetime.UTC).date()
    lock_file = _lock_file(project)
    if check:
        own = _own_lock(project)
        lines = ages(project, day)
        if offline:  # no registry: only whether every image has a pin, and how old it is
            if any(image not in own.digests for image in needed_images(project)):
                raise UserError(
                    "\n".join(lines)
                    + f"\n{own.path} does not pin every image the manifests use: run `cgen pin` "
                    "(or `cgen pin --offline` for the pins cgen ships)"
                )
        else:
            result = resolve(project, plain_http, timeout)
            if result.added or result.moved:
                summary = (
                    f"{own.path} is stale: tags have moved or are not pinned; "
                    "review the change and run `cgen pin`"
                )
                raise UserError("\n".join([*lines, summary, *describe(result)]))
        verdict = "every image is pinned" if offline else "every tag still points to its pin"
        return PinReport([*lines, f"{own.path}: {verdict}"], False)
    result = from_shipped(project) if offline else resolve(project, plain_http, timeout)
    if not result.changed and lock_file.is_file():
        return PinReport([f"{result.path}: up to date ({len(result.digests)} images)"], False)
    write_lock(lock_file, result.digests, _dates(project, result, day, offline))
    source = " from the pins cgen ships" if offline else ""
    lines = [*describe(result), f"{result.path}: pinned {len(result.digests)} images{source}"]
    return PinReport(lines, True)
