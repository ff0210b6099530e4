"""All manifests together: resolves dependencies and derives each service's callers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import NamedTuple

from generator.errors import Location, Problem
from generator.model import Port, Service, ServiceDependency, Unmanaged
from generator.suggest import did_you_mean

Key = tuple[str, str]  # (namespace, name)


class Unloaded(NamedTuple):
    """A manifest that failed to load, with the name and namespace it declares if readable.

    A dependency on it is not resolved, but it is not unknown either: its caller is told
    where the errors are instead of a second, false "no manifest defines" error.
    """

    location: Location
    name: str | None = None
    namespace: str | None = None


class Edge(NamedTuple):
    """One allowed call: caller -> callee on exactly these container ports."""

    caller: Service
    callee: Service
    ports: tuple[Port, ...]
    dependency: ServiceDependency


class UnmanagedEdge(NamedTuple):
    """One allowed call to a workload cgen does not manage (cgen.yaml unmanaged:)."""

    caller: Service
    callee: Unmanaged
    ports: tuple[Port, ...]
    dependency: ServiceDependency


@dataclass(frozen=True)
class Graph:
    """The resolved service graph, in a stable order, indexed by caller and callee."""

    services: tuple[Service, ...]
    edges: tuple[Edge, ...]
    unmanaged_edges: tuple[UnmanagedEdge, ...] = ()
    _by_callee: dict[Key, list[Edge]] = field(default_factory=dict, compare=False, repr=False)
    _by_caller: dict[Key, list[Edge]] = field(default_factory=dict, compare=False, repr=False)
    _unmanaged_by_caller: dict[Key, list[UnmanagedEdge]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # Each edge is filed once under its caller and once under its callee, so asking
        # for one service's edges costs its own edges, not a scan of the whole project.
        for edge in self.edges:
            self._by_callee.setdefault(_key(edge.callee), []).append(edge)
            self._by_caller.setdefault(_key(edge.caller), []).append(edge)
        for call in self.unmanaged_edges:
            self._unmanaged_by_caller.setdefault(_key(call.caller), []).append(call)

    def callers_of(self, svc: Service) -> list[Edge]:
        """Edges that end at svc, ordered by caller."""
        return list(self._by_callee.get(_key(svc), ()))

    def calls_of(self, svc: Service) -> list[Edge]:
        """Edges that start at svc, in the order of its dependencies."""
        return list(self._by_caller.get(_key(svc), ()))

    def unmanaged_calls_of(self, svc: Service) -> list[UnmanagedEdge]:
        """Calls of svc to workloads cgen does not manage, in dependency order."""
        return list(self._unmanaged_by_caller.get(_key(svc), ()))

    def namespaces(self) -> list[str]:
        """Every namespace that holds a service, sorted."""
        return sorted({s.namespace for s in self.services})


def _key(svc: Service) -> Key:
    return (svc.namespace, svc.name)


def build_graph(
    services: list[Service],
    unmanaged: tuple[Unmanaged, ...] = (),
    unloaded: tuple[Unloaded, ...] = (),
) -> tuple[Graph, list[Problem]]:
    """Resolve every dependency; report duplicates, unknown services and unknown ports.

    unloaded are the manifests that failed to load: a dependency on one points at it.
    """
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
    outside = {u.name: u for u in unmanaged}
    for name in sorted(set(outside) & set(names)):
        svc = names[name][0]
        problems.append(
            Problem(
                svc.doc.at("metadata.name"),
                "metadata.name",
                f"{name!r} is also declared in cgen.yaml unmanaged: a workload is managed by cgen "
                "or not, never both",
            )
        )
    edges: list[Edge] = []
    others: list[UnmanagedEdge] = []
    for svc in by_key.values():
        for dep in svc.dependencies:
            if dep.service in outside and dep.service not in names:
                call = _resolve_unmanaged(svc, dep, outside[dep.service], problems)
                others += [call] if call is not None else []
                continue
            edge = _resolve(svc, dep, by_key, names, problems, _Elsewhere(outside, unloaded))
            if edge is not None:
                edges.append(edge)
    edges.sort(key=lambda e: (_key(e.callee), _key(e.caller), e.dependency.keypath))
    return Graph(tuple(by_key.values()), tuple(edges), tuple(others)), problems


def _chosen_ports(
    svc: Service,
    dep: ServiceDependency,
    offered: tuple[Port, ...],
    problems: list[Problem],
    related: tuple[Location, ...],
) -> tuple[Port, ...] | None:
    """The callee's ports a dependency names (all when it names none); None on errors."""
    if dep.ports is None:
        return offered
    chosen: list[Port] = []
    for j, ref in enumerate(dep.ports):
        port = next((p for p in offered if ref in (p.name, p.port)), None)
        if port is None:
            listed = ", ".join(f"{p.name} ({p.port})" for p in offered) or "none"
            hint = did_you_mean(ref, (p.name for p in offered)) if isinstance(ref, str) else ""
            problems.append(
                Problem(
                    svc.doc.at(f"{dep.keypath}.ports[{j}]"),
                    f"{dep.keypath}.ports[{j}]",
                    f"{dep.service!r} has no port {ref!r}{hint} (it has: {listed})",
                    related,
                )
            )
        elif port not in chosen:
            chosen.append(port)
    if len(chosen) != len(dep.ports):
        return None
    return tuple(sorted(chosen, key=lambda p: (p.port, p.protocol)))


