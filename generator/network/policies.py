"""Kubernetes NetworkPolicies: default deny, cluster DNS only, exactly the declared edges.

The policies render the grants of generator.network.model, so `cgen graph` and `cgen explain`
describe exactly what these objects allow. With `dialect: cilium` the same grants become
CiliumNetworkPolicies (network/cilium.py).
"""

from __future__ import annotations

from typing import Any

from generator.layout import NAMESPACE_LABEL, metadata, namespace_metadata, selector
from generator.model import Service
from generator.network.model import Grant, Peer, PortSpec
from generator.project import Project


def default_deny(namespace: str) -> dict[str, Any]:
    """Every pod of the namespace: no ingress, no egress, unless another policy allows it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": namespace_metadata("default-deny", namespace),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def peer(target: Peer) -> dict[str, Any]:
    """A NetworkPolicy peer: pods by namespace name and labels, or an ipBlock."""
    if target.kind == "cidr":
        assert target.cidr is not None
        block: dict[str, Any] = {"cidr": target.cidr}
        if target.except_:
            block["except"] = list(target.except_)
        return {"ipBlock": block}
    if target.kind != "pods" or target.namespace is None:
        raise AssertionError(f"the kubernetes dialect cannot express {target.label}")
    result: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: target.namespace}}
    }
    if target.pod_labels:
        result["podSelector"] = {"matchLabels": dict(target.pod_labels)}
    return result


def ports(specs: tuple[PortSpec, ...]) -> list[dict[str, Any]]:
    """NetworkPolicy ports: container port numbers with their protocols (never empty)."""
    assert specs, "an empty port list would allow every port"
    return [{"protocol": s.protocol, "port": s.port} for s in specs]


def _rule(grant: Grant) -> dict[str, Any]:
    key = "to" if grant.direction == "egress" else "from"
    return {key: [peer(grant.peer)], "ports": ports(grant.ports)}


def allow_dns(project: Project, namespace: str) -> dict[str, Any]:
    """Every pod may ask the cluster DNS, over UDP and TCP 53, and nothing else on port 53."""
    model = project.network
    rules = [
        _rule(g)
        for g in model.grants
        if g.subject.service is None and g.subject.namespace == namespace
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": namespace_metadata("allow-cluster-dns", namespace),
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": rules},
    }


def service_policy(project: Project, svc: Service) -> dict[str, Any]:
    """The service's own policy: ingress from its derived callers and declared sources,
    egress to exactly its dependencies (DNS comes from the namespace-wide policy)."""
    model = project.network
    ingress = [_rule(g) for g in model.grants_of(svc, "ingress")]
    egress = [_rule(g) for g in model.grants_of(svc, "egress")]
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": selector(svc)},
        "policyTypes": ["Ingress", "Egress"],
    }
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(svc),
        "spec": spec,
    }


def namespace_objects(project: Project, namespace: str) -> dict[str, dict[str, Any]]:
    """Namespace-wide policy objects by file name (in _namespace/)."""
    if project.config.dialect == "cilium":
        from generator.network import cilium

        return cilium.namespace_objects(project, namespace)
    return {
        "default-deny.yaml": default_deny(namespace),
        "allow-cluster-dns.yaml": allow_dns(project, namespace),
    }


def service_objects(project: Project, svc: Service) -> dict[str, dict[str, Any]]:
    """The service's policy objects by file name."""
    if project.config.dialect == "cilium":
        from generator.network import cilium

        return cilium.service_objects(project, svc)
    return {"networkpolicy.yaml": service_policy(project, svc)}
