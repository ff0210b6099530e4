"""The bundled example's output judged by real tools: kubernetes-validate, checkov,
hadolint, kustomize and network-config-analyzer."""

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

EXAMPLE = ROOT / "examples" / "shop"
# Custom resources are checked against their own CRD schemas in the tests of those
# features (Cilium, Security Profiles Operator, Kyverno, sigstore policy-controller).
CRD_GROUPS = (
    "cilium.io",
    "security-profiles-operator.x-k8s.io",
    "kyverno.io",
    "policy.sigstore.dev",
)
HAPPY_CASES = sorted(
    p / "input" for p in (ROOT / "tests" / "cases").iterdir() if (p / "expected").is_dir()
)


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "out"
    run_cgen(["render", "examples/shop", "--out", str(out)], check=True)
    return out


def _objects(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        # patches/ holds the user's kustomize patches: partial objects, applied by kustomize
        if path.name == "kustomization.yaml" or {".cgen", "patches"} & set(path.parts):
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            found.append((path, doc))
    return found


def test_every_object_passes_strict_kubernetes_validation(
    example_out: Path, tmp_path: Path
) -> None:
    folders = [example_out]
    for case in HAPPY_CASES:
        out = tmp_path / case.parent.name
        run_cgen(["render", case.relative_to(ROOT).as_posix(), "--out", str(out)], check=True)
        folders.append(out)
    # Custom resources (Cilium, Security Profiles Operator) are checked against their own
    # CRD schemas in the tests of those features; kubernetes-validate knows only built-ins.
    objects = [
        item
        for folder in folders
        for item in _objects(folder)
        if not str(item[1]["apiVersion"]).split("/")[0].endswith(CRD_GROUPS)
    ]
    kinds = {str(obj["kind"]) for _, obj in objects}
    assert {"Deployment", "Service", "ServiceAccount", "NetworkPolicy", "Namespace"} <= kinds
    errors = [e for path, obj in objects for e in oracles.k8s_validate(obj, "1.30.0")]
    assert errors == []


def test_checkov_finds_nothing_and_every_skip_is_explained(example_out: Path) -> None:
    result = oracles.checkov_run(example_out, ["kubernetes", "dockerfile"])
    assert result.parsing_errors == []
    assert result.resource_counts.get("kubernetes", 0) >= 40
    assert result.resource_counts.get("dockerfile", 0) == 9
    assert [str(f) for f in result.failed] == []
    # Each skip sits in the output with its reason; the README lists the same checks.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for skip in result.skipped:
        assert skip.check_id in readme, f"README does not explain the skip of {skip.check_id}"
        text = (example_out / skip.file).read_text(encoding="utf-8")
        assert f"{skip.check_id}=" in text


def test_checkov_accepts_a_low_port_without_capability(tmp_path: Path) -> None:
    # Port 80 without NET_BIND_SERVICE: the pod's sysctl instead of a capability, which
    # checkov's capability checks (CKV_K8S_25, _28, _37, _39) have nothing to say about.
    case = ROOT / "tests" / "cases" / "low-port-sysctl" / "input"
    out = tmp_path / "out"
    run_cgen(["render", case.relative_to(ROOT).as_posix(), "--out", str(out)], check=True)
    deployment = yaml.safe_load((out / "shop" / "web" / "deployment.yaml").read_text())
    assert "sysctls" in deployment["spec"]["template"]["spec"]["securityContext"]
    result = oracles.checkov_run(out, ["kubernetes"])
    assert result.parsing_errors == []
    assert result.resource_counts.get("kubernetes", 0) >= 5
    assert [str(f) for f in result.failed] == []


def test_hadolint_finds_nothing(example_out: Path) -> None:
    dockerfiles = sorted(example_out.rglob("Dockerfile"))
    assert len(dockerfiles) == 9
    findings = [str(f) for d in dockerfiles for f in oracles.hadolint(d)]
    assert findings == []


def test_kustomize_builds_everything(example_out: Path) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(example_out)], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(built) if d]
    on_disk = _objects(example_out)
    assert len(docs) == len(on_disk)
    assert sorted(
        (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in docs
    ) == sorted(
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for _, o in on_disk
    )


DNS = "kube-system/coredns"
CGEN = [
    "shop/frontend",
    "shop/cartservice",
    "shop/redis-cart",
    "shop/productcatalog",
    "shop/checkout",
    "shop/email",
    "payments/payment",
    "payments/fraud-check",
    "payments/ledger-sync",
]
# Read off the manifests in examples/shop by hand, not computed by cgen.
DECLARED = {
    ("shop/frontend", "shop/cartservice", "TCP", "7070"),
    ("shop/frontend", "shop/productcatalog", "TCP", "3550"),
    ("shop/frontend", "shop/productcatalog", "TCP", "9090"),
    ("shop/frontend", "shop/checkout", "TCP", "8080"),
    ("shop/cartservice", "shop/redis-cart", "TCP", "6379"),
    ("shop/checkout", "shop/cartservice", "TCP", "7070"),
    ("shop/checkout", "shop/productcatalog", "TCP", "3550"),
    ("shop/checkout", "payments/payment", "TCP", "50051"),
    ("shop/checkout", "shop/email", "TCP", "5000"),
    ("shop/email", "198.51.100.0/24", "TCP", "587"),
    ("payments/payment", "payments/fraud-check", "TCP", "8000"),
    ("payments/payment", "203.0.113.0/24", "TCP", "443"),
    ("payments/ledger-sync", "payments/payment", "TCP", "50051"),
    ("payments/ledger-sync", "10.20.0.0/16", "TCP", "5432"),
    ("ingress-nginx/ingress-nginx-controller", "shop/frontend", "TCP", "8080"),
    ("monitoring/prometheus", "shop/productcatalog", "TCP", "9090"),
} | {(svc, DNS, proto, "53") for svc in CGEN for proto in ("UDP", "TCP")}


def test_connectivity_equals_the_declared_edges(example_out: Path, tmp_path: Path) -> None:
    cluster = tmp_path / "cluster"
    shutil.copytree(
        example_out, cluster, ignore=shutil.ignore_patterns(".cgen", "Dockerfile", "*.json")
    )
    write_plumbing(cluster, "kube-system", "coredns", "{k8s-app: kube-dns}")
    write_plumbing(
        cluster,
        "ingress-nginx",
        "ingress-nginx-controller",
        "{app.kubernetes.io/name: ingress-nginx}",
    )
    write_plumbing(cluster, "monitoring", "prometheus", "{app.kubernetes.io/name: prometheus}")
    edges = oracles.nca_connectivity(cluster)
    # Only what touches a cgen service is ours to judge; the plumbing namespaces are open.
    ours = {tuple(e) for e in edges if e.src in CGEN or e.dst in CGEN}
    assert ours == DECLARED
