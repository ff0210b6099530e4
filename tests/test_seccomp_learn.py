"""`cgen seccomp learn`: audit records and strace output to manifest `syscalls:` lines.

Parsing: numbers are mapped per architecture (x86_64, aarch64, x32's bit), strace
lines by name; calls already allowed are dropped; a dangerous call is held back with
its reason and a warning. The number table equals libseccomp's. End to end under runc:
a static service in audit mode runs tests/build/capprobe, which calls two syscalls its
profile lacks; the real kernel log (dmesg) is read, learn proposes exactly those two,
and with them added the same program passes in enforce mode (and fails without them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import run_cgen
from runc_harness import Bind, require_tool, run_in_runc
from runc_workloads import REPO, privileged_namespace, read_rendered, render_project, write_project

NS = "learn"
AUDIT = (
    "[ 3262.09] audit: type=1326 audit(1796163669.016:15): auid=4294967295 uid=65532 "
    'gid=65532 ses=4294967295 pid=31056 comm="{comm}" exe="{exe}" sig=0 arch={arch} '
    "syscall={nr} compat=0 ip=0x40127f code=0x7ffc0000"
)


def project(tmp_path: Path, spec: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "p"
    config = {"namespace": NS, "podSecurity": privileged_namespace(NS)}
    write_project(folder, {"svc": {"runtime": "static", **(spec or {})}}, config)
    return folder


def learn(folder: Path, log: str, *extra: str) -> subprocess.CompletedProcess[str]:
    path = folder.parent / "records.log"
    path.write_text(log)
    return run_cgen(["seccomp", "learn", str(folder), "--log", str(path), *extra])


def proposed(stdout: str) -> list[str]:
    return [ln.split()[1] for ln in stdout.splitlines() if ln.startswith("  - ")]


def test_audit_numbers_per_architecture_and_strace_names(tmp_path: Path) -> None:
    folder = project(tmp_path)
    log = "\n".join(
        [
            AUDIT.format(comm="x", exe="/app/server", arch="c000003e", nr=149),  # mlock
            AUDIT.format(comm="x", exe="/app/server", arch="c00000b7", nr=140),  # setpriority
            AUDIT.format(
                comm="x", exe="/app/server", arch="c000003e", nr=0x40000000 + 122
            ),  # x32 setfsuid
            AUDIT.format(comm="x", exe="/app/server", arch="c000003e", nr=0),  # read: allowed
            "1234  fchown(3, 100, 100) = -1 EPERM (Operation not permitted)",
            "[pid  77] syncfs(4 <unfinished ...>",
            "+++ exited with 0 +++",
        ]
    )
    proc = learn(folder, log, "--service", "svc")
    assert proc.returncode == 0, proc.stderr
    assert proposed(proc.stdout) == ["fchown", "mlock", "setfsuid", "setpriority", "syncfs"]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"# {NS}/svc (") and lines[1] == "syscalls:"
    mlock = next(ln for ln in lines if ln.startswith("  - mlock"))
    assert "seen 1x by /app/server, first at " in mlock and "records.log:1" in mlock
    assert "capability IPC_LOCK" in mlock
    assert "dangerous" not in proc.stderr


def test_dangerous_calls_are_held_back_loudly(tmp_path: Path) -> None:
    folder = project(tmp_path, {"syscalls": ["mlock"]})
    log = AUDIT.format(comm="x", exe="/app/server", arch="c000003e", nr=321)  # bpf
    proc = learn(folder, log, "--service", f"{NS}/svc")
    assert proc.returncode == 0, proc.stderr
    assert proposed(proc.stdout) == ["mlock"]  # the manifest's own line stays
    assert "  # - bpf  # DANGEROUS, not proposed: loads programs into the kernel" in proc.stdout
    assert "warning: 1 dangerous syscall(s) seen and not proposed" in proc.stderr


def test_attribution_by_program_and_refusals(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    services = {"api": {"runtime": "python"}, "web": {"runtime": "node"}}
    write_project(folder, services, {"namespace": NS})
    node = AUDIT.format(comm="node", exe="/usr/bin/node", arch="c000003e", nr=149)
    other = AUDIT.format(comm="sh", exe="/bin/sh", arch="c000003e", nr=149)
    proc = learn(folder, f"{node}\n{other}\n")
    assert proc.returncode == 0, proc.stderr
    assert f"# {NS}/web (" in proc.stdout and f"# {NS}/api" not in proc.stdout
    assert "1 record(s) matched no single service (/bin/sh): name one with --service" in (
        proc.stdout
    )
    bad_arch = AUDIT.format(comm="x", exe="/x", arch="c0000028", nr=1)
    refused = learn(folder, bad_arch, "--service", "api")
    assert refused.returncode == 2 and "arch=c0000028 is not one cgen profiles cover" in (
        refused.stderr
    )


def test_number_table_is_libseccomps() -> None:
    script = REPO / "bench" / "seccomp_numbers.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- end to end under runc, with the real kernel log --------------------------------------

CALLS = ["mlock", "setpriority"]


@pytest.mark.container
def test_learn_loop_from_the_kernel_log(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test starts runc containers and reads the kernel log: needs root")
    gcc = require_tool("gcc")
    probe = tmp_path / "bin"
    probe.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    source = REPO / "tests" / "build" / "capprobe" / "capprobe.c"
    subprocess.run([gcc, "-static", "-O2", "-o", str(probe / "capprobe"), str(source)], check=True)
    where = f"/learn-{uuid.uuid4().hex[:12]}"

    def run(spec: dict[str, object]) -> dict[str, str]:
        folder = project(tmp_path / uuid.uuid4().hex, spec)
        out = folder.parent / "out"
        assert render_project(folder, out).returncode == 0
        svc = read_rendered(out, NS, "svc")
        res = run_in_runc([f"{where}/capprobe", *CALLS], svc.options(binds=[Bind(probe, where)]))
        assert res.exit_code == 0, res.output
        return {ln.split()[1]: ln.split(maxsplit=2)[2] for ln in res.stdout.splitlines()}

    audited = run({"seccomp": {"mode": "audit"}})
    assert audited == {c: "ok" for c in CALLS}
    kernel_log = subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout
    ours = [ln for ln in kernel_log.splitlines() if f'exe="{where}/capprobe"' in ln]
    assert ours, "no audit record of the run in the kernel log"
    folder = project(tmp_path / "learned")
    proc = learn(folder, "\n".join(ours), "--service", "svc")
    assert proc.returncode == 0, proc.stderr
    assert proposed(proc.stdout) == CALLS
    # The proposed lines, pasted into the manifest, make the enforced profile pass.
    lines = yaml.safe_load("\n".join(ln for ln in proc.stdout.splitlines() if ln[:1] != "#"))
    assert run({"syscalls": lines["syscalls"]}) == {c: "ok" for c in CALLS}
    assert run({}) == {c: "errno 1" for c in CALLS}
