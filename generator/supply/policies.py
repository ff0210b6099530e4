"""Admission policies that admit only the project's images signed and attested by its CI:
a Kyverno ClusterPolicy (verifyImages) and a sigstore policy-controller ClusterImagePolicy,
each scoped to exactly the repositories of the images cgen builds (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator.layout import MANAGED_BY
from generator.model import Service
from generator.supply.model import PREDICATE_TYPES, Signing

POLICY_NAME = "cgen-verify-images"
# Cluster-wide objects get a folder of their own beside the namespaces' folders.
CLUSTER_DIR = "_cluster"
KYVERNO_FILE = "clusterpolicy-verify-images.yaml"
SIGSTORE_FILE = "clusterimagepolicy-verify-images.yaml"


def repository(image: str) -> str:
    """The repository of an image reference: without its digest and tag."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def qualified(repo: str, hub: str) -> str:
    """A repository with its registry spelled out as the engine compares it (Docker Hub
    images are `docker.io/library/x` to Kyverno and `index.docker.io/library/x` to the
    policy-controller)."""
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if first in ("docker.io", "index.docker.io"):
            return f"{hub}/{rest}" if "/" in rest else f"{hub}/library/{rest}"
        return repo
    return f"{hub}/{repo}" if rest else f"{hub}/library/{repo}"


def ci_builds(svc: Service) -> bool:
    """Whether the CI workflow builds the service: not prebuilt, with a context to build from."""
    return not svc.prebuilt and svc.build_context is not None


def built_services(services: Sequence[Service]) -> list[Service]:
    """The services whose images the project builds (and its CI signs): not prebuilt ones."""
    return [s for s in services if not s.prebuilt]


def namespaces(signing: Signing, services: Sequence[Service]) -> list[str]:
    """Where the policy applies: the configured namespaces, else those of built services."""
    return list(signing.namespaces) or sorted({s.namespace for s in built_services(services)})


def repositories(signing: Signing, services: Sequence[Service]) -> list[str]:
    """The repositories of the images cgen builds for those namespaces, sorted, each once."""
    scope = set(namespaces(signing, services))
    return sorted({repository(s.image) for s in built_services(services) if s.namespace in scope})


def _patterns(repos: list[str], hub: str) -> list[str]:
    # `:*` and `@*` (not a bare `*`) so that a repository never matches a longer name
    # that starts with it (shop/cart would otherwise cover shop/cart-admin).
    return [f"{qualified(r, hub)}{sep}*" for r in repos for sep in (":", "@")]


def _kyverno_attestor(signing: Signing) -> dict[str, Any]:
    rekor = {"url": signing.rekor_url}
    if signing.public_key is not None:
        entry: dict[str, Any] = {"keys": {"publicKeys": signing.public_key, "rekor": rekor}}
    else:
        entry = {
            "keyless": {
                "issuer": signing.issuer,
                "subjectRegExp": signing.subject_regexp,
                "rekor": rekor,
            }
        }
    return {"count": 1, "entries": [entry]}


def kyverno(signing: Signing, services: Sequence[Service]) -> dict[str, Any]:
    """The Kyverno ClusterPolicy: every Pod image of these repositories must be signed (and
    attested) by the identity, pinned to the verified digest."""
    enforce = signing.mode == "enforce"
    attestors = [_kyverno_attestor(signing)]
    verify: dict[str, Any] = {
        "imageReferences": _patterns(repositories(signing, services), "docker.io"),
        "type": "Cosign",
        "failureAction": "Enforce" if enforce else "Audit",
        "required": True,
        "verifyDigest": True,
        # Kyverno refuses mutateDigest with the Audit failure action.
        "mutateDigest": enforce,
        "attestors": attestors,
    }
    if signing.attestations:
        verify["attestations"] = [
            {"type": PREDICATE_TYPES[a], "attestors": attestors} for a in signing.attestations
        ]
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": POLICY_NAME, "labels": dict(MANAGED_BY)},
        "spec": {
            # Image verification calls registries and Rekor: give it time, and never admit
            # a Pod unverified because the webhook failed (audit mode only reports).
            "background": False,
            "failurePolicy": "Fail" if enforce else "Ignore",
            "webhookTimeoutSeconds": 30,
            "rules": [
                {
                    "name": "signed-and-attested",
                    "match": {
                        "any": [
                            {
                                "resources": {
                                    "kinds": ["Pod"],
                                    "namespaces": namespaces(signing, services),
                                }
                            }
                        ]
                    },
                    "verifyImages": [verify],
                }
            ],
        },
    }


def sigstore(signing: Signing, services: Sequence[Service]) -> dict[str, Any]:
    """The policy-controller ClusterImagePolicy for the same images and identity. The
    policy-controller resolves every tag to the digest it verified (always on)."""
    authority: dict[str, Any] = {"name": "ci"}
    if signing.public_key is not None:
        authority["key"] = {"data": signing.public_key}
    else:
        authority["keyless"] = {
            "url": signing.fulcio_url,
            "identities": [{"issuer": signing.issuer, "subjectRegExp": signing.subject_regexp}],
        }
    authority["ctlog"] = {"url": signing.rekor_url}
    if signing.attestations:
        authority["attestations"] = [
            {"name": a, "predicateType": PREDICATE_TYPES[a]} for a in signing.attestations
        ]
    return {
        "apiVersion": "policy.sigstore.dev/v1beta1",
        "kind": "ClusterImagePolicy",
        "metadata": {"name": POLICY_NAME, "labels": dict(MANAGED_BY)},
        "spec": {
            "mode": "enforce" if signing.mode == "enforce" else "warn",
            "images": [
                {"glob": g} for g in _patterns(repositories(signing, services), "index.docker.io")
            ],
            "authorities": [authority],
        },
    }


def namespace_labels(
    signing: Signing, services: Sequence[Service], namespace: str
) -> dict[str, str]:
    """The label a Namespace needs for the policy-controller to verify its Pods."""
    if "policy-controller" in signing.engines and namespace in namespaces(signing, services):
        return {"policy.sigstore.dev/include": "true"}
    return {}


def objects(signing: Signing, services: Sequence[Service]) -> dict[str, dict[str, Any]]:
    """The policy objects of the configured engines, by file name."""
    result: dict[str, dict[str, Any]] = {}
    if "kyverno" in signing.engines:
        result[KYVERNO_FILE] = kyverno(signing, services)
    if "policy-controller" in signing.engines:
        result[SIGSTORE_FILE] = sigstore(signing, services)
    return result
