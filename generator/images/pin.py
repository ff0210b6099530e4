"""Pin every image cgen does not build to its digest, into images.lock (`cgen pin`).

Online, tags are resolved through the registries (or their mirrors). Offline, the lock is
filled from the pins cgen ships (shipped.py), which cover the base images of its own
runtime profiles and the Dockerfile frontend; nothing else can be pinned without a registry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import UserError
from generator.images.frontend import FRONTEND
from generator.images.lock import ImageLock, PinResult, compare, is_pinned, write_lock
from generator.images.shipped import age, oldest, shipped_lock
from generator.project import Project

if TYPE_CHECKING:
    from generator.images.registry import Resolver


class PinFailed(UserError):
    """`cgen pin` could not do all it was asked: the report as far as it got (`lines`, such
    as the ages of the pins) and every problem, each one error."""

    def __init__(self, *, lines: list[str], problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.lines = lines
        self.problems = problems


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


@dataclass(frozen=True)
class Asked:
    """What the registries told: the digests resolved, each failure, the images left
    unresolved, and whether a host failed as a whole (unreachable, or too slow)."""

    digests: dict[str, str]
    problems: list[str]
    unresolved: list[str]
    host_failed: bool


def _ask_each(registry: Resolver, images: list[str]) -> Asked:
    """Ask for every image; a host that fails as a whole is asked once and said once."""
    from generator.images.registry_http import HostError, RegistryError

    digests: dict[str, str] = {}
    problems: list[str] = []
    unresolved: list[str] = []
    down: dict[str, tuple[str, list[str]]] = {}  # API host -> (its problem, its images)
    for image in images:
        host = registry.api_host(image)
        if host in down:
            down[host][1].append(image)
            continue
        try:
            digests[image] = registry.digest(image)
        except HostError as exc:
            down[host] = (exc.problem, [image])
        except RegistryError as exc:
            problems.append(exc.message)
            unresolved.append(image)
    for problem, lost in down.values():
        problems.append(f"{problem} (not resolved: {', '.join(lost)})")
        unresolved += lost
    return Asked(digests, problems, sorted(unresolved), bool(down))


def resolve(project: Project, plain_http: list[str], timeout: float) -> tuple[PinResult, Asked]:
    """Resolve every needed image through its registry (or mirror) and compare to the lock
    (an image that could not be resolved is left out of both, not counted as removed)."""
    from generator.images.registry import resolver

    registry = resolver(project.config.registry_mirrors, plain_http, timeout)
    asked = _ask_each(registry, needed_images(project))
    own = _own_lock(project)
    kept = {i: d for i, d in own.digests.items() if i not in asked.unresolved}
    return compare(ImageLock(own.path, kept, own.resolved), asked.digests), asked


def _unpinned(path: str, missing: list[str]) -> str:
    """What to run for images the lock lacks: `cgen pin --offline` only helps when cgen
    ships a pin for every one of them."""
    unknown = [image for image in missing if image not in shipped_lock().digests]
    text = f"{path} does not pin every image the manifests use: "
    if not unknown:
        return text + "run `cgen pin` (or `cgen pin --offline` for the pins cgen ships)"
    return (
        text + "run `cgen pin` where the registries are reachable (cgen ships no pin for "
        f"{', '.join(unknown)}, so `cgen pin --offline` cannot pin them)"
    )


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
        return _check(project, offline, plain_http, timeout, day)
    if offline:
        result = from_shipped(project)
    else:
        result, asked = resolve(project, plain_http, timeout)
        if asked.problems:
            problems = [*asked.problems, _not_written(result.path, asked)]
            raise PinFailed(lines=[], problems=problems)
    if not result.changed and lock_file.is_file():
        return PinReport([f"{result.path}: up to date ({len(result.digests)} images)"], False)
    write_lock(lock_file, result.digests, _dates(project, result, day, offline))
    source = " from the pins cgen ships" if offline else ""
    lines = [*describe(result), f"{result.path}: pinned {len(result.digests)} images{source}"]
    return PinReport(lines, True)


def _not_written(path: str, asked: Asked) -> str:
    """The last word of a failed `cgen pin`: nothing written, and whether --offline helps."""
    lost = asked.unresolved
    text = f"{path}: nothing written ({len(lost)} image(s) not resolved)"
    if asked.host_failed and all(image in shipped_lock().digests for image in lost):
        text += "; without a registry, `cgen pin --offline` writes the pins cgen ships"
    return text


def _check(
    project: Project, offline: bool, plain_http: list[str], timeout: float, day: datetime.date
) -> PinReport:
    """`cgen pin --check`: the ages of the pins, then (online) whether any tag has moved."""
    own = _own_lock(project)
    lines = ages(project, day)
    if offline:  # no registry: only whether every image has a pin, and how old it is
        missing = [image for image in needed_images(project) if image not in own.digests]
        if missing:
            raise PinFailed(lines=lines, problems=[_unpinned(own.path, missing)])
        return PinReport([*lines, f"{own.path}: every image is pinned"], False)
    result, asked = resolve(project, plain_http, timeout)
    problems = list(asked.problems)
    if result.added or result.moved:
        summary = (
            f"{own.path} is stale: tags have moved or are not pinned; "
            "review the change and run `cgen pin`"
        )
        problems.insert(0, "\n".join([summary, *describe(result)]))
    if asked.host_failed:
        problems.append(
            "some tags could not be checked: without a registry, `cgen pin --check --offline` "
            "says whether every image is pinned, and how old the pins are"
        )
    if problems:
        raise PinFailed(lines=lines, problems=problems)
    return PinReport([*lines, f"{own.path}: every tag still points to its pin"], False)
