"""The one place that parses networks and answers containment and overlap.

Every address cgen compares goes through `network()` first, which normalizes it: an
IPv4-mapped IPv6 network (`::ffff:169.254.169.254/128`, `::ffff:0.0.0.0/96`) names the same
addresses on the wire as its IPv4 form, so it becomes that form. Compared as written, such
a spelling would slip past the metadata exclusion and the pod and Service CIDR excepts,
because an IPv6 network is never "inside" an IPv4 one.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class CidrError(ValueError):
    """Text that is not a network cgen (and Kubernetes) accepts."""


@lru_cache(maxsize=4096)
def network(text: str, *, strict: bool = False) -> Network:
    """Parse a CIDR (or a single address) and normalize it; raise CidrError when invalid."""
    if "%" in text:
        # Python accepts IPv6 scope ids (fe80::1%eth0); Kubernetes and every CNI refuse them.
        raise CidrError(f"{text!r} has a scope id (%...), which no network policy accepts")
    if text != text.strip():
        raise CidrError(f"{text!r} has spaces around it")
    try:
        net = ipaddress.ip_network(text, strict=strict)
    except ValueError as exc:
        raise CidrError(str(exc)) from None
    return normalize(net)


def normalize(net: Network) -> Network:
    """The IPv4 form of an IPv4-mapped IPv6 network; any other network unchanged."""
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        low = int(net.network_address) & 0xFFFFFFFF
        return ipaddress.IPv4Network((low, net.prefixlen - 96))
    return net


def canonical(text: str) -> str:
    """The normalized spelling of a network, as cgen writes it into policies."""
    return str(network(text))


def address_network(text: str) -> Network:
    """A single address as a one-address network (/32 or /128), normalized."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError as exc:
        raise CidrError(str(exc)) from None
    return network(f"{address}/{address.max_prefixlen}")


def within(inner: str | Network, outer: str | Network) -> bool:
    """Whether every address of inner lies in outer (equal networks included)."""
    a, b = _net(inner), _net(outer)
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]


def strictly_within(inner: str | Network, outer: str | Network) -> bool:
    """Whether inner lies in outer and is smaller (what an ipBlock except must be)."""
    a, b = _net(inner), _net(outer)
    return a != b and within(a, b)


def overlaps(a: str | Network, b: str | Network) -> bool:
    """Whether the two networks share at least one address."""
    x, y = _net(a), _net(b)
    return x.version == y.version and x.overlaps(y)


def _net(value: str | Network) -> Network:
    return network(value) if isinstance(value, str) else normalize(value)
