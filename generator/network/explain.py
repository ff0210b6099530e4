"""`cgen explain SRC DST[:PORT]`: is a connection allowed, by which manifest lines, or why not.

The answer evaluates the grants of generator.network.model the way Kubernetes evaluates
NetworkPolicies: a pod in a namespace cgen manages is isolated in both directions (the
namespace's default deny), so a connection needs a matching egress grant of the sender
and a matching ingress grant of the receiver; a pod elsewhere, an address or a DNS name
is not restricted by cgen on its own side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from generator.errors import UserError
from generator.model import Service
from generator.network import cidr
from generator.network.cidr import Network
from generator.network.model import Grant, NetModel, Peer, PortSpec, dns_peers, service_peer
from generator.suggest import did_you_mean

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NUMERIC = re.compile(r"[0-9]+(\.[0-9]+)+(/[0-9]*)?|[0-9]+/[0-9]*")
_PORT = re.compile(r"(?P<port>[0-9]{1,5}|[a-z0-9-]{1,15})(/(?P<proto>tcp|udp|sctp))?", re.I)


@dataclass(frozen=True)
class Endpoint:
    """What a question names: pods (namespace + labels), an address or network, a DNS name."""

    label: str
    kind: Literal["pod", "address", "host"]
    namespace: str | None = None
    pod_labels: tuple[tuple[str, str], ...] = ()
    network: Network | None = None
    host: str | None = None
    service: Service | None = None


@dataclass(frozen=True)
class PortQuery:
    """The port a question asks about: a number with an optional protocol."""

    port: int
    protocol: str | None
    text: str


def _ports_json(ports: tuple[PortSpec, ...]) -> list[dict[str, object]]:
    return [{"protocol": p.protocol, "port": p.port, "name": p.name} for p in ports]


@dataclass(frozen=True)
class Reason:
    """A manifest line behind a verdict: a grant of one policy side that allows the
    connection, or, on a side that allows nothing of it, one of what it allows instead."""

    side: str  # egress of the sender or ingress of the receiver
    allows: bool
    grant: Grant

    def as_dict(self) -> dict[str, object]:
        """The reason with its place as fields: file, line, column (0: none) and key."""
        where, grant = self.grant.where, self.grant
        return {
            "side": self.side,
            "of": grant.subject.label,
            "allows": self.allows,
            "file": where.path,
            "line": where.line,
            "column": where.column,
            "key": grant.key,
            "what": grant.what,
            "peer": grant.peer.label,
            "ports": _ports_json(grant.ports),
        }


@dataclass(frozen=True)
class Verdict:
    """The answer: allowed or not, on which ports (None: every port), and the reasons."""

    src: Endpoint
    dst: Endpoint
    allowed: bool
    ports: tuple[PortSpec, ...] | None
    lines: tuple[str, ...]
    reasons: tuple[Reason, ...]

    def text(self) -> str:
        """The verdict as printed by `cgen explain`."""
        return "\n".join(self.lines) + "\n"

    def as_dict(self) -> dict[str, object]:
        """The verdict for other tools (`cgen explain --json`)."""
        return {
            "allowed": self.allowed,
            "from": self.src.label,
            "to": self.dst.label,
            "ports": None if self.ports is None else _ports_json(self.ports),
            "explanation": list(self.lines),
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


def _service_endpoint(svc: Service) -> Endpoint:
    peer = service_peer(svc)
    labels = tuple(sorted(set(svc.labels) | set(peer.pod_labels)))
    return Endpoint(peer.label, "pod", svc.namespace, labels, service=svc)


def _labels(text: str, whole: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"{whole!r}: labels are written key=value,key=value")
        pairs.append((key, value))
    return tuple(sorted(pairs))


def parse_endpoint(text: str, model: NetModel) -> Endpoint:
    """Resolve a name from the command line to an endpoint (see docs/network.md)."""
    config = model.config
    roles = {
        "ingress-controller": config.ingress_controller,
        "metrics-scraper": config.metrics_scraper,
    }
    if text in roles:
        role = roles[text]
        if role is None:
            key = "ingressController" if text == "ingress-controller" else "metricsScraper"
            raise UserError(f"{text!r}: cgen.yaml sets no {key}")
        return Endpoint(text, "pod", role.namespace, role.pod_labels)
    if text == "dns":
        return Endpoint(dns_peers(config)[0].label, "pod", config.dns_namespace, config.dns_labels)
    if text.endswith("]") and "[" in text:
        namespace, _, rest = text[:-1].partition("[")
        if not _NAME.fullmatch(namespace):
            raise UserError(f"{text!r}: {namespace!r} is not a namespace name")
        return Endpoint(text, "pod", namespace, _labels(rest, text))
    address = _address(text)
    if address is not None:
        return address
    by_name = [s for s in model.services if f"{s.namespace}/{s.name}" == text or s.name == text]
    if len(by_name) == 1:
        return _service_endpoint(by_name[0])
    if len(by_name) > 1:
        places = ", ".join(f"{s.namespace}/{s.name}" for s in by_name)
        raise UserError(f"{text!r} is ambiguous: {places}; write NAMESPACE/NAME")
    outside = [u for u in config.unmanaged if text in (u.name, f"{u.namespace}/{u.name}")]
    if outside:
        return Endpoint(text, "pod", outside[0].namespace, outside[0].pod_labels)
    if "." in text and "/" not in text:
        return Endpoint(text, "host", host=text)
    hint = _near(model, text)
    raise UserError(
        f"no cgen service {text!r}"
        + (
            hint
            or "; other pods are written NAMESPACE[key=value,...], addresses as 203.0.113.7 or "
            "10.0.0.0/8, DNS names as api.example.com, and the roles as ingress-controller, "
            "metrics-scraper, dns"
        )
    )


def _address(text: str) -> Endpoint | None:
    """An address or network as written; None for what is no address (a name)."""
    try:
        network = cidr.network(text)
    except cidr.CidrError:
        if _NUMERIC.fullmatch(text):
            # No DNS name is numbers only (its last label never is): a mistyped address.
            what = "IP network" if "/" in text else "IP address"
            raise UserError(
                f"{text!r} is not a valid {what}: addresses are written as 203.0.113.7, "
                "networks as 10.0.0.0/8"
            ) from None
        return None
    shown = str(network) if "/" in text else str(network.network_address)
    return Endpoint(shown, "address", network=network)


def _near(model: NetModel, text: str) -> str:
    """The workload names close to a name that matches none (NAME or NAMESPACE/NAME)."""
    workloads = [(s.namespace, s.name) for s in model.services]
    workloads += [(u.namespace, u.name) for u in model.config.unmanaged]
    if "/" not in text:
        roles = ["ingress-controller", "metrics-scraper", "dns"]
        return did_you_mean(text, [name for _, name in workloads] + roles)
    # A known namespace: compare the names in it, so the shared prefix does not count.
    namespace, _, name = text.partition("/")
    here = {n: repr(f"{namespace}/{n}") for ns, n in workloads if ns == namespace}
    if not here:
        return did_you_mean(text, [f"{ns}/{n}" for ns, n in workloads])
    # The name itself in another namespace is always worth saying.
    moved = [f"{ns}/{n}" for ns, n in workloads if n == name]
    return did_you_mean(name, here, here) or did_you_mean(text, moved, cutoff=0)


def split_port(text: str) -> tuple[str, str | None]:
    """Split DST[:PORT]; IPv6 addresses take a port only in brackets ([2001:db8::1]:443)."""
    if text.startswith("[") and "]" in text:
        address, _, rest = text[1:].partition("]")
        return address, (rest[1:] if rest.startswith(":") else None)
    if "]:" in text:
        endpoint, _, port = text.rpartition(":")
        return endpoint, port
    try:
        cidr.network(text)
    except cidr.CidrError:
        pass
    else:
        return text, None
    if ":" in text:
        endpoint, _, port = text.rpartition(":")
        return endpoint, port
    return text, None


def parse_port(text: str, dst: Endpoint) -> PortQuery:
    """A port number or one of the destination service's port names, optionally /protocol."""
    match = _PORT.fullmatch(text)
    if match is None:
        raise UserError(f"{text!r}: write a port as 8080, 53/udp or a port name such as grpc")
    proto = match["proto"].upper() if match["proto"] else None
    if match["port"].isdigit():
        number = int(match["port"])
        if not 1 <= number <= 65535:
            raise UserError(f"{text!r}: a port is between 1 and 65535")
        return PortQuery(number, proto, text)
    if dst.service is None:
        raise UserError(f"{text!r}: port names need a cgen service as destination")
    port = dst.service.port(match["port"])
    if port is None:
        names = [p.name for p in dst.service.ports]
        hint = did_you_mean(match["port"], names)
        offered = ", ".join(names) or "none"
        raise UserError(f"{dst.label} has no port {match['port']!r}{hint} (it has: {offered})")
    return PortQuery(port.port, proto or port.protocol, text)


