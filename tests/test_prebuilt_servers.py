"""The prebuilt real-server runtime profiles hold up with the real servers under runc.

One project with a service per server profile (postgresql, redis, nginx, memcached,
mariadb, rabbitmq) is rendered once by the real `cgen render`. Each server (Debian 12's
build standing in for its image) then runs in runc with exactly its generated
seccomp.json and its rendered StatefulSet's or Deployment's container: uid/gid, no
capabilities, no new privileges, read-only root, environment, command and arguments,
writable paths as tmpfs, ConfigMap files read-only, the claim on a host folder owned by
the uid. Its real client does real work against it (harness/server_sessions.py);
PostgreSQL, Redis, MariaDB and RabbitMQ are stopped with SIGTERM, started again on the
same claim, and still have their data. The forbidden-syscall probe finds mount, unshare,
clone(CLONE_NEWUSER), ptrace, keyctl and bpf denied under every server's profile, and a
profile without `listen` keeps a server from serving and Redis restarted on an empty
claim misses its data (the checks can fail).

Needs root, runc, strace, gcc and the servers and clients: tests/tools/install.sh.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from runc_harness import Bind, RuncOptions, run_in_runc, without_syscall
from runc_servers import SERVERS, Layout, ServerError, Workload, workload_from_rendered
from runc_workloads import REPO, build_probe, probe_results, render_project
from server_sessions import nginx_config_with_proxy, run_session, with_secrets

pytestmark = pytest.mark.container

NAMESPACE = "servers"
DIGEST = "sha256:" + "cd" * 32
IMAGES = {
    "postgresql": "docker.io/library/postgres:15-bookworm",
    "redis": "docker.io/library/redis:7.0-bookworm",
    "nginx": "docker.io/library/nginx:1.22",
    "memcached": "docker.io/library/memcached:1.6-bookworm",
    "mariadb": "docker.io/library/mariadb:10.11",
    "rabbitmq": "docker.io/library/rabbitmq:3.10",
}
PROBED = ("mount", "unshare", "clone_newuser", "ptrace", "keyctl", "bpf")


def _profile(server: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "profiles" / f"{server}.yaml").read_text())
    return data


def _spec(server: str) -> dict[str, Any]:
    """What a user writes: the runtime, a pinned image, and the secret its image reads."""
    spec: dict[str, Any] = {"runtime": server, "image": f"{IMAGES[server]}@{DIGEST}"}
    for value in _profile(server)["defaults"].get("env", {}).values():
        if value.startswith("/var/run/secrets/"):
            spec["secrets"] = [{"secret": f"{server}-auth", "mountPath": value.rpartition("/")[0]}]
    if server == "nginx":
        # The profile's own configuration plus a proxied location, as a user adds one.
        (conf,) = _profile(server)["defaults"]["config"]
        text = nginx_config_with_proxy(conf["files"]["nginx.conf"])
        spec["config"] = [{**conf, "files": {"nginx.conf": text}}]
    return spec


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Workload, Any]]:
    """{server: (its rendered workload, its rendered seccomp.json)}."""
    if os.geteuid() != 0:
        pytest.fail("these tests start runc containers and need root")
    root = tmp_path_factory.mktemp("servers")
    project = root / "project"
    project.mkdir()
    for server in SERVERS:
        manifest = {
            "apiVersion": "cgen/v1",
            "kind": "Service",
            "metadata": {"name": server, "namespace": NAMESPACE},
            "spec": _spec(server),
        }
        (project / f"{server}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    proc = render_project(project, root / "out")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, tuple[Workload, Any]] = {}
    for server in SERVERS:
        folder = root / "out" / NAMESPACE / server
        objects = [
            yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml")) if p.is_file()
        ]
        (owner,) = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")]
        workload = with_secrets(workload_from_rendered(server, owner, objects))
        result[server] = (workload, json.loads((folder / "seccomp.json").read_text()))
    return result


def test_profiles_render_as_prebuilt_stateful_or_stateless(
    rendered: dict[str, tuple[Workload, Any]], tmp_path: Path
) -> None:
    for server in SERVERS:
        workload, _ = rendered[server]
        profile = _profile(server)
        assert profile["prebuilt"] is True and profile["user"] >= 10000
        assert workload.uid == workload.gid == profile["user"]
        assert workload.storage == [s["mountPath"] for s in profile["defaults"].get("storage", [])]
        assert list(workload.tmpfs) == profile["defaults"]["writablePaths"]


@pytest.mark.parametrize("server", SERVERS)
def test_server_serves_its_client_under_its_rendered_profile(
    server: str, rendered: dict[str, tuple[Workload, Any]], tmp_path: Path
) -> None:
    workload, seccomp = rendered[server]
    # Raises ServerError (with the server's output) when anything fails: start, the
    # client's work, exit 0 on SIGTERM, the data after a restart.
    assert run_session(Layout(tmp_path / "pod", workload), seccomp) == []


def test_a_profile_without_listen_keeps_the_server_from_serving(
    rendered: dict[str, tuple[Workload, Any]], tmp_path: Path
) -> None:
    workload, seccomp = rendered["memcached"]
    with pytest.raises(ServerError):
        run_session(Layout(tmp_path / "pod", workload), without_syscall(seccomp, "listen"))


def test_the_data_check_fails_when_the_claim_is_lost(
    rendered: dict[str, tuple[Workload, Any]], tmp_path: Path
) -> None:
    """Proof the restart check can fail: Redis started again on an empty claim."""
    workload, seccomp = rendered["redis"]
    with pytest.raises(ServerError, match="redis lost data"):
        run_session(Layout(tmp_path / "pod", workload), seccomp, lose_claim=True)


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_probe(tmp_path_factory.mktemp("probe") / "bin").parent


@pytest.mark.parametrize("server", SERVERS)
def test_probe_finds_dangerous_syscalls_denied(
    server: str, rendered: dict[str, tuple[Workload, Any]], probe_dir: Path
) -> None:
    workload, seccomp = rendered[server]
    opts = RuncOptions(
        seccomp=seccomp,
        uid=workload.uid,
        gid=workload.gid,
        tmpfs=tuple(workload.tmpfs),
        binds=[Bind(probe_dir, "/probe")],
    )
    res = run_in_runc(["/probe/probe"], opts)
    found = probe_results(res.stdout)
    for name in PROBED:
        assert found.get(name, "").startswith("denied"), (name, res.output)


def test_probe_sees_the_calls_allowed_without_seccomp(probe_dir: Path) -> None:
    """Proof the probe can fail: the same container without a filter."""
    res = run_in_runc(
        ["/probe/probe"], RuncOptions(uid=10001, gid=10001, binds=[Bind(probe_dir, "/probe")])
    )
    found = probe_results(res.stdout)
    assert not found["unshare"].startswith("denied"), res.output


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
