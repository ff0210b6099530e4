"""Topologies judged by network-config-analyzer (NCA): the policies cgen renders allow exactly
the declared edges plus DNS, and `cgen explain` agrees with NCA on every pair.

Each folder of tests/topologies holds `manifests/` (with cgen.yaml) and `topology.yaml`:
the workloads that are not cgen services (added here as plain Deployments, with the
cluster DNS pods), the declared edges written by hand, pairs for `nca --permits/--forbids`
and addresses to probe.
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from oracles import Edge, k8s_validate, nca_connectivity, nca_forbids, nca_permits

import generator
from generator.network.explain import Endpoint, explain, parse_endpoint
from generator.network.model import NetModel

TOPOLOGIES = Path(__file__).parent / "topologies"
NAMES = sorted(p.name for p in TOPOLOGIES.iterdir() if (p / "topology.yaml").is_file())
DNS_PEER = {"namespace": "kube-system", "name": "coredns", "labels": {"k8s-app": "kube-dns"}}
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Topology:
    """One rendered topology: cluster folder for NCA, the model, and the hand-written spec."""

    name: str
    cluster: Path
    model: NetModel
    spec: dict[str, Any]
    workloads: dict[str, str]  # "ns/name" -> the text `cgen explain` names it by

    @property
    def peers(self) -> list[dict[str, Any]]:
        return [DNS_PEER, *self.spec["peers"]]


def _peer_objects(peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for namespace in sorted({p["namespace"] for p in peers}):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {NAMESPACE_LABEL: namespace}},
            }
        )
    for peer in peers:
        labels = dict(peer["labels"])
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": peer["name"], "namespace": peer["namespace"]},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "main", "image": "example/peer:1"}]},
                    },
                },
            }
        )
    return objects


_TOPOLOGIES: dict[tuple[str, Path], Topology] = {}


def topology(name: str, root: Path) -> Topology:
    """Render the topology's manifests into root/cluster and add the peer workloads."""
    if (name, root) not in _TOPOLOGIES:
        _TOPOLOGIES[(name, root)] = _render(name, root)
    return _TOPOLOGIES[(name, root)]


def _render(name: str, root: Path) -> Topology:
    folder = TOPOLOGIES / name
    project, _ = generator.load([folder / "manifests"], allow_unpinned=True)
    cluster = root / name / "cluster"
    for artifact in generator.build(project, formats=("kubernetes",)):
        if artifact.path.endswith(".yaml") and not artifact.path.endswith("kustomization.yaml"):
            path = cluster / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(artifact.content, encoding="utf-8")
    spec = yaml.safe_load((folder / "topology.yaml").read_text(encoding="utf-8"))
    peers = [DNS_PEER, *spec["peers"]]
    (cluster / "peers.yaml").write_text(yaml.safe_dump_all(_peer_objects(peers)), encoding="utf-8")
    workloads = {f"{s.namespace}/{s.name}": f"{s.namespace}/{s.name}" for s in project.services}
    for peer in peers:
        labels = ",".join(f"{k}={v}" for k, v in sorted(peer["labels"].items()))
        workloads[f"{peer['namespace']}/{peer['name']}"] = f"{peer['namespace']}[{labels}]"
    return Topology(name, cluster, project.network, spec, workloads)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("topologies")


def _declared(topo: Topology) -> set[Edge]:
    edges = set()
    for line in topo.spec["edges"].splitlines():
        if line.strip():
            src, dst, protocol, port = line.split()
            edges.add(Edge(src, dst, protocol, port))
    dns = ["kube-system/coredns"]
    if topo.model.config.dns_node_local:
        dns.append(f"{topo.model.config.dns_node_local}/32")
    for svc in topo.model.services:
        for target, protocol in itertools.product(dns, ("UDP", "TCP")):
            edges.add(Edge(f"{svc.namespace}/{svc.name}", target, protocol, "53"))
    return edges


def _cgen_side(topo: Topology, edges: set[Edge]) -> set[Edge]:
    """Edges with a cgen service at one end; the rest (between peers) is not cgen's."""
    services = {f"{s.namespace}/{s.name}" for s in topo.model.services}
    return {e for e in edges if e.src in services or e.dst in services}


_CONNECTIVITY: dict[Path, frozenset[Edge]] = {}


def _expand(edges: set[Edge]) -> frozenset[Edge]:
    """NCA joins adjacent ports into ranges ("8080-8081"); compare port by port."""
    result: set[Edge] = set()
    for edge in edges:
        low, dash, high = edge.port.partition("-")
        if dash and low.isdigit() and high.isdigit() and int(high) - int(low) < 64:
            result.update(edge._replace(port=str(p)) for p in range(int(low), int(high) + 1))
        else:
            result.add(edge)
    return frozenset(result)


def _connectivity(topo: Topology) -> frozenset[Edge]:
    if topo.cluster not in _CONNECTIVITY:
        _CONNECTIVITY[topo.cluster] = _expand(nca_connectivity(topo.cluster))
    return _CONNECTIVITY[topo.cluster]


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_nca_connectivity_is_exactly_the_declared_edges_plus_dns(name: str, root: Path) -> None:
    topo = topology(name, root)
    assert _cgen_side(topo, set(_connectivity(topo))) == _declared(topo)


def test_at_least_five_topologies_with_the_required_shapes() -> None:
    assert len(NAMES) >= 5
    specs = {n: yaml.safe_load((TOPOLOGIES / n / "topology.yaml").read_text()) for n in NAMES}
    edges = "\n".join(s["edges"] for s in specs.values())
    assert " UDP " in edges and " SCTP " in edges
    namespaces = {
        w.split("/")[0]
        for s in specs.values()
        for line in s["edges"].splitlines()
        for w in line.split()[:2]
        if "/" in w and not w[0].isdigit()
    }
    assert len(namespaces) >= 3


