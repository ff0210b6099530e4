"""What existing NetworkPolicies allow between imported workloads (Kubernetes semantics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.adopt.kube import KObject

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """An imported workload as policies see it: its pods' labels and container ports."""

    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int, str], ...]  # (name, port, protocol)

    @property
    def key(self) -> str:
        """namespace/name."""
        return f"{self.namespace}/{self.name}"


Pair = tuple[str, str, str, int]  # (src key, dst key, protocol, container port)


def matches(selector: Any, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) selects these labels."""
    if not isinstance(selector, dict):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op = str(expr.get("key")), expr.get("operator")
        values = [str(v) for v in expr.get("values") or []]
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(str(op), False)
        if not ok:
            return False
    return True


def _types(spec: dict[str, Any]) -> set[str]:
    types = spec.get("policyTypes")
    if isinstance(types, list):
        return {str(t) for t in types}
    return {"Ingress", "Egress"} if "egress" in spec else {"Ingress"}


def _peer_matches(
    peer: dict[str, Any], policy_ns: str, pod: Pod, ns_labels: dict[str, dict[str, str]]
) -> bool:
    if "ipBlock" in peer:
        return False  # pod addresses are not known ahead: an ipBlock never names a workload
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    if ns_sel is None:
        in_ns = pod.namespace == policy_ns
    else:
        labels = ns_labels.get(pod.namespace, {NAME_LABEL: pod.namespace})
        in_ns = matches(ns_sel, labels)
    return in_ns and (pod_sel is None or matches(pod_sel, dict(pod.labels)))


def _port_matches(entry: dict[str, Any], port: tuple[str, int, str]) -> bool:
    if str(entry.get("protocol", "TCP")) != port[2]:
        return False
    ref = entry.get("port")
    if ref is None:
        return True
    if isinstance(ref, str) and not ref.isdigit():
        return ref == port[0]
    low = int(ref)
    high = int(entry.get("endPort", low))
    return low <= port[1] <= high


def _rule_allows(
    rule: dict[str, Any],
    peers_key: str,
    policy_ns: str,
    other: Pod,
    port: tuple[str, int, str],
    ns_labels: dict[str, dict[str, str]],
) -> bool:
    peers = rule.get(peers_key)
    if peers and not any(_peer_matches(p, policy_ns, other, ns_labels) for p in peers):
        return False
    ports = rule.get("ports")
    return not ports or any(_port_matches(p, port) for p in ports)


@dataclass
class Policies:
    """The NetworkPolicies of the input, evaluated for pairs of imported workloads."""

    objects: list[KObject]
    ns_labels: dict[str, dict[str, str]]

    def selecting(self, pod: Pod, kind: str) -> list[KObject]:
        """The policies that restrict pod's ingress or egress (kind)."""
        return [
            p
            for p in self.objects
            if p.namespace == pod.namespace
            and kind in _types(p.body.get("spec") or {})
            and matches((p.body.get("spec") or {}).get("podSelector") or {}, dict(pod.labels))
        ]

    def allows(self, src: Pod, dst: Pod, port: tuple[str, int, str], kind: str) -> bool:
        """Whether one side's policies allow src -> dst on port (no policy: allowed)."""
        me, other = (src, dst) if kind == "Egress" else (dst, src)
        chosen = self.selecting(me, kind)
        if not chosen:
            return True
        key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
        return any(
            _rule_allows(rule, peers_key, p.namespace, other, port, self.ns_labels)
            for p in chosen
            for rule in (p.body.get("spec") or {}).get(key) or []
        )

    def allowed(self, pods: list[Pod]) -> tuple[set[Pair], set[Pair]]:
        """(allowed pairs, those among them no policy restricts on either side)."""
        allowed: set[Pair] = set()
        open_: set[Pair] = set()
        for src in pods:
            free_out = not self.selecting(src, "Egress")
            for dst in pods:
                free_in = not self.selecting(dst, "Ingress")
                for port in dst.ports:
                    if self.allows(src, dst, port, "Egress") and self.allows(
                        src, dst, port, "Ingress"
                    ):
                        pair = (src.key, dst.key, port[2], port[1])
                        allowed.add(pair)
                        if free_out and free_in:
                            open_.add(pair)
        return allowed, open_
