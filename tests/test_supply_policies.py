"""Signature and attestation policies: every generated Kyverno ClusterPolicy and sigstore
policy-controller ClusterImagePolicy validates against the upstream CRD it targets (unknown
fields refused, as the API server does) and against the engines' own programmatic rules,
and read back it names exactly the images of the manifests cgen builds and exactly the
configured identity."""

from __future__ import annotations

import copy
import functools
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ROOT, run_cgen

import generator

# The complete upstream CRDs, unmodified: see tests/data/*/SOURCE.md.
KYVERNO_CRD = ROOT / "tests" / "data" / "kyverno" / "kyverno.io_clusterpolicies.yaml"
SIGSTORE_CRD = ROOT / "tests" / "data" / "policy-controller" / "300-clusterimagepolicy.yaml"
SHOP = ROOT / "examples" / "shop"
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = r"^https://github\.com/example/shop/\.github/workflows/images\.yaml@refs/heads/main$"
PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9Xw2uPpqF6m5wWq2hS1tYk6wH2nL\n"
    "3o6b4C7cK9qJ0eYdVnq8l6Qm1x3ZPp5u2oR8v0c4sT7wJ6YfH1kQ2aBc3w==\n"
    "-----END PUBLIC KEY-----"
)
_VALUE_BRANCHES = frozenset({"anyOf", "oneOf", "allOf", "not"})


def _strict(schema: Any, *, branch: bool = False) -> Any:
    """Refuse unknown members, as the API server does with strict field validation, except
    where the schema preserves unknown fields (the same rule as the Cilium CRD test)."""
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


@functools.cache
def _schema(crd_path: Path, kind: str, version: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(crd_path.read_text(encoding="utf-8"), Loader=loader)
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["spec"]["names"]["kind"] == kind
    served = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    assert len(served) == 1, f"{version} is not served by {crd_path.name}"
    schema: dict[str, Any] = _strict(served[0]["schema"]["openAPIV3Schema"])
    # The API server accepts apiVersion, kind and metadata on every object (it checks them
    # itself), whether or not the CRD's schema lists them; policy-controller's does not.
    for implicit, kind_of in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
        schema["properties"].setdefault(implicit, {"type": kind_of})
    return schema


def _schema_errors(obj: dict[str, Any]) -> list[str]:
    group, _, version = obj["apiVersion"].partition("/")
    crd = {"kyverno.io": KYVERNO_CRD, "policy.sigstore.dev": SIGSTORE_CRD}[group]
    validator = jsonschema.Draft7Validator(_schema(crd, obj["kind"], version))
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj))


def _kyverno_rules(obj: dict[str, Any]) -> list[str]:
    """Kyverno's programmatic validation of verifyImages (api/kyverno/v1/
    image_verification_types.go: ImageVerification.Validate and the attestor checks)."""
    errors: list[str] = []
    for rule in obj["spec"]["rules"]:
        for verify in rule["verifyImages"]:
            if verify["failureAction"] == "Audit" and verify.get("mutateDigest"):
                errors.append("mutateDigest must be set to false for 'Audit' failure action")
            if not verify.get("imageReferences"):
                errors.append("An image reference is required")
            sets = verify["attestors"] + [
                s for a in verify.get("attestations", []) for s in a["attestors"]
            ]
            for attestor_set in sets:
                if not attestor_set["entries"] or attestor_set.get("count", 0) > len(
                    attestor_set["entries"]
                ):
                    errors.append("bad attestor set")
                for entry in attestor_set["entries"]:
                    if len(set(entry) & {"keys", "certificates", "keyless", "attestor"}) != 1:
                        errors.append(
                            "keys, certificates, keyless, or a nested attestor is required"
                        )
                    keyless = entry.get("keyless")
                    if keyless is not None and not (
                        keyless.get("rekor", {}).get("url") or keyless.get("roots")
                    ):
                        errors.append("Either Rekor URL or roots are required")
    return errors


_PC_GLOB = re.compile(r"^[a-zA-Z0-9-_:\/\*\.@]+$")


def _sigstore_rules(obj: dict[str, Any]) -> list[str]:
    """policy-controller's programmatic validation (pkg/apis/policy/v1beta1/
    clusterimagepolicy_validation.go): images, globs, one kind of authority, modes."""
    spec, errors = obj["spec"], []
    if not spec.get("images"):
        errors.append("missing field(s): images")
    errors += [
        f"invalid glob {i['glob']!r}" for i in spec["images"] if not _PC_GLOB.match(i["glob"])
    ]
    for authority in spec["authorities"]:
        if len(set(authority) & {"key", "keyless", "static"}) != 1:
            errors.append("expected exactly one of key, keyless, static")
    if spec.get("mode") not in (None, "enforce", "warn"):
        errors.append("unsupported mode")
    return errors