def matches(peer: Peer, ep: Endpoint) -> bool:
    """Whether every address of the endpoint lies in the peer's set."""
    if peer.kind == "pods":
        return (
            ep.kind == "pod"
            and ep.namespace == peer.namespace
            and set(peer.pod_labels) <= set(ep.pod_labels)
        )
    if ep.kind == "host":
        return peer.host == ep.host
    if peer.kind != "cidr" or ep.network is None or peer.cidr is None:
        return False
    if not cidr.within(ep.network, peer.cidr):
        return False
    return not any(cidr.overlaps(ep.network, x) for x in peer.except_)


def _excluded_note(model: NetModel, peer: Peer, ep: Endpoint) -> str | None:
    if peer.kind != "cidr" or ep.network is None or peer.cidr is None:
        return None
    if not cidr.overlaps(ep.network, peer.cidr):
        return None
    config = model.config
    for text in peer.except_:
        if cidr.overlaps(ep.network, text):
            named = [k for k, n in config.excluded_networks() if cidr.canonical(n) == text]
            keys = list(dict.fromkeys(named)) or ["except of the rule"]
            return f"{ep.label} lies in {peer.cidr} but {text} is excluded ({', '.join(keys)})"
    return f"{ep.label} is only partly inside {peer.cidr}"


def _isolated(model: NetModel, ep: Endpoint) -> bool:
    return ep.kind == "pod" and ep.namespace in model.namespaces


