"""Image references as Docker reads them, mirror rewriting, and Docker config credentials."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from generator.images.lock import Reference, mirrored
from generator.images.registry import DockerConfig, Resolver


@pytest.mark.parametrize(
    ("image", "registry", "repository", "tag", "digest"),
    [
        ("python:3.11", "docker.io", "library/python", "3.11", None),
        ("docker.io/library/node:20", "docker.io", "library/node", "20", None),
        ("bitnami/redis", "docker.io", "bitnami/redis", None, None),
        (
            "gcr.io/distroless/static-debian12:nonroot",
            "gcr.io",
            "distroless/static-debian12",
            "nonroot",
            None,
        ),
        ("localhost/app:1", "localhost", "app", "1", None),
        ("127.0.0.1:5000/team/base:3.11", "127.0.0.1:5000", "team/base", "3.11", None),
        ("127.0.0.1:5000/team/base", "127.0.0.1:5000", "team/base", None, None),
        ("ghcr.io/o/r:v1@sha256:" + "a" * 64, "ghcr.io", "o/r", "v1", "sha256:" + "a" * 64),
    ],
)
def test_reference_parse(
    image: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    assert Reference.parse(image) == Reference(registry, repository, tag, digest)


def test_mirrored_rewrites_only_the_named_hosts() -> None:
    mirrors = (("docker.io", "hub.mirror.example"), ("gcr.io", "gcr.mirror.example:5000"))
    assert mirrored("python:3.11", mirrors) == "hub.mirror.example/library/python:3.11"
    assert (
        mirrored("gcr.io/distroless/static:nonroot@sha256:" + "b" * 64, mirrors)
        == "gcr.mirror.example:5000/distroless/static:nonroot@sha256:" + "b" * 64
    )
    assert mirrored("quay.io/x/y:1", mirrors) == "quay.io/x/y:1"
    assert Resolver(mirrors).host_for(Reference.parse("node:20")) == "hub.mirror.example"


def test_docker_config_auths(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": base64.b64encode(b"u:p:x").decode()},
                    "registry.example.com": {"username": "robot", "password": "pw"},
                    "empty.example.com": {},
                }
            }
        )
    )
    config = DockerConfig.load({"DOCKER_CONFIG": str(tmp_path)})
    hub = config.credentials("docker.io")
    assert hub is not None and (hub.username, hub.secret) == ("u", "p:x")
    other = config.credentials("registry.example.com")
    assert other is not None and other.basic() == "Basic " + base64.b64encode(b"robot:pw").decode()
    assert config.credentials("empty.example.com") is None
    assert DockerConfig.load({"DOCKER_CONFIG": str(tmp_path / "none")}) == DockerConfig()
