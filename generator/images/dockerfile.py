"""The hardened multi-stage Dockerfile skeleton and its .dockerignore, from Jinja templates.

Base images come from the runtime profile by tag and are written as `repo:tag@sha256:...`
from the image lock (on the pull-through mirror when cgen.yaml names one); a project
without a lock file gets the pins cgen ships, and its header says so. When a manifest
gives its build context, the runtime's lock files must be there: the build stage restores
dependencies from them only.
"""

from __future__ import annotations

import json
import posixpath

from generator.images.frontend import FRONTEND, syntax
from generator.images.lock import mirrored
from generator.images.shipped import oldest
from generator.images.templating import Templates, render_template
from generator.model import Service
from generator.project import Project
from generator.release import VERSION
from generator.runtime.profiles import RuntimeProfile
from generator.serialize import Artifact, comment, header_lines, one_line
from generator.workload.pod import uid

IGNORE_BASE = "base.dockerignore.j2"
# BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile given with -f before the
# context's .dockerignore, so the skeleton applies without copying it anywhere.
IGNORE_FILE = "Dockerfile.dockerignore"


def base_images(project: Project, svc: Service) -> tuple[str, str]:
    """The build and runtime base images of a service, as its profile names them."""
    profile = project.runtime(svc)
    return profile.build_image, profile.runtime_image


def ignore_template(templates: Templates, profile: RuntimeProfile) -> str:
    """The runtime's own .dockerignore template (<runtime>.dockerignore.j2), else the base."""
    name = profile.template.replace(".Dockerfile.j2", ".dockerignore.j2")
    return name if templates.has(name) else IGNORE_BASE


def _context_in_project(svc: Service) -> str | None:
    """The build context relative to the project folder (svc.source is), without the disk."""
    if svc.build_context is None:
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(svc.source), svc.build_context))


def _shipped_pins(project: Project) -> dict[str, str] | None:
    """Where the digests came from when the project has no lock: cgen's version and date."""
    lock = project.image_lock
    if not lock.shipped:
        return None
    return {"version": one_line(VERSION), "resolved": oldest(lock) or "at release"}


def _values(project: Project, svc: Service, profile: RuntimeProfile) -> dict[str, object]:
    images = base_images(project, svc)
    pinned = []
    marks = []
    for image in images:
        ref = project.image_lock.pin(image)
        pinned.append(mirrored(ref or image, project.config.registry_mirrors))
        # An --allow-unpinned render marks each FROM line whose base has no digest.
        note = f"UNPINNED: {image} is not in {project.config.image_lock}; run `cgen pin`"
        marks.append("" if ref else comment([note]))
    notes = header_lines(svc.source)  # comment() escapes control characters
    if any(marks):  # a base the lock does not pin
        notes.append("WARNING: rendered with --allow-unpinned; base images are NOT pinned.")
    if project.image_lock.pin(FRONTEND) is None:
        notes.append("WARNING: rendered with --allow-unpinned; the syntax frontend is NOT pinned.")
    ports = sorted(
        {f"{p.port}/{p.protocol.lower()}" for p in svc.ports},
        key=lambda s: (int(s.split("/")[0]), s),
    )
    entrypoint = svc.entrypoint or profile.entrypoint
    context = _context_in_project(svc)
    return {
        "syntax": syntax(project.image_lock),
        "header": comment(notes).rstrip("\n"),
        # Both relative to the project folder, so the bytes do not depend on where cgen runs.
        "lock_path": one_line(project.config.image_lock),
        "shipped_pins": _shipped_pins(project),
        "context": one_line(context) if context else None,
        "runtime": profile.name,
        "mirrored": any(mirrored(i, project.config.registry_mirrors) != i for i in images),
        "build_image": pinned[0],
        "runtime_image": pinned[1],
        "build_mark": marks[0].rstrip("\n"),
        "runtime_mark": marks[1].rstrip("\n"),
        "uid": uid(project, svc),
        "ports": ports,
        "service_json": json.dumps(svc.name),
        "entrypoint_json": json.dumps(list(entrypoint), ensure_ascii=False),
        "entrypoint_escapes": any('"' in arg or "\\" in arg for arg in entrypoint),
        "lockfiles": list(profile.lockfiles),
        # The context's files the runtime stage receives; the formats checked at load keep
        # them plain relative paths a COPY line can name.
        "app_files": list(profile.app_files if svc.app_files is None else svc.app_files),
    }


def dockerfile(project: Project, svc: Service) -> str:
    """The Dockerfile text; unpinned images (allowed explicitly) are marked loudly."""
    profile = project.runtime(svc)
    return render_template(project.templates, profile.template, **_values(project, svc, profile))


def dockerignore(project: Project, svc: Service) -> str:
    """The .dockerignore skeleton: the runtime's own (<runtime>.dockerignore.j2) or the base."""
    profile = project.runtime(svc)
    return render_template(
        project.templates,
        ignore_template(project.templates, profile),
        **_values(project, svc, profile),
    )


def artifacts(project: Project, svc: Service) -> list[Artifact]:
    """The service's image build files: Dockerfile and its Dockerfile.dockerignore."""
    folder = f"{svc.namespace}/{svc.name}"
    return [
        Artifact(f"{folder}/Dockerfile", dockerfile(project, svc)),
        Artifact(f"{folder}/{IGNORE_FILE}", dockerignore(project, svc)),
    ]