def _ports_of(grants: list[Grant]) -> set[PortSpec]:
    return {p for g in grants for p in g.ports}


def _same(a: PortSpec, b: PortSpec) -> bool:
    return (a.protocol, a.port) == (b.protocol, b.port)


def _fmt_ports(ports: set[PortSpec] | tuple[PortSpec, ...]) -> str:
    return ", ".join(str(p) for p in sorted(ports, key=lambda p: (p.port, p.protocol)))


def _grant_lines(grants: list[Grant], indent: str = "    ") -> list[str]:
    return [f"{indent}{g.where}  {g.what}: {g.peer.label} {_fmt_ports(g.ports)}" for g in grants]


def explain(model: NetModel, src: Endpoint, dst: Endpoint, port: PortQuery | None) -> Verdict:
    """Evaluate one connection against the model's grants."""
    sides: list[tuple[str, Endpoint, list[Grant] | None]] = []
    for direction, subject, other in (("egress", src, dst), ("ingress", dst, src)):
        if not _isolated(model, subject):
            sides.append((direction, subject, None))
            continue
        found = [
            g
            for g in model.grants
            if g.direction == direction and matches(g.subject, subject) and matches(g.peer, other)
        ]
        sides.append((direction, subject, found))
    allowed_sets = [_ports_of(found) for _, _, found in sides if found is not None]
    ports: set[PortSpec] | None = None
    for found_ports in allowed_sets:
        if ports is None:
            ports = set(found_ports)
        else:
            ports = {p for p in ports if any(_same(p, q) for q in found_ports)}
    if port is not None and ports is not None:
        ports = {p for p in ports if p.port == port.port and port.protocol in (None, p.protocol)}
    allowed = ports is None or bool(ports)
    head = f"{src.label} -> {dst.label}" + (f" port {port.text}" if port else "")
    if allowed:
        on = "every port" if ports is None else _fmt_ports(ports)
        lines = [f"ALLOWED {head}: on {on}"]
    else:
        lines = [f"DENIED {head}"]
    reasons: list[Reason] = []
    for direction, subject, side in sides:
        lines += _side_lines(
            model, direction, subject, src if direction == "ingress" else dst, side, port
        )
        if side is not None:
            shown = side or _granted(model, direction, subject)
            reasons += [Reason(direction, bool(side), grant) for grant in shown]
    if not allowed and port is not None:
        lines += _scrape_only_note(src, dst, port)
    final = None if ports is None else tuple(sorted(ports, key=lambda p: (p.port, p.protocol)))
    return Verdict(src, dst, allowed, final, tuple(lines), tuple(reasons))