def _resolve_unmanaged(
    svc: Service, dep: ServiceDependency, callee: Unmanaged, problems: list[Problem]
) -> UnmanagedEdge | None:
    explicit = svc.doc.has(f"{dep.keypath}.namespace")
    if explicit and dep.namespace != callee.namespace:
        problems.append(
            Problem(
                svc.doc.at(f"{dep.keypath}.namespace"),
                f"{dep.keypath}.namespace",
                f"{dep.service!r} is the unmanaged workload of cgen.yaml in namespace "
                f"{callee.namespace!r}",
            )
        )
        return None
    ports = _chosen_ports(svc, dep, callee.ports, problems, ())
    return UnmanagedEdge(svc, callee, ports, dep) if ports is not None else None


def _resolve(
    svc: Service,
    dep: ServiceDependency,
    by_key: dict[Key, Service],
    names: dict[str, list[Service]],
    problems: list[Problem],
    other: _Elsewhere,
) -> Edge | None:
    callee = by_key.get((dep.namespace, dep.service))
    where = svc.doc.at(f"{dep.keypath}.service")
    if callee is None:
        key, message = _missing(dep, names, other, svc.doc.has(f"{dep.keypath}.namespace"))
        problems.append(
            Problem(svc.doc.at(f"{dep.keypath}.{key}"), f"{dep.keypath}.{key}", message)
        )
        return None
    if dep.ports is None and not callee.ports:
        problems.append(
            Problem(
                where,
                f"{dep.keypath}.service",
                f"{dep.service!r} listens on no ports",
                (callee.doc.at("spec"),),
            )
        )
        return None
    # Without `ports`, the callee's application ports: never those only the scraper calls.
    offered = callee.ports if dep.ports is not None else callee.application_ports()
    ports = _chosen_ports(svc, dep, offered, problems, (callee.doc.at("spec.ports"),))
    return Edge(svc, callee, ports, dep) if ports is not None else None


class _Elsewhere(NamedTuple):
    """What else a dependency's name may mean: an unmanaged workload, a broken manifest."""

    unmanaged: dict[str, Unmanaged]
    unloaded: tuple[Unloaded, ...]


def _missing(
    dep: ServiceDependency, names: dict[str, list[Service]], other: _Elsewhere, explicit: bool
) -> tuple[str, str]:
    """Why a dependency names no service, and at which of its keys (service, namespace)."""
    if explicit:
        # A namespace the dependency sets is as likely the typo as the name.
        known = {s.namespace for group in names.values() for s in group}
        known |= {u.namespace for u in other.unloaded if u.namespace is not None}
        hint = did_you_mean(dep.namespace, known) if dep.namespace not in known else ""
        if hint:
            return "namespace", f"no namespace {dep.namespace!r} has cgen services{hint}"
        elsewhere = _elsewhere(dep, names)
        if elsewhere and not _broken(dep, other):
            return "namespace", f"{_no_manifest(dep)}; it exists in namespace {elsewhere}"
    return "service", _missing_service(dep, names, other)


def _broken(dep: ServiceDependency, other: _Elsewhere) -> list[Unloaded]:
    """The manifests that failed to load and may define the dependency's service."""
    broken = [
        u for u in other.unloaded if u.name == dep.service and u.namespace in (None, dep.namespace)
    ]
    # A file that could not be read at all, named after the service, is the likeliest
    # definer: cartservice.yaml for cartservice.
    return broken + [
        Unloaded(Location(path))
        for path in _unread(other)
        if PurePosixPath(path).stem == dep.service
    ]


def _unread(other: _Elsewhere) -> list[str]:
    """The manifest files that could not be read at all (no name is known for them)."""
    return sorted({u.location.path for u in other.unloaded if u.name is None})


def _no_manifest(dep: ServiceDependency) -> str:
    return f"no manifest defines service {dep.service!r} in namespace {dep.namespace!r}"


def _elsewhere(dep: ServiceDependency, names: dict[str, list[Service]]) -> str:
    """The other namespaces that have a service of the dependency's name ('' if none)."""
    return ", ".join(sorted(s.namespace for s in names.get(dep.service, [])))


def _missing_service(
    dep: ServiceDependency, names: dict[str, list[Service]], other: _Elsewhere
) -> str:
    """Why no service has the dependency's name, pointing at the likeliest cause."""
    broken = _broken(dep, other)
    if broken:
        path = broken[0].location.path
        return f"{path} has errors (see its messages), so {dep.service!r} could not be loaded"
    text = _no_manifest(dep)
    elsewhere = _elsewhere(dep, names)
    if elsewhere:
        return f"{text}; it exists in namespace {elsewhere} (set namespace:)"
    # The names it may have meant, in any namespace: those elsewhere say where they are.
    spaces: dict[str, set[str | None]] = defaultdict(set)
    for svc in (s for group in names.values() for s in group):
        spaces[svc.name].add(svc.namespace)
    for lost in other.unloaded:
        if lost.name is not None:
            spaces[lost.name].add(lost.namespace)
    for outside in other.unmanaged.values():
        spaces[outside.name].add(outside.namespace)
    shown = {
        n: f"{n!r} (namespace {', '.join(sorted(filter(None, ns)))})"
        for n, ns in spaces.items()
        if dep.namespace not in ns and any(ns)
    }
    hint = did_you_mean(dep.service, spaces, shown)
    unread = _unread(other)
    # A near miss among the loaded names is likelier than an unrelated broken file.
    if unread and not hint:
        verb = "has" if len(unread) == 1 else "have"
        return f"{text}; {', '.join(unread)} {verb} errors and may define it"
    # A near miss is likelier a typo than a workload cgen does not manage.
    return text + (
        hint
        or "; if cgen does not manage it, declare it under unmanaged: in cgen.yaml "
        "(namespace, podLabels, ports)"
    )
