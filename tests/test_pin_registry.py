"""`cgen pin` against a real registry: Debian's docker-registry on 127.0.0.1, images
pushed by skopeo, and an authenticating front (the anonymous bearer-token flow that Docker
Hub, GHCR and gcr.io use, and a token service that wants credentials from the Docker
config) relaying to that registry.

The digests `cgen pin` writes are compared with what skopeo reported when it pushed,
never with values written into the test.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cgen

sys.path.insert(0, str(ROOT / "tests" / "build"))
import buildharness as bh

pytestmark = pytest.mark.container

BUILD_REPO = "team/python-build"
RUNTIME_REPO = "team/python-runtime"
# BuildKit's Dockerfile frontend (every Dockerfile's `# syntax=` line) is pinned too; the
# project resolves docker.io through the test registry (registryMirrors).
FRONTEND = "docker.io/docker/dockerfile:1.7"
FRONTEND_REPO = "docker/dockerfile:1.7"


@dataclass
class Published:
    """The registry and what skopeo pushed to it."""

    registry: bh.Registry
    containers: bh.Containers
    digests: dict[str, str]
    tmp: Path

    def push(self, name: str, marker: str) -> str:
        """Push a tiny image with marker content to registry/name; returns its digest."""
        fs = bh.RootFs()
        fs.text("etc/marker", marker + "\n")
        tar = self.tmp / "tiny.tar"
        fs.write(tar)
        local = f"localhost/pin-test/{marker}:1"
        self.containers.import_tar(tar, local)
        digest = self.containers.push(local, f"{self.registry.host}/{name}")
        self.digests[name] = digest
        return digest


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """A registry holding two tiny images, one per base image of the test profile."""
    tmp = tmp_path_factory.mktemp("pin")
    containers = bh.Containers.create(tmp / "containers")
    with bh.registry(tmp / "registry") as reg:
        pub = Published(reg, containers, {}, tmp)
        try:
            pub.push(f"{BUILD_REPO}:3.11", "build-v1")
            pub.push(f"{RUNTIME_REPO}:3.11", "runtime-v1")
            pub.push(FRONTEND_REPO, "frontend-v1")
            yield pub
        finally:
            containers.remove_all()


# ------------------------------------------------------------------ an authenticating front


@dataclass
class Front:
    """A registry front that answers 401 with a Bearer challenge, issues tokens at /token
    (optionally only for the right Basic credentials) and relays authorized requests."""

    upstream: str
    credentials: str | None = None
    token_requests: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        """host:port of the front."""
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:  # noqa: C901 (one request handler, kept in one place)
        """Serve on a free loopback port in a thread."""
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                if self.path.startswith("/token"):
                    self._token()
                    return
                if self.headers.get("Authorization") != "Bearer pull-token":
                    repo = self.path.split("/manifests/")[0].removeprefix("/v2/")
                    self.send_response(401)
                    self.send_header(
                        "WWW-Authenticate",
                        f'Bearer realm="http://{front.host}/token",service="cgen-test",'
                        f'scope="repository:{repo}:pull"',
                    )
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = urllib.request.Request(
                    f"http://{front.upstream}{self.path}", method=self.command
                )
                request.add_header("Accept", self.headers.get("Accept", ""))
                try:
                    response = urllib.request.urlopen(request, timeout=10)
                except urllib.error.HTTPError as err:
                    response = err
                with response:
                    data = response.read()
                    self.send_response(response.status)
                    for key in ("Content-Type", "Docker-Content-Digest"):
                        if response.headers.get(key):
                            self.send_header(key, response.headers[key])
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if body:
                        self.wfile.write(data)

            def _token(self) -> None:
                from urllib.parse import parse_qsl, urlsplit

                query = dict(parse_qsl(urlsplit(self.path).query))
                query["authorization"] = self.headers.get("Authorization", "")
                front.token_requests.append(query)
                wanted = front.credentials
                if (
                    wanted
                    and query["authorization"]
                    != "Basic " + base64.b64encode(wanted.encode()).decode()
                ):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps({"token": "pull-token"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def front(published: Published) -> Iterator[Front]:
    """An anonymous-token front for the published registry."""
    server = Front(published.registry.host)
    server.start()
    yield server
    server.stop()


# ------------------------------------------------------------------ the test project


def _project(folder: Path, host: str) -> Path:
    """A project whose python profile (the user's own) names images on host."""
    folder.mkdir()
    (folder / "cgen.yaml").write_text(
        f"namespace: pin\nprofiles: profiles\nregistryMirrors: {{docker.io: '{host}'}}\n"
    )
    profile = yaml.safe_load((ROOT / "profiles" / "python.yaml").read_text())
    profile["images"] = {
        "build": f"{host}/{BUILD_REPO}:3.11",
        "runtime": f"{host}/{RUNTIME_REPO}:3.11",
    }
    (folder / "profiles").mkdir()
    (folder / "profiles" / "python.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    (folder / "api.yaml").write_text(
        "apiVersion: cgen/v1\nkind: Service\nmetadata: {name: api}\n"
        "spec: {runtime: python, image: registry.example.com/pin/api:1}\n"
    )
    return folder


def _env(tmp: Path, config: dict[str, object] | None = None) -> dict[str, str]:
    """DOCKER_CONFIG pointing at a folder with this config.json (or none at all)."""
    folder = tmp / "docker-config"
    folder.mkdir(exist_ok=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(folder)}


def _lock(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / "images.lock").read_text())
    assert isinstance(data, dict) and isinstance(data.get("images"), dict)
    return data


