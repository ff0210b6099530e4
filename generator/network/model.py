"""The allowed connectivity, computed once from the project.

Every network artifact and report reads this one model: the NetworkPolicy and
CiliumNetworkPolicy builders render its grants, `cgen graph` draws its flows and
`cgen explain` evaluates its grants for a pair of endpoints. A grant is one side of
an allowed connection (egress of the caller or ingress of the callee), with the
manifest or cgen.yaml lines that asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from generator.errors import Location
from generator.manifest.resolve import Graph
from generator.model import (
    SELECTOR_LABEL,
    Config,
    ExternalDependency,
    IngressRule,
    Port,
    Role,
    Service,
    Unmanaged,
)
from generator.network import cidr

DNS_PORT = 53
Direction = Literal["egress", "ingress"]
FlowKind = Literal["service", "external", "ingress", "scrape", "dns"]


class PortSpec(NamedTuple):
    """One allowed port: protocol, container port number and, when known, its name."""

    protocol: str
    port: int
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.protocol} {self.port}" + (f" ({self.name})" if self.name else "")


class Peer(NamedTuple):
    """A set of endpoints a policy can name: pods by labels, a network, or a DNS name.

    pods: pods in `namespace` carrying every label of `pod_labels` (none = all pods);
    cidr: addresses in `cidr` minus `except_` (`host` names the DNS name behind them);
    host: a DNS name (cilium toFQDNs).
    """

    kind: Literal["pods", "cidr", "host"]
    label: str
    namespace: str | None = None
    pod_labels: tuple[tuple[str, str], ...] = ()
    cidr: str | None = None
    except_: tuple[str, ...] = ()
    host: str | None = None
    service: tuple[str, str] | None = None  # (namespace, name) when exactly a cgen service


class Grant(NamedTuple):
    """One side of an allowed connection: `subject` pods may send to / receive from `peer`."""

    direction: Direction
    subject: Peer
    peer: Peer
    ports: tuple[PortSpec, ...]
    where: Location
    what: str
    key: str  # the key path at `where`: a manifest's (spec.dependencies[0]) or cgen.yaml's (dns)


class Flow(NamedTuple):
    """One edge of the connectivity graph: src may open connections to dst on ports."""

    kind: FlowKind
    src: Peer
    dst: Peer
    ports: tuple[PortSpec, ...]
    where: Location


@dataclass(frozen=True)
class NetModel:
    """Everything cgen allows: grants per policy side, and the flows they make."""

    config: Config
    namespaces: tuple[str, ...]  # under cgen's default deny (ingress and egress)
    services: tuple[Service, ...]
    grants: tuple[Grant, ...]
    flows: tuple[Flow, ...]

    _index: dict[tuple[tuple[str, str] | None, Direction], list[Grant]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # Grants filed once by (service, direction): a policy asks for its own grants
        # without scanning every grant of the project.
        for grant in self.grants:
            self._index.setdefault((grant.subject.service, grant.direction), []).append(grant)

    def grants_of(self, svc: Service, direction: Direction) -> list[Grant]:
        """The grants whose subject is exactly this service, in policy order."""
        return list(self._index.get(((svc.namespace, svc.name), direction), ()))


def service_peer(svc: Service) -> Peer:
    """Exactly this service's pods: its namespace and its selector label."""
    return Peer(
        "pods",
        f"{svc.namespace}/{svc.name}",
        svc.namespace,
        ((SELECTOR_LABEL, svc.name),),
        service=(svc.namespace, svc.name),
    )


def unmanaged_peer(workload: Unmanaged) -> Peer:
    """The pods of a workload cgen does not manage, by its namespace and labels."""
    return Peer(
        "pods",
        f"{workload.namespace}/{workload.name} (unmanaged)",
        workload.namespace,
        workload.pod_labels,
    )


def namespace_pods(namespace: str) -> Peer:
    """Every pod of a namespace."""
    return Peer("pods", f"{namespace}/*", namespace)


def role_peer(role: Role, name: str) -> Peer:
    """The pods of a cgen.yaml role (ingress-controller, metrics-scraper)."""
    return Peer("pods", name, role.namespace, role.pod_labels)


