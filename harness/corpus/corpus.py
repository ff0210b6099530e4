"""The seccomp corpus: real software each runtime's baseline must carry.

Each workload is a program that does real work (a framework serving and answering a
request, a database driver against a real server, a durable file write, a child process)
and prints "CORPUS OK" when it checked its own result. The same workload runs

- on the host under `strace -f` (bench/seccomp_corpus.py measures which syscalls it
  needs and writes profiles/seccomp/corpus.yaml), and
- in runc under the seccomp.json and securityContext cgen renders for its runtime
  (tests/test_seccomp_corpus.py).

Peers are real servers started here: PostgreSQL (Debian's postgresql) on a unix socket
and on loopback TCP, Redis (Debian's redis-server) on a unix socket. The PyPI and npm
packages come from tests/tools/install.sh (pinned in tests/tools/seccomp-corpus-*).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = Path(os.environ.get("CGEN_TOOLS_DIR", "/opt/cgen-tools")) / "seccomp-corpus"
PYLIB = TOOLS / "python"
NODELIB = TOOLS / "node" / "node_modules"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
JDBC_JAR = Path("/usr/share/java/postgresql.jar")
GOCACHE = "/var/tmp/cgen-corpus-gocache"
GO_SOURCES = "/usr/share/gocode"
INSTALL_HINT = "run tests/tools/install.sh to install it"

# Container-side paths of what the host folders are bound to.
CONTAINER = {
    "app": "/app",
    "bin": "/corpus-bin",
    "py": "/pylib",
    "node": "/nodelib",
    "tls": "/tls",
    "sock": "/sock",
}


@dataclass(frozen=True)
class Workload:
    """One corpus program: its runtime baseline, argv template and what it needs."""

    name: str
    runtime: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    # 'host' when a peer is only reachable over TCP on the host's loopback (JDBC).
    network: str = "loopback"


_PY = "/usr/bin/python3"
_PYENV = {"PYTHONPATH": "{py}", "PYTHONDONTWRITEBYTECODE": "1"}
_NODE = {"NODE_PATH": "{node}/node_modules"}
_JAVA = ("/usr/bin/java", "-Xmx128m", "-Xshare:auto")
WORKLOADS: tuple[Workload, ...] = (
    Workload("python/http.server", "python", (_PY, "{app}/python/http_server.py")),
    Workload("python/sqlite3-fsync", "python", (_PY, "{app}/python/sqlite_fsync.py")),
    Workload("python/logging-file", "python", (_PY, "{app}/python/logging_file.py")),
    Workload("python/subprocess", "python", (_PY, "{app}/python/subprocess_run.py")),
    Workload(
        "python/gunicorn+flask",
        "python",
        (_PY, "-m", "gunicorn", "-c", "{app}/python/gunicorn_conf.py", "flask_app:app"),
        {**_PYENV, "PYTHONPATH": "{py}:{app}/python"},
    ),
    Workload(
        "python/gunicorn+django",
        "python",
        (_PY, "-m", "gunicorn", "-c", "{app}/python/gunicorn_conf.py", "django_app:application"),
        {**_PYENV, "PYTHONPATH": "{py}:{app}/python"},
    ),
    Workload("python/grpcio", "python", (_PY, "{app}/python/grpc_echo.py"), _PYENV),
    Workload("python/uvicorn+fastapi", "python", (_PY, "{app}/python/uvicorn_fastapi.py"), _PYENV),
    Workload(
        "python/requests-tls", "python", (_PY, "{app}/python/requests_tls.py", "{tls}"), _PYENV
    ),
    Workload(
        "python/psycopg-postgresql",
        "python",
        (_PY, "{app}/python/psycopg_pg.py", "{sock}", "{pgport}"),
        _PYENV,
    ),
    Workload(
        "python/redis-py",
        "python",
        (_PY, "{app}/python/redis_py.py", "{sock}/redis.sock"),
        _PYENV,
    ),
    Workload("node/express", "node", ("/usr/bin/node", "{app}/node/express_app.js"), _NODE),
    Workload("node/fastify", "node", ("/usr/bin/node", "{app}/node/fastify_app.js"), _NODE),
    Workload(
        "node/pg-postgresql",
        "node",
        ("/usr/bin/node", "{app}/node/pg_client.js", "{sock}", "{pgport}"),
        _NODE,
    ),
    Workload(
        "node/ioredis",
        "node",
        ("/usr/bin/node", "{app}/node/ioredis_client.js", "{sock}/redis.sock"),
        _NODE,
    ),
    Workload("node/grpc-js", "node", ("/usr/bin/node", "{app}/node/grpc_echo.js"), _NODE),
    Workload("node/worker_threads", "node", ("/usr/bin/node", "{app}/node/worker_threads.js")),
    Workload("node/fs-fsync", "node", ("/usr/bin/node", "{app}/node/fs_fsync.js")),
    Workload("java/jdk-httpserver", "java", (*_JAVA, "-cp", "{bin}/java", "HttpServerMain")),
    Workload(
        "java/shell-entrypoint+spawn",
        "java",
        ("/bin/sh", "{app}/java/start.sh", "-cp", "{bin}/java", "Spawn"),
    ),
    Workload(
        "java/jdbc-postgresql",
        "java",
        (*_JAVA, "-cp", "{bin}/java:" + str(JDBC_JAR), "Jdbc", "{pgport}"),
        network="host",
    ),
    Workload("go/net-http-cgo", "go", ("{bin}/nethttp-cgo",)),
    Workload("go/net-http-static", "go", ("{bin}/nethttp-static",)),
    Workload(
        "go/database-sql-postgresql",
        "go",
        ("{bin}/sql-static", "{sock}", "{pgport}"),
    ),
    Workload("static/go-net-http", "static", ("{bin}/nethttp-static",)),
    Workload("static/go-database-sql", "static", ("{bin}/sql-static", "{sock}", "{pgport}")),
)


@dataclass(frozen=True)
class Corpus:
    """Host folders the workloads use, and the peers' addresses."""

    bin: Path
    tls: Path
    sock: Path
    pgport: int

    def host_paths(self) -> dict[str, str]:
        """Placeholder values for a run on the host."""
        return {
            "app": str(HERE),
            "bin": str(self.bin),
            "py": str(PYLIB),
            "node": str(NODELIB.parent),
            "tls": str(self.tls),
            "sock": str(self.sock),
            "pgport": str(self.pgport),
        }

    def container_paths(self) -> dict[str, str]:
        """Placeholder values inside the container."""
        return {**CONTAINER, "pgport": str(self.pgport)}

    def mounts(self) -> list[tuple[Path, str, bool]]:
        """(host, container, writable) bind mounts every workload gets."""
        return [
            (HERE, CONTAINER["app"], False),
            (self.bin, CONTAINER["bin"], False),
            (PYLIB, CONTAINER["py"], False),
            (NODELIB.parent, CONTAINER["node"], False),
            (self.tls, CONTAINER["tls"], False),
            (self.sock, CONTAINER["sock"], True),
        ]


