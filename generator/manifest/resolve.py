"""All manifests together: resolves dependencies and derives each service's callers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from generator.errors import Problem
from generator.model import Port, Service, ServiceDependency

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Edge:
    """One allowed call: caller -> callee on exactly these container ports."""

    caller: Service
    callee: Service
    ports: tuple[Port, ...]
    dependency: ServiceDependency


@dataclass(frozen=True)
class Graph:
    """The resolved service graph, in a stable order."""

    services: tuple[Service, ...]
    edges: tuple[Edge, ...]

    def callers_of(self, svc: Service) -> list[Edge]:
        """Edges that end at svc, ordered by caller."""
        return [e for e in self.edges if _key(e.callee) == _key(svc)]

    def calls_of(self, svc: Service) -> list[Edge]:
        """Edges that start at svc, in the order of its dependencies."""
        return [e for e in self.edges if _key(e.caller) == _key(svc)]

    def namespaces(self) -> list[str]:
        """Every namespace that holds a service, sorted."""
        return sorted({s.namespace for s in self.services})


def _key(svc: Service) -> Key:
    return (svc.namespace, svc.name)


def build_graph(services: list[Service]) -> tuple[Graph, list[Problem]]:
    """Resolve every dependency; report duplicates, unknown services and unknown ports."""
    problems: list[Problem] = []
    by_key: dict[Key, Service] = {}
    for svc in sorted(services, key=lambda s: (s.namespace, s.name, s.source)):
        other = by_key.get(_key(svc))
        if other is not None:
            problems.append(
                Problem(
                    svc.doc.at("metadata.name"),
                    "metadata.name",
                    f"service {svc.name!r} is defined twice in namespace {svc.namespace!r}",
                    (other.doc.at("metadata.name"),),
                )
            )
            continue
        by_key[_key(svc)] = svc
    names: dict[str, list[Service]] = defaultdict(list)
    for svc in by_key.values():
        names[svc.name].append(svc)
    edges: list[Edge] = []
    for svc in by_key.values():
        for dep in svc.dependencies:
            edge = _resolve(svc, dep, by_key, names, problems)
            if edge is not None:
                edges.append(edge)
    edges.sort(key=lambda e: (_key(e.callee), _key(e.caller), e.dependency.keypath))
    return Graph(tuple(by_key.values()), tuple(edges)), problems


def _resolve(
    svc: Service,
    dep: ServiceDependency,
    by_key: dict[Key, Service],
    names: dict[str, list[Service]],
    problems: list[Problem],
) -> Edge | None:
    callee = by_key.get((dep.namespace, dep.service))
    where = svc.doc.at(f"{dep.keypath}.service")
    if callee is None:
        elsewhere = sorted(s.namespace for s in names.get(dep.service, []))
        hint = (
            f"; it exists in namespace {', '.join(elsewhere)} (set namespace:)" if elsewhere else ""
        )
        problems.append(
            Problem(
                where,
                f"{dep.keypath}.service",
                f"no manifest defines service {dep.service!r} in namespace {dep.namespace!r}{hint}",
            )
        )
        return None
    if dep.ports is None:
        ports = callee.ports
        if not ports:
            problems.append(
                Problem(
                    where,
                    f"{dep.keypath}.service",
                    f"{dep.service!r} listens on no ports",
                    (callee.doc.at("spec"),),
                )
            )
            return None
        return Edge(svc, callee, ports, dep)
    chosen: list[Port] = []
    for j, ref in enumerate(dep.ports):
        port = callee.port(ref)
        if port is None:
            offered = ", ".join(f"{p.name} ({p.port})" for p in callee.ports) or "none"
            problems.append(
                Problem(
                    svc.doc.at(f"{dep.keypath}.ports[{j}]"),
                    f"{dep.keypath}.ports[{j}]",
                    f"{dep.service!r} has no port {ref!r} (it has: {offered})",
                    (callee.doc.at("spec.ports"),),
                )
            )
        elif port not in chosen:
            chosen.append(port)
    if len(chosen) != len(dep.ports):
        return None
    return Edge(svc, callee, tuple(sorted(chosen, key=lambda p: (p.port, p.protocol))), dep)
