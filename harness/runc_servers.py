"""Real third-party servers (PostgreSQL, Redis, nginx, memcached, MariaDB, RabbitMQ) in
runc, driven by their real clients.

Debian 12's own builds of the servers stand in for their images: the host's /usr and
/etc are bound read-only into the container by runc_harness, the server runs with a
profile's (or a rendered workload's) uid/gid, environment, command and arguments, its
writable paths as tmpfs, its persistent path on a host folder owned by the uid (what
fsGroup does to a claim) and its ConfigMap files bound read-only. The container gets a
network namespace of its own that only has loopback; the clients run on the host inside
that namespace (`nsenter --net`), so they are not confined by the server's profile and
no port of the host is used.

A server that is not started through its image's entrypoint in real life runs its
`command`/`args` exactly. PostgreSQL and MariaDB rely on their image's entrypoint to
initialise an empty data directory and then exec the server with the given arguments:
the stand-in here is a short /bin/sh script doing the same with the same programs
(`initdb`, `mariadb-install-db`) under the same profile.

`started` runs a server under a given OCI seccomp profile, or under `strace -f` and no
filter (the measurement); the sessions of real work are in server_sessions.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from runc_harness import (
    Bind,
    HarnessError,
    RuncOptions,
    _config,
    _make_rootfs,
    _reader,
    _runc,
    require_tool,
)

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "profiles"
SERVERS = ("postgresql", "redis", "nginx", "memcached", "mariadb", "rabbitmq")

PG_BIN = "/usr/lib/postgresql/15/bin"
# Where each server's Debian build keeps the programs its image has on PATH.
_PATH = f"{PG_BIN}:/usr/lib/rabbitmq/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian's /usr/sbin/rabbitmq-server insists on root or the rabbitmq user; the scripts in
# /usr/lib/rabbitmq/bin (first on PATH) are the ones the official image runs.
PASSWORD = "cgen-test-password"


# Optional calls every server profile answers with ENOSYS (glibc and liburing fall back).
ENOSYS_ANSWERED = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")


class ServerError(RuntimeError):
    """A server did not start, answer or stop as expected."""


@dataclass(frozen=True)
class Workload:
    """What runs: the container's uid, environment, command line and volumes."""

    name: str
    uid: int
    gid: int
    env: Mapping[str, str]
    command: Sequence[str]
    args: Sequence[str]
    tmpfs: Sequence[str]
    storage: Sequence[str]
    config: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def argv(self) -> list[str]:
        """The command line, with the image-entrypoint stand-in where the image has one."""
        entry = _ENTRYPOINTS.get(self.name)
        if not self.command and entry is not None:
            return ["/bin/sh", "-c", entry, self.name, *self.args]
        if not self.command:
            raise HarnessError(f"{self.name}: no command and no entrypoint stand-in")
        return [*self.command, *self.args]


# The image entrypoints' first-start work, done by the same programs: make the data
# folder, initialise it once (superuser password from the secret file), exec the server.
_ENTRYPOINTS = {
    "postgresql": (
        'set -e; mkdir -p "$PGDATA"; chmod 700 "$PGDATA"; '
        'if [ ! -s "$PGDATA/PG_VERSION" ]; then '
        "initdb --username=postgres --auth-local=trust --auth-host=scram-sha-256 "
        '--pwfile="$POSTGRES_PASSWORD_FILE" --encoding=UTF8 >/dev/null; fi; '
        'exec postgres "$@"'
    ),
    "mariadb": (
        'set -e; D=/var/lib/mysql; for a; do case "$a" in --datadir=*) D="${a#--datadir=}";; '
        "esac; done; "
        'if [ ! -d "$D/mysql" ]; then '
        'mariadb-install-db --datadir="$D" --auth-root-authentication-method=normal '
        "--skip-test-db --skip-name-resolve --tmpdir=/tmp >/dev/null; "
        'P="$(cat "$MARIADB_ROOT_PASSWORD_FILE")"; '
        "printf \"FLUSH PRIVILEGES;\\nDELETE FROM mysql.global_priv WHERE User='root' AND "
        "Host<>'localhost';\\nFLUSH PRIVILEGES;\\nALTER USER root@localhost IDENTIFIED BY '%s';"
        "\\nCREATE USER root@'%%' IDENTIFIED BY '%s';\\n"
        'GRANT ALL ON *.* TO root@\'%%\' WITH GRANT OPTION;\\n" "$P" "$P" '
        '| mariadbd --datadir="$D" --tmpdir=/tmp --skip-networking --bootstrap >/dev/null; fi; '
        'exec mariadbd "$@"'
    ),
}


