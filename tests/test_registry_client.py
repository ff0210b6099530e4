"""`cgen pin` against registries that lie, drip, flood or inject: a small HTTP server on
127.0.0.1 plays each one. Every case ends in a clean error (exit 1, no traceback), and
images.lock stays as it was; an honest answer is pinned by the digest of its bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cgen

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}, separators=(",", ":")
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
LOCK = "version: 1\nimages: {}\n"

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Registry:
    """A loopback HTTP server whose manifest answers come from `behaviour`."""

    behaviour: Behaviour
    requests: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        """host:port to name images by."""
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                registry.requests.append(f"GET {self.path}")
                # OSError: the client hung up, as it should on a dripping answer.
                with contextlib.suppress(OSError):
                    registry.behaviour(self)

            def do_HEAD(self) -> None:
                registry.requests.append(f"HEAD {self.path}")
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def answer(
    status: int = 200,
    body: bytes = MANIFEST,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """A fixed answer; headers default to an honest manifest's."""
    chosen = (
        {"Content-Type": INDEX, "Docker-Content-Digest": DIGEST} if headers is None else headers
    )

    def serve(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for key, value in chosen.items():
            handler.send_header(key, value)
        if "Content-Length" not in chosen:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return serve


def drip_body(handler: BaseHTTPRequestHandler) -> None:
    """Honest headers, then the body one byte a second (for about an hour)."""
    handler.send_response(200)
    handler.send_header("Content-Type", INDEX)
    handler.send_header("Content-Length", str(len(MANIFEST) + 3600))
    handler.end_headers()
    for _ in range(3600):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(1)


def drip_headers(handler: BaseHTTPRequestHandler) -> None:
    """A status line, then one header byte a second: the answer never completes."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(3600):
        handler.wfile.write(b"X")
        handler.wfile.flush()
        time.sleep(1)


def token_flow(token: str) -> Behaviour:
    """401 with a Bearer challenge; the token service hands out `token`."""

    def serve(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.startswith("/token"):
            answer(200, json.dumps({"token": token}).encode(), {"Content-Type": "x"})(handler)
            return
        if handler.headers.get("Authorization") == f"Bearer {token}":
            answer()(handler)
            return
        host = handler.headers.get("Host", "")
        challenge = f'Bearer realm="http://{host}/token",service="t",scope="repository:a:pull"'
        answer(401, b"", {"WWW-Authenticate": challenge})(handler)

    return serve


@pytest.fixture
def registry() -> Iterator[Registry]:
    """A registry whose behaviour each test sets."""
    server = Registry(answer())
    server.start()
    yield server
    server.stop()


def project(tmp_path: Path, host: str) -> Path:
    """A project whose own python profile names both base images on host."""
    folder = tmp_path / "proj"
    (folder / "profiles").mkdir(parents=True)
    # Docker Hub (the BuildKit frontend every Dockerfile names) through the same registry:
    # nothing leaves this machine.
    (folder / "cgen.yaml").write_text(
        f"namespace: pin\nprofiles: profiles\nregistryMirrors: {{docker.io: '{host}'}}\n"
    )
    profile = yaml.safe_load((ROOT / "profiles" / "python.yaml").read_text())
    profile["images"] = {"build": f"{host}/team/build:1", "runtime": f"{host}/team/run:1"}
    (folder / "profiles" / "python.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    (folder / "api.yaml").write_text(
        "apiVersion: cgen/v1\nkind: Service\nmetadata: {name: api}\n"
        "spec: {runtime: python, image: registry.example.com/pin/api:1}\n"
    )
    (folder / "images.lock").write_text(LOCK)
    return folder


def pin(folder: Path, *extra: str) -> tuple[int, str]:
    """Run `cgen pin` in a process of its own, without any Docker credentials."""
    (folder.parent / "docker").mkdir(exist_ok=True)
    proc = run_cgen(
        ["pin", ".", *extra], cwd=folder, env={"DOCKER_CONFIG": str(folder.parent / "docker")}
    )
    return proc.returncode, proc.stdout + proc.stderr


def refused(folder: Path, *needles: str, extra: tuple[str, ...] = ()) -> str:
    """pin fails cleanly with every needle in its message and leaves the lock alone."""
    code, text = pin(folder, *extra)
    assert code == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    for needle in needles:
        assert needle in text, text
    assert (folder / "images.lock").read_text() == LOCK
    return text


def test_an_honest_registry_is_pinned_by_the_digest_of_its_bytes(
    registry: Registry, tmp_path: Path
) -> None:
    folder = project(tmp_path, registry.host)
    code, text = pin(folder)
    assert code == 0, text
    lock = yaml.safe_load((folder / "images.lock").read_text())
    assert set(lock["images"].values()) == {DIGEST}
    assert not any(r.startswith("HEAD") for r in registry.requests)  # the bytes are hashed


@pytest.mark.parametrize(
    ("behaviour", "needle"),
    [
        (answer(headers={"Docker-Content-Digest": DIGEST}), "(no Content-Type)"),
        (
            answer(headers={"Content-Type": "text/html", "Docker-Content-Digest": DIGEST}),
            "not an image manifest or index (text/html)",
        ),
        (
            answer(headers={"Content-Type": INDEX, "Docker-Content-Digest": "sha256:" + "0" * 64}),
            "does not match the manifest it sent",
        ),
        (
            answer(headers={"Content-Type": INDEX, "Docker-Content-Digest": "md5:abc"}),
            "does not match the manifest it sent",
        ),
        (answer(body=b"<html>hello</html>"), "not a schema 2 manifest or index"),
        (
            answer(
                body=json.dumps({"schemaVersion": 2, "mediaType": "x"}).encode(),
                headers={"Content-Type": INDEX},
            ),
            "mediaType does not match",
        ),
        (answer(body=b"[]", headers={"Content-Type": INDEX}), "not a schema 2 manifest"),
    ],
)
def test_an_answer_that_is_not_the_manifest_it_claims_is_refused(
    registry: Registry, tmp_path: Path, behaviour: Behaviour, needle: str
) -> None:
    registry.behaviour = behaviour
    refused(project(tmp_path, registry.host), needle)


@pytest.mark.parametrize(
    "behaviour",
    [
        answer(body=b"{" + b" " * (5 << 20) + b"}"),
        answer(headers={"Content-Type": INDEX, "Content-Length": str(1 << 40)}, body=b"{}"),
    ],
)
def test_a_huge_answer_is_not_read_into_memory(
    registry: Registry, tmp_path: Path, behaviour: Behaviour
) -> None:
    registry.behaviour = behaviour
    refused(project(tmp_path, registry.host), f"larger than {4 << 20} bytes")


@pytest.mark.slow  # waits out pin's --timeout
@pytest.mark.parametrize("behaviour", [drip_body, drip_headers])
def test_a_dripping_registry_cannot_hold_pin_past_its_timeout(
    registry: Registry, tmp_path: Path, behaviour: Behaviour
) -> None:
    # Without a deadline on the whole exchange this would wait for the hour-long drip.
    registry.behaviour = behaviour
    refused(
        project(tmp_path, registry.host),
        "sent no complete answer within 2 seconds (--timeout)",
        extra=("--timeout", "2"),
    )


@pytest.mark.parametrize(
    ("token", "needle"),
    [
        ("abc\r\nX-Injected: 1", "sent a token with spaces or control characters"),
        ("abc\ndef", "sent a token with spaces or control characters"),
        ("a b", "sent a token with spaces or control characters"),
    ],
)
def test_a_token_with_line_breaks_is_a_clean_error(
    registry: Registry, tmp_path: Path, token: str, needle: str
) -> None:
    registry.behaviour = token_flow(token)
    text = refused(project(tmp_path, registry.host), needle)
    assert "X-Injected" not in text


def test_the_token_flow_still_works(registry: Registry, tmp_path: Path) -> None:
    registry.behaviour = token_flow("good-token")
    folder = project(tmp_path, registry.host)
    code, text = pin(folder)
    assert code == 0, text
    assert any(r.startswith("GET /token") for r in registry.requests)


def test_a_broken_http_answer_is_a_clean_error(registry: Registry, tmp_path: Path) -> None:
    def garbage(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 2OO OK\r\n\r\n")

    registry.behaviour = garbage
    refused(project(tmp_path, registry.host), "a broken HTTP answer", "127.0.0.1")


def test_pin_asks_for_every_image_and_says_each_failure_once(
    registry: Registry, tmp_path: Path
) -> None:
    def build_tag_missing(handler: BaseHTTPRequestHandler) -> None:
        status = 404 if "/team/build/" in handler.path else 200
        answer(status, MANIFEST if status == 200 else b"{}")(handler)

    registry.behaviour = build_tag_missing
    folder = project(tmp_path, registry.host)
    # The runtime image and (through its mirror) the Dockerfile frontend on a closed port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    config = folder / "cgen.yaml"
    config.write_text(config.read_text().replace(registry.host, closed))
    profile = folder / "profiles" / "python.yaml"
    profile.write_text(
        profile.read_text().replace(f"{registry.host}/team/run", f"{closed}/team/run")
    )
    text = refused(folder, f"{registry.host}/team/build:1: the registry has no such tag")
    # The closed host is tried once and named once, with both images it leaves unresolved.
    (down,) = [line for line in text.splitlines() if f"cannot reach {closed}" in line]
    assert down.endswith(f"(not resolved: {closed}/team/run:1, docker.io/docker/dockerfile:1.7)")
    assert "nothing written (3 image(s) not resolved)" in text
    assert "--offline" not in text  # cgen ships no pin for these: offline cannot help
    # --check, too, asks for every image and says each failure, after the ages.
    code, checked = pin(folder, "--check")
    assert code == 1 and checked.count(f"cannot reach {closed}") == 1, checked
    assert f"{registry.host}/team/build:1: the registry has no such tag" in checked
    assert checked.count(": not in ") == 3 and "`cgen pin --check --offline`" in checked
