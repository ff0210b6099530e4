"""The signing settings of cgen.yaml (`signing:`), as a frozen model with its defaults."""

from __future__ import annotations

from typing import Literal, NamedTuple

Engine = Literal["kyverno", "policy-controller"]
SigningMode = Literal["enforce", "audit"]
Attestation = Literal["sbom", "slsa-provenance"]

ENGINES: dict[str, tuple[Engine, ...]] = {
    "kyverno": ("kyverno",),
    "policy-controller": ("policy-controller",),
    "both": ("kyverno", "policy-controller"),
}
SIGNING_MODES: tuple[SigningMode, ...] = ("enforce", "audit")
ATTESTATIONS: tuple[Attestation, ...] = ("sbom", "slsa-provenance")
# The in-toto predicate type of each attestation: BuildKit writes its SBOM as SPDX JSON
# and its provenance as SLSA v0.2; `cosign attest --type spdxjson|slsaprovenance` keeps them.
PREDICATE_TYPES: dict[Attestation, str] = {
    "sbom": "https://spdx.dev/Document",
    "slsa-provenance": "https://slsa.dev/provenance/v0.2",
}
COSIGN_TYPES: dict[Attestation, str] = {"sbom": "spdxjson", "slsa-provenance": "slsaprovenance"}
DEFAULT_REKOR = "https://rekor.sigstore.dev"
DEFAULT_FULCIO = "https://fulcio.sigstore.dev"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


class Pipeline(NamedTuple):
    """The CI workflow cgen writes (cgen.yaml `ci:`): GitHub Actions."""

    branch: str = "main"
    # The project folder (where cgen.yaml is) relative to the repository's root.
    working_directory: str = "."
    # The GitHub environment whose secrets hold the registry login (not needed for
    # ghcr.io: GITHUB_TOKEN), and those secrets' names.
    registry_environment: str = "registry"
    username_secret: str = "REGISTRY_USERNAME"
    password_secret: str = "REGISTRY_PASSWORD"


class Signing(NamedTuple):
    """Who must have signed the project's images, what must be attested, and where."""

    engines: tuple[Engine, ...]
    mode: SigningMode = "enforce"
    issuer: str | None = None  # keyless: the OIDC issuer of the signer's identity
    subject_regexp: str | None = None  # keyless: the identity (certificate SAN) pattern
    public_key: str | None = None  # or a PEM public key
    namespaces: tuple[str, ...] = ()  # () = every namespace a built service runs in
    attestations: tuple[Attestation, ...] = ATTESTATIONS
    rekor_url: str = DEFAULT_REKOR
    fulcio_url: str = DEFAULT_FULCIO

    @property
    def keyless(self) -> bool:
        """Whether signatures are verified against an identity (Fulcio) or a key."""
        return self.public_key is None
