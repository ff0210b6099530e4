"""`cgen graph` and `cgen explain` as a reviewer uses them, and the network warnings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import run_cgen

import generator
from generator.network.explain import matches, parse_endpoint

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "tests" / "topologies"
NAMES = sorted(p.name for p in TOPOLOGIES.iterdir() if (p / "topology.yaml").is_file())
THREE = "tests/topologies/three-namespaces/manifests"


def cgen(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cgen(args)


@pytest.mark.parametrize("name", NAMES)
def test_graph_draws_exactly_the_declared_workload_edges(name: str) -> None:
    """The graph's flows between workloads are the edges NCA confirmed (topology.yaml)."""
    spec = yaml.safe_load((TOPOLOGIES / name / "topology.yaml").read_text(encoding="utf-8"))
    project, _ = generator.load([TOPOLOGIES / name / "manifests"], allow_unpinned=True)
    model = project.network
    workloads = {f"{s.namespace}/{s.name}": f"{s.namespace}/{s.name}" for s in project.services}
    for peer in spec["peers"]:
        labels = ",".join(f"{k}={v}" for k, v in sorted(peer["labels"].items()))
        workloads[f"{peer['namespace']}/{peer['name']}"] = f"{peer['namespace']}[{labels}]"
    endpoints = {w: parse_endpoint(t, model) for w, t in workloads.items()}
    drawn = set()
    for flow in model.flows:
        if flow.kind == "dns" or "pods" not in (flow.src.kind, flow.dst.kind):
            continue
        for a, ea in endpoints.items():
            for b, eb in endpoints.items():
                if a != b and matches(flow.src, ea) and matches(flow.dst, eb):
                    drawn |= {(a, b, p.protocol, str(p.port)) for p in flow.ports}
    declared = {
        tuple(line.split())
        for line in spec["edges"].splitlines()
        if line.strip() and not line.split()[0][0].isdigit() and not line.split()[1][0].isdigit()
    }
    assert drawn == declared


def test_graph_formats() -> None:
    mermaid = cgen("graph", THREE)
    assert mermaid.returncode == 0, mermaid.stderr
    text = mermaid.stdout
    assert text.startswith("flowchart LR\n")
    assert '["namespace api"]' in text and '["namespace data"]' in text
    assert re.search(r'\n  n\d+ -->\|"TCP 6379 \(redis\)"\| n\d+\n', text)
    assert "26379" not in text  # the port nobody names is never drawn
    dot = cgen("graph", THREE, "--format", "dot")
    assert dot.returncode == 0 and dot.stdout.startswith("digraph cgen {\n")
    assert dot.stdout.count("subgraph cluster_") == 3 and dot.stdout.endswith("}\n")
    assert '[label="TCP 9090 (metrics)"]' in dot.stdout
    table = cgen("graph", THREE, "-f", "table", "--no-dns")
    rows = table.stdout.splitlines()
    assert rows[0].split() == ["FROM", "TO", "PORTS", "DECLARED", "AT"]
    assert "cluster DNS" not in table.stdout
    frontend = next(r for r in rows if r.startswith("web/frontend"))
    assert frontend.split()[:2] == ["web/frontend", "api/orders"]
    assert frontend.endswith(f"{THREE}/frontend.yaml:12:7")
    with_dns = cgen("graph", THREE, "-f", "table").stdout
    assert "web/*" in with_dns and "UDP 53, TCP 53" in with_dns
    bad = cgen("graph", THREE, "-f", "svg")
    assert bad.returncode == 2 and "choose mermaid, dot, table" in bad.stderr


