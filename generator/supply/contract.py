"""The `signing:` section of cgen.yaml (schema only; parse.py builds the model)."""

from __future__ import annotations

from generator.manifest.formats import WHY_DNS_LABEL, WHY_OWN
from generator.schema import Enum, Field, List, Obj, Str
from generator.supply.model import ATTESTATIONS, ENGINES, SIGNING_MODES

_HTTPS = Str(
    r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?", "an https URL", 2048, why=WHY_OWN
)
_NAMESPACE = Str(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    "a namespace name",
    63,
    why=WHY_DNS_LABEL,
)


def _check_regexp(value: str) -> str | None:
    import re

    try:
        re.compile(value)
    except re.error as error:
        return f"is not a regular expression: {error}"
    if not (value.startswith("^") and value.endswith("$")):
        return "must be anchored with ^ and $ (unanchored, it matches any identity containing it)"
    return None


def _check_pem(value: str) -> str | None:
    text = value.strip()
    if not (
        text.startswith("-----BEGIN PUBLIC KEY-----") and text.endswith("-----END PUBLIC KEY-----")
    ):
        return (
            "must be one PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)"
        )
    return None


SIGNING = Obj(
    {
        "engine": Field(
            Enum(tuple(ENGINES)), True, "the admission controller that verifies the images"
        ),
        "mode": Field(
            Enum(SIGNING_MODES), description="enforce (refuse) or audit (report); default enforce"
        ),
        "keyless": Field(
            Obj(
                {
                    "issuer": Field(_HTTPS, True, "OIDC issuer of the signing identity"),
                    "subjectRegExp": Field(
                        Str(None, "", 1024, (_check_regexp,), why=WHY_OWN),
                        True,
                        "the signing identity (certificate SAN), e.g. your CI workflow",
                    ),
                }
            ),
            description="Sigstore keyless: certificates from Fulcio for this identity",
        ),
        "publicKey": Field(
            Str(None, "", 8192, (_check_pem,), why=WHY_OWN), description="a cosign public key (PEM)"
        ),
        "namespaces": Field(
            List(_NAMESPACE, unique=True, min_items=1),
            description="where the policy applies (default: every namespace with a built service)",
        ),
        "attestations": Field(
            List(Enum(ATTESTATIONS), unique=True),
            description="attestations each image must carry, signed by the same identity "
            "(default: sbom and slsa-provenance)",
        ),
        "rekorUrl": Field(_HTTPS, description="transparency log (default: the public Rekor)"),
        "fulcioUrl": Field(_HTTPS, description="certificate authority (default: public Fulcio)"),
    },
    exactly_one=("keyless", "publicKey"),
)

_SECRET = Str(r"[A-Z][A-Z0-9_]{0,99}", "a secret name (A-Z, 0-9, _)", 100, why=WHY_OWN)
CI = Obj(
    {
        "github": Field(
            Obj(
                {
                    "branch": Field(
                        Str(r"[A-Za-z0-9._/-]+", "a branch name", 200, why=WHY_OWN),
                        description="the branch whose pushes build, sign and deploy (main)",
                    ),
                    "workingDirectory": Field(
                        Str(
                            r"\.|[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*",
                            "a relative folder",
                            400,
                            why=WHY_OWN,
                        ),
                        description="the project folder relative to the repository root (.)",
                    ),
                    "registryEnvironment": Field(
                        Str(
                            r"[A-Za-z0-9_-]{1,255}",
                            "an environment name",
                            255,
                            why="GitHub allows environment names of at most 255 characters",
                        ),
                        description="the GitHub environment holding the registry secrets",
                    ),
                    "registryUsernameSecret": Field(_SECRET),
                    "registryPasswordSecret": Field(_SECRET),
                }
            ),
            True,
            "a GitHub Actions workflow that builds, signs, attests, verifies and deploys",
        )
    }
)
CI_FIELD = Field(CI, description="the CI pipeline cgen writes (see docs/supply-chain.md)")

SIGNING_FIELD = Field(
    SIGNING,
    description="admission policies that admit only the built images signed and attested "
    "by this identity (see docs/supply-chain.md)",
)
