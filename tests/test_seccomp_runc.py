"""The seccomp baselines in profiles/seccomp hold up under a real container runtime.

Each measured runtime's workload (bench/seccomp/workloads) runs in runc with the profile
built from its baseline and must pass its self-check (HTTP + healthz, DNS, dependency
TCP, TLS, file write, threads) and exit 0 on SIGTERM; the probe must find the dangerous
syscalls denied; and removing one needed syscall must make the workload fail.

Needs root, runc, gcc, openssl, go, node, java and python3: tests/tools/install.sh.
"""

from __future__ import annotations

import json
import os
import platform
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from runc_harness import (
    INSTALL_HINT,
    REPO,
    RUNTIMES,
    Bind,
    HarnessError,
    RuncOptions,
    RunResult,
    Workload,
    build_probe,
    oci_profile,
    prepare_workload,
    probe_results,
    require_tool,
    run_in_runc,
    without_syscall,
)

PROFILES = REPO / "profiles" / "seccomp"
RESULTS = REPO / "bench" / "seccomp" / "results"
ALL_PROFILES = ("python", "node", "java", "go", "dotnet", "static")
PROBED = (
    "mount",
    "unshare",
    "clone_newuser",
    "ptrace",
    "keyctl",
    "bpf",
    "init_module",
    "reboot",
)
# Allowed for an unprivileged process by the kernel: only seccomp denies them.
NEED_SECCOMP_TO_DENY = ("clone_newuser", "unshare", "ptrace", "keyctl")
WORKLOAD_TIMEOUT_S = 120.0


@pytest.fixture(scope="session", autouse=True)
def _tools() -> None:
    if os.geteuid() != 0:
        pytest.fail("these tests start runc containers and need root")
    try:
        for tool in ("runc", "gcc", "openssl", "go"):
            require_tool(tool)
    except HarnessError as exc:
        pytest.fail(str(exc))
    for path in ("/usr/bin/python3", "/usr/bin/node", "/usr/bin/java"):
        if not Path(path).exists():
            pytest.fail(f"{path} is missing: {INSTALL_HINT}")


@pytest.fixture(scope="session")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workload]:
    base = tmp_path_factory.mktemp("workloads")
    return {rt: prepare_workload(rt, base / rt) for rt in RUNTIMES}


@pytest.fixture(scope="session")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_probe(tmp_path_factory.mktemp("probe") / "bin").parent


def baseline(runtime: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROFILES / f"{runtime}.yaml").read_text())
    return data


def run_workload(w: Workload, seccomp: dict[str, Any] | None) -> RunResult:
    opts = RuncOptions(
        seccomp=seccomp, binds=w.binds(), term_on="SELFCHECK OK", timeout_s=WORKLOAD_TIMEOUT_S
    )
    return run_in_runc(w.container_args(), opts)


def run_probe(probe_dir: Path, seccomp: dict[str, Any] | None) -> RunResult:
    return run_in_runc(
        ["/probe/probe"], RuncOptions(seccomp=seccomp, binds=[Bind(probe_dir, "/probe")])
    )


# --- the baseline files -----------------------------------------------------------------


@pytest.mark.parametrize("runtime", ALL_PROFILES)
def test_baseline_format(runtime: str) -> None:
    data = baseline(runtime)
    assert set(data) == {"source", "syscalls", "enosys"}
    assert set(data["source"]) == {"measured", "runtime", "workload", "date", "notes"}
    assert data["source"]["measured"] is (runtime not in ("dotnet", "static"))
    allow, enosys = data["syscalls"], data["enosys"]
    assert allow == sorted(set(allow)), "syscalls must be sorted and unique"
    assert enosys == sorted(set(enosys)), "enosys must be sorted and unique"
    assert not set(allow) & set(enosys)
    assert len(allow) <= 120
    assert "clone3" in enosys, "glibc probes clone3 and falls back to clone on ENOSYS"
    for must in ("execve", "fstatfs", "getdents64", "restart_syscall", "exit_group"):
        assert must in allow, f"{must} is needed by runc init or by every process"


@pytest.mark.parametrize("runtime", ALL_PROFILES)
def test_baseline_names_known_on_x86_64_and_aarch64(runtime: str) -> None:
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(f"pyseccomp is missing: {INSTALL_HINT}")
    data = baseline(runtime)
    names = [*data["syscalls"], *data["enosys"]]
    for arch in (pyseccomp.Arch.X86_64, pyseccomp.Arch.AARCH64):
        unknown = [n for n in names if pyseccomp.resolve_syscall(arch, n) == -1]
        assert not unknown, f"unknown to libseccomp: {unknown}"
    # x86_64-only names (open, stat, poll, epoll_wait ...) are skipped by libseccomp on
    # aarch64, so the name the same code calls there must be allowed too.
    native = pyseccomp.Arch.AARCH64
    aarch64_ok = {n for n in data["syscalls"] if pyseccomp.resolve_syscall(native, n) >= 0}
    for x86_only, equivalent in (
        ("open", "openat"),
        ("stat", "newfstatat"),
        ("poll", "ppoll"),
        ("epoll_wait", "epoll_pwait"),
        ("access", "faccessat"),
        ("readlink", "readlinkat"),
        ("unlink", "unlinkat"),
        ("dup2", "dup3"),
        ("pipe", "pipe2"),
        ("mkdir", "mkdirat"),
    ):
        if x86_only in data["syscalls"]:
            assert equivalent in aarch64_ok, f"{x86_only} allowed but not {equivalent}"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_measured_baseline_stays_close_to_measurement(runtime: str) -> None:
    result = json.loads((RESULTS / f"{runtime}.json").read_text())
    measured = set(result["calls"])
    allow = set(baseline(runtime)["syscalls"])
    enosys = set(baseline(runtime)["enosys"])
    assert measured <= allow | enosys, f"measured but not allowed: {measured - allow - enosys}"
    assert len(allow) <= 1.3 * len(measured), (len(allow), len(measured))