def test_pin_resolves_tags_to_the_pushed_digests(published: Published, tmp_path: Path) -> None:
    host = published.registry.host
    project = _project(tmp_path / "p", host)
    days = {datetime.datetime.now(datetime.UTC).date().isoformat()}
    proc = run_cgen(["pin", str(project)], env=_env(tmp_path))
    days.add(datetime.datetime.now(datetime.UTC).date().isoformat())
    assert proc.returncode == 0, proc.stderr
    images = {
        f"{host}/{BUILD_REPO}:3.11": published.digests[f"{BUILD_REPO}:3.11"],
        f"{host}/{RUNTIME_REPO}:3.11": published.digests[f"{RUNTIME_REPO}:3.11"],
        FRONTEND: published.digests[FRONTEND_REPO],
    }
    lock = _lock(project)
    assert set(lock) == {"version", "images", "resolved"} and lock["version"] == 1
    assert lock["images"] == images
    # Each digest with the day it was resolved (today, by the registry's answer).
    assert set(lock["resolved"]) == set(images) and set(lock["resolved"].values()) <= days
    first = (project / "images.lock").read_bytes()
    again = run_cgen(["pin", str(project)], env=_env(tmp_path))
    assert again.returncode == 0 and "up to date" in again.stdout
    assert (project / "images.lock").read_bytes() == first
    # The lock drives render: FROM lines carry exactly these digests.
    out = tmp_path / "out"
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    dockerfile = (out / "pin" / "api" / "Dockerfile").read_text()
    assert (
        f"FROM {host}/{BUILD_REPO}:3.11@{published.digests[f'{BUILD_REPO}:3.11']} AS build"
        in dockerfile
    )
    frontend = published.digests[FRONTEND_REPO]
    assert dockerfile.startswith(f"# syntax=docker/dockerfile:1.7@{frontend}\n")


def test_pin_check_fails_when_a_tag_moves(published: Published, tmp_path: Path) -> None:
    host = published.registry.host
    project = _project(tmp_path / "p", host)
    name = f"{RUNTIME_REPO}:moving"
    published.push(name, "moving-v1")
    profile_file = project / "profiles" / "python.yaml"
    profile = yaml.safe_load(profile_file.read_text())
    profile["images"]["runtime"] = f"{host}/{name}"
    profile_file.write_text(yaml.safe_dump(profile, sort_keys=False))
    env = _env(tmp_path)
    run_cgen(["pin", str(project)], env=env, check=True)
    old = published.digests[name]
    assert run_cgen(["pin", "--check", str(project)], env=env).returncode == 0

    new = published.push(name, "moving-v2")
    check = run_cgen(["pin", "--check", str(project)], env=env)
    assert check.returncode == 1
    assert f"moved {host}/{name}: {old} -> {new}" in check.stderr
    assert "Traceback" not in check.stderr
    assert _lock(project)["images"][f"{host}/{name}"] == old  # --check writes nothing

    repin = run_cgen(["pin", str(project)], env=env)
    assert repin.returncode == 0 and f"moved {host}/{name}" in repin.stdout
    assert run_cgen(["pin", "--check", str(project)], env=env).returncode == 0

    # The syntax frontend is covered the same way: its tag moves, --check fails.
    was = published.digests[FRONTEND_REPO]
    now = published.push(FRONTEND_REPO, "frontend-v2")
    check = run_cgen(["pin", "--check", str(project)], env=env)
    assert check.returncode == 1
    assert f"moved {FRONTEND}: {was} -> {now}" in check.stderr