def dns_peers(config: Config) -> list[Peer]:
    """Where pods ask for names: the cluster DNS pods, and NodeLocal DNSCache if configured."""
    labels = ",".join(f"{k}={v}" for k, v in config.dns_labels)
    peers = [
        Peer(
            "pods",
            f"cluster DNS ({config.dns_namespace} {labels})",
            config.dns_namespace,
            config.dns_labels,
        )
    ]
    if config.dns_node_local:
        single = cidr.address_network(config.dns_node_local)
        address = single.network_address
        peers.append(Peer("cidr", f"NodeLocal DNSCache ({address})", cidr=str(single)))
    return peers


DNS_PORTS = (PortSpec("UDP", DNS_PORT), PortSpec("TCP", DNS_PORT))


def excluded(config: Config) -> tuple[str, ...]:
    """Networks never reachable through external egress: egressExcept, pod and service CIDRs."""
    return tuple(dict.fromkeys(network for _, network in config.excluded_networks()))


def except_inside(outer: str, networks: tuple[str, ...]) -> tuple[str, ...]:
    """The networks that lie strictly inside outer (the only ones an ipBlock may except),
    normalized, each once."""
    inside = (cidr.canonical(text) for text in networks if cidr.strictly_within(text, outer))
    return tuple(dict.fromkeys(inside))


def _external_peers(ext: ExternalDependency, config: Config) -> list[Peer]:
    if not ext.cidrs:
        assert ext.host is not None  # model: a host without cidrs only with cilium
        return [Peer("host", ext.host, host=ext.host)]
    prefix = f"{ext.host} " if ext.host else ""
    return [
        Peer(
            "cidr",
            f"{prefix}{cidr.canonical(c)}",
            cidr=cidr.canonical(c),
            except_=except_inside(c, excluded(config)),
            host=ext.host,
        )
        for c in ext.cidrs
    ]


def _ingress_peer(svc: Service, rule: IngressRule, config: Config) -> Peer:
    if rule.role is not None:
        role = (
            config.ingress_controller
            if rule.role == "ingress-controller"
            else (config.metrics_scraper)
        )
        assert role is not None  # validated in model
        return role_peer(role, rule.role)
    if rule.cidr:
        inside = except_inside(rule.cidr, rule.except_ + config.pod_cidrs + config.service_cidrs)
        block = cidr.canonical(rule.cidr)
        return Peer("cidr", block, cidr=block, except_=inside)
    namespace = rule.namespace or svc.namespace
    labels = ",".join(f"{k}={v}" for k, v in rule.pod_labels)
    label = f"{namespace}[{labels}]" if rule.pod_labels else f"{namespace}/*"
    return Peer("pods", label, namespace, rule.pod_labels)


def own_ports(svc: Service, refs: tuple[str | int, ...] | None) -> tuple[PortSpec, ...]:
    """The service's ports that refs name (all when None), sorted, as PortSpecs."""
    chosen = list(svc.ports) if refs is None else [p for r in refs if (p := svc.port(r))]
    return specs(chosen)


def specs(ports: tuple[Port, ...] | list[Port]) -> tuple[PortSpec, ...]:
    """Ports as sorted, unique PortSpecs."""
    unique = {PortSpec(p.protocol, p.port, p.name) for p in ports}
    return tuple(sorted(unique, key=lambda s: (s.port, s.protocol)))


def _declared(
    direction: Direction,
    subject: Peer,
    peer: Peer,
    ports: tuple[PortSpec, ...],
    svc: Service,
    key: str,
    of: str,
) -> Grant:
    """A grant a manifest asks for: where svc's key is written, and what it says."""
    return Grant(direction, subject, peer, ports, svc.doc.at(key), f"{key} of {of}", key)