def kyverno_matches(pattern: str, image: str) -> bool:
    """Kyverno's wildcard match of imageReferences: `*` any run, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, image) is not None


def sigstore_matches(glob: str, image: str) -> bool:
    """policy-controller's glob (pkg/apis/glob): `**` any run, `*` any run without `/`."""
    regex = re.escape(glob).replace(r"\*\*", "#").replace(r"\*", "[^/]*").replace("#", ".*")
    return re.fullmatch(regex, image) is not None


def _project(tmp_path: Path, signing: str) -> Path:
    work = tmp_path / "shop"
    shutil.copytree(SHOP, work, ignore=shutil.ignore_patterns("out"))
    with (work / "cgen.yaml").open("a", encoding="utf-8") as config:
        config.write(signing)
    return work


KEYLESS = f"  keyless:\n    issuer: {ISSUER}\n    subjectRegExp: '{SUBJECT}'\n"
VARIANTS = {
    "kyverno-keyless-enforce": "signing:\n  engine: kyverno\n" + KEYLESS,
    "policy-controller-keyless-audit": "signing:\n  engine: policy-controller\n  mode: audit\n"
    + KEYLESS,
    "both-key-one-namespace": "signing:\n  engine: both\n  namespaces: [payments]\n"
    "  attestations: [sbom]\n  publicKey: |\n"
    + "".join(f"    {line}\n" for line in PEM.splitlines()),
    "both-keyless-no-attestations": "signing:\n  engine: both\n  attestations: []\n" + KEYLESS,
}


def _policies(tmp_path: Path, variant: str) -> tuple[dict[str, dict[str, Any]], generator.Project]:
    project, _ = generator.load([_project(tmp_path, VARIANTS[variant])])
    artifacts = generator.build(project, formats=("kubernetes",))
    policies = {
        a.path: yaml.safe_load(a.content) for a in artifacts if a.path.startswith("_cluster/")
    }
    return policies, project


