"""The Signing model from a `signing:` section the schema has accepted."""

from __future__ import annotations

from typing import Any

from generator.supply.model import (
    ATTESTATIONS,
    DEFAULT_FULCIO,
    DEFAULT_REKOR,
    ENGINES,
    Pipeline,
    Signing,
)


def signing(data: dict[str, Any] | None) -> Signing | None:
    """The signing settings, or None when cgen.yaml has no `signing:`."""
    if data is None:
        return None
    keyless = data.get("keyless") or {}
    return Signing(
        engines=ENGINES[data["engine"]],
        mode=data.get("mode", "enforce"),
        issuer=keyless.get("issuer"),
        subject_regexp=keyless.get("subjectRegExp"),
        public_key=data["publicKey"].strip() + "\n" if "publicKey" in data else None,
        namespaces=tuple(sorted(data.get("namespaces", ()))),
        attestations=tuple(a for a in ATTESTATIONS if a in data.get("attestations", ATTESTATIONS)),
        rekor_url=data.get("rekorUrl", DEFAULT_REKOR),
        fulcio_url=data.get("fulcioUrl", DEFAULT_FULCIO),
    )


def pipeline(data: dict[str, Any] | None) -> Pipeline | None:
    """The CI settings, or None when cgen.yaml has no `ci:`."""
    if data is None:
        return None
    github, default = data["github"], Pipeline()
    return Pipeline(
        branch=github.get("branch", default.branch),
        working_directory=github.get("workingDirectory", default.working_directory),
        registry_environment=github.get("registryEnvironment", default.registry_environment),
        username_secret=github.get("registryUsernameSecret", default.username_secret),
        password_secret=github.get("registryPasswordSecret", default.password_secret),
    )
