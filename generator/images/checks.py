"""The image checks that run at load: every base image pinned, every template present and
compiling, every declared build context holding its runtime's lock files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from generator.errors import Location, Problem
from generator.images.lock import ImageLock
from generator.images.templating import Templates, compile_error
from generator.loader import display_path
from generator.model import Service
from generator.runtime.profiles import RuntimeProfile


def build_context(svc: Service) -> Path | None:
    """The manifest's spec.build.context as a path (relative to the manifest's folder)."""
    if svc.build_context is None:
        return None
    return Path(svc.doc.path).parent / svc.build_context


def unpinned(
    services: Sequence[Service], runtimes: Mapping[str, RuntimeProfile], lock: ImageLock
) -> list[Problem]:
    """A problem for every base image that the image lock does not pin."""
    problems: list[Problem] = []
    for svc in services:
        profile = runtimes.get(svc.runtime)
        if profile is None:
            continue
        for image in (profile.build_image, profile.runtime_image):
            if lock.pin(image) is None:
                problems.append(
                    Problem(
                        svc.doc.at("spec.runtime"),
                        "spec.runtime",
                        f"base image {image} is not in {lock.path}: "
                        f"run `cgen pin` (or render with --allow-unpinned)",
                    )
                )
    return problems


def _template_problems(profile: RuntimeProfile, templates: Templates) -> list[Problem]:
    if not templates.has(profile.template):
        where = f" or {templates.user_dir}/templates" if templates.user_dir else ""
        return [
            Problem(
                Location(profile.path),
                "template",
                f"no template {profile.template} in cgen's templates{where}",
            )
        ]
    error = compile_error(templates, profile.template)
    return [Problem(Location(profile.path), "template", error)] if error else []


def unlocked(
    services: Sequence[Service], runtimes: Mapping[str, RuntimeProfile], templates: Templates
) -> list[Problem]:
    """Problems that stop a locked restore: missing lock files in the build context, or a
    template that exists nowhere (or does not compile)."""
    problems: list[Problem] = []
    for profile in sorted(runtimes.values(), key=lambda p: p.name):
        problems += _template_problems(profile, templates)
    for svc in services:
        found = runtimes.get(svc.runtime)
        context = build_context(svc)
        if found is None or context is None:
            continue
        profile = found
        where = svc.doc.at("spec.build.context")
        shown = display_path(context)
        if not context.is_dir():
            problems.append(Problem(where, "spec.build.context", f"{shown} is not a folder"))
            continue
        for pattern in profile.lockfiles:
            if not any(p.is_file() for p in context.glob(pattern)):
                problems.append(
                    Problem(
                        where,
                        "spec.build.context",
                        f"{shown} has no {pattern}: the {profile.name} build restores "
                        f"dependencies only from its lock files; {profile.lock_hint}",
                    )
                )
    return problems