def _built_images(project: generator.Project, namespaces: set[str] | None) -> set[str]:
    return {
        s.image
        for s in project.graph.services
        if not s.prebuilt and (namespaces is None or s.namespace in namespaces)
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_policy_validates_against_its_upstream_crd(tmp_path: Path, variant: str) -> None:
    policies, _ = _policies(tmp_path, variant)
    objects = [o for p, o in policies.items() if not p.endswith("kustomization.yaml")]
    assert objects
    for obj in objects:
        assert _schema_errors(obj) == [], obj["kind"]
        rules = _kyverno_rules if obj["kind"] == "ClusterPolicy" else _sigstore_rules
        assert rules(obj) == []


def test_the_strict_schemas_refuse_an_unknown_field(tmp_path: Path) -> None:
    policies, _ = _policies(tmp_path, "kyverno-keyless-enforce")
    policy = copy.deepcopy(policies["_cluster/clusterpolicy-verify-images.yaml"])
    policy["spec"]["rules"][0]["verifyImages"][0]["verifySignature"] = True
    assert any("verifySignature" in e for e in _schema_errors(policy))
    # And a wrong enum value, so the schema is really applied.
    policy = copy.deepcopy(policies["_cluster/clusterpolicy-verify-images.yaml"])
    policy["spec"]["rules"][0]["verifyImages"][0]["failureAction"] = "Block"
    assert _schema_errors(policy)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_policies_name_exactly_the_built_images_and_the_identity(
    tmp_path: Path, variant: str
) -> None:
    policies, project = _policies(tmp_path, variant)
    signing = project.config.signing
    assert signing is not None
    scoped = set(signing.namespaces) or None
    built = _built_images(project, scoped)
    # Prebuilt images, built images outside the policy's namespaces, and names that start
    # like a built repository but are another repository: none may be covered.
    others = {s.image for s in project.graph.services if s.prebuilt}
    others |= _built_images(project, None) - built
    others |= {i.split("@")[0].rsplit(":", 1)[0] + "-admin:1.0" for i in built}
    matches: Callable[[str, str], bool]
    for path, obj in policies.items():
        if obj["kind"] == "ClusterPolicy":
            rule = obj["spec"]["rules"][0]
            assert set(rule["match"]["any"][0]["resources"]["namespaces"]) == (
                scoped or {s.namespace for s in project.graph.services if not s.prebuilt}
            )
            verify = rule["verifyImages"][0]
            patterns, matches = verify["imageReferences"], kyverno_matches
            entries = [e for s in verify["attestors"] for e in s["entries"]]
            for attestation in verify.get("attestations", []):
                entries += [e for s in attestation["attestors"] for e in s["entries"]]
            types = [a["type"] for a in verify.get("attestations", [])]
            assert verify["verifyDigest"] is True
            assert verify["mutateDigest"] is (signing.mode == "enforce")
            assert verify["failureAction"] == ("Enforce" if signing.mode == "enforce" else "Audit")
            for entry in entries:
                if signing.keyless:
                    assert entry["keyless"]["issuer"] == ISSUER
                    assert entry["keyless"]["subjectRegExp"] == SUBJECT
                else:
                    assert entry["keys"]["publicKeys"].strip() == PEM
        elif obj["kind"] == "ClusterImagePolicy":
            patterns = [i["glob"] for i in obj["spec"]["images"]]
            matches = sigstore_matches
            [authority] = obj["spec"]["authorities"]
            if signing.keyless:
                assert authority["keyless"]["identities"] == [
                    {"issuer": ISSUER, "subjectRegExp": SUBJECT}
                ]
            else:
                assert authority["key"]["data"].strip() == PEM
            types = [a["predicateType"] for a in authority.get("attestations", [])]
            assert obj["spec"]["mode"] == ("enforce" if signing.mode == "enforce" else "warn")
        else:
            assert path == "_cluster/kustomization.yaml"
            continue
        expected_types = {
            "sbom": "https://spdx.dev/Document",
            "slsa-provenance": "https://slsa.dev/provenance/v0.2",
        }
        assert types == [expected_types[a] for a in signing.attestations]
        for image in built:
            assert [p for p in patterns if matches(p, image)], f"{image} is not covered"
            assert (
                len({p.rsplit(":", 1)[0].rsplit("@", 1)[0] for p in patterns if matches(p, image)})
                == 1
            )
        for image in others:
            assert not [p for p in patterns if matches(p, image)], f"{image} is covered"
        # The patterns are `<repository>:*` and `<repository>@*` of exactly the built images.
        repositories = {i.split("@")[0].rsplit(":", 1)[0] for i in built}
        assert sorted(patterns) == sorted(f"{r}{sep}*" for r in repositories for sep in ":@")


def test_the_policy_controller_namespaces_opt_in(tmp_path: Path) -> None:
    project, _ = generator.load([_project(tmp_path, VARIANTS["both-key-one-namespace"])])
    labels = {
        a.path.split("/")[0]: yaml.safe_load(a.content)["metadata"]["labels"]
        for a in generator.build(project, formats=("kubernetes",))
        if a.path.endswith("_namespace/namespace.yaml")
    }
    assert labels["payments"]["policy.sigstore.dev/include"] == "true"
    assert "policy.sigstore.dev/include" not in labels["shop"]


def test_without_signing_nothing_changes(tmp_path: Path) -> None:
    project, _ = generator.load([SHOP])
    paths = {a.path for a in generator.build(project, formats=("kubernetes",))}
    assert not any(p.startswith("_cluster/") for p in paths)


@pytest.mark.parametrize(
    ("signing", "message"),
    [
        ("signing:\n  engine: kyverno\n", "signing: needs exactly one of: keyless, publicKey"),
        (
            "signing:\n  engine: kyverno\n"
            f"  keyless: {{issuer: {ISSUER}, subjectRegExp: example}}\n",
            "signing.keyless.subjectRegExp: must be anchored with ^ and $",
        ),
        (
            "signing:\n  engine: both\n  namespaces: [nowhere]\n" + KEYLESS,
            "signing.namespaces[0]: no built service runs in namespace 'nowhere'",
        ),
        (
            "signing:\n  engine: kyverno\n  publicKey: not a key\n",
            "signing.publicKey: must be one PEM public key",
        ),
    ],
)
def test_a_broken_signing_section_is_a_located_error(
    tmp_path: Path, signing: str, message: str
) -> None:
    work = _project(tmp_path, signing)
    proc = run_cgen(["validate", str(work)])
    assert proc.returncode == 1
    assert re.search(r"cgen\.yaml:\d+:\d+: " + re.escape(message), proc.stderr), proc.stderr
