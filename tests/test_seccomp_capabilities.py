"""A declared capability opens the syscalls it guards in the rendered seccomp profile.

One project is rendered by the real CLI: a `static` service without capabilities and
one per capability under test. tests/build/capprobe calls the capability's syscalls
inside runc, with the capability in the container (from the rendered Deployment):
under the capability's own rendered profile each call succeeds; under the profile of
the service without it, in the same container with the same capability, each call is
EPERM, so it is the seccomp profile that opens them.

Needs root, runc and gcc: tests/tools/install.sh.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest
from runc_harness import Bind, RunResult, require_tool, run_in_runc
from runc_workloads import (
    REPO,
    Rendered,
    privileged_namespace,
    read_rendered,
    render_project,
    write_project,
)

pytestmark = pytest.mark.container

NS = "caps"
SOURCE = REPO / "tests" / "build" / "capprobe" / "capprobe.c"
# Capability -> the calls the probe makes with it (each the privileged use the kernel
# grants to the capability, or a call cgen's baselines leave closed without it).
CALLS: dict[str, tuple[str, ...]] = {
    "CHOWN": ("chown", "fchown", "fchownat", "lchown"),
    "SETUID": ("setuid", "setreuid", "setresuid", "setfsuid"),
    "SETGID": ("setgid", "setregid", "setresgid", "setfsgid", "setgroups"),
    "SYS_CHROOT": ("chroot",),
    "MKNOD": ("mknod", "mknodat"),
    "FOWNER": ("chmod", "fchmod", "fchmodat", "utimensat"),
    "FSETID": ("chmod", "fchmod", "fchmodat"),
    "IPC_LOCK": ("mlock", "mlockall"),
    "SYS_NICE": ("setpriority", "sched_setaffinity"),
    "KILL": ("kill", "tkill"),
}
# SYS_RESOURCE (setrlimit, prlimit64) is in the map but not here: the bounding set of
# the machine the tests run on may lack it (runc then cannot start the container).
# Names that exist on x86_64 but not on aarch64 (whose libc calls the *at variants).
X86_64_ONLY = {"chown", "lchown", "chmod", "mknod"}


def calls(cap: str) -> list[str]:
    native = platform.machine() == "x86_64"
    return [c for c in CALLS[cap] if native or c not in X86_64_ONLY]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.fail("these tests start runc containers and need root")
    gcc = require_tool("gcc")
    require_tool("runc")
    folder = tmp_path_factory.mktemp("capprobe")
    folder.chmod(0o755)
    out = folder / "capprobe"
    subprocess.run([gcc, "-static", "-O2", "-o", str(out), str(SOURCE)], check=True)
    return folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    base = tmp_path_factory.mktemp("render")
    services: dict[str, dict[str, Any]] = {"nocap": {"runtime": "static"}}
    services.update(
        {c.lower().replace("_", "-"): {"runtime": "static", "capabilities": [c]} for c in CALLS}
    )
    write_project(base / "p", services, {"namespace": NS, "podSecurity": privileged_namespace(NS)})
    proc = render_project(base / "p", base / "out")
    assert proc.returncode == 0, proc.stderr
    return {name: read_rendered(base / "out", NS, name) for name in services}


def run_probe(probe: Path, svc: Rendered, names: list[str], seccomp: Rendered) -> RunResult:
    opts = svc.options(binds=[Bind(probe, "/probe")])
    opts.seccomp = seccomp.seccomp
    return run_in_runc(["/probe/capprobe", *names], opts)


def results(res: RunResult) -> dict[str, str]:
    found = {}
    for line in res.stdout.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0] == "call":
            found[parts[1]] = parts[2]
    return found


@pytest.mark.parametrize("cap", list(CALLS))
def test_capability_opens_its_syscalls(
    cap: str, probe: Path, rendered: dict[str, Rendered]
) -> None:
    svc = rendered[cap.lower().replace("_", "-")]
    assert svc.options().capabilities == (cap,)
    names = calls(cap)
    opened = run_probe(probe, svc, names, svc)
    assert opened.exit_code == 0, opened.output
    assert results(opened) == {n: "ok" for n in names}, opened.output
    # Same container, same capability, the profile of a service that did not declare it.
    closed = run_probe(probe, svc, names, rendered["nocap"])
    assert closed.exit_code == 0, closed.output
    assert results(closed) == {n: "errno 1" for n in names}, closed.output
