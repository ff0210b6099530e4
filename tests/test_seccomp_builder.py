"""The seccomp baselines and what `cgen render` composes from them (no container needed).

Baseline files: format, names libseccomp knows, close to the measurement. Rendered
profiles: baseline + capability groups + manifest syscalls, the clone filter unless
SYS_ADMIN, ENOSYS for probed calls, audit mode, unknown names as located errors, the
Security Profiles Operator delivery validated against the SeccompProfile CRD schema
(tests/data/spo), and `cgen syscalls`.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run_cgen
from runc_harness import INSTALL_HINT
from runc_workloads import REPO, RUNTIMES, privileged_namespace, read_rendered, write_project

PROFILES = REPO / "profiles" / "seccomp"
RESULTS = REPO / "bench" / "seccomp" / "results"
ALL_PROFILES = ("python", "node", "java", "go", "dotnet", "static")
ARCHES = ("X86_64", "X86", "X32", "AARCH64")
NS = "sc"
CRD = REPO / "tests" / "data" / "spo" / "seccompprofile-crd.yaml"


def pyseccomp() -> Any:
    try:
        import pyseccomp as module  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(f"pyseccomp is missing: {INSTALL_HINT}")
    return module


def baseline(runtime: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROFILES / f"{runtime}.yaml").read_text())
    return data


def capability_groups() -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load((PROFILES / "capabilities.yaml").read_text())
    return data


def harmless() -> set[str]:
    data: dict[str, Any] = yaml.safe_load((PROFILES / "harmless.yaml").read_text())
    return set(data["syscalls"])


def render(
    tmp_path: Path, services: dict[str, dict[str, Any]], config: dict[str, Any] | None = None
) -> Path:
    lowered = {"podSecurity": privileged_namespace(NS)}
    write_project(tmp_path / "p", services, {"namespace": NS, **lowered, **(config or {})})
    proc = run_cgen(["render", str(tmp_path / "p"), "--out", str(tmp_path / "out")])
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out"


def allowed(prof: dict[str, Any]) -> set[str]:
    return {n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}


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
    seccomp = pyseccomp()
    data = baseline(runtime)
    names = [*data["syscalls"], *data["enosys"]]
    for arch in (seccomp.Arch.X86_64, seccomp.Arch.AARCH64):
        unknown = [n for n in names if seccomp.resolve_syscall(arch, n) == -1]
        assert not unknown, f"unknown to libseccomp: {unknown}"
    # x86_64-only names (open, stat, poll ...) are skipped by libseccomp on aarch64, so
    # the name the same code calls there must be allowed too.
    native = seccomp.Arch.AARCH64
    aarch64_ok = {n for n in data["syscalls"] if seccomp.resolve_syscall(native, n) >= 0}
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
    corpus = yaml.safe_load((PROFILES / "corpus.yaml").read_text())["runtimes"][runtime]
    measured = set(result["calls"]) | set(corpus["syscalls"])
    allow = set(baseline(runtime)["syscalls"])
    enosys = set(baseline(runtime)["enosys"])
    assert measured <= allow | enosys, f"measured but not allowed: {measured - allow - enosys}"
    assert len(allow) <= 1.3 * len(measured), (len(allow), len(measured))


def test_capability_map() -> None:
    caps = capability_groups()
    assert not [c for c in caps if c.startswith("CAP_")]
    assert {"mount", "umount2", "unshare", "setns", "bpf"} <= set(caps["SYS_ADMIN"])
    assert "ptrace" in caps["SYS_PTRACE"]
    assert set(caps["SYS_BOOT"]) == {"reboot", "kexec_load", "kexec_file_load"}
    assert set(caps["SYS_MODULE"]) == {"init_module", "finit_module", "delete_module"}
    assert caps["NET_BIND_SERVICE"] == [] and caps["NET_ADMIN"] == []
    assert {"chown", "fchown", "fchownat", "lchown"} <= set(caps["CHOWN"])
    assert {"setuid", "setresuid", "setreuid", "setfsuid"} <= set(caps["SETUID"])
    assert {"setgid", "setresgid", "setregid", "setfsgid", "setgroups"} <= set(caps["SETGID"])
    # Every capability the kernel defines has an entry (Linux 6.x: 41 capabilities).
    assert len(caps) == 41
    # What the ownership, uid and chroot capabilities guard is in no baseline: declaring
    # them is what opens it.
    guarded = {n for c in ("CHOWN", "SETUID", "SETGID", "SYS_CHROOT", "MKNOD") for n in caps[c]}
    for runtime in ALL_PROFILES:
        leaked = guarded & set(baseline(runtime)["syscalls"])
        assert not leaked, f"{runtime} allows capability-gated syscalls {leaked}"


def test_syscall_names_file_is_what_libseccomp_knows() -> None:
    pyseccomp()
    script = REPO / "bench" / "seccomp" / "syscall_names.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- rendered profiles ------------------------------------------------------------------


def test_composition_baseline_capabilities_manifest(tmp_path: Path) -> None:
    spec = {"runtime": "python", "capabilities": ["SYS_PTRACE"], "syscalls": ["mlock", "read"]}
    out = render(tmp_path, {"svc": spec, "plain": {"runtime": "python"}})
    prof = read_rendered(out, NS, "svc").seccomp
    plain = {*baseline("python")["syscalls"], *harmless()}
    expected = {*plain, *capability_groups()["SYS_PTRACE"], "mlock"}
    assert allowed(prof) == expected
    assert allowed(read_rendered(out, NS, "plain").seccomp) == plain
    assert prof["architectures"] == [f"SCMP_ARCH_{a}" for a in ARCHES]
    seccomp = pyseccomp()
    for name in allowed(prof):
        arches = [getattr(seccomp.Arch, a) for a in ARCHES]
        assert any(seccomp.resolve_syscall(a, name) >= 0 for a in arches), name
    clone = [r for r in prof["syscalls"] if r["names"] == ["clone"]]
    assert clone[0]["args"] == [
        {"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    ]
    enosys = [r for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ERRNO"]
    assert enosys == [
        {"names": baseline("python")["enosys"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    ]


def test_sys_admin_lifts_the_clone_filter_as_docker_does(tmp_path: Path) -> None:
    out = render(tmp_path, {"admin": {"runtime": "go", "capabilities": ["SYS_ADMIN"]}})
    prof = read_rendered(out, NS, "admin").seccomp
    assert {"clone", "clone3", "mount", "unshare"} <= allowed(prof)
    assert not [r for r in prof["syscalls"] if "args" in r or r["action"] != "SCMP_ACT_ALLOW"]


def test_audit_mode_from_cgen_yaml_and_per_service(tmp_path: Path) -> None:
    services: dict[str, dict[str, Any]] = {
        "logged": {"runtime": "node"},
        "enforced": {"runtime": "node", "seccomp": {"mode": "enforce"}},
    }
    out = render(tmp_path, services, {"seccomp": {"mode": "audit"}})
    logged = read_rendered(out, NS, "logged").seccomp
    assert logged["defaultAction"] == "SCMP_ACT_LOG" and "defaultErrnoRet" not in logged
    enforced = read_rendered(out, NS, "enforced").seccomp
    assert enforced["defaultAction"] == "SCMP_ACT_ERRNO" and enforced["defaultErrnoRet"] == 1
    assert logged["syscalls"] == enforced["syscalls"]


def test_unknown_syscall_is_a_located_error(tmp_path: Path) -> None:
    write_project(
        tmp_path / "p", {"bad": {"runtime": "go", "syscalls": ["read", "ptrce"]}}, {"namespace": NS}
    )
    proc = run_cgen(["render", str(tmp_path / "p"), "--out", str(tmp_path / "out")])
    assert proc.returncode != 0
    lines = (tmp_path / "p" / "bad.yaml").read_text().splitlines()
    row = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "- ptrce")
    col = lines[row - 1].index("ptrce") + 1
    assert f"bad.yaml:{row}:{col}: spec.syscalls[1]: 'ptrce' is not a syscall" in proc.stderr
    assert "did you mean 'ptrace'?" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields rejected: the API server would prune them."""
    if isinstance(schema, dict):
        result = {k: strict(v) for k, v in schema.items()}
        if "properties" in schema and schema.get("type") == "object":
            result.setdefault("additionalProperties", False)
        return result
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_validator() -> Any:
    import jsonschema

    crd = yaml.safe_load(CRD.read_text())
    (version,) = crd["spec"]["versions"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the API server
    cls = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
    return cls(schema)


def test_operator_delivery(tmp_path: Path) -> None:
    services: dict[str, dict[str, Any]] = {
        "api": {"runtime": "java"},
        "tracer": {
            "runtime": "static",
            "capabilities": ["SYS_PTRACE"],
            "seccomp": {"mode": "audit"},
        },
    }
    out = render(tmp_path, services, {"seccomp": {"delivery": "operator"}})
    validator = crd_validator()
    for name in services:
        folder = out / NS / name
        obj = yaml.safe_load((folder / "seccompprofile.yaml").read_text())
        errors = [e.message for e in validator.iter_errors(obj)]
        assert not errors, errors
        assert obj["apiVersion"] == "security-profiles-operator.x-k8s.io/v1beta1"
        assert obj["kind"] == "SeccompProfile"
        assert (obj["metadata"]["name"], obj["metadata"]["namespace"]) == (name, NS)
        raw = json.loads((folder / "seccomp.json").read_text())
        raw.pop("defaultErrnoRet", None)  # runc's default for SCMP_ACT_ERRNO is EPERM too
        assert obj["spec"] == {"disabled": False, **raw}
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert "seccompprofile.yaml" in kustomization["resources"]
        assert read_rendered(out, NS, name).localhost_profile == f"operator/{NS}/{name}.json"
    # The validator can fail: a string errno and an unknown field are both rejected.
    bad = copy.deepcopy(obj)
    bad["spec"]["syscalls"][-1]["errnoRet"] = "38"
    bad["spec"]["defaultErrnoRet"] = 1
    assert len(list(validator.iter_errors(bad))) == 2


def test_localhost_delivery_has_no_operator_objects(tmp_path: Path) -> None:
    out = render(tmp_path, {"api": {"runtime": "go"}}, {"seccomp": {"localhostPrefix": "team"}})
    assert not (out / NS / "api" / "seccompprofile.yaml").exists()
    assert read_rendered(out, NS, "api").localhost_profile == f"team/{NS}/api.json"


# --- cgen syscalls ----------------------------------------------------------------------


def test_cgen_syscalls_names_every_reason(tmp_path: Path) -> None:
    spec = {"runtime": "python", "capabilities": ["SYS_PTRACE"], "syscalls": ["mlock"]}
    write_project(
        tmp_path / "p", {"svc": spec}, {"namespace": NS, "podSecurity": privileged_namespace(NS)}
    )
    proc = run_cgen(["syscalls", str(tmp_path / "p"), "--service", f"{NS}/svc"])
    assert proc.returncode == 0, proc.stderr
    body = proc.stdout.split("\n\n", 1)[1]
    rows = {ln.split()[0]: ln for ln in body.splitlines()}
    assert set(rows) == {
        *allowed(read_rendered(render(tmp_path, {"svc": spec}), NS, "svc").seccomp),
        "clone3",
    }
    assert "runtime python (needed by " in rows["read"] and "python/sqlite3-fsync" in rows["read"]
    assert "python/gunicorn+flask" in rows["chdir"] and "(needed by " in rows["chdir"]
    assert "harmless: reads the process's own working directory" in rows["getcwd"]
    assert "corpus (seccomp/corpus.yaml): python/grpcio, python/gunicorn+django" in proc.stdout
    assert "capability SYS_PTRACE (" in rows["ptrace"] and "svc.yaml:" in rows["ptrace"]
    assert "manifest spec.syscalls[0] (" in rows["mlock"]
    assert "only without namespace flags" in rows["clone"]
    assert rows["clone3"].split()[1] == "ENOSYS"
    assert "measured; CPython" in proc.stdout and "harness/workloads/python" in proc.stdout

    denied = run_cgen(["syscalls", str(tmp_path / "p"), "--syscall", "mount"])
    assert denied.returncode == 3, denied.stderr
    assert "mount  EPERM" in denied.stdout and "SYS_ADMIN would unlock it" in denied.stdout
    assert "dangerous: mounts filesystems" in denied.stdout