def test_explain_allowed_names_the_manifest_lines() -> None:
    proc = cgen("explain", "api/orders", "data/cache:redis", THREE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ALLOWED api/orders -> data/cache port redis: on TCP 6379")
    # The dependency entry that allows it, for both policy sides.
    assert proc.stdout.count(f"{THREE}/orders.yaml:16:7") == 2


def test_explain_denied_says_why() -> None:
    proc = cgen("explain", "api/orders", "data/cache:26379", THREE)
    assert proc.returncode == 3
    assert proc.stdout.startswith("DENIED api/orders -> data/cache port 26379")
    assert "allows TCP 6379 (redis), asked 26379" in proc.stdout
    other = cgen("explain", "batch[app=other]", "api/orders:http", THREE)
    assert other.returncode == 3
    assert "ingress of api/orders: nothing allows batch[app=other]" in other.stdout
    assert f"{THREE}/orders.yaml:20:7" in other.stdout  # the ingress rule it did not match
    excluded = cgen(
        "explain", "edge/reporting", "10.244.1.1:5432", "tests/topologies/external-cidrs/manifests"
    )
    assert excluded.returncode == 3
    assert "lies in 10.0.0.0/8 but 10.244.0.0/16 is excluded (podCidrs)" in excluded.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["api", "web", "tests/topologies/same-name/manifests"], "'api' is ambiguous"),
        (["web/nope", "api/orders", THREE], "no cgen service 'web/nope'; other pods are written"),
        (["web/frontend", "api/orders:nope", THREE], "api/orders has no port 'nope'"),
        (["web/frontend", "api/orders:99999", THREE], "between 1 and 65535"),
        (
            ["metrics-scraper", "ring/alpha", "tests/topologies/cycles/manifests"],
            "sets no metricsScraper",
        ),
    ],
)
def test_explain_errors_are_messages(args: list[str], message: str) -> None:
    proc = cgen("explain", *args)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_explain_ports_and_protocols() -> None:
    verdict = generator.explain(
        [TOPOLOGIES / "udp-sctp-named" / "manifests"], "telemetry/agent", "collector"
    )
    assert {(p.protocol, p.port) for p in verdict.ports or ()} == {("UDP", 8125), ("UDP", 5353)}
    proc = cgen(
        "explain", "agent", "collector:5353/tcp", "tests/topologies/udp-sctp-named/manifests"
    )
    assert proc.returncode == 3
    proc = cgen(
        "explain", "agent", "collector:dns-udp", "tests/topologies/udp-sctp-named/manifests"
    )
    assert proc.returncode == 0 and "UDP 5353 (dns-udp)" in proc.stdout


def test_network_warnings(tmp_path: Path) -> None:
    (tmp_path / "cgen.yaml").write_text("namespace: shop\n", encoding="utf-8")
    (tmp_path / "web.yaml").write_text(
        """apiVersion: cgen/v1
kind: Service
metadata: {name: web}
spec:
  runtime: go
  image: registry.example.com/web:1@sha256:"""
        + "c" * 64
        + """
  ports: [{name: http, port: 8080}]
  dependencies:
    - {cidr: 10.20.0.0/16, ports: [5432]}
    - {cidr: 0.0.0.0/0, ports: [443]}
  ingress:
    - from: {cidr: 0.0.0.0/0}
    - from: {namespace: tools}
    - from: {podLabels: {app: debug}}
""",
        encoding="utf-8",
    )
    project, _ = generator.load([tmp_path], allow_unpinned=True)
    text = "\n".join(str(w) for w in project.warnings)
    assert "spec.dependencies[0]: overlaps private address space" in text
    assert "egress to 0.0.0.0/0 reaches every address" in text
    assert "spec.ingress[0].from: ingress from 0.0.0.0/0 accepts every address" in text
    assert "spec.ingress[1].from: every pod of namespace tools may call" in text
    assert "spec.ingress[2].from: namespace shop is under cgen's default deny" in text
    (tmp_path / "cgen.yaml").write_text(
        "namespace: shop\npodCidrs: [10.244.0.0/16]\nserviceCidrs: [10.96.0.0/12]\n",
        encoding="utf-8",
    )
    project, _ = generator.load([tmp_path], allow_unpinned=True)
    assert "overlaps private address space" not in "\n".join(str(w) for w in project.warnings)


def test_a_dependency_without_ports_skips_scrape_only_ports() -> None:
    # web depends on api and worker without naming ports; api's metrics port is only for
    # the scraper (api has other ports), worker serves its metrics on its only port.
    case = [ROOT / "tests" / "cases" / "dependency-without-ports" / "input"]
    for dst, allowed in (("api:http", True), ("api:grpc", True), ("api:metrics", False)):
        assert generator.explain(case, "web", dst).allowed is allowed, dst
    assert generator.explain(case, "web", "worker:http").allowed
    assert generator.explain(case, "web", "cache:redis").allowed  # probed: it serves
    assert generator.explain(case, "exporter", "api:metrics").allowed
    assert generator.explain(case, "metrics-scraper", "api:metrics").allowed
    proc = run_cgen(["explain", "web", "api:metrics", *map(str, case)])
    assert proc.returncode == 3, proc.stdout + proc.stderr


def test_scraped_serving_ports_of_the_second_example_stay_application_ports() -> None:
    # Kafka's client port and the ad service's own metrics port are both scraped; only the
    # second exists for the scraper alone.
    project, _ = generator.load([ROOT / "examples" / "otel-demo"], allow_unpinned=True)
    by_name = {s.name: s for s in project.services}
    names = {n: [p.name for p in by_name[n].application_ports()] for n in ("kafka", "ad")}
    assert names == {"kafka": ["plaintext", "controller"], "ad": ["grpc"]}
