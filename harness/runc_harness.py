"""Run a command in a real runc container with a given seccomp profile.

The workloads, the probe and rendered services that run in it are in runc_workloads.py.

The OCI bundle is built per run: a root filesystem of empty directories with read-only
bind mounts of the host's /usr and /etc (Debian's /bin, /lib, /lib64 and /sbin are
symlinks into /usr and are recreated as such), tmpfs for the writable paths, a new PID,
IPC, UTS and mount namespace, and either a new network namespace that has only
loopback (runc brings `lo` up) or the host's. The process runs with the given uid/gid,
exactly the given capabilities, `noNewPrivileges` and a read-only root.

Every run gets a unique container id and bundle directory, so runs can go in parallel;
the container is always removed with `runc delete -f` and the bundle deleted.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

INSTALL_HINT = "run tests/tools/install.sh to install it"

ENOSYS = 38
EPERM = 1
# CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (clone's flags are its first
# argument on x86_64 and aarch64; s390 swaps the first two).
CLONE_NAMESPACE_FLAGS = 0x7E020000

# Host top-level entries that are symlinks into /usr on merged-/usr systems.
_USR_LINKS = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")

_ARCHES: dict[str, list[str]] = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}


class HarnessError(RuntimeError):
    """The harness itself could not run (missing tool, bad arguments)."""


@dataclass(frozen=True)
class Bind:
    """A bind mount from the host into the container."""

    source: Path
    destination: str
    readonly: bool = True


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    container_id: str

    @property
    def output(self) -> str:
        return f"exit={self.exit_code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class RuncOptions:
    seccomp: Mapping[str, Any] | None = None
    uid: int = 65532
    gid: int = 65532
    capabilities: Sequence[str] = ()
    # linux.sysctl of the runtime spec: the pod's securityContext.sysctls, set by runc in
    # the container's own namespaces (net.* only with a network namespace of its own).
    sysctls: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = "/"
    binds: Sequence[Bind] = ()
    tmpfs: Sequence[str] = ("/tmp",)
    network: Literal["loopback", "host"] = "loopback"
    no_new_privileges: bool = True
    readonly_root: bool = True
    timeout_s: float = 60.0
    # When a stdout line contains this text, send SIGTERM through `runc kill` (the
    # same stop path kubelet takes); the run then waits for the process to exit.
    term_on: str | None = None


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise HarnessError(f"{name} is not installed: {INSTALL_HINT}")
    return path


def seccomp_architectures() -> list[str]:
    machine = platform.machine()
    if machine not in _ARCHES:
        raise HarnessError(f"unsupported architecture {machine}")
    return list(_ARCHES[machine])


def oci_profile(baseline_yaml: Path) -> dict[str, Any]:
    """Build an OCI `linux.seccomp` object from a profiles/seccomp/<runtime>.yaml baseline.

    Default action ERRNO(EPERM); the baseline's `syscalls` and the harmless list beside
    it (harmless.yaml) are allowed (clone only without namespace flags) and its `enosys`
    probes answered with ERRNO(ENOSYS), so runtimes fall back instead of failing.
    """
    data = yaml.safe_load(baseline_yaml.read_text())
    harmless = yaml.safe_load((baseline_yaml.parent / "harmless.yaml").read_text())
    allow = sorted(set(data["syscalls"]) | set(harmless["syscalls"]))
    enosys = sorted(set(data.get("enosys") or []) - set(allow))
    rules: list[dict[str, Any]] = [
        {"names": [n for n in allow if n != "clone"], "action": "SCMP_ACT_ALLOW"}
    ]
    if "clone" in allow:
        # As in Docker's profile: clone only without namespace flags (threads, fork),
        # else clone(CLONE_NEWUSER...) would do what the denied unshare does.
        rules.append(
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "args": [
                    {
                        "index": 0,
                        "value": CLONE_NAMESPACE_FLAGS,
                        "valueTwo": 0,
                        "op": "SCMP_CMP_MASKED_EQ",
                    }
                ],
            }
        )
    if enosys:
        rules.append({"names": enosys, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": EPERM,
        "architectures": seccomp_architectures(),
        "syscalls": rules,
    }


def options_from_deployment(deployment: Mapping[str, Any], **extra: Any) -> RuncOptions:
    """RuncOptions that apply a rendered Deployment's container securityContext.

    uid/gid, added capabilities (after drop ALL), the pod's sysctls,
    allowPrivilegeEscalation=false as noNewPrivileges, readOnlyRootFilesystem, and every
    emptyDir mount as a tmpfs; anything the harness cannot reproduce (privileged, other
    drops, other volumes) is an error.
    """
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ctx = container["securityContext"]
    pod_ctx = pod.get("securityContext", {})
    if ctx.get("privileged") or ctx["capabilities"].get("drop") != ["ALL"]:
        raise HarnessError(f"unsupported securityContext {ctx}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    tmpfs = []
    for mount in container.get("volumeMounts", []):
        if "emptyDir" not in volumes[mount["name"]]:
            raise HarnessError(f"only emptyDir volumes are reproduced, not {mount}")
        tmpfs.append(mount["mountPath"])
    return RuncOptions(
        uid=ctx.get("runAsUser", pod_ctx.get("runAsUser")),
        gid=ctx.get("runAsGroup", pod_ctx.get("runAsGroup")),
        capabilities=tuple(ctx["capabilities"].get("add", ())),
        sysctls={s["name"]: s["value"] for s in pod_ctx.get("sysctls", ())},
        no_new_privileges=ctx.get("allowPrivilegeEscalation") is False,
        readonly_root=ctx.get("readOnlyRootFilesystem") is True,
        tmpfs=tuple(tmpfs),
        **extra,
    )


def without_syscall(profile: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A copy of an OCI seccomp profile with `name` removed from every rule."""
    rules = [
        {**rule, "names": [n for n in rule["names"] if n != name]} for rule in profile["syscalls"]
    ]
    return {**profile, "syscalls": [r for r in rules if r["names"]]}


