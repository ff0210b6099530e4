"""The hardened multi-stage Dockerfile skeleton and its .dockerignore, from Jinja templates.

Base images come from the runtime profile by tag and are written as `repo:tag@sha256:...`
from the image lock (on the pull-through mirror when cgen.yaml names one). When a manifest
gives its build context, the runtime's lock files must be there: the build stage restores
dependencies from them only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..artifact import Artifact
from ..errors import Location, Problem
from ..imagelock import mirrored
from ..model import Service
from ..profiles import RuntimeProfile
from ..project import Project, display_path
from ..resources import templates_root
from ..serialize import comment, header_lines, one_line
from .templating import render_template
from .workload import uid

SHIPPED = Path("dockerfile")
IGNORE_BASE = "base.dockerignore.j2"
# BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile given with -f before the
# context's .dockerignore, so the skeleton applies without copying it anywhere.
IGNORE_FILE = "Dockerfile.dockerignore"


def base_images(project: Project, svc: Service) -> tuple[str, str]:
    """The build and runtime base images of a service, as its profile names them."""
    profile = project.runtime(svc)
    return profile.build_image, profile.runtime_image


def unpinned(project: Project) -> list[Problem]:
    """A problem for every base image that the image lock does not pin."""
    problems: list[Problem] = []
    for svc in project.graph.services:
        for image in base_images(project, svc):
            if project.image_lock.pin(image) is None:
                problems.append(
                    Problem(
                        svc.doc.at("spec.runtime"),
                        "spec.runtime",
                        f"base image {image} is not in {project.image_lock.path}: "
                        f"run `cgen pin` (or render with --allow-unpinned)",
                    )
                )
    return problems


def build_context(svc: Service) -> Path | None:
    """The manifest's spec.build.context as a path (relative to the manifest's folder)."""
    if svc.build_context is None:
        return None
    return Path(svc.doc.path).parent / svc.build_context


def unlocked(project: Project) -> list[Problem]:
    """Problems that stop a locked restore: missing lock files in the build context, or a
    template that exists nowhere."""
    problems: list[Problem] = []
    for svc in project.graph.services:
        profile = project.runtime(svc)
        if _template_dirs(project, profile.template) is None:
            problems.append(
                Problem(
                    Location(profile.path),
                    "template",
                    f"no template {profile.template} in cgen's templates"
                    + (f" or {project.profiles.user_display}/templates" if _user(project) else ""),
                )
            )
        context = build_context(svc)
        if context is None:
            continue
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


def _user(project: Project) -> Path | None:
    folder = project.profiles.user_dir
    return folder / "templates" if folder is not None and (folder / "templates").is_dir() else None


def _template_dirs(project: Project, name: str) -> list[Path] | None:
    """Where templates are looked up (the user's folder first), or None when name is nowhere."""
    user = _user(project)
    dirs = ([user.resolve()] if user else []) + [SHIPPED]
    shipped = templates_root() / "dockerfile" / name
    if (user and (user / name).is_file()) or shipped.is_file():
        return dirs
    return None


def _project_relative(project: Project, path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), project.config_dir.resolve())).as_posix()


def _values(project: Project, svc: Service, profile: RuntimeProfile) -> dict[str, object]:
    images = base_images(project, svc)
    pinned = []
    for image in images:
        ref = project.image_lock.pin(image) or image
        pinned.append(mirrored(ref, project.config.registry_mirrors))
    notes = header_lines(svc.source)  # comment() escapes control characters
    if any(project.image_lock.pin(image) is None for image in base_images(project, svc)):
        notes.append("WARNING: rendered with --allow-unpinned; base images are NOT pinned.")
    ports = sorted(
        {f"{p.port}/{p.protocol.lower()}" for p in svc.ports},
        key=lambda s: (int(s.split("/")[0]), s),
    )
    entrypoint = svc.entrypoint or profile.entrypoint
    context = build_context(svc)
    return {
        "header": comment(notes).rstrip("\n"),
        # Both relative to the project folder, so the bytes do not depend on where cgen runs.
        "lock_path": one_line(project.config.image_lock),
        "context": one_line(_project_relative(project, context)) if context else None,
        "runtime": profile.name,
        "mirrored": any(mirrored(i, project.config.registry_mirrors) != i for i in images),
        "build_image": pinned[0],
        "runtime_image": pinned[1],
        "uid": uid(project, svc),
        "ports": ports,
        "service_json": json.dumps(svc.name),
        "entrypoint_json": json.dumps(list(entrypoint), ensure_ascii=False),
        "entrypoint_escapes": any('"' in arg or "\\" in arg for arg in entrypoint),
        "lockfiles": list(profile.lockfiles),
    }


def dockerfile(project: Project, svc: Service) -> str:
    """The Dockerfile text; unpinned images (allowed explicitly) are marked loudly."""
    profile = project.runtime(svc)
    dirs = _template_dirs(project, profile.template) or [SHIPPED]
    return render_template(dirs, profile.template, **_values(project, svc, profile))


def dockerignore(project: Project, svc: Service) -> str:
    """The .dockerignore skeleton: the runtime's own (<runtime>.dockerignore.j2) or the base."""
    profile = project.runtime(svc)
    name = profile.template.replace(".Dockerfile.j2", ".dockerignore.j2")
    dirs = _template_dirs(project, name)
    if dirs is None:
        name, dirs = IGNORE_BASE, _template_dirs(project, IGNORE_BASE) or [SHIPPED]
    return render_template(dirs, name, **_values(project, svc, profile))


def artifacts(project: Project, svc: Service) -> list[Artifact]:
    """The service's image build files: Dockerfile and its Dockerfile.dockerignore."""
    folder = f"{svc.namespace}/{svc.name}"
    return [
        Artifact(f"{folder}/Dockerfile", dockerfile(project, svc)),
        Artifact(f"{folder}/{IGNORE_FILE}", dockerignore(project, svc)),
    ]
