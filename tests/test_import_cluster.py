"""`cgen import --from-cluster`: the real kubernetes client against a loopback server that
answers as the Kubernetes API does (lists without item kinds, paging with continue, 403 on a
namespace, 410 on an expired continue token). Import from it equals import from files."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from conftest import run_cgen
from test_import import BOUTIQUE, upstream_objects

PAGE = 2  # the server pages small, whatever limit the client asks for
ROUTES = {
    "api/v1": {"services": "Service", "configmaps": "ConfigMap", "pods": "Pod"},
    "apis/apps/v1": {
        "deployments": "Deployment",
        "statefulsets": "StatefulSet",
        "daemonsets": "DaemonSet",
    },
    "apis/batch/v1": {"jobs": "Job", "cronjobs": "CronJob"},
    "apis/networking.k8s.io/v1": {"networkpolicies": "NetworkPolicy"},
}
_PATH = re.compile(r"^/(api/v1|apis/[^/]+/v1)/namespaces/([^/]+)/([a-z]+)$")


def digest_of(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _pods(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One running pod per Deployment, reporting the digest its image resolved to."""
    pods = []
    for dep in (o for o in objects if o["kind"] == "Deployment"):
        template = dep["spec"]["template"]
        containers = template["spec"]["containers"]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{dep['metadata']['name']}-0",
                    "labels": template["metadata"]["labels"],
                },
                "spec": {"containers": containers},
                "status": {
                    "containerStatuses": [
                        {"name": c["name"], "imageID": f"{c['image']}@{digest_of(c['image'])}"}
                        for c in containers
                    ]
                },
            }
        )
    return pods


class FakeApi:
    """The objects by (namespace, kind), what was asked, and one continue token to expire."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.store: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for obj in objects + _pods(objects):
            ns = obj["metadata"].get("namespace", "default")
            self.store.setdefault((ns, obj["kind"]), []).append(obj)
        self.forbidden = {"restricted"}
        self.requests: list[tuple[str, str]] = []
        self.expired_once = False
        self.answered_410 = 0

    def answer(self, method: str, url: str) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, url))
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        if method != "GET":
            return 405, _status(405, "MethodNotAllowed")
        if parsed.path == "/api/v1/namespaces":
            items = [{"metadata": {"name": n}} for n in ("default", "restricted")]
            return 200, {
                "apiVersion": "v1",
                "kind": "NamespaceList",
                "metadata": {},
                "items": items,
            }
        match = _PATH.match(parsed.path)
        if match is None or match.group(3) not in ROUTES.get(match.group(1), {}):
            return 404, _status(404, "NotFound")
        group, ns, resource = match.groups()
        if ns in self.forbidden:
            return 403, _status(403, "Forbidden")
        kind = ROUTES[group][resource]
        token = query.get("continue", [""])[0]
        if token and kind == "Deployment" and not self.expired_once:
            self.expired_once = True
            self.answered_410 += 1
            return 410, _status(410, "Expired")
        start = int(token) if token else 0
        items = self.store.get((ns, kind), [])
        page = [
            {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
            for o in items[start : start + PAGE]
        ]
        more = str(start + PAGE) if start + PAGE < len(items) else ""
        meta = {"resourceVersion": "1", **({"continue": more} if more else {})}
        return 200, {
            "apiVersion": group.removeprefix("apis/").removeprefix("api/"),
            "kind": f"{kind}List",
            "metadata": meta,
            "items": page,
        }


def _status(code: int, reason: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
    }


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi(upstream_objects())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, body = fake.answer("GET", self.path)
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig(folder: Path, server: str) -> Path:
    path = folder / "kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "reader", "user": {"token": "read-only"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "reader"}}],
        "current-context": "fake",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _manifests(folder: Path) -> dict[str, Any]:
    return {
        p.relative_to(folder).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(folder.rglob("*.yaml"))
    }


def test_import_from_the_cluster_equals_import_from_files(
    api: tuple[FakeApi, str], tmp_path: Path
) -> None:
    fake, server = api
    config = kubeconfig(tmp_path, server)
    from_files = tmp_path / "files"
    assert run_cgen(["import", str(BOUTIQUE), "--out", str(from_files)]).returncode == 0
    from_cluster = tmp_path / "cluster"
    proc = run_cgen(
        [
            "import",
            "--from-cluster",
            "--kubeconfig",
            str(config),
            "--context",
            "fake",
            "--out",
            str(from_cluster),
            "-f",
            "json",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    files, cluster = _manifests(from_files), _manifests(from_cluster)
    assert sorted(files) == sorted(cluster)
    for name, manifest in cluster.items():
        image = manifest["spec"]["image"]
        plain, _, digest = image.partition("@")
        assert digest == digest_of(plain)  # what the pods run, pinned
        manifest["spec"]["image"] = plain
        assert manifest == files[name]
    report = json.loads(proc.stdout)
    assert "namespace restricted: forbidden (not imported)" in report["skipped"]
    assert not any("not pinned" in n["text"] for n in report["notes"])
    # Read-only, paged, and the expired continue token was answered by a relist.
    assert {method for method, _ in fake.requests} == {"GET"}
    assert any("continue=" in url for _, url in fake.requests)
    assert fake.answered_410 == 1


def test_a_named_forbidden_namespace_is_an_error(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    _, server = api
    out = tmp_path / "out"
    proc = run_cgen(
        [
            "import",
            "--from-cluster",
            "--kubeconfig",
            str(kubeconfig(tmp_path, server)),
            "--include-namespace",
            "restricted",
            "--out",
            str(out),
        ]
    )
    assert proc.returncode == 1 and "forbidden" in proc.stderr and "restricted" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        ("clusters: [\n", None, "not a usable kubeconfig"),
        ("just text\n", None, "not a usable kubeconfig"),
        (None, "nowhere", "not a usable kubeconfig"),
        (None, None, "cannot reach the API server"),
    ],
)
def test_bad_kubeconfig_or_refusing_server_is_a_clear_error(
    tmp_path: Path, text: str | None, context: str | None, message: str
) -> None:
    # A port that was free a moment ago: nothing listens there.
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    address = f"http://127.0.0.1:{server.server_address[1]}"
    server.server_close()
    config = kubeconfig(tmp_path, address)
    if text is not None:
        config.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["import", "--from-cluster", "--kubeconfig", str(config), "--out", str(out)]
    proc = run_cgen(args + (["--context", context] if context else []))
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not out.exists()