def _mounts(opts: RuncOptions) -> list[dict[str, Any]]:
    nodev = ["nosuid", "noexec", "nodev"]
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": nodev},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": [*nodev, "mode=1777", "size=65536k"],
        },
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [*nodev, "ro"]},
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": [*nodev, "relatime", "ro"],
        },
        _bind(Bind(Path("/usr"), "/usr")),
        _bind(Bind(Path("/etc"), "/etc")),
    ]
    for path in opts.tmpfs:
        mounts.append(
            {
                "destination": path,
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777", "size=65536k"],
            }
        )
    mounts.extend(_bind(b) for b in opts.binds)
    return mounts


def _bind(b: Bind) -> dict[str, Any]:
    options = ["rbind", "nosuid", "nodev", "ro" if b.readonly else "rw"]
    return {
        "destination": b.destination,
        "type": "bind",
        "source": str(b.source),
        "options": options,
    }


def _config(args: Sequence[str], opts: RuncOptions) -> dict[str, Any]:
    caps = [c if c.startswith("CAP_") else f"CAP_{c}" for c in opts.capabilities]
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if opts.network == "loopback":
        namespaces.append({"type": "network"})
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    env.update(opts.env)
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": {"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 1024}},
        "maskedPaths": [
            "/proc/acpi",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/proc/scsi",
            "/sys/firmware",
        ],
        "readonlyPaths": [
            "/proc/asound",
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger",
        ],
    }
    if opts.seccomp is not None:
        linux["seccomp"] = dict(opts.seccomp)
    if opts.sysctls:
        linux["sysctl"] = dict(opts.sysctls)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": opts.uid, "gid": opts.gid},
            "args": list(args),
            "env": [f"{k}={v}" for k, v in env.items()],
            "cwd": opts.cwd,
            # Ambient capabilities survive execve for a non-root uid only when they are
            # also inheritable, so inheritable carries the same list.
            "capabilities": {
                k: caps for k in ("bounding", "effective", "permitted", "inheritable", "ambient")
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}],
            "noNewPrivileges": opts.no_new_privileges,
        },
        "root": {"path": "rootfs", "readonly": opts.readonly_root},
        "hostname": "cgen-test",
        "mounts": _mounts(opts),
        "linux": linux,
    }


def _make_rootfs(rootfs: Path, opts: RuncOptions) -> None:
    rootfs.mkdir(mode=0o755)
    os.chmod(rootfs, 0o755)
    for name in ("usr", "etc", "proc", "dev", "sys", "tmp", "run", "var"):
        (rootfs / name).mkdir(mode=0o755)
    for name in _USR_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            os.symlink(os.readlink(host), rootfs / name)
        elif host.is_dir():
            raise HarnessError(f"/{name} is a real directory: this harness expects merged /usr")
    for dest in [*opts.tmpfs, *(b.destination for b in opts.binds)]:
        (rootfs / dest.lstrip("/")).mkdir(mode=0o755, parents=True, exist_ok=True)
    for dest in opts.tmpfs:
        # runc gives a tmpfs the mode of the directory it is mounted on.
        os.chmod(rootfs / dest.lstrip("/"), 0o1777)


def _reader(stream: Any, sink: list[str], on_line: Any) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
        on_line(line)
    stream.close()


def _runc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runc", *args], capture_output=True, text=True, check=False)


def run_in_runc(args: Sequence[str], opts: RuncOptions | None = None) -> RunResult:
    """Run `args` in a fresh runc container; always removes the container and bundle."""
    opts = opts or RuncOptions()
    require_tool("runc")
    if os.geteuid() != 0:
        raise HarnessError("runc containers here need root")
    cid = f"cgen-{uuid.uuid4().hex[:16]}"
    bundle = Path(tempfile.mkdtemp(prefix=f"{cid}-"))
    try:
        _make_rootfs(bundle / "rootfs", opts)
        (bundle / "config.json").write_text(json.dumps(_config(args, opts), indent=2))
        return _run_bundle(cid, bundle, opts)
    finally:
        _runc("delete", "-f", cid)
        shutil.rmtree(bundle, ignore_errors=True)


def _run_bundle(cid: str, bundle: Path, opts: RuncOptions) -> RunResult:
    start = time.monotonic()
    proc = subprocess.Popen(
        ["runc", "run", "--bundle", str(bundle), cid],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    err: list[str] = []
    termed = threading.Event()

    def on_stdout(line: str) -> None:
        if opts.term_on is not None and opts.term_on in line and not termed.is_set():
            termed.set()
            _runc("kill", cid, "TERM")

    readers = [
        threading.Thread(target=_reader, args=(proc.stdout, out, on_stdout), daemon=True),
        threading.Thread(target=_reader, args=(proc.stderr, err, lambda _l: None), daemon=True),
    ]
    for t in readers:
        t.start()
    timed_out = False
    try:
        code = proc.wait(timeout=opts.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _runc("kill", cid, "KILL")
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    for t in readers:
        t.join(timeout=10)
    return RunResult(
        exit_code=code,
        stdout="".join(out),
        stderr="".join(err),
        timed_out=timed_out,
        duration_s=time.monotonic() - start,
        container_id=cid,
    )
