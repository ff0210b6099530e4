"""Import -> render -> network-config-analyzer: Online Boutique as released upstream.

Every connection the application needs (its services' `*_ADDR` values, read without cgen)
is allowed, and nothing else: besides cluster DNS, only the LoadBalancer that upstream
exposes the frontend through reaches it from outside.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import oracles
import pytest
from conftest import run_cgen
from test_import import BOUTIQUE, needed_edges, pin_images, upstream_objects

pytestmark = pytest.mark.oracle

DNS = "kube-system/coredns"
CORE_DNS = """apiVersion: v1
kind: Namespace
metadata: {name: kube-system, labels: {kubernetes.io/metadata.name: kube-system}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: main, image: example.invalid/coredns:1}]}
"""


def test_imported_boutique_allows_exactly_what_it_needs(tmp_path: Path) -> None:
    objects = upstream_objects()
    services = tmp_path / "services"
    proc = run_cgen(["import", str(BOUTIQUE), "--out", str(services)])
    assert proc.returncode == 0, proc.stderr
    pin_images(services)
    out = tmp_path / "out"
    proc = run_cgen(["render", str(services), "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    cluster = tmp_path / "cluster"
    shutil.copytree(out, cluster, ignore=shutil.ignore_patterns(".cgen", "*.json"))
    (cluster / "coredns.yaml").write_text(CORE_DNS, encoding="utf-8")

    # NCA names a workload by kind when it is not a Deployment: a server runtime profile
    # with persistent data (redis) renders a StatefulSet.
    names = {
        o["metadata"]["name"]: f"default/{o['metadata']['name']}"
        + (
            "[StatefulSet]"
            if (out / "default" / o["metadata"]["name"] / "statefulset.yaml").exists()
            else ""
        )
        for o in objects
        if o["kind"] == "Deployment"
    }
    workloads = set(names.values())
    expected = {
        oracles.Edge(names[src], names[dst], "TCP", str(port))
        for src, dst, port in needed_edges(objects)
    }
    expected |= {oracles.Edge(w, DNS, proto, "53") for w in workloads for proto in ("UDP", "TCP")}
    for obj in objects:
        if obj["kind"] == "Service" and obj["spec"].get("type") == "LoadBalancer":
            for port in obj["spec"]["ports"]:
                target = str(port.get("targetPort", port["port"]))
                expected.add(oracles.Edge("0.0.0.0/0", names["frontend"], "TCP", target))
    edges = oracles.nca_connectivity(cluster)
    ours = {e for e in edges if e.src in workloads or e.dst in workloads}
    assert len(expected) > 2 * len(workloads)  # the app's own calls are there to judge
    assert sorted(ours - expected) == [], "allowed but not needed"
    assert sorted(expected - ours) == [], "needed but not allowed"
