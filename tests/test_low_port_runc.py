"""A port below 1024 without NET_BIND_SERVICE binds under the generated pod, in runc.

A python service that listens on port 80 and declares no capability is rendered by the
real CLI. Its workload binds port 80 in runc as the Deployment's non-root uid, with no
capability, under its own seccomp profile, and with the pod's sysctls applied as the
runtime spec's `linux.sysctl` (in the container's own network namespace, as the kubelet
has the runtime do). The same run without the sysctl is refused with EACCES, so it is the
sysctl, not the harness, that lets the bind through.

Needs root, runc and python3: tests/tools/install.sh.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runc_harness import require_tool, run_in_runc
from runc_workloads import Rendered, read_rendered, render_project, write_project

pytestmark = pytest.mark.container

NS = "lowport"
SYSCTL = "net.ipv4.ip_unprivileged_port_start"
# Binds and listens on port 80, then reports the port and the capabilities it holds.
BIND = """
import errno, socket
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff:")]
s = socket.socket()
try:
    s.bind(("127.0.0.1", 80))
    s.listen()
    print("bound", s.getsockname()[1], "uid", __import__("os").getuid(), "caps", caps[0])
except PermissionError as exc:
    print("refused", errno.errorcode[exc.errno])
"""


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    if os.geteuid() != 0:
        pytest.fail("these tests start runc containers and need root")
    require_tool("runc")
    base = tmp_path_factory.mktemp("lowport")
    services = {"web": {"runtime": "python", "ports": [{"name": "http", "port": 80}]}}
    write_project(base / "p", services, {"namespace": NS})
    proc = render_project(base / "p", base / "out")
    assert proc.returncode == 0, proc.stderr
    return read_rendered(Path(base / "out"), NS, "web")


def test_rendered_pod_uses_the_sysctl_not_a_capability(web: Rendered) -> None:
    pod = web.deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["sysctls"] == [{"name": SYSCTL, "value": "80"}]
    assert pod["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    opts = web.options()
    assert opts.capabilities == () and opts.sysctls == {SYSCTL: "80"}
    assert opts.uid != 0


def test_binds_port_80_as_non_root_without_capability(web: Rendered) -> None:
    res = run_in_runc(["/usr/bin/python3", "-c", BIND], web.options())
    assert res.exit_code == 0, res.output
    uid = web.options().uid
    assert res.stdout.split() == ["bound", "80", "uid", str(uid), "caps", "0000000000000000"], (
        res.output
    )


def test_without_the_sysctl_the_bind_is_refused(web: Rendered) -> None:
    opts = web.options()
    opts.sysctls = {}
    res = run_in_runc(["/usr/bin/python3", "-c", BIND], opts)
    assert res.exit_code == 0, res.output
    assert res.stdout.split() == ["refused", "EACCES"], res.output