def workload_from_profile(name: str) -> Workload:
    """The profile's own defaults (profiles/<name>.yaml), as a manifest leaving them out."""
    data = yaml.safe_load((PROFILES / f"{name}.yaml").read_text())
    d = data["defaults"]
    config = {c["mountPath"]: dict(c["files"]) for c in d.get("config", [])}
    return Workload(
        name=name,
        uid=data["user"],
        gid=data["user"],
        env=dict(d.get("env", {})),
        command=list(d.get("command", [])),
        args=list(d.get("args", [])),
        tmpfs=list(d.get("writablePaths", [])),
        storage=[s["mountPath"] for s in d.get("storage", [])],
        config=config,
    )


def workload_from_rendered(
    name: str, pod_owner: Mapping[str, Any], objects: Sequence[Any]
) -> Workload:
    """The rendered StatefulSet/Deployment's container: uid/gid, env, command, args and
    volumes (emptyDir -> tmpfs, claim -> host folder, ConfigMap -> read-only files).

    Anything the stand-in cannot reproduce (privileged, added capabilities, privilege
    escalation, a writable root) is an error, never silently dropped."""
    pod = pod_owner["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ctx = container["securityContext"]
    pod_ctx = pod.get("securityContext", {})
    if (
        ctx.get("privileged")
        or ctx["capabilities"].get("drop") != ["ALL"]
        or ctx["capabilities"].get("add")
        or ctx.get("allowPrivilegeEscalation") is not False
        or ctx.get("readOnlyRootFilesystem") is not True
    ):
        raise HarnessError(f"unsupported securityContext {ctx}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in pod_owner["spec"].get("volumeClaimTemplates", [])}
    configmaps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o.get("kind") == "ConfigMap"
    }
    tmpfs: list[str] = []
    storage: list[str] = []
    config: dict[str, dict[str, str]] = {}
    secrets: dict[str, dict[str, str]] = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if mount["name"] in claims and volume is None:
            storage.append(mount["mountPath"])
        elif volume is not None and "emptyDir" in volume:
            tmpfs.append(mount["mountPath"])
        elif volume is not None and "configMap" in volume:
            config[mount["mountPath"]] = dict(configmaps[volume["configMap"]["name"]])
        elif volume is not None and "secret" in volume:
            secrets[mount["mountPath"]] = {}
        else:
            raise HarnessError(f"volume not reproduced: {mount}")
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    return Workload(
        name=name,
        uid=ctx.get("runAsUser", pod_ctx.get("runAsUser")),
        gid=ctx.get("runAsGroup", pod_ctx.get("runAsGroup")),
        env=env,
        command=list(container.get("command", [])),
        args=list(container.get("args", [])),
        tmpfs=tmpfs,
        storage=storage,
        config=config,
        secrets=secrets,
    )


# --- one running container ---------------------------------------------------------------


class Running:
    """A server container started with `runc run`; clients reach it through its netns."""

    def __init__(self, cid: str, bundle: Path, proc: subprocess.Popen[str], traced: bool) -> None:
        self.cid = cid
        self.bundle = bundle
        self.proc = proc
        self.traced = traced
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=_reader, args=(proc.stdout, self.out, _ignore), daemon=True),
            threading.Thread(target=_reader, args=(proc.stderr, self.err, _ignore), daemon=True),
        ]
        for t in self.readers:
            t.start()
        self._pid: int | None = None

    @property
    def output(self) -> str:
        return f"--- stdout\n{''.join(self.out)}\n--- stderr\n{''.join(self.err)}"

    def pid(self) -> int:
        """The container's first process, as the host sees it."""
        if self._pid is None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                state = _runc("state", self.cid)
                if state.returncode == 0:
                    pid = int(json.loads(state.stdout)["pid"])
                    if pid > 0:
                        self._pid = pid
                        break
                if self.proc.poll() is not None:
                    raise ServerError(f"container exited {self.proc.returncode}\n{self.output}")
                time.sleep(0.05)
            else:
                raise ServerError(f"container {self.cid} has no pid\n{self.output}")
        assert self._pid is not None
        return self._pid

    def client(
        self, argv: Sequence[str], *, stdin: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a client program on the host inside the container's network namespace."""
        nsenter = require_tool("nsenter")
        return subprocess.run(
            [nsenter, f"--net=/proc/{self.pid()}/ns/net", "--", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, **(env or {})},
        )

    def wait_port(self, port: int, timeout_s: float = 120.0) -> None:
        """Wait until something accepts TCP connections on 127.0.0.1:port."""
        code = (
            "import socket,sys\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "except OSError:\n"
            "    sys.exit(1)\n"
        )
        self.wait_until(
            lambda: self.client(["/usr/bin/python3", "-c", code]).returncode == 0, timeout_s
        )

    def wait_until(self, ready: Callable[[], bool], timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.proc.poll() is not None:
                raise ServerError(f"server exited {self.proc.returncode}\n{self.output}")
            if time.monotonic() > deadline:
                raise ServerError(f"server not ready after {timeout_s}s\n{self.output}")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 120.0) -> int:
        """SIGTERM, as kubelet stops a pod, and wait for the exit code."""
        if self.proc.poll() is None:
            if self.traced:
                # strace is the container's first process: signal the server it traces,
                # and once it is gone end what it left behind (rabbitmq's epmd), which
                # the container's end would take with it without strace.
                server = _children(self.pid())[0]
                os.kill(server, signal.SIGTERM)
                deadline = time.monotonic() + timeout_s
                while Path(f"/proc/{server}").exists() and self.proc.poll() is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                for pid in _descendants(self.pid()):
                    os.kill(pid, signal.SIGKILL)
            else:
                _runc("kill", self.cid, "TERM")
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            _runc("kill", self.cid, "KILL")
            self.proc.wait(timeout=30)
            raise ServerError(f"no exit {timeout_s}s after SIGTERM\n{self.output}") from exc
        for t in self.readers:
            t.join(timeout=10)
        return code


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(c) for c in text.split()]


