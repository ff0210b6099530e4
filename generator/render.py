"""Compose every builder's output into the artifacts of one render."""

from __future__ import annotations

from typing import Any

from .artifact import Artifact
from .builders import dockerfile, network, seccomp, workload
from .builders.common import MANAGED_BY, kustomization
from .errors import ManifestError
from .model import Service
from .project import Project
from .serialize import json_text, yaml_text

NAMESPACE_DIR = "_namespace"


def _namespace_object(namespace: str) -> dict[str, Any]:
    # Pod Security Admission "restricted" backs up what the generated pods already do.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace,
            "labels": {
                **MANAGED_BY,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    }


def namespace_artifacts(project: Project, namespace: str) -> list[Artifact]:
    """The namespace-wide files: Namespace, default deny, DNS egress, kustomization."""
    source = f"the manifests of namespace {namespace}"
    base = f"{namespace}/{NAMESPACE_DIR}"
    files: dict[str, Any] = {}
    if project.config.create_namespaces:
        files["namespace.yaml"] = _namespace_object(namespace)
    files["default-deny.yaml"] = network.default_deny(namespace)
    files["allow-cluster-dns.yaml"] = network.allow_dns(project.config, namespace)
    files["kustomization.yaml"] = kustomization(list(files))
    return [Artifact(f"{base}/{name}", yaml_text(obj, source)) for name, obj in files.items()]


def service_artifacts(project: Project, svc: Service) -> list[Artifact]:
    """Every file of one service."""
    base = f"{svc.namespace}/{svc.name}"
    objects: dict[str, Any] = {
        "serviceaccount.yaml": workload.service_account(svc),
        "deployment.yaml": workload.deployment(project, svc),
    }
    if svc.ports:
        objects["service.yaml"] = workload.service(svc)
    objects["networkpolicy.yaml"] = network.service_policy(project, svc)
    objects["kustomization.yaml"] = kustomization(list(objects))
    artifacts = [
        Artifact(f"{base}/{name}", yaml_text(obj, svc.source)) for name, obj in objects.items()
    ]
    artifacts.append(Artifact(f"{base}/seccomp.json", json_text(seccomp.profile(project, svc))))
    artifacts.append(Artifact(f"{base}/Dockerfile", dockerfile.dockerfile(project, svc)))
    return artifacts


def render(project: Project, *, allow_unpinned: bool = False) -> list[Artifact]:
    """All artifacts of the project, sorted by path."""
    if not allow_unpinned:
        problems = dockerfile.unpinned(project)
        if problems:
            raise ManifestError(problems=problems)
    artifacts: list[Artifact] = []
    folders: list[str] = []
    for namespace in project.graph.namespaces():
        artifacts += namespace_artifacts(project, namespace)
        services = [s for s in project.graph.services if s.namespace == namespace]
        resources = [NAMESPACE_DIR] + [s.name for s in services]
        artifacts.append(
            Artifact(
                f"{namespace}/kustomization.yaml",
                yaml_text(kustomization(resources), f"the manifests of namespace {namespace}"),
            )
        )
        folders.append(namespace)
        for svc in services:
            artifacts += service_artifacts(project, svc)
    artifacts.append(
        Artifact("kustomization.yaml", yaml_text(kustomization(folders), "all manifests"))
    )
    return sorted(artifacts)
