"""Names and labels shared by every Kubernetes builder."""

from __future__ import annotations

from typing import Any

from ..model import Port, Service

SELECTOR_LABEL = "app.kubernetes.io/name"
MANAGED_BY = {"app.kubernetes.io/managed-by": "cgen"}
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


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


def service_peer(svc: Service) -> dict[str, Any]:
    """A NetworkPolicy peer for exactly this service's pods in exactly its namespace."""
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: svc.namespace}},
        "podSelector": {"matchLabels": selector(svc)},
    }


def policy_ports(ports: tuple[Port, ...] | list[Port]) -> list[dict[str, Any]]:
    """NetworkPolicy ports: container port numbers with their protocols."""
    return [{"protocol": p.protocol, "port": p.port} for p in ports]


def kustomization(resources: list[str]) -> dict[str, Any]:
    """A kustomization.yaml listing resources in order."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