def test_capability_map() -> None:
    caps = yaml.safe_load((PROFILES / "capabilities.yaml").read_text())
    assert not [c for c in caps if c.startswith("CAP_")]
    assert {"mount", "umount2", "unshare", "setns", "bpf"} <= set(caps["SYS_ADMIN"])
    assert "ptrace" in caps["SYS_PTRACE"]
    assert caps["SYS_BOOT"] == ["reboot"]
    assert set(caps["SYS_MODULE"]) == {"init_module", "finit_module", "delete_module"}
    assert caps["NET_BIND_SERVICE"] == [] and caps["NET_ADMIN"] == []
    # clone is allowed to everyone, but only without namespace flags (oci_profile).
    gated = {n for names in caps.values() for n in names} - {"clone"}
    for runtime in ALL_PROFILES:
        leaked = gated & set(baseline(runtime)["syscalls"])
        assert not leaked, f"{runtime} allows capability-gated syscalls {leaked}"


def test_oci_profile_shape() -> None:
    prof = oci_profile(PROFILES / "python.yaml")
    assert prof["defaultAction"] == "SCMP_ACT_ERRNO" and prof["defaultErrnoRet"] == 1
    expected = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}[platform.machine()]
    assert prof["architectures"][0] == expected
    allow, clone, enosys = prof["syscalls"]
    assert allow["action"] == "SCMP_ACT_ALLOW" and "read" in allow["names"]
    assert "clone" not in allow["names"]
    assert clone["names"] == ["clone"] and clone["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
    assert enosys == {
        "names": baseline("python")["enosys"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": 38,
    }


# --- under runc -------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_workload_runs_under_its_profile(runtime: str, workloads: dict[str, Workload]) -> None:
    res = run_workload(workloads[runtime], oci_profile(PROFILES / f"{runtime}.yaml"))
    assert not res.timed_out, res.output
    assert "SELFCHECK OK" in res.stdout, res.output
    assert "tls=tls:hello TLSv1.3" in res.stdout, res.output
    assert "SHUTDOWN OK" in res.stdout, res.output
    assert res.exit_code == 0, res.output


def test_static_profile_runs_the_static_go_binary(workloads: dict[str, Workload]) -> None:
    res = run_workload(workloads["go"], oci_profile(PROFILES / "static.yaml"))
    assert res.exit_code == 0 and "SHUTDOWN OK" in res.stdout, res.output


# One syscall each workload needs after startup: without it, it must fail.
NEEDED = {"python": "listen", "node": "listen", "java": "listen", "go": "listen"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_removing_a_needed_syscall_breaks_the_workload(
    runtime: str, workloads: dict[str, Workload]
) -> None:
    prof = without_syscall(oci_profile(PROFILES / f"{runtime}.yaml"), NEEDED[runtime])
    res = run_workload(workloads[runtime], prof)
    assert res.exit_code != 0, res.output
    assert "SELFCHECK OK" not in res.stdout, res.output


def test_removing_what_runc_init_needs_stops_the_container(
    workloads: dict[str, Workload],
) -> None:
    prof = without_syscall(oci_profile(PROFILES / "go.yaml"), "fstatfs")
    res = run_workload(workloads["go"], prof)
    assert res.exit_code != 0 and "READY" not in res.stdout, res.output


@pytest.mark.parametrize("runtime", ALL_PROFILES)
def test_probe_finds_dangerous_syscalls_denied(runtime: str, probe_dir: Path) -> None:
    res = run_probe(probe_dir, oci_profile(PROFILES / f"{runtime}.yaml"))
    found = probe_results(res.stdout)
    assert set(found) == set(PROBED), res.output
    assert all(v.startswith("denied") for v in found.values()), res.output
    assert res.exit_code == 0, res.output


def test_probe_sees_the_calls_allowed_without_seccomp(probe_dir: Path) -> None:
    """Proof the probe can fail: same container, same uid, no capabilities, no filter."""
    res = run_probe(probe_dir, None)
    found = probe_results(res.stdout)
    for name in NEED_SECCOMP_TO_DENY:
        assert found[name].startswith("allowed"), res.output
    assert res.exit_code == 1, res.output


def test_runs_in_parallel(probe_dir: Path) -> None:
    prof = oci_profile(PROFILES / "static.yaml")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: run_probe(probe_dir, prof), range(3)))
    assert len({r.container_id for r in results}) == 3
    assert all(r.exit_code == 0 for r in results), [r.output for r in results]
