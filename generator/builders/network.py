"""Kubernetes NetworkPolicies: default deny, cluster DNS only, exactly the declared edges."""

from __future__ import annotations

import ipaddress
from typing import Any

from ..model import Config, ExternalDependency, IngressRule, Port, Role, Service
from ..project import Project
from .common import MANAGED_BY, NAMESPACE_LABEL, metadata, policy_ports, selector, service_peer

DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def _ns_meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)}


def default_deny(namespace: str) -> dict[str, Any]:
    """Every pod of the namespace: no ingress, no egress, unless another policy allows it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _ns_meta("default-deny", namespace),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def dns_peer(config: Config) -> dict[str, Any]:
    """The cluster DNS pods, by namespace and labels from cgen.yaml."""
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: config.dns_namespace}},
        "podSelector": {"matchLabels": dict(config.dns_labels)},
    }


def allow_dns(config: Config, namespace: str) -> dict[str, Any]:
    """Every pod may ask the cluster DNS, over UDP and TCP 53, and nothing else on port 53."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _ns_meta("allow-cluster-dns", namespace),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [dns_peer(config)], "ports": DNS_PORTS}],
        },
    }


def _except(cidr: str, excluded: tuple[str, ...]) -> list[str]:
    """Excluded networks that lie strictly inside cidr (the API refuses any other)."""
    net = ipaddress.ip_network(cidr)
    inside = []
    for text in excluded:
        other = ipaddress.ip_network(text)
        if other.version == net.version and other != net and other.subnet_of(net):  # type: ignore[arg-type]
            inside.append(text)
    return inside


def ip_block(cidr: str, excluded: tuple[str, ...]) -> dict[str, Any]:
    """An ipBlock peer, with the excluded networks that fall inside it."""
    block: dict[str, Any] = {"cidr": cidr}
    inside = _except(cidr, excluded)
    if inside:
        block["except"] = inside
    return {"ipBlock": block}


def _external_rule(ext: ExternalDependency, config: Config) -> dict[str, Any]:
    return {
        "to": [ip_block(c, config.egress_except) for c in ext.cidrs],
        "ports": [{"protocol": ext.protocol, "port": p} for p in ext.ports],
    }


def role_peer(role: Role) -> dict[str, Any]:
    """The pods of a cgen.yaml role (ingress controller, metrics scraper)."""
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: role.namespace}},
        "podSelector": {"matchLabels": dict(role.pod_labels)},
    }


def _ingress_peer(rule: IngressRule, config: Config) -> dict[str, Any]:
    if rule.role is not None:
        role = (
            config.ingress_controller
            if rule.role == "ingress-controller"
            else config.metrics_scraper
        )
        assert role is not None  # validated in model
        return role_peer(role)
    if rule.cidr:
        return ip_block(rule.cidr, rule.except_)
    peer: dict[str, Any] = {}
    if rule.namespace:
        peer["namespaceSelector"] = {"matchLabels": {NAMESPACE_LABEL: rule.namespace}}
    if rule.pod_labels:
        peer["podSelector"] = {"matchLabels": dict(rule.pod_labels)}
    return peer


def _own_ports(svc: Service, refs: tuple[str | int, ...] | None) -> list[Port]:
    if refs is None:
        return list(svc.ports)
    found = [svc.port(r) for r in refs]
    return sorted({p for p in found if p is not None}, key=lambda p: (p.port, p.protocol))


def service_policy(project: Project, svc: Service) -> dict[str, Any]:
    """The service's own policy: ingress from its derived callers and declared sources,
    egress to exactly its dependencies (DNS comes from the namespace-wide policy)."""
    ingress: list[dict[str, Any]] = []
    for edge in project.graph.callers_of(svc):
        ingress.append({"from": [service_peer(edge.caller)], "ports": policy_ports(edge.ports)})
    for rule in svc.ingress:
        ports = _own_ports(svc, rule.ports)
        if ports:
            ingress.append(
                {"from": [_ingress_peer(rule, project.config)], "ports": policy_ports(ports)}
            )
    scraped = [p for p in svc.ports if p.scrape]
    if scraped and project.config.metrics_scraper is not None:
        peer = role_peer(project.config.metrics_scraper)
        ingress.append({"from": [peer], "ports": policy_ports(scraped)})
    egress: list[dict[str, Any]] = [
        {"to": [service_peer(edge.callee)], "ports": policy_ports(edge.ports)}
        for edge in project.graph.calls_of(svc)
    ]
    egress += [_external_rule(ext, project.config) for ext in svc.externals]
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
    return {
        "default-deny.yaml": default_deny(namespace),
        "allow-cluster-dns.yaml": allow_dns(project.config, namespace),
    }


def service_objects(project: Project, svc: Service) -> dict[str, dict[str, Any]]:
    """The service's policy objects by file name."""
    return {"networkpolicy.yaml": service_policy(project, svc)}