def _descendants(pid: int) -> list[int]:
    found = _children(pid)
    for child in list(found):
        found += _descendants(child)
    return found


def _ignore(_line: str) -> None:
    return None


@dataclass
class Layout:
    """Host folders standing in for a pod's volumes (they outlive one container)."""

    root: Path
    workload: Workload

    def path(self, kind: str, mount: str) -> Path:
        return self.root / kind / mount.strip("/").replace("/", "_")

    def prepare(self) -> None:
        w = self.workload
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for mount in w.storage:
            folder = self.path("claim", mount)
            if not folder.exists():
                folder.mkdir(parents=True)
                os.chown(folder, w.uid, w.gid)  # what fsGroup does to a fresh claim
                folder.chmod(0o770)
        for mount, files in [*w.config.items(), *w.secrets.items()]:
            folder = self.path("files", mount)
            folder.mkdir(parents=True, exist_ok=True)
            for fname, text in files.items():
                (folder / fname).write_text(text)
                os.chown(folder / fname, 0, w.gid)
                (folder / fname).chmod(0o440)
            for parent in (folder.parent, folder):
                parent.chmod(0o755)
        # A file mount below /etc needs its folder in the image; the host's /etc is bound
        # read-only, so such a folder of the "image" is a copy with the mount point made.
        for top in self._etc_tops():
            copy = self.root / "image" / top
            if not copy.exists():
                shutil.copytree(Path("/etc") / top, copy, symlinks=True)
        for mount in [*w.config, *w.secrets]:
            if mount.startswith("/etc/"):
                (self.root / "image" / mount.removeprefix("/etc/")).mkdir(
                    parents=True, exist_ok=True
                )
        # The image's passwd names the uid (initdb looks its own user up).
        passwd = self.root / "passwd"
        text = Path("/etc/passwd").read_text()
        passwd.write_text(f"{text}cgen:x:{w.uid}:{w.gid}:cgen:/tmp:/usr/sbin/nologin\n")
        passwd.chmod(0o644)

    def empty_claims(self) -> None:
        """Throw the claims' contents away (the folders stay, owned by the uid)."""
        for mount in self.workload.storage:
            folder = self.path("claim", mount)
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()

    def _etc_tops(self) -> list[str]:
        mounts = [*self.workload.config, *self.workload.secrets]
        return sorted({m.split("/")[2] for m in mounts if m.startswith("/etc/")})

    def binds(self) -> list[Bind]:
        w = self.workload
        binds = [Bind(self.root / "passwd", "/etc/passwd")]
        binds += [Bind(self.root / "image" / top, f"/etc/{top}") for top in self._etc_tops()]
        binds += [Bind(self.path("claim", m), m, readonly=False) for m in w.storage]
        binds += [Bind(self.path("files", m), m) for m in [*w.config, *w.secrets]]
        return binds


