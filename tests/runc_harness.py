"""Run a command in a real runc container with a given seccomp profile.

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

    Default action ERRNO(EPERM); the baseline's `syscalls` are allowed (clone only
    without namespace flags) and its `enosys` probes answered with ERRNO(ENOSYS), so
    runtimes fall back instead of failing.
    """
    data = yaml.safe_load(baseline_yaml.read_text())
    allow = sorted(set(data["syscalls"]))
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

    uid/gid, added capabilities (after drop ALL), allowPrivilegeEscalation=false as
    noNewPrivileges, readOnlyRootFilesystem, and every emptyDir mount as a tmpfs; anything
    the harness cannot reproduce (privileged, other drops, other volumes) is an error.
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


# --- workloads from bench/seccomp/workloads ---------------------------------------------

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = REPO / "bench" / "seccomp" / "workloads"
RUNTIMES = ("python", "node", "java", "go")

_ARGV: dict[str, tuple[str, ...]] = {
    "python": ("/usr/bin/python3", "{app}/app.py", "{config}/config.properties"),
    "node": ("/usr/bin/node", "{app}/app.js", "{config}/config.properties"),
    "java": ("/usr/bin/java", "-Xmx256m", "{app}/Main.java", "{config}/config.properties"),
    "go": ("{app}/workload", "{config}/config.properties"),
}
_TOOLS: dict[str, str] = {
    "python": "/usr/bin/python3",
    "node": "/usr/bin/node",
    "java": "/usr/bin/java",
    "go": "go",
}


@dataclass(frozen=True)
class Workload:
    """A prepared workload: its app dir (mounted at /app) and config dir (at /config)."""

    runtime: str
    app_dir: Path
    config_dir: Path

    def _argv(self, app: str, config: str) -> list[str]:
        return [a.format(app=app, config=config) for a in _ARGV[self.runtime]]

    def host_args(self) -> list[str]:
        return self._argv(str(self.app_dir), str(self.config_dir))

    def container_args(self) -> list[str]:
        return self._argv("/app", "/config")

    def binds(self) -> list[Bind]:
        return [Bind(self.app_dir, "/app"), Bind(self.config_dir, "/config")]


def _write_tls(dest: Path) -> None:
    openssl = require_tool("openssl")
    dest.mkdir(mode=0o755)
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(dest / "key.pem"),
            "-out",
            str(dest / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    for f in dest.iterdir():
        f.chmod(0o644)  # the container user must read the throwaway key


def build_go(dest: Path) -> Path:
    """Compile the Go workload (static, CGO_ENABLED=0) into dest/workload."""
    go = require_tool("go")
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        "GOFLAGS": "-mod=mod",
        "GOPROXY": "off",
        "GOCACHE": str(dest / ".gocache"),
        "GOPATH": str(dest / ".gopath"),
    }
    out = dest / "workload"
    subprocess.run(
        [go, "build", "-trimpath", "-o", str(out), "."],
        cwd=WORKLOADS / "go",
        env=env,
        check=True,
        capture_output=True,
    )
    shutil.rmtree(dest / ".gocache", ignore_errors=True)
    shutil.rmtree(dest / ".gopath", ignore_errors=True)
    return out


def prepare_workload(runtime: str, workdir: Path, port: int = 8080) -> Workload:
    """Lay out a runnable workload under workdir: app dir, config with a fresh TLS pair."""
    if runtime not in _ARGV:
        raise HarnessError(f"unknown runtime {runtime}")
    require_tool(_TOOLS[runtime])
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    app = workdir / "app"
    if runtime == "go":
        app.mkdir(mode=0o755)
        build_go(app)
    else:
        shutil.copytree(WORKLOADS / runtime, app)
    config = workdir / "config"
    config.mkdir(mode=0o755)
    text = (WORKLOADS / runtime / "config.properties").read_text()
    lines = [f"port={port}" if ln.startswith("port=") else ln for ln in text.splitlines()]
    (config / "config.properties").write_text("\n".join(lines) + "\n")
    _write_tls(config / "tls")
    for path in [app, *app.rglob("*"), config, *config.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o044 | (0o011 if path.is_dir() else 0))
    return workload_at(runtime, workdir)


def workload_at(runtime: str, workdir: Path) -> Workload:
    return Workload(runtime, workdir / "app", workdir / "config")


PROBE_SOURCE = REPO / "bench" / "seccomp" / "probe" / "probe.c"


def build_probe(dest: Path) -> Path:
    """Compile bench/seccomp/probe/probe.c statically into dest/probe."""
    gcc = require_tool("gcc")
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)
    out = dest / "probe"
    subprocess.run(
        [
            gcc,
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-stack-protector",
            "-O2",
            "-Wall",
            "-Wextra",
            "-o",
            str(out),
            str(PROBE_SOURCE),
        ],
        check=True,
        capture_output=True,
    )
    out.chmod(0o755)
    return out


def probe_results(stdout: str) -> dict[str, str]:
    """{syscall: 'denied EPERM' | 'allowed ...'} from the probe's output."""
    results = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0] == "probe":
            results[parts[1]] = parts[2]
    return results


# --- services rendered by cgen ----------------------------------------------------------

EXAMPLE_LOCK = REPO / "examples" / "shop" / "images.lock"
DIGEST = "sha256:" + "ab" * 32


def write_project(
    folder: Path, services: Mapping[str, Mapping[str, Any]], config: Mapping[str, Any]
) -> None:
    """A cgen project: cgen.yaml, the example's images.lock and one manifest per service.

    Each service listens on TCP 8080, may write /tmp, and merges its entry into `spec`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cgen.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=True))
    shutil.copy(EXAMPLE_LOCK, folder / "images.lock")
    for name, extra in services.items():
        spec = {
            "image": f"registry.example.com/test/{name}:1.0.0@{DIGEST}",
            "ports": [{"name": "http", "port": 8080}],
            "writablePaths": ["/tmp"],
            **extra,
        }
        manifest = {
            "apiVersion": "cgen/v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": spec,
        }
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def render_project(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `cgen render` on folder into out."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "generator", "render", str(folder), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@dataclass(frozen=True)
class Rendered:
    """One service's rendered seccomp.json and Deployment, read back from the output."""

    seccomp: dict[str, Any]
    deployment: dict[str, Any]

    def options(self, **extra: Any) -> RuncOptions:
        """The Deployment's container constraints with this seccomp profile."""
        return options_from_deployment(self.deployment, seccomp=self.seccomp, **extra)

    @property
    def localhost_profile(self) -> str:
        """The container's seccompProfile.localhostProfile."""
        pod = self.deployment["spec"]["template"]["spec"]
        value: str = pod["containers"][0]["securityContext"]["seccompProfile"]["localhostProfile"]
        return value


def read_rendered(out: Path, namespace: str, name: str) -> Rendered:
    """Read out/<namespace>/<name>/{seccomp.json,deployment.yaml}."""
    folder = out / namespace / name
    return Rendered(
        json.loads((folder / "seccomp.json").read_text()),
        yaml.safe_load((folder / "deployment.yaml").read_text()),
    )
