"""Project-wide warnings: one line each for what many services share, never one per service.

A finding that is the same for every service (where they run, how their built images get
a digest) is worth one line that counts them and says what to do; 500 identical lines
would bury the warnings that matter.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.errors import Problem
from generator.images.lock import ImageLock
from generator.model import DEFAULT_NAMESPACE, Config, Service
from generator.workload.podsecurity import namespace_level

# How many service names a summary lists before it only counts the rest.
SHOWN = 5


def _names(services: Sequence[Service]) -> str:
    names = [s.name for s in services[:SHOWN]]
    rest = len(services) - len(names)
    return ", ".join(names) + (f" and {rest} more" if rest else "")


def _first(services: Sequence[Service]) -> list[Service]:
    """The services in the order of their manifests (the first one carries the warning)."""
    return sorted(services, key=lambda s: (s.source, s.doc.at("metadata.name").line, s.name))


def default_namespace(config: Config, services: Sequence[Service]) -> list[Problem]:
    """One warning when services land in the `default` namespace, which cgen then manages."""
    found = _first([s for s in services if s.namespace == DEFAULT_NAMESPACE])
    if not found:
        return []
    level = namespace_level(config, DEFAULT_NAMESPACE)
    namespace = (
        f"its Namespace object enforces Pod Security {level!r} on them all"
        if config.create_namespaces
        else "(createNamespaces: false leaves its Namespace object alone)"
    )
    count = f"{len(found)} service runs" if len(found) == 1 else f"{len(found)} services run"
    return [
        Problem(
            found[0].doc.at("metadata.namespace"),
            "metadata.namespace",
            f"{count} in the namespace 'default' ({_names(found)}), so cgen manages that "
            "whole namespace: its default-deny NetworkPolicies cut every pod there, cgen's "
            f"or not, off from all traffic but cluster DNS, and {namespace}; give them a "
            "namespace of their own with metadata.namespace (or `namespace:` in cgen.yaml)",
        )
    ]


def _digest_at_deploy(config: Config, services: Sequence[Service]) -> set[str]:
    """Namespaces whose built images get a verified digest on their way to the cluster."""
    covered: set[str] = set()
    if config.signing is not None and config.signing.mode == "enforce":
        # Imported here: only a project that signs its images needs the policy scope.
        from generator.supply.policies import namespaces

        # Admission verifies each image's signature and runs it by the digest it verified.
        covered.update(namespaces(config.signing, services))
    return covered


def unpinned_built(config: Config, services: Sequence[Service], lock: ImageLock) -> list[Problem]:
    """One warning for the images cgen builds that nothing pins to a digest before they run.

    A built image has no digest before it is built, so a tag in its manifest is expected;
    what matters is that the deploy pins it. The CI workflow cgen writes (`ci:`) pins every
    image it builds, and enforced signing (`signing:`) admits each only by its verified
    digest: those are not reported. Prebuilt and sidecar images are refused unpinned at load.
    """
    covered = _digest_at_deploy(config, services)
    if config.ci is not None:
        # Imported here: only a project with a CI workflow needs to know what it builds.
        from generator.supply.policies import ci_builds

        # The services the CI workflow builds are pinned by its deploy.
        services = [s for s in services if not ci_builds(s)]
    found = _first(
        [
            s
            for s in services
            if not s.prebuilt and lock.pin(s.image) is None and s.namespace not in covered
        ]
    )
    if not found:
        return []
    count = f"{len(found)} image{'s' if len(found) != 1 else ''} that cgen builds"
    return [
        Problem(
            found[0].doc.at("spec.image"),
            "spec.image",
            f"{count} ({_names(found)}) will run by tag, and a tag can move to bytes "
            "nobody reviewed: deploy each by the digest its build pushed "
            "(`kustomize edit set image IMAGE=IMAGE@sha256:...`), or let cgen do it: `ci:` "
            "in cgen.yaml writes a workflow that deploys by digest, `signing:` admits only "
            "signed images by their verified digest (docs/supply-chain.md)",
        )
    ]
