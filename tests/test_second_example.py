"""The second bundled example (examples/otel-demo, modelled on the OpenTelemetry demo) judged
by real tools: kubernetes-validate (strict), checkov, hadolint, kustomize and
network-config-analyzer, whose connectivity must equal the edges read off the manifests by
hand (tests/data/otel-demo-edges.txt); and its committed output must be current."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import oracles
import pytest
import yaml
from conftest import ROOT, run_cgen
from oracle_nca import write_plumbing

pytestmark = pytest.mark.oracle

NAME = "otel-demo"
EXAMPLE = ROOT / "examples" / NAME
EDGES = ROOT / "tests" / "data" / f"{NAME}-edges.txt"
NAMESPACE = "otel-demo"
DNS = "kube-system/coredns"
# The services cgen builds (a Dockerfile each); every other one runs a prebuilt image.
BUILT = {
    "accounting",
    "ad",
    "cart",
    "checkout",
    "fraud-detection",
    "frontend",
    "payment",
    "product-catalog",
    "recommendation",
    "shipping",
}
# What the example exists to show: stores, a job, configuration, autoscaling.
NEW_KINDS = {"StatefulSet", "CronJob", "ConfigMap", "HorizontalPodAutoscaler"}


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(NAME) / "out"
    run_cgen(["render", f"examples/{NAME}", "--out", str(out)], check=True)
    return out


def _objects(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml" or ".cgen" in path.parts or "patches" in path.parts:
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append((path, doc))
    return found


def test_the_committed_output_is_current() -> None:
    proc = run_cgen(["check", f"examples/{NAME}"], cwd=ROOT)
    assert proc.returncode == 0, (
        f"examples/{NAME}/out is stale: run `cgen render examples/{NAME}`\n"
        + proc.stdout
        + proc.stderr
    )


def test_every_object_passes_strict_kubernetes_validation(example_out: Path) -> None:
    objects = _objects(example_out)
    kinds = {str(obj["kind"]) for _, obj in objects}
    assert {"Deployment", "Service", "ServiceAccount", "NetworkPolicy", "Namespace"} <= kinds
    assert kinds >= NEW_KINDS
    errors = [
        f"{path.relative_to(example_out)}: {e}"
        for path, obj in objects
        for e in oracles.k8s_validate(obj, "1.30.0")
    ]
    assert errors == []


def test_checkov_finds_nothing_and_every_skip_is_explained(example_out: Path) -> None:
    result = oracles.checkov_run(example_out, ["kubernetes", "dockerfile"])
    assert result.parsing_errors == []
    assert result.resource_counts.get("kubernetes", 0) >= 60
    assert result.resource_counts.get("dockerfile", 0) == len(BUILT)
    assert [str(f) for f in result.failed] == []
    readmes = "\n".join(
        (folder / "README.md").read_text(encoding="utf-8") for folder in (ROOT, EXAMPLE)
    )
    for skip in result.skipped:
        assert skip.check_id in readmes, f"no README explains the skip of {skip.check_id}"
        text = (example_out / skip.file).read_text(encoding="utf-8")
        assert f"{skip.check_id}=" in text, f"{skip.file} skips {skip.check_id} without reason"


def test_exactly_the_built_services_get_a_dockerfile_and_hadolint_finds_nothing(
    example_out: Path,
) -> None:
    dockerfiles = sorted(example_out.rglob("Dockerfile"))
    assert {d.parent.name for d in dockerfiles} == BUILT
    findings = [str(f) for d in dockerfiles for f in oracles.hadolint(d)]
    assert findings == []


def test_kustomize_builds_everything(example_out: Path) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(example_out)], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(built) if d]

    def key(obj: dict[str, Any]) -> tuple[str, str, str]:
        meta = obj["metadata"]
        return (str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"]))

    assert sorted(key(d) for d in docs) == sorted(key(o) for _, o in _objects(example_out))


def _declared() -> tuple[set[str], set[oracles.Edge]]:
    """The example's workloads and every edge the hand-written list allows."""
    workloads: set[str] = set()
    edges: set[oracles.Edge] = set()
    for number, raw in enumerate(EDGES.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] == "workload" and len(line) == 2:
            workloads.add(line[1])
        elif len(line) == 4:
            edges.add(oracles.Edge(*line))
        else:
            raise AssertionError(f"{EDGES.name}:{number}: cannot read {raw!r}")
    dns = {oracles.Edge(w, DNS, proto, "53") for w in workloads for proto in ("UDP", "TCP")}
    return workloads, edges | dns


def _single_ports(edge: oracles.Edge) -> list[oracles.Edge]:
    """NCA shows adjacent allowed ports as one range ("4317-4318"): one edge per port."""
    first, dash, last = edge.port.partition("-")
    if not (dash and first.isdigit() and last.isdigit()):
        return [edge]
    return [edge._replace(port=str(port)) for port in range(int(first), int(last) + 1)]


def test_the_edge_list_names_only_the_example_workloads(example_out: Path) -> None:
    workloads, _ = _declared()
    rendered = {
        f"{NAMESPACE}/{obj['metadata']['name']}"
        + ("" if obj["kind"] == "Deployment" else f"[{obj['kind']}]")
        for _, obj in _objects(example_out)
        if obj["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")
    }
    assert workloads == rendered


def test_connectivity_equals_the_declared_edges(example_out: Path, tmp_path: Path) -> None:
    cluster = tmp_path / "cluster"
    shutil.copytree(
        example_out, cluster, ignore=shutil.ignore_patterns(".cgen", "Dockerfile*", "*.json")
    )
    write_plumbing(cluster, "kube-system", "coredns", "{k8s-app: kube-dns}")
    write_plumbing(
        cluster,
        "ingress-nginx",
        "ingress-nginx-controller",
        "{app.kubernetes.io/name: ingress-nginx}",
    )
    write_plumbing(
        cluster,
        "observability",
        "otel-collector",
        "{app.kubernetes.io/name: opentelemetry-collector}",
    )
    workloads, declared = _declared()
    edges = {one for edge in oracles.nca_connectivity(cluster) for one in _single_ports(edge)}
    # Only what touches the example's workloads is ours to judge; the plumbing is open.
    ours = {e for e in edges if e.src in workloads or e.dst in workloads}
    assert sorted(ours - declared) == [], "allowed but not declared"
    assert sorted(declared - ours) == [], "declared but not allowed"
