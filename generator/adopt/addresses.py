"""Service addresses inside configuration values: `host:port`, URLs, `*_ADDR`/`*_HOST`."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A DNS-1123 label, optionally `.namespace`, optionally `.svc[.cluster.local]`.
_HOST = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*"
_ADDRESS = re.compile(
    rf"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?:[^@/\s]*@)?(?P<host>{_HOST})(?::(?P<port>\d{{1,5}}))?"
)
_SCHEME_PORTS = {
    "http": 80, "https": 443, "grpc": 80, "ws": 80, "wss": 443, "redis": 6379,
    "postgres": 5432, "postgresql": 5432, "mysql": 3306, "amqp": 5672, "mongodb": 27017,
    "nats": 4222, "kafka": 9092,
}  # fmt: skip
# Names whose whole value is a host, without a port (FOO_HOST=cart, with FOO_PORT beside).
_HOST_NAMES = re.compile(r"(_HOST|_HOSTNAME|_SERVER|_ADDR|_ADDRESS|_ENDPOINT|_URL|_URI)$")


@dataclass(frozen=True)
class Address:
    """A reference to a host (maybe a Service), with the port when the value says it."""

    host: str
    namespace: str | None
    port: int | None


def _split(host: str, cluster_domain: str) -> tuple[str, str | None] | None:
    """(service, namespace) when host can name a Service, else None."""
    for suffix in (f".svc.{cluster_domain}", ".svc"):
        if host.endswith(suffix):
            host = host[: -len(suffix)]
            parts = host.split(".")
            return (parts[0], parts[1]) if len(parts) == 2 else None
    parts = host.split(".")
    if len(parts) == 1:
        return parts[0], None
    if len(parts) == 2:
        return parts[0], parts[1]  # name.namespace (or a public name: the caller checks)
    return None


def find_addresses(
    name: str, value: str, env: dict[str, str], cluster_domain: str = "cluster.local"
) -> list[Address]:
    """Every address a variable's value may hold; the port from a sibling *_PORT too."""
    found: list[Address] = []
    for match in _ADDRESS.finditer(value.lower()):
        host = match.group("host")
        bare = match.group("port") is None and match.group("scheme") is None
        whole = _HOST_NAMES.search(name.upper()) and match.group(0) == value.strip().lower()
        if bare and not whole:
            continue  # a bare word is a host only when the variable says so
        split = _split(host, cluster_domain)
        if split is None:
            continue
        port = int(match.group("port")) if match.group("port") else None
        if port is None and match.group("scheme"):
            port = _SCHEME_PORTS.get(match.group("scheme"))
        if port is None:
            stem = re.sub(r"_(HOST|HOSTNAME|SERVER|ADDR|ADDRESS)$", "", name.upper())
            sibling = env.get(f"{stem}_PORT", "")
            port = int(sibling) if sibling.isdigit() else None
        if port is not None and not 0 < port < 65536:
            continue
        found.append(Address(split[0], split[1], port))
    return found
