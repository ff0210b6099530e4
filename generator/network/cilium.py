"""CiliumNetworkPolicies (cilium.io/v2): the same grants as the NetworkPolicies, plus DNS names.

Differences from the kubernetes dialect, and why:
- pods are selected with Cilium's namespace label `k8s:io.kubernetes.pod.namespace`;
- a `host` dependency without `cidrs` becomes `toFQDNs` (matchName). Cilium learns the
  addresses of a name only from DNS answers that pass through its DNS proxy, so every DNS
  rule carries the L7 rule `dns: [{matchPattern: "*"}]` (any name may still be resolved,
  as before; only the answers are observed);
- a policy whose rules list is `[{}]` selects the endpoints and allows nothing: that is
  Cilium's default deny for that direction.
"""

from __future__ import annotations

from typing import Any

from generator.layout import metadata, namespace_metadata, selector
from generator.model import Service
from generator.network.model import Grant, Peer, PortSpec
from generator.project import Project

API_VERSION = "cilium.io/v2"
KIND = "CiliumNetworkPolicy"
NAMESPACE_KEY = "k8s:io.kubernetes.pod.namespace"


def _object(meta: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}


def endpoint_selector(target: Peer) -> dict[str, Any]:
    """An EndpointSelector for pods by namespace and labels."""
    assert target.kind == "pods" and target.namespace is not None
    return {"matchLabels": {NAMESPACE_KEY: target.namespace, **dict(target.pod_labels)}}


def port_rule(specs: tuple[PortSpec, ...], dns: bool = False) -> dict[str, Any]:
    """A PortRule: container ports as strings (Cilium's schema), optional DNS L7 rule."""
    assert specs, "an empty port list would allow every port"
    rule: dict[str, Any] = {"ports": [{"port": str(s.port), "protocol": s.protocol} for s in specs]}
    if dns:
        # A fresh list each time: a shared object would come out as a YAML anchor.
        rule["rules"] = {"dns": [{"matchPattern": "*"}]}
    return rule


def _rule(grant: Grant, dns: bool = False) -> dict[str, Any]:
    target = grant.peer
    egress = grant.direction == "egress"
    body: dict[str, Any]
    if target.kind == "pods":
        body = {("toEndpoints" if egress else "fromEndpoints"): [endpoint_selector(target)]}
    elif target.kind == "cidr":
        block: dict[str, Any] = {"cidr": target.cidr}
        if target.except_:
            block["except"] = list(target.except_)
        body = {("toCIDRSet" if egress else "fromCIDRSet"): [block]}
    else:
        assert egress and target.host is not None
        body = {"toFQDNs": [{"matchName": target.host}]}
    body["toPorts"] = [port_rule(grant.ports, dns)]
    return body


def _dns_grants(project: Project, namespace: str) -> list[Grant]:
    model = project.network
    return [
        g for g in model.grants if g.subject.service is None and g.subject.namespace == namespace
    ]


def default_deny(namespace: str) -> dict[str, Any]:
    """Every endpoint of the namespace enters default deny in both directions."""
    spec: dict[str, Any] = {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}
    return _object(namespace_metadata("default-deny", namespace), spec)


def allow_dns(project: Project, namespace: str) -> dict[str, Any]:
    """Every pod may ask the cluster DNS (UDP and TCP 53), through Cilium's DNS proxy."""
    rules = [_rule(g, dns=True) for g in _dns_grants(project, namespace)]
    return _object(
        namespace_metadata("allow-cluster-dns", namespace),
        {"endpointSelector": {}, "egress": rules},
    )


def service_policy(project: Project, svc: Service) -> dict[str, Any] | None:
    """The service's own policy, or None when it neither calls nor is called."""
    model = project.network
    ingress = [_rule(g) for g in model.grants_of(svc, "ingress")]
    egress_grants = model.grants_of(svc, "egress")
    egress = [_rule(g) for g in egress_grants]
    if any(g.peer.kind == "host" for g in egress_grants):
        # toFQDNs works only with the DNS L7 rule applying to this endpoint: say so here,
        # not only in the namespace-wide policy, so the policy is correct on its own.
        egress += [_rule(g, dns=True) for g in _dns_grants(project, svc.namespace)]
    if not ingress and not egress:
        return None
    spec: dict[str, Any] = {"endpointSelector": {"matchLabels": selector(svc)}}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return _object(metadata(svc), spec)


def namespace_objects(project: Project, namespace: str) -> dict[str, dict[str, Any]]:
    """Namespace-wide CiliumNetworkPolicies by file name (in _namespace/)."""
    return {
        "default-deny.yaml": default_deny(namespace),
        "allow-cluster-dns.yaml": allow_dns(project, namespace),
    }


def service_objects(project: Project, svc: Service) -> dict[str, dict[str, Any]]:
    """The service's CiliumNetworkPolicy by file name (none when it has no traffic at all)."""
    policy = service_policy(project, svc)
    return {"ciliumnetworkpolicy.yaml": policy} if policy is not None else {}