def _granted(model: NetModel, direction: str, subject: Endpoint) -> list[Grant]:
    """Everything the subject's policy side allows (its egress or its ingress)."""
    return [g for g in model.grants if g.direction == direction and matches(g.subject, subject)]


def _scrape_only_note(src: Endpoint, dst: Endpoint, port: PortQuery) -> list[str]:
    """Why a dependency without ports does not reach the asked port, when it is scrape-only."""
    caller, callee = src.service, dst.service
    if caller is None or callee is None:
        return []
    asked = [p for p in callee.ports if p.port == port.port and port.protocol in (None, p.protocol)]
    served = callee.application_ports()
    scrape_only = [p for p in asked if p not in served]
    calls = [
        d
        for d in caller.dependencies
        if (d.namespace, d.service) == (callee.namespace, callee.name) and d.ports is None
    ]
    if not scrape_only or not calls:
        return []
    where = f"{caller.doc.at(calls[0].keypath)} {calls[0].keypath}"
    return [
        f"  {scrape_only[0].name} is scrape-only (scrape: true, named by no probe, ingress or "
        "peerPorts): a dependency without ports reaches only the application ports; name it "
        f"in ports: to reach it ({where})"
    ]


def _side_lines(
    model: NetModel,
    direction: str,
    subject: Endpoint,
    other: Endpoint,
    found: list[Grant] | None,
    port: PortQuery | None,
) -> list[str]:
    if found is None:
        why = {
            "pod": f"namespace {subject.namespace} has no cgen services",
            "address": "an address; cgen's policies select pods",
            "host": "a DNS name outside the cluster",
        }[subject.kind]
        return [f"  {direction} of {subject.label}: not restricted by cgen ({why})"]
    if found:
        lines = [f"  {direction} of {subject.label}: allows {_fmt_ports(_ports_of(found))}"]
        if port is not None:
            lines[0] += f", asked {port.text}"
        return lines + _grant_lines(found)
    mine = _granted(model, direction, subject)
    verb = "send to" if direction == "egress" else "receive from"
    lines = [f"  {direction} of {subject.label}: nothing allows {other.label}"]
    if subject.service is None:
        lines.append(
            f"    {subject.label} is not a cgen service; the default deny of namespace "
            f"{subject.namespace} applies to it"
        )
    notes = sorted({n for g in mine if (n := _excluded_note(model, g.peer, other))})
    lines += [f"    {n}" for n in notes]
    if mine:
        lines.append(f"    it may only {verb}:")
        lines += _grant_lines(mine, "      ")
    else:
        lines.append(f"    it may {verb} nothing")
    return lines


def ask(model: NetModel, src: str, dst: str) -> Verdict:
    """Answer `SRC DST[:PORT]` as the user typed it: parse both ends, then explain."""
    source = parse_endpoint(src, model)
    target_text, port_text = split_port(dst)
    target = parse_endpoint(target_text, model)
    port = parse_port(port_text, target) if port_text is not None else None
    return explain(model, source, target, port)