def expand(w: Workload, paths: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The workload's argv and environment with the placeholders filled in."""
    argv = [a.format(**paths) for a in w.argv]
    env = {k: v.format(**paths) for k, v in w.env.items()}
    return argv, env


def require_installed() -> None:
    """Fail with the install hint when a corpus dependency is missing."""
    lib_pq = Path(GO_SOURCES) / "src" / "github.com" / "lib" / "pq"
    for path in (PYLIB / "flask", NODELIB / "express", JDBC_JAR, PG_BIN / "postgres", lib_pq):
        if not path.exists():
            raise RuntimeError(f"{path} is missing: {INSTALL_HINT}")
    for tool in ("redis-server", "go", "gcc", "javac", "openssl", "strace"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _build_go(dest: Path) -> None:
    for name, cgo in (("nethttp-static", "0"), ("nethttp-cgo", "1")):
        env = {
            **os.environ,
            "CGO_ENABLED": cgo,
            "GOFLAGS": "-mod=mod",
            "GOPROXY": "off",
            # Content-addressed and shared between runs: only the first build compiles
            # the standard library (with cgo, that is most of the time).
            "GOCACHE": GOCACHE,
            "GOPATH": str(dest / ".gopath"),
        }
        out = dest / name
        subprocess.run(
            ["go", "build", "-trimpath", "-o", str(out), "."],
            cwd=HERE / "go",
            env=env,
            check=True,
            capture_output=True,
        )
    shutil.rmtree(dest / ".gopath", ignore_errors=True)
    # database/sql + lib/pq: GOPATH mode over Debian's packaged Go sources, offline.
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        "GO111MODULE": "off",
        "GOPATH": GO_SOURCES,
        "GOPROXY": "off",
        "GOCACHE": GOCACHE,
    }
    subprocess.run(
        ["go", "build", "-trimpath", "-o", str(dest / "sql-static"), "."],
        cwd=HERE / "go-sql",
        env=env,
        check=True,
        capture_output=True,
    )


def _build_java(dest: Path) -> None:
    sources = [str(p) for p in sorted((HERE / "java").glob("*.java"))]
    subprocess.run(
        ["javac", "-d", str(dest), "-cp", str(JDBC_JAR), *sources],
        check=True,
        capture_output=True,
    )


def _tls(dest: Path) -> None:
    dest.mkdir(mode=0o755)
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            *("-nodes", "-keyout", str(dest / "key.pem"), "-out", str(dest / "cert.pem")),
            *("-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    for f in dest.iterdir():
        f.chmod(0o644)


def _wait_for(path: Path, proc: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(300):
        if path.exists():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up")


@contextlib.contextmanager
def _postgres(root: Path, sock: Path, port: int) -> Iterator[None]:
    data = root / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N"],
        user="postgres",
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            *(str(PG_BIN / "postgres"), "-D", str(data), "-k", str(sock), "-p", str(port)),
            *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
        ],
        user="postgres",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(sock / f".s.PGSQL.{port}", proc, "postgres")
        for _ in range(100):
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", str(sock), "-p", str(port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def _redis(root: Path, sock: Path) -> Iterator[None]:
    work = root / "redis"
    work.mkdir()
    proc = subprocess.Popen(
        [
            *("redis-server", "--port", "0", "--unixsocket", str(sock / "redis.sock")),
            *("--unixsocketperm", "777", "--save", "", "--appendonly", "no", "--dir", str(work)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(sock / "redis.sock", proc, "redis-server")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def corpus() -> Iterator[Corpus]:
    """Build the Go binaries, make a TLS pair, start PostgreSQL and Redis; clean up after."""
    require_installed()
    root = Path(tempfile.mkdtemp(prefix="cgen-corpus-", dir="/var/tmp"))
    try:
        root.chmod(0o755)
        bin_dir = root / "bin"
        bin_dir.mkdir(mode=0o755)
        _build_go(bin_dir)
        _build_java(bin_dir / "java")
        _tls(root / "tls")
        sock = root / "sock"
        sock.mkdir()
        sock.chmod(0o1777)
        port = _free_port()
        with _postgres(root, sock, port), _redis(root, sock):
            yield Corpus(bin_dir, root / "tls", sock, port)
    finally:
        shutil.rmtree(root, ignore_errors=True)


_CALL = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)")


def strace_syscalls(text: str) -> set[str]:
    """Syscall names in `strace -f` output (calls, unfinished and resumed ones)."""
    return {m.group(1) for line in text.splitlines() if (m := _CALL.match(line))}


def measure(w: Workload, c: Corpus, scratch: Path) -> tuple[set[str], str]:
    """Run w on the host as nobody under strace -f; (syscalls seen, output)."""
    data = Path(tempfile.mkdtemp(dir=scratch))
    data.chmod(0o777)
    trace = scratch / f"{w.name.replace('/', '_')}.strace"
    argv, env = expand(w, c.host_paths())
    # libuv would use io_uring on the host, which the profiles answer with ENOSYS: measure
    # the fallback path the container takes.
    full_env = {"PATH": "/usr/bin:/bin", "HOME": str(data), "LANG": "C.UTF-8", "TMPDIR": str(data)}
    full_env.update({**env, "UV_USE_IO_URING": "0"})
    proc = subprocess.run(
        ["strace", "-f", "-qq", "-o", str(trace), "-u", "nobody", *argv],
        cwd=data,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or "CORPUS OK" not in proc.stdout:
        raise RuntimeError(f"{w.name} failed on the host (exit {proc.returncode}):\n{output}")
    return strace_syscalls(trace.read_text()), output
