"""The harmless list every profile allows and the dangerous set no baseline may allow.

Both lists are data (profiles/seccomp/harmless.yaml, dangerous.yaml): each entry has a
reason, no name is in both, every name is known to libseccomp; every shipped baseline
and every rendered profile without capabilities is free of dangerous calls; a project's
own baseline that lists one is refused at its line; a capability or a `spec.syscalls`
line that opens one renders, with a warning at that line from `cgen validate`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run_cgen
from runc_workloads import REPO, privileged_namespace, read_rendered, write_project

PROFILES = REPO / "profiles" / "seccomp"
ALL_PROFILES = ("python", "node", "java", "go", "dotnet", "static")
NS = "pol"
# What the first reports of broken services named (issue: http.server, file writers).
MUST_BE_HARMLESS = (
    "getcwd",
    "fsync",
    "fdatasync",
    "pwrite64",
    "rename",
    "unlink",
    "mkdir",
    "ftruncate",
    "statfs",
    "prctl",
    "wait4",
    "pipe2",
)
MUST_BE_DANGEROUS = (
    "mount",
    "unshare",
    "setns",
    "ptrace",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "personality",
    "open_by_handle_at",
    "clone3",
)


def syscalls(name: str) -> dict[str, str]:
    data: dict[str, Any] = yaml.safe_load((PROFILES / f"{name}.yaml").read_text())
    assert set(data) == {"source", "syscalls"}
    result: dict[str, str] = data["syscalls"]
    return result


def known() -> set[str]:
    text = (PROFILES / "syscall-names.txt").read_text()
    return {ln for ln in text.splitlines() if ln and not ln.startswith("#")}


def test_lists_are_reasoned_disjoint_and_known() -> None:
    harmless, dangerous = syscalls("harmless"), syscalls("dangerous")
    assert not set(harmless) & set(dangerous)
    for name, why in [*harmless.items(), *dangerous.items()]:
        assert isinstance(why, str) and len(why) > 10, name
        assert name in known(), name
    assert set(MUST_BE_HARMLESS) <= set(harmless)
    assert set(MUST_BE_DANGEROUS) <= set(dangerous)
    assert len(harmless) <= 60, "the harmless list stays short"


@pytest.mark.parametrize("runtime", ALL_PROFILES)
def test_no_baseline_allows_a_dangerous_syscall(runtime: str) -> None:
    data = yaml.safe_load((PROFILES / f"{runtime}.yaml").read_text())
    assert not set(data["syscalls"]) & set(syscalls("dangerous"))


def test_rendered_profiles_hold_harmless_and_no_dangerous(tmp_path: Path) -> None:
    services = {rt: {"runtime": rt} for rt in ALL_PROFILES}
    write_project(tmp_path / "p", services, {"namespace": NS})
    proc = run_cgen(["render", str(tmp_path / "p"), "--out", str(tmp_path / "out")])
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    for rt in ALL_PROFILES:
        rules = read_rendered(tmp_path / "out", NS, rt).seccomp["syscalls"]
        allowed = {n for r in rules if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
        assert set(MUST_BE_HARMLESS) | set(syscalls("harmless")) <= allowed, rt
        assert not allowed & set(syscalls("dangerous")), rt


def own_runtime(project: Path, allow: list[str]) -> None:
    """A project profiles folder with runtime 'mine' whose baseline allows `allow`."""
    folder = project / "profiles"
    (folder / "seccomp").mkdir(parents=True)
    data = yaml.safe_load((REPO / "profiles" / "static.yaml").read_text())
    data.update(name="mine", seccomp="mine")
    (folder / "mine.yaml").write_text(yaml.safe_dump(data))
    base = yaml.safe_load((PROFILES / "static.yaml").read_text())
    base["syscalls"] = sorted(set(base["syscalls"]) | set(allow))
    (folder / "seccomp" / "mine.yaml").write_text(yaml.safe_dump(base, sort_keys=False))


def test_a_baseline_with_a_dangerous_syscall_is_refused_at_its_line(tmp_path: Path) -> None:
    project = tmp_path / "p"
    write_project(project, {"svc": {"runtime": "mine"}}, {"namespace": NS, "profiles": "profiles"})
    own_runtime(project, ["ptrace"])
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = (project / "profiles" / "seccomp" / "mine.yaml").read_text().splitlines()
    row = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "- ptrace")
    assert f"seccomp/mine.yaml:{row}:" in proc.stderr, proc.stderr
    assert "'ptrace' is dangerous" in proc.stderr and "Traceback" not in proc.stderr
    # The same baseline without it loads: the refusal is about ptrace.
    shutil.rmtree(project / "profiles")
    own_runtime(project, ["getcwd"])
    ok = run_cgen(["validate", str(project)])
    assert ok.returncode == 0, ok.stderr


def test_capability_or_manifest_line_opens_a_dangerous_syscall_with_a_warning(
    tmp_path: Path,
) -> None:
    spec = {"runtime": "go", "capabilities": ["SYS_PTRACE"], "syscalls": ["read", "bpf"]}
    project = tmp_path / "p"
    config = {"namespace": NS, "podSecurity": privileged_namespace(NS)}
    write_project(project, {"svc": spec, "calm": {"runtime": "go"}}, config)
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0, proc.stderr
    lines = (project / "svc.yaml").read_text().splitlines()
    cap_row = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "- SYS_PTRACE")
    bpf_row = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "- bpf")
    col = lines[bpf_row - 1].index("bpf") + 1
    warnings = [ln for ln in proc.stderr.splitlines() if "dangerous" in ln]
    assert len(warnings) == 2 and all(w.startswith("warning:") for w in warnings), proc.stderr
    assert any(
        f"svc.yaml:{cap_row}:" in w
        and "capability SYS_PTRACE opens dangerous" in w
        and "ptrace" in w
        for w in warnings
    ), warnings
    assert any(
        f"svc.yaml:{bpf_row}:{col}: spec.syscalls[1]: 'bpf' is a dangerous syscall" in w
        for w in warnings
    ), warnings
    out = tmp_path / "out"
    assert run_cgen(["render", str(project), "--out", str(out)]).returncode == 0
    rules = read_rendered(out, NS, "svc").seccomp["syscalls"]
    allowed = {n for r in rules if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
    assert {"ptrace", "bpf"} <= allowed