@contextmanager
def started(
    layout: Layout,
    seccomp: Mapping[str, Any] | None,
    *,
    trace: Path | None = None,
    argv: Sequence[str] | None = None,
) -> Iterator[Running]:
    """Start the workload (or argv) in runc; always deletes the container and bundle.

    With `trace`, the server runs under `strace -f -o <trace>` and no seccomp filter."""
    require_tool("runc")
    w = layout.workload
    command = list(argv if argv is not None else w.argv)
    binds = layout.binds()
    if trace is not None:
        if seccomp is not None:
            raise HarnessError("a traced run has no seccomp filter")
        trace.parent.mkdir(parents=True, exist_ok=True)
        trace.parent.chmod(0o777)
        binds.append(Bind(trace.parent, "/trace", readonly=False))
        # The probes a profile answers with ENOSYS get ENOSYS here too, so the trace
        # shows the fallbacks the server takes under its profile (clone, libaio).
        inject = f"inject={','.join(ENOSYS_ANSWERED)}:error=ENOSYS"
        strace = [require_tool("strace"), "-f", "-qq", "-e", inject, "-o", f"/trace/{trace.name}"]
        command = [*strace, "--", *command]
    opts = RuncOptions(
        seccomp=seccomp,
        uid=w.uid,
        gid=w.gid,
        env={"PATH": _PATH, **w.env},
        binds=binds,
        tmpfs=tuple(w.tmpfs),
        network="loopback",
        no_new_privileges=True,
        readonly_root=True,
    )
    cid = f"cgen-srv-{uuid.uuid4().hex[:12]}"
    bundle = Path(tempfile.mkdtemp(prefix=f"{cid}-", dir="/var/tmp"))
    try:
        _make_rootfs(bundle / "rootfs", opts)
        (bundle / "config.json").write_text(json.dumps(_config(command, opts), indent=2))
        proc = subprocess.Popen(
            ["runc", "run", "--bundle", str(bundle), cid],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = Running(cid, bundle, proc, traced=trace is not None)
        try:
            yield running
        finally:
            if proc.poll() is None:
                _runc("kill", cid, "KILL")
                proc.wait(timeout=30)
    finally:
        _runc("delete", "-f", cid)
        shutil.rmtree(bundle, ignore_errors=True)
