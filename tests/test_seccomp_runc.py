"""The seccomp profiles `cgen render` writes hold up under a real container runtime.

One project with a service per runtime is rendered once by the real CLI. Each measured
runtime's workload (harness/workloads) then runs in runc with exactly that
service's seccomp.json and its Deployment's container securityContext (uid/gid, no
capabilities, no new privileges, read-only root, writable paths as tmpfs) and must pass
its self-check (HTTP + healthz, DNS, dependency TCP, TLS, file write, threads) and exit 0
on SIGTERM; the probe must find the dangerous syscalls denied (ptrace allowed only where
SYS_PTRACE is declared, everything logged instead of denied in audit mode); and removing
one needed syscall from the generated profile must make the workload fail.

Needs root, runc, gcc, openssl, go, node, java and python3: tests/tools/install.sh.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from runc_harness import (
    INSTALL_HINT,
    Bind,
    HarnessError,
    RunResult,
    oci_profile,
    require_tool,
    run_in_runc,
    without_syscall,
)
from runc_workloads import (
    REPO,
    RUNTIMES,
    Rendered,
    Workload,
    build_probe,
    prepare_workload,
    privileged_namespace,
    probe_results,
    read_rendered,
    render_project,
    write_project,
)

pytestmark = pytest.mark.container

NAMESPACE = "seccomp-test"
# Service name -> its manifest's spec additions. One service per runtime profile, plus
# one that declares SYS_PTRACE and one in audit mode.
SERVICES: dict[str, dict[str, Any]] = {
    "python": {"runtime": "python"},
    "node": {"runtime": "node"},
    "java": {"runtime": "java"},
    "go": {"runtime": "go"},
    "dotnet": {"runtime": "dotnet"},
    "static": {"runtime": "static"},
    "tracer": {"runtime": "static", "capabilities": ["SYS_PTRACE"]},
    "audited": {"runtime": "static", "seccomp": {"mode": "audit"}},
}
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
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    base = tmp_path_factory.mktemp("render")
    write_project(
        base / "project",
        SERVICES,
        {"namespace": NAMESPACE, "podSecurity": privileged_namespace(NAMESPACE)},
    )
    proc = render_project(base / "project", base / "out")
    assert proc.returncode == 0, proc.stderr
    return {name: read_rendered(base / "out", NAMESPACE, name) for name in SERVICES}


@pytest.fixture(scope="session")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workload]:
    base = tmp_path_factory.mktemp("workloads")
    return {rt: prepare_workload(rt, base / rt) for rt in RUNTIMES}


@pytest.fixture(scope="session")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_probe(tmp_path_factory.mktemp("probe") / "bin").parent


def run_workload(w: Workload, svc: Rendered, seccomp: dict[str, Any] | None = None) -> RunResult:
    opts = svc.options(binds=w.binds(), term_on="SELFCHECK OK", timeout_s=WORKLOAD_TIMEOUT_S)
    if seccomp is not None:
        opts.seccomp = seccomp
    return run_in_runc(w.container_args(), opts)


def run_probe(probe_dir: Path, svc: Rendered, seccomp: Any = "rendered") -> RunResult:
    opts = svc.options(binds=[Bind(probe_dir, "/probe")])
    if seccomp != "rendered":
        opts.seccomp = seccomp
    return run_in_runc(["/probe/probe"], opts)


# --- what was rendered ------------------------------------------------------------------


def test_rendered_constraints(rendered: dict[str, Rendered]) -> None:
    for name, svc in rendered.items():
        opts = svc.options()
        assert opts.uid >= 10000 and opts.gid == opts.uid, name
        assert opts.no_new_privileges and opts.readonly_root, name
        assert opts.tmpfs == ("/tmp",), name
        expected_caps = tuple(SERVICES[name].get("capabilities", ()))
        assert tuple(opts.capabilities) == expected_caps, name
        # The kubelet reads <prefix>/<ns>/<name>.json: the file rendered as seccomp.json.
        assert svc.localhost_profile == f"cgen/{NAMESPACE}/{name}.json"


@pytest.mark.parametrize("runtime", ("python", "node", "java", "go", "dotnet", "static"))
def test_rendered_profile_equals_independent_builder(
    runtime: str, rendered: dict[str, Rendered]
) -> None:
    """The generator's rules equal those the harness builds from the baseline on its own."""
    own = oci_profile(REPO / "profiles" / "seccomp" / f"{runtime}.yaml")
    generated = rendered[runtime].seccomp
    assert generated["syscalls"] == own["syscalls"]
    assert generated["defaultAction"] == own["defaultAction"] == "SCMP_ACT_ERRNO"
    assert generated["defaultErrnoRet"] == 1
    assert set(own["architectures"]) - {"SCMP_ARCH_ARM"} <= set(generated["architectures"])


