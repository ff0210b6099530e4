"""The hardened multi-stage Dockerfile skeleton, from the runtime's Jinja template."""

from __future__ import annotations

import json
from pathlib import Path

from ..artifact import Artifact
from ..errors import Problem
from ..model import Service
from ..project import Project
from ..serialize import comment, header_lines
from .templating import render_template
from .workload import uid


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
                        "run `cgen pin` (or render with --allow-unpinned)",
                    )
                )
    return problems


def dockerfile(project: Project, svc: Service) -> str:
    """The Dockerfile text; unpinned images (allowed explicitly) are marked loudly."""
    profile = project.runtime(svc)
    pinned = [project.image_lock.pin(image) or image for image in base_images(project, svc)]
    notes = header_lines(svc.source)
    if any(project.image_lock.pin(image) is None for image in base_images(project, svc)):
        notes.append("WARNING: rendered with --allow-unpinned; base images are NOT pinned.")
    ports = sorted(
        {f"{p.port}/{p.protocol.lower()}" for p in svc.ports},
        key=lambda s: (int(s.split("/")[0]), s),
    )
    entrypoint = svc.entrypoint or profile.entrypoint
    template_dirs = [profile.template_dir] if profile.template_dir else []
    return render_template(
        [*template_dirs, Path("dockerfile")],
        profile.template,
        header=comment(notes).rstrip("\n"),
        lock_path=project.image_lock.path,
        build_image=pinned[0],
        runtime_image=pinned[1],
        uid=uid(project, svc),
        ports=ports,
        service_json=json.dumps(svc.name),
        entrypoint_json=json.dumps(list(entrypoint), ensure_ascii=False),
    )


def artifacts(project: Project, svc: Service) -> list[Artifact]:
    """The service's image build files."""
    return [Artifact(f"{svc.namespace}/{svc.name}/Dockerfile", dockerfile(project, svc))]
