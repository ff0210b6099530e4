"""The GitHub Actions workflow that builds, signs, attests, verifies and deploys the
images of the manifests (pure: a text artifact from the model and cgen's own template)."""

from __future__ import annotations

import json
import posixpath
import re
from functools import cache
from typing import Any

from generator.images.templating import Templates, render_template
from generator.model import Service
from generator.project import Project
from generator.runtime.shipped import templates_root
from generator.serialize import Artifact, comment, header_lines
from generator.supply.model import COSIGN_TYPES, GITHUB_ISSUER, Pipeline
from generator.supply.policies import ci_builds, repository

TEMPLATE = "github-actions.yaml.j2"
WORKFLOW_FILE = "cgen-images.yaml"
CI_DIR = "_ci"
# Each action at the commit of a release tag, read from the action's own repository: a
# tag can be moved, a commit cannot. Renovate and Dependabot update such pins with the
# version comment.
ACTIONS = {
    "checkout": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "cosign": "sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6 # v4.1.2",
    "buildx": "docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0",
    "login": "docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121 # v4.1.0",
    "build": "docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0",
}
# BuildKit's own attestations, read back as the predicates cosign signs.
_PREDICATES = {
    "sbom": ("{{ json .SBOM.SPDX }}", "sbom.spdx.json"),
    "slsa-provenance": ("{{ json .Provenance.SLSA }}", "provenance.json"),
}


def _expr(text: str) -> str:
    return "${{ " + text + " }}"


@cache
def _templates() -> Templates:
    # cgen's own shipped template (not project input), read once like a module constant.
    path = templates_root() / "workflow" / TEMPLATE
    return Templates(((TEMPLATE, path.read_text(encoding="utf-8")),), ((TEMPLATE, TEMPLATE),))


def _registry(svc: Service) -> str:
    first = repository(svc.image).split("/", 1)[0]
    return first if ("." in first or ":" in first or first == "localhost") else "docker.io"


def _login(registry: str, ci: Pipeline) -> dict[str, str]:
    if registry == "ghcr.io":
        user, password = _expr("github.actor"), _expr("secrets.GITHUB_TOKEN")
    else:
        user, password = (
            _expr(f"secrets.{ci.username_secret}"),
            _expr(f"secrets.{ci.password_secret}"),
        )
    return {
        "host": registry,
        "registry": json.dumps(registry),
        "username": user,
        "password": password,
    }


def _job(svc: Service) -> str:
    return re.sub(r"[^a-z0-9-]", "-", f"build-{svc.namespace}-{svc.name}")


def _service(project: Project, svc: Service, ci: Pipeline, out: str) -> dict[str, Any]:
    """The values of one image's build job (every path from the repository root)."""
    assert svc.build_context is not None
    root = ci.working_directory
    project_path = posixpath.normpath(
        posixpath.join(posixpath.dirname(svc.source), svc.build_context)
    )
    repo = repository(svc.image)
    job = _job(svc)
    return {
        **_login(_registry(svc), ci),
        "job": job,
        "title": f"{svc.namespace}/{svc.name}",
        "ghcr": _registry(svc) == "ghcr.io",
        "repository": json.dumps(repo),
        "context": json.dumps(posixpath.normpath(posixpath.join(root, project_path))),
        "file": json.dumps(posixpath.join(root, out, svc.namespace, svc.name, "Dockerfile")),
        "outputs": json.dumps(
            f"type=image,name={repo},push-by-digest=true,name-canonical=true,push=true"
        ),
        "image_at_build": f"{repo}@{_expr('steps.build.outputs.digest')}",
        "image_at_verify": f"{repo}@{_expr(f'needs.{job}.outputs.digest')}",
    }


def built(project: Project) -> list[Service]:
    """The services the workflow builds."""
    return [s for s in project.graph.services if ci_builds(s)]


def artifacts(project: Project) -> list[Artifact]:
    """The workflow file, when cgen.yaml has `ci:` and some service has a build context."""
    ci = project.config.ci
    services = built(project)
    if ci is None or not services:
        return []
    out = project.config.out or "out"
    signing = project.config.signing
    keyless = signing is not None and signing.keyless and signing.issuer is not None
    attestations = signing.attestations if signing is not None else ("sbom", "slsa-provenance")
    values = [_service(project, s, ci, out) for s in services]
    registries = {v["host"]: v for v in values}
    skipped = [
        f"  {s.namespace}/{s.name}: no spec.build.context"
        for s in project.graph.services
        if not s.prebuilt and s.build_context is None
    ]
    notes = header_lines("cgen.yaml ci: and the manifests' build contexts")
    notes += [f"Copy it to .github/workflows/{WORKFLOW_FILE} in the repository."]
    if skipped:
        notes += ["Not built here (add spec.build.context to build them):", *skipped]
    text = render_template(
        _templates(),
        TEMPLATE,
        header=comment(notes).rstrip("\n"),
        branch=json.dumps(ci.branch),
        branch_name=ci.branch,
        workdir=json.dumps(ci.working_directory),
        out=json.dumps(out),
        out_from_root=json.dumps(posixpath.normpath(posixpath.join(ci.working_directory, out))),
        actions=ACTIONS,
        services=values,
        jobs=", ".join(v["job"] for v in values),
        registries=[registries[h] for h in sorted(registries)],
        ghcr="ghcr.io" in registries,
        attestations=[
            {"type": COSIGN_TYPES[a], "format": _PREDICATES[a][0], "file": _PREDICATES[a][1]}
            for a in attestations
        ],
        # Verify as the cluster will: the configured identity, else this workflow's own.
        issuer=json.dumps(signing.issuer if keyless and signing else GITHUB_ISSUER),
        identity=json.dumps(signing.subject_regexp)
        if keyless and signing
        else _expr("format('{0}/{1}', github.server_url, github.workflow_ref)"),
        registry_environment=json.dumps(ci.registry_environment),
        identity_flag="--certificate-identity-regexp" if keyless else "--certificate-identity",
        e={
            "build_digest": _expr("steps.build.outputs.digest"),
            "source_url": _expr("github.server_url") + "/" + _expr("github.repository"),
            "sha": _expr("github.sha"),
            "kubeconfig": _expr("secrets.KUBECONFIG"),
        },
    )
    return [Artifact(f"{CI_DIR}/{WORKFLOW_FILE}", text)]
