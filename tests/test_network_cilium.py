"""The cilium dialect: every CiliumNetworkPolicy validates against Cilium's own CRD schema,
and carries exactly the grants of the NetworkPolicies that NCA judges for the same input
(NCA cannot read CiliumNetworkPolicies, so the two dialects are compared rule by rule).
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import generator

ROOT = Path(__file__).resolve().parent.parent
# The complete upstream CRD, unmodified; see tests/data/cilium/SOURCE.md.
CRD = ROOT / "tests" / "data" / "cilium" / "ciliumnetworkpolicies.yaml"
TOPOLOGIES = ROOT / "tests" / "topologies"
CASE = ROOT / "tests" / "cases" / "net-cilium" / "input"
NAMES = sorted(p.name for p in TOPOLOGIES.iterdir() if (p / "manifests").is_dir())
NS_KEY = "k8s:io.kubernetes.pod.namespace"
NS_LABEL = "kubernetes.io/metadata.name"


# Keywords whose subschemas only add conditions on values (structural-schema rules forbid
# them to declare fields), so they never decide which fields exist.
_VALUE_BRANCHES = frozenset({"anyOf", "oneOf", "allOf", "not"})


def _strict(schema: Any, *, branch: bool = False) -> Any:
    """Refuse unknown members, as the API server does: it prunes (or, with strict field
    validation, refuses) every field its structural schema does not declare, unless the
    object is marked x-kubernetes-preserve-unknown-fields."""
    if isinstance(schema, list):
        return [_strict(v, branch=branch) for v in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: _strict(v, branch=branch or k in _VALUE_BRANCHES) for k, v in schema.items()}
    if (
        not branch
        and "properties" in schema
        and "additionalProperties" not in schema
        and schema.get("x-kubernetes-preserve-unknown-fields") is not True
    ):
        result["additionalProperties"] = False
    return result


def _served_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["spec"]["names"]["kind"] == "CiliumNetworkPolicy"
    served = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    assert len(served) == 1, f"{version} is not served exactly once by {CRD.name}"
    schema: dict[str, Any] = served[0]["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def _schema() -> dict[str, Any]:
    """The strict form of the served v2 schema (the CRD is ~380 KB: parse it once)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(CRD.read_text(encoding="utf-8"), Loader=loader)
    schema: dict[str, Any] = _strict(_served_schema(crd, "v2"))
    # metadata is left open by the CRD (the API server checks it itself).
    assert schema["properties"]["metadata"] == {"type": "object"}
    return schema


def _validator() -> jsonschema.Draft7Validator:
    checker = jsonschema.FormatChecker()

    def _cidr(value: object) -> bool:
        return not isinstance(value, str) or bool(ipaddress.ip_network(value, strict=True))

    checker.checks("cidr", raises=ValueError)(_cidr)
    return jsonschema.Draft7Validator(_schema(), format_checker=checker)