def test_anonymous_bearer_token_flow(published: Published, front: Front, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", front.host)
    proc = run_cgen(["pin", str(project)], env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    images = _lock(project)["images"]
    assert images == {
        f"{front.host}/{BUILD_REPO}:3.11": published.digests[f"{BUILD_REPO}:3.11"],
        f"{front.host}/{RUNTIME_REPO}:3.11": published.digests[f"{RUNTIME_REPO}:3.11"],
        FRONTEND: published.digests[FRONTEND_REPO],
    }
    scopes = {r["scope"] for r in front.token_requests}
    assert scopes == {
        f"repository:{BUILD_REPO}:pull",
        f"repository:{RUNTIME_REPO}:pull",
        f"repository:{FRONTEND_REPO.split(':')[0]}:pull",
    }
    assert all(
        r["service"] == "cgen-test" and r["authorization"] == "" for r in front.token_requests
    )


def test_credentials_from_the_docker_config(
    published: Published, front: Front, tmp_path: Path
) -> None:
    front.credentials = "robot:s3cret"
    project = _project(tmp_path / "p", front.host)
    anonymous = run_cgen(["pin", str(project)], env=_env(tmp_path))
    assert anonymous.returncode == 1
    assert "token service" in anonymous.stderr and "Traceback" not in anonymous.stderr
    assert not (project / "images.lock").exists()

    auth = base64.b64encode(b"robot:s3cret").decode()
    env = _env(tmp_path, {"auths": {front.host: {"auth": auth}}})
    proc = run_cgen(["pin", str(project)], env=env)
    assert proc.returncode == 0, proc.stderr
    assert (
        _lock(project)["images"][f"{front.host}/{BUILD_REPO}:3.11"]
        == published.digests[f"{BUILD_REPO}:3.11"]
    )


def test_credentials_from_a_credential_helper(
    published: Published, front: Front, tmp_path: Path
) -> None:
    front.credentials = "helper-user:helper-secret"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-cgentest"
    # The credential helper protocol: `get` reads the server on stdin, prints JSON.
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f'[ "$1" = get ] && [ "$server" = "{front.host}" ] || exit 1\n'
        "echo '" + json.dumps({"Username": "helper-user", "Secret": "helper-secret"}) + "'\n"
    )
    helper.chmod(0o755)
    env = _env(tmp_path, {"credHelpers": {front.host: "cgentest"}})
    env["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    project = _project(tmp_path / "p", front.host)
    proc = run_cgen(["pin", str(project)], env=env)
    assert proc.returncode == 0, proc.stderr
    assert front.token_requests[-1]["authorization"].startswith("Basic ")


def test_unknown_tag_and_unreachable_registry_are_clean_errors(
    published: Published, tmp_path: Path
) -> None:
    host = published.registry.host
    project = _project(tmp_path / "p", host)
    profile_file = project / "profiles" / "python.yaml"
    profile_file.write_text(profile_file.read_text().replace(":3.11", ":no-such-tag", 1))
    proc = run_cgen(["pin", str(project)], env=_env(tmp_path))
    assert proc.returncode == 1
    assert f"{host}/{BUILD_REPO}:no-such-tag: the registry has no such tag" in proc.stderr
    assert "Traceback" not in proc.stderr

    closed = bh.free_port()
    other = _project(tmp_path / "q", f"127.0.0.1:{closed}")
    proc = run_cgen(["pin", str(other)], env=_env(tmp_path))
    assert proc.returncode == 1
    assert f"cannot reach 127.0.0.1:{closed}" in proc.stderr
    assert "Traceback" not in proc.stderr