# --- under runc -------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_workload_runs_under_its_rendered_profile(
    runtime: str, workloads: dict[str, Workload], rendered: dict[str, Rendered]
) -> None:
    res = run_workload(workloads[runtime], rendered[runtime])
    assert not res.timed_out, res.output
    assert "SELFCHECK OK" in res.stdout, res.output
    assert "tls=tls:hello TLSv1.3" in res.stdout, res.output
    assert "SHUTDOWN OK" in res.stdout, res.output
    assert res.exit_code == 0, res.output


def test_static_profile_runs_the_static_go_binary(
    workloads: dict[str, Workload], rendered: dict[str, Rendered]
) -> None:
    res = run_workload(workloads["go"], rendered["static"])
    assert res.exit_code == 0 and "SHUTDOWN OK" in res.stdout, res.output


# One syscall each workload needs after startup: without it, it must fail.
NEEDED = {"python": "listen", "node": "listen", "java": "listen", "go": "listen"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_removing_a_needed_syscall_breaks_the_workload(
    runtime: str, workloads: dict[str, Workload], rendered: dict[str, Rendered]
) -> None:
    svc = rendered[runtime]
    res = run_workload(workloads[runtime], svc, without_syscall(svc.seccomp, NEEDED[runtime]))
    assert res.exit_code != 0, res.output
    assert "SELFCHECK OK" not in res.stdout, res.output


def test_removing_what_runc_init_needs_stops_the_container(
    workloads: dict[str, Workload], rendered: dict[str, Rendered]
) -> None:
    svc = rendered["go"]
    res = run_workload(workloads["go"], svc, without_syscall(svc.seccomp, "fstatfs"))
    assert res.exit_code != 0 and "READY" not in res.stdout, res.output


@pytest.mark.parametrize("name", ("python", "node", "java", "go", "dotnet", "static"))
def test_probe_finds_dangerous_syscalls_denied(
    name: str, probe_dir: Path, rendered: dict[str, Rendered]
) -> None:
    res = run_probe(probe_dir, rendered[name])
    found = probe_results(res.stdout)
    assert set(found) == set(PROBED), res.output
    assert all(v.startswith("denied") for v in found.values()), res.output
    assert res.exit_code == 0, res.output


def test_declared_sys_ptrace_allows_ptrace_only(
    probe_dir: Path, rendered: dict[str, Rendered]
) -> None:
    res = run_probe(probe_dir, rendered["tracer"])
    found = probe_results(res.stdout)
    assert set(found) == set(PROBED), res.output
    assert found["ptrace"].startswith("allowed"), res.output
    assert all(v.startswith("denied") for k, v in found.items() if k != "ptrace"), res.output


def test_audit_mode_logs_instead_of_denying(probe_dir: Path, rendered: dict[str, Rendered]) -> None:
    svc = rendered["audited"]
    assert svc.seccomp["defaultAction"] == "SCMP_ACT_LOG"
    res = run_probe(probe_dir, svc)
    found = probe_results(res.stdout)
    for name in NEED_SECCOMP_TO_DENY:
        assert found[name].startswith("allowed"), res.output
    # What the kernel itself refuses without capabilities stays refused.
    for name in ("mount", "init_module", "reboot"):
        assert found[name].startswith("denied"), res.output


def test_probe_sees_the_calls_allowed_without_seccomp(
    probe_dir: Path, rendered: dict[str, Rendered]
) -> None:
    """Proof the probe can fail: same container, same uid, no capabilities, no filter."""
    res = run_probe(probe_dir, rendered["static"], None)
    found = probe_results(res.stdout)
    for name in NEED_SECCOMP_TO_DENY:
        assert found[name].startswith("allowed"), res.output
    assert res.exit_code == 1, res.output


def test_runs_in_parallel(probe_dir: Path, rendered: dict[str, Rendered]) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: run_probe(probe_dir, rendered["static"]), range(3)))
    assert len({r.container_id for r in results}) == 3
    assert all(r.exit_code == 0 for r in results), [r.output for r in results]
