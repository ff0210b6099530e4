"""The load-time checks of `signing:`: a policy that would cover no image, or name a
namespace no built service runs in, is a located error in cgen.yaml."""

from __future__ import annotations

from collections.abc import Sequence

from generator.errors import Location, Problem
from generator.model import Config, Service
from generator.supply.policies import built_services


def problems(config: Config, services: Sequence[Service]) -> list[Problem]:
    """What makes the configured signature policies unable to work."""
    signing, doc = config.signing, config.doc
    if signing is None or doc is None:
        return []

    def at(keypath: str) -> Location:
        return doc.at(keypath) if doc.has(keypath) else doc.at("signing")

    built = built_services(services)
    found: list[Problem] = []
    if not built:
        found.append(
            Problem(
                at("signing"),
                "signing",
                "no manifest builds an image (all are prebuilt), so the policy would verify "
                "nothing: remove signing:",
            )
        )
    where = {s.namespace for s in built}
    for i, namespace in enumerate(signing.namespaces):
        if namespace not in where:
            found.append(
                Problem(
                    at(f"signing.namespaces[{i}]"),
                    f"signing.namespaces[{i}]",
                    f"no built service runs in namespace {namespace!r} "
                    f"(they run in: {', '.join(sorted(where)) or 'none'})",
                )
            )
    return found