def _ingress_grants(config: Config, graph: Graph, svc: Service) -> list[tuple[Grant, bool]]:
    """(grant, draw it as a flow) for everything that may call svc."""
    me = service_peer(svc)
    result: list[tuple[Grant, bool]] = []
    for edge in graph.callers_of(svc):
        caller, key = edge.caller, edge.dependency.keypath
        of = f"{caller.namespace}/{caller.name}"
        peer = service_peer(caller)
        result.append((_declared("ingress", me, peer, specs(edge.ports), caller, key, of), False))
    for rule in svc.ingress:
        ports = own_ports(svc, rule.ports)
        if not ports:  # an empty port list would mean every port to a NetworkPolicy
            continue
        peer = _ingress_peer(svc, rule, config)
        result.append((_declared("ingress", me, peer, ports, svc, rule.keypath, me.label), True))
    peers = own_ports(svc, svc.peer_ports) if svc.peer_ports else ()
    if peers:
        of = f"{me.label} (its replicas)"
        result.append((_declared("ingress", me, me, peers, svc, "spec.peerPorts", of), False))
    scraped = [p for p in svc.ports if p.scrape]
    if scraped and config.metrics_scraper is not None:
        peer = role_peer(config.metrics_scraper, "metrics-scraper")
        key = f"{scraped[0].keypath}.scrape"
        result.append((_declared("ingress", me, peer, specs(scraped), svc, key, me.label), True))
    return result


def _egress_grants(config: Config, graph: Graph, svc: Service) -> list[Grant]:
    """Everything svc may call: its service dependencies, then its external ones."""
    me = service_peer(svc)
    result: list[Grant] = []
    for edge in graph.calls_of(svc):
        callee, key = service_peer(edge.callee), edge.dependency.keypath
        result.append(_declared("egress", me, callee, specs(edge.ports), svc, key, me.label))
    if svc.peer_ports:
        peers, of = own_ports(svc, svc.peer_ports), f"{me.label} (its replicas)"
        result.append(_declared("egress", me, me, peers, svc, "spec.peerPorts", of))
    for call in graph.unmanaged_calls_of(svc):
        peer, key = unmanaged_peer(call.callee), call.dependency.keypath
        result.append(_declared("egress", me, peer, specs(call.ports), svc, key, me.label))
    for ext in svc.externals:
        ports = tuple(PortSpec(ext.protocol, p) for p in sorted(set(ext.ports)))
        for peer in _external_peers(ext, config):
            result.append(_declared("egress", me, peer, ports, svc, ext.keypath, me.label))
    return result


def _flow(grant: Grant) -> Flow:
    kind: FlowKind
    if grant.direction == "ingress":
        kind = "scrape" if grant.what.startswith("spec.ports") else "ingress"
        return Flow(kind, grant.peer, grant.subject, grant.ports, grant.where)
    if grant.subject.service is None:
        kind = "dns"
    else:
        kind = "service" if grant.peer.service is not None else "external"
    return Flow(kind, grant.subject, grant.peer, grant.ports, grant.where)


def build_model(config: Config, graph: Graph) -> NetModel:
    """Compute every grant and flow, in the order the policies list them."""
    grants: list[Grant] = []
    flows: list[Flow] = []
    for svc in graph.services:
        for grant, drawn in _ingress_grants(config, graph, svc):
            grants.append(grant)
            if drawn:  # a call between services is drawn once, from its egress grant
                flows.append(_flow(grant))
        for grant in _egress_grants(config, graph, svc):
            grants.append(grant)
            flows.append(_flow(grant))
    namespaces = tuple(sorted({s.namespace for s in graph.services}))
    dns_where = _config_location(config, "dns")
    for namespace in namespaces:
        subject = namespace_pods(namespace)
        what = f"cluster DNS for every pod of namespace {namespace}"
        for peer in dns_peers(config):
            grant = Grant("egress", subject, peer, DNS_PORTS, dns_where, what, "dns")
            grants.append(grant)
            flows.append(_flow(grant))
    return NetModel(config, namespaces, graph.services, tuple(grants), tuple(flows))


def _config_location(config: Config, key: str) -> Location:
    doc = config.doc
    if doc is not None and doc.has(key):
        return doc.key_at(key)
    return Location(config.path or "cgen.yaml (defaults)")