def _query(pair: str, name: str) -> dict[str, Any]:
    """A NetworkPolicy allowing exactly src -> dst on one port (NCA's query form)."""
    src, dst, protocol, port = pair.split()
    port_spec = {"protocol": protocol, "port": int(port)}

    def pod(ref: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: ref.split("/")[0]}},
            "podSelector": {"matchLabels": labels},
        }

    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": dst.split("/")[0]},
        "spec": {
            "podSelector": {"matchLabels": _labels_of(dst)},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [pod(src, _labels_of(src))], "ports": [port_spec]}],
        },
    }


_PEER_LABELS: dict[str, dict[str, str]] = {}


def _labels_of(ref: str) -> dict[str, str]:
    return _PEER_LABELS.get(ref) or {"app.kubernetes.io/name": ref.split("/")[1]}


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_nca_permits_and_forbids_chosen_pairs(name: str, root: Path) -> None:
    topo = topology(name, root)
    for peer in topo.peers:
        _PEER_LABELS[f"{peer['namespace']}/{peer['name']}"] = dict(peer["labels"])
    queries = root / name / "queries"
    queries.mkdir(exist_ok=True)
    for verb, pairs in (("permits", topo.spec["permits"]), ("forbids", topo.spec["forbids"])):
        for i, pair in enumerate(pairs):
            query = queries / f"{verb}-{i}.yaml"
            query.write_text(yaml.safe_dump(_query(pair, f"q{i}")), encoding="utf-8")
            judge = nca_permits if verb == "permits" else nca_forbids
            assert judge(query, topo.cluster, topo.cluster), f"NCA: policies do not {verb} {pair}"
            # Both ways: a permitted pair is not forbidden, a forbidden one not permitted.
            other = nca_forbids if verb == "permits" else nca_permits
            assert not other(query, topo.cluster, topo.cluster), f"NCA disagrees on {pair}"


def _nca_ports(edges: frozenset[Edge], src: str, dst: str) -> set[tuple[str, str]]:
    return {(e.protocol, e.port) for e in edges if e.src == src and e.dst == dst}


def _explain_ports(model: NetModel, src: Endpoint, dst: Endpoint) -> set[tuple[str, str]]:
    verdict = explain(model, src, dst, None)
    if not verdict.allowed:
        return set()
    if verdict.ports is None:
        return {("*", "*")}
    return {(p.protocol, str(p.port)) for p in verdict.ports}


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_explain_agrees_with_nca_on_every_pair(name: str, root: Path) -> None:
    topo = topology(name, root)
    edges = _connectivity(topo)
    endpoints = {w: parse_endpoint(text, topo.model) for w, text in topo.workloads.items()}
    pairs = 0
    for (a, ea), (b, eb) in itertools.product(endpoints.items(), repeat=2):
        if a == b:
            continue  # NCA does not show connections between replicas of one Deployment
        pairs += 1
        assert _explain_ports(topo.model, ea, eb) == _nca_ports(edges, a, b), f"{a} -> {b}"
    assert pairs >= len(topo.model.services) * (len(topo.model.services) - 1)


def _is_address(block: str) -> bool:
    """An IP block as NCA shows it (CIDR or first-last range), not a workload."""
    try:
        ipaddress.ip_network(block.split("-")[0].split("/")[0])
    except ValueError:
        return False
    return True


def _contains(block: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if not _is_address(block):
        return False
    if "/" in block:
        net = ipaddress.ip_network(block)
        return net.version == address.version and address in net
    if "-" not in block:
        return False
    lo, hi = (ipaddress.ip_address(x) for x in block.split("-"))
    return lo.version == address.version and int(lo) <= int(address) <= int(hi)


def _addresses(topo: Topology, edges: frozenset[Edge]) -> list[str]:
    """The topology's probe addresses plus both ends of every address range NCA shows."""
    found = list(topo.spec.get("addresses") or [])
    for edge in edges:
        for block in (edge.src, edge.dst):
            if _is_address(block):
                if "/" in block:
                    net = ipaddress.ip_network(block)
                    found += [str(net[0]), str(net[-1])]
                else:
                    found += block.split("-")
    return sorted(set(found))


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_explain_agrees_with_nca_on_addresses(name: str, root: Path) -> None:
    topo = topology(name, root)
    edges = _connectivity(topo)
    for text in _addresses(topo, edges):
        address = ipaddress.ip_address(text)
        ep = parse_endpoint(text, topo.model)
        for svc in topo.model.services:
            ref = f"{svc.namespace}/{svc.name}"
            me = parse_endpoint(ref, topo.model)
            for src, dst, forward in ((me, ep, True), (ep, me, False)):
                nca = {
                    (e.protocol, e.port)
                    for e in edges
                    if (e.src == ref and _contains(e.dst, address))
                    or (e.dst == ref and _contains(e.src, address))
                    if (e.src == ref) == forward
                }
                assert _explain_ports(topo.model, src, dst) == nca, f"{src.label} -> {dst.label}"


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_network_policies_are_valid_kubernetes_objects(name: str, root: Path) -> None:
    topo = topology(name, root)
    policies = sorted(topo.cluster.rglob("*.yaml"))
    checked = 0
    for path in policies:
        for obj in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if obj.get("kind") == "NetworkPolicy":
                assert k8s_validate(obj) == [], path
                checked += 1
    assert checked > len(topo.model.namespaces)