def _render(inputs: Path, dialect: str, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Render a copy of inputs with the dialect set; objects by kind."""
    work = tmp / f"{inputs.parent.name}-{dialect}"
    shutil.copytree(inputs, work)
    config = work / "cgen.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    data["dialect"] = dialect
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    project, _ = generator.load([work], allow_unpinned=True)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for artifact in generator.build(project, formats=("kubernetes",)):
        if artifact.path.endswith(".yaml"):
            assert "&id" not in artifact.content, f"YAML anchor in {artifact.path}"
            obj = yaml.safe_load(artifact.content)
            by_kind.setdefault(obj["kind"], []).append(obj)
    return by_kind


def _errors(validator: jsonschema.Draft7Validator, obj: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)
    ]


@pytest.mark.parametrize(
    "inputs", [CASE, *(TOPOLOGIES / n / "manifests" for n in NAMES)], ids=["net-cilium", *NAMES]
)
def test_cilium_policies_validate_against_the_crd_schema(inputs: Path, tmp_path: Path) -> None:
    validator = _validator()
    objects = _render(inputs, "cilium", tmp_path)
    policies = objects["CiliumNetworkPolicy"]
    assert "NetworkPolicy" not in objects, "one dialect at a time"
    assert len(policies) >= 2
    for policy in policies:
        assert policy["apiVersion"] == "cilium.io/v2"
        assert _errors(validator, policy) == [], policy["metadata"]


def test_schema_test_rejects_broken_policies(tmp_path: Path) -> None:
    validator = _validator()
    policy = next(
        p
        for p in _render(CASE, "cilium", tmp_path)["CiliumNetworkPolicy"]
        if p["metadata"]["name"] == "web"
    )
    assert _errors(validator, policy) == []
    broken: list[tuple[dict[str, Any], str]] = []  # (policy, what its error must say)
    unknown = copy.deepcopy(policy)
    unknown["spec"]["egress"][0]["toPort"] = []  # misspelt member
    broken.append((unknown, "'toPort' was unexpected"))
    nested = copy.deepcopy(policy)
    nested["spec"]["egress"][0]["toPorts"][0]["ports"][0]["prot"] = "TCP"  # deep, misspelt
    broken.append((nested, "'prot' was unexpected"))
    number = copy.deepcopy(policy)
    number["spec"]["egress"][0]["toPorts"][0]["ports"][0]["port"] = 443  # must be a string
    broken.append((number, "is not of type 'string'"))
    bad_cidr = copy.deepcopy(policy)
    bad_cidr["spec"]["ingress"][1]["fromCIDRSet"][0]["cidr"] = "10.0.0.1/8"
    broken.append((bad_cidr, "is not a 'cidr'"))
    no_rules = copy.deepcopy(policy)
    del no_rules["spec"]["ingress"], no_rules["spec"]["egress"]
    broken.append((no_rules, "is not valid under any of the given schemas"))
    for obj, expected in broken:
        errors = _errors(validator, obj)
        assert errors, obj["spec"]
        assert any(expected in e for e in errors), errors


def test_host_without_cidrs_becomes_to_fqdns_with_the_dns_rule(tmp_path: Path) -> None:
    policies = _render(CASE, "cilium", tmp_path)["CiliumNetworkPolicy"]
    web = next(p for p in policies if p["metadata"]["name"] == "web")
    egress = web["spec"]["egress"]
    fqdn = [r for r in egress if "toFQDNs" in r]
    assert fqdn == [
        {
            "toFQDNs": [{"matchName": "api.stripe.com"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        }
    ]
    # Cilium learns the name's addresses only from DNS answers its proxy sees.
    dns = [r for r in egress if r.get("toPorts", [{}])[0].get("rules")]
    assert dns and all(
        r["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
        and {p["port"] for p in r["toPorts"][0]["ports"]} == {"53"}
        for r in dns
    )


def test_host_without_cidrs_is_an_error_with_kubernetes(tmp_path: Path) -> None:
    with pytest.raises(generator.UserError) as info:
        _render(CASE, "kubernetes", tmp_path)
    message = str(info.value)
    assert "spec.dependencies[1].cidrs" in message
    assert "list the host's networks in cidrs" in message and "dialect: cilium" in message


# ------------------------------------------------------------------ the two dialects agree

Rule = tuple[Any, ...]


def _ports(items: list[dict[str, Any]]) -> frozenset[tuple[str, int]]:
    return frozenset((p.get("protocol", "TCP"), int(p["port"])) for p in items)


def _np_peer(peer: dict[str, Any], namespace: str) -> Rule:
    if "ipBlock" in peer:
        return ("cidr", peer["ipBlock"]["cidr"], frozenset(peer["ipBlock"].get("except", [])))
    ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get(NS_LABEL, namespace)
    return ("pods", ns, frozenset(peer.get("podSelector", {}).get("matchLabels", {}).items()))


def _np_rules(policy: dict[str, Any]) -> set[Rule]:
    namespace = policy["metadata"]["namespace"]
    spec = policy["spec"]
    subject = ("pods", namespace, frozenset(spec["podSelector"].get("matchLabels", {}).items()))
    rules: set[Rule] = set()
    if not spec.get("ingress") and not spec.get("egress"):
        rules.add(("isolate", subject, frozenset(spec["policyTypes"])))
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction, []):
            for peer in rule[key]:
                rules.add((direction, subject, _np_peer(peer, namespace), _ports(rule["ports"])))
    return rules


def _cnp_peer(rule: dict[str, Any], namespace: str) -> list[Rule]:
    for key in ("toEndpoints", "fromEndpoints"):
        for sel in rule.get(key, []):
            labels = dict(sel["matchLabels"])
            ns = labels.pop(NS_KEY, namespace)
            return [("pods", ns, frozenset(labels.items()))]
    for key in ("toCIDRSet", "fromCIDRSet"):
        if key in rule:
            return [("cidr", b["cidr"], frozenset(b.get("except", []))) for b in rule[key]]
    raise AssertionError(f"unexpected rule {rule}")


def _cnp_rules(policy: dict[str, Any]) -> set[Rule]:
    namespace = policy["metadata"]["namespace"]
    spec = policy["spec"]
    subject = (
        "pods",
        namespace,
        frozenset(spec["endpointSelector"].get("matchLabels", {}).items()),
    )
    rules: set[Rule] = set()
    if spec.get("ingress") == [{}] and spec.get("egress") == [{}]:
        return {("isolate", subject, frozenset({"Ingress", "Egress"}))}
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction, []):
            ports = _ports([p for t in rule["toPorts"] for p in t["ports"]])
            for peer in _cnp_peer(rule, namespace):
                rules.add((direction, subject, peer, ports))
    return rules


@pytest.mark.parametrize("name", NAMES)
def test_cilium_and_kubernetes_dialects_carry_the_same_rules(name: str, tmp_path: Path) -> None:
    inputs = TOPOLOGIES / name / "manifests"
    kubernetes = _render(inputs, "kubernetes", tmp_path)["NetworkPolicy"]
    cilium = _render(inputs, "cilium", tmp_path)["CiliumNetworkPolicy"]
    np_rules = set().union(*(_np_rules(p) for p in kubernetes))
    cnp_rules = set().union(*(_cnp_rules(p) for p in cilium))
    assert cnp_rules == np_rules
    assert len(np_rules) > len(kubernetes)
