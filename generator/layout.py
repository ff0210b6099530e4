"""Names and labels shared by every Kubernetes builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.model import SELECTOR_LABEL, Service

MANAGED_BY = {"app.kubernetes.io/managed-by": "cgen"}
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
# The folder of each namespace's shared objects (Namespace, default deny, DNS egress).
NAMESPACE_DIR = "_namespace"
# Where a service folder keeps copies of the user's kustomize patches.
PATCH_DIR = "patches"


def metadata(svc: Service, name: str | None = None) -> dict[str, Any]:
    """Object metadata: name, namespace and the cgen labels."""
    return {
        "name": name or svc.name,
        "namespace": svc.namespace,
        "labels": {SELECTOR_LABEL: svc.name, **MANAGED_BY},
    }


def selector(svc: Service) -> dict[str, str]:
    """The one label that selects a service's pods (never a user label)."""
    return {SELECTOR_LABEL: svc.name}


def namespace_metadata(name: str, namespace: str) -> dict[str, Any]:
    """Metadata of a namespace-wide object cgen manages (no service label)."""
    return {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)}


def kustomization(resources: list[str], patches: list[str] | None = None) -> dict[str, Any]:
    """A kustomization.yaml listing resources in order, then the user's patch files."""
    result: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    if patches:
        result["patches"] = [{"path": path} for path in patches]
    return result


@dataclass(frozen=True)
class Folder:
    """One output folder's Kubernetes objects (by file name) and where they came from."""

    path: str
    source: str
    objects: dict[str, dict[str, Any]]
    notes: dict[str, list[str]] = field(default_factory=dict)
    # checkov checks an object cannot meet, by file name: (check id, reason) pairs. The YAML
    # carries them as annotations; the Terraform writer turns them into skip comments.
    skips: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # The user's kustomize patches: path below the folder -> exact text.
    patches: dict[str, str] = field(default_factory=dict)
