"""Real image builds for the Dockerfile tests: local base images, a local registry, podman.

No registry on the internet is reachable in CI, so the base images that the runtime
profiles name are made here, honestly, from the host's own runtime files:

- a *build* base per runtime: the toolchain (CPython + pip, Node + npm, Go) plus a POSIX
  shell and a few coreutils, as the official `python`/`node`/`golang` images have;
- a *runtime* base per runtime without any shell or package manager, laid out like
  Google's distroless images (`/nodejs/bin/node`, `python3` on PATH, an empty static
  base for Go), with the `nonroot` user 65532 in /etc/passwd.

Every file and the ELF libraries it needs (from `ldd`) go into a deterministic tar
(mtime 0, uid 0), which `podman import` turns into an image; `skopeo copy` pushes it to
Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1, where
`cgen pin` resolves its tag to a digest exactly as it would on Docker Hub.

All podman/buildah/skopeo state lives in a private storage folder (CONTAINERS_STORAGE_CONF)
and their engine settings in a private containers.conf (CONTAINERS_CONF, which makes them
ignore the machine's own files), so the tests neither see nor touch the machine's images
or configuration.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 600
# runc as OCI runtime (crun refuses hybrid cgroup setups) and explicit ulimits (the
# defaults copy the host's, which may exceed what an unprivileged container may set).
CONTAINERS_CONF = (
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n'
    '[engine]\nruntime = "runc"\n'
)
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnonroot:x:65532:\n"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USR_LINKS = ("bin", "lib", "lib64", "sbin")
SHELL_TOOLS = (
    "/usr/bin/dash",
    "/usr/bin/mkdir",
    "/usr/bin/rm",
    "/usr/bin/cp",
    "/usr/bin/env",
    "/usr/bin/ls",
)


class HarnessError(RuntimeError):
    """A tool failed; the message carries its output."""


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    input_bytes: bytes | None = None,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; raise HarnessError with its output when it fails and check is set."""
    args = [os.fspath(a) for a in argv]
    proc = subprocess.run(
        args,
        env={**os.environ, **(env or {})},
        capture_output=True,
        input=input_bytes.decode() if input_bytes else None,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise HarnessError(
            f"{' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ root filesystems


class RootFs:
    """Files for one image, collected from the host, written as a deterministic tar."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, bytes | str | None, int]] = {}
        for name in USR_LINKS:
            self.entries[name] = ("link", f"usr/{name}", 0o777)
        for name in ("usr/bin", "usr/lib", "usr/lib64", "usr/sbin", "etc", "root", "home"):
            self.entries[name] = ("dir", None, 0o755)
        self.entries["tmp"] = ("dir", None, 0o1777)
        self.entries["home/nonroot"] = ("dir", None, 0o755)
        self.text("etc/passwd", PASSWD)
        self.text("etc/group", GROUP)

    def text(self, path: str, content: str, mode: int = 0o644) -> None:
        """Add a file with the given content."""
        self._parents(path)
        self.entries[path.strip("/")] = ("file", content.encode(), mode)

    def link(self, path: str, target: str) -> None:
        """Add a symbolic link."""
        self._parents(path)
        self.entries[path.strip("/")] = ("link", target, 0o777)

    def _parents(self, path: str) -> None:
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), ("dir", None, 0o755))

    def host(self, source: str, dest: str | None = None, *, exclude: Sequence[str] = ()) -> None:
        """Copy a host file or tree (symlinks kept) to dest, with its ELF libraries."""
        src = Path(source)
        target = (dest or _canonical(source)).strip("/")
        if src.is_symlink():
            self.link(target, os.readlink(src))
            resolved = (src.parent / os.readlink(src)).resolve()
            if dest is None:
                self.host(str(resolved))
            return
        if src.is_dir():
            self._parents(target + "/x")
            for child in sorted(src.iterdir()):
                rel = f"{target}/{child.name}"
                if any(rel == e or rel.startswith(e + "/") for e in exclude):
                    continue
                self.host(str(child), rel, exclude=exclude)
            return
        self._parents(target)
        self.entries[target] = ("file", str(src), src.stat().st_mode & 0o7777)
        for lib in _elf_libraries(src):
            self.host(lib)

    def write(self, path: Path) -> str:
        """Write the tar (sorted, mtime 0, root-owned); returns its sha256 for cache keys."""
        import hashlib

        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(self.entries):
                kind, data, mode = self.entries[name]
                info = tarfile.TarInfo(name)
                info.mode, info.mtime, info.uid, info.gid = mode, 0, 0, 0
                if kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif kind == "link":
                    info.type, info.linkname = tarfile.SYMTYPE, str(data)
                    tar.addfile(info)
                else:
                    body = data if isinstance(data, bytes) else Path(str(data)).read_bytes()
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))
        return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(path: str) -> str:
    """The path with its folders resolved (/lib/x -> /usr/lib/x), the last part kept."""
    p = Path(path)
    return str(p.parent.resolve() / p.name)


def _elf_libraries(path: Path) -> list[str]:
    with path.open("rb") as handle:
        if handle.read(4) != b"\x7fELF":
            return []
    proc = run(["ldd", path], check=False)
    libs: list[str] = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs.append(parts[2])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def with_shell(fs: RootFs) -> RootFs:
    """A POSIX shell (dash as /bin/sh) and the few coreutils that RUN lines use."""
    for tool in SHELL_TOOLS:
        fs.host(tool)
    fs.link("usr/bin/sh", "dash")
    return fs


def python_build() -> RootFs:
    """CPython 3.11 with pip (from Debian's pip wheel) and a shell: like python:3.11-slim."""
    fs = with_shell(RootFs())
    fs.host("/usr/bin/python3.11")
    fs.link("usr/bin/python3", "python3.11")
    fs.host(
        "/usr/lib/python3.11",
        exclude=("usr/lib/python3.11/EXTERNALLY-MANAGED", "usr/lib/python3.11/test"),
    )
    import zipfile

    wheels = sorted(Path("/usr/share/python-wheels").glob("pip-*.whl"))
    if not wheels:
        raise HarnessError("no pip wheel in /usr/share/python-wheels (apt install python3-pip)")
    with zipfile.ZipFile(wheels[-1]) as whl:
        for member in sorted(whl.namelist()):
            if not member.endswith("/"):
                fs.entries[f"usr/local/lib/python3.11/dist-packages/{member}"] = (
                    "file",
                    whl.read(member),
                    0o644,
                )
                fs._parents(f"usr/local/lib/python3.11/dist-packages/{member}")
    fs.text("usr/local/bin/pip", '#!/bin/sh\nexec python3 -m pip "$@"\n', 0o755)
    # A file the build image keeps in /app: the build stage must start without it, so it
    # never reaches the runtime image (test_build_images checks what /app holds there).
    fs.text("app/kept-by-the-build-image.txt", "not part of the app\n", 0o644)
    return fs


def python_runtime() -> RootFs:
    """CPython 3.11 only: no shell, no pip; like distroless python3-debian12."""
    fs = RootFs()
    fs.host("/usr/bin/python3.11")
    fs.link("usr/bin/python3", "python3.11")
    fs.host(
        "/usr/lib/python3.11",
        exclude=(
            "usr/lib/python3.11/EXTERNALLY-MANAGED",
            "usr/lib/python3.11/test",
            "usr/lib/python3.11/ensurepip",
            "usr/lib/python3.11/idlelib",
            "usr/lib/python3.11/tkinter",
            "usr/lib/python3.11/lib2to3",
            "usr/lib/python3.11/config-3.11-x86_64-linux-gnu",
        ),
    )
    return fs


def _node() -> tuple[str, str]:
    """The host's node binary and npm package folder (Node's own layout or Debian's)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise HarnessError("node and npm are needed on the host; run tests/tools/install.sh")
    npm_root = Path(npm).resolve().parent.parent  # .../npm/bin/npm-cli.js -> .../npm
    return str(Path(node).resolve()), str(npm_root)


def node_build() -> RootFs:
    """Node with npm and a shell: like node:20-bookworm-slim."""
    node, npm = _node()
    fs = with_shell(RootFs())
    fs.host(node, "usr/local/bin/node")
    fs.host(npm, "usr/local/lib/node_modules/npm")
    fs.link("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")
    return fs


def node_runtime() -> RootFs:
    """Node only, at distroless' /nodejs/bin/node: no shell, no npm."""
    fs = RootFs()
    fs.host(_node()[0], "nodejs/bin/node")
    return fs


def go_build() -> RootFs:
    """The Go toolchain (without its prebuilt std archives, rebuilt on use) and a shell."""
    fs = with_shell(RootFs())
    root = Path("/usr/lib/go").resolve()
    fs.host(
        str(root),
        exclude=(
            f"{str(root).strip('/')}/pkg/linux_amd64",
            f"{str(root).strip('/')}/test",
            f"{str(root).strip('/')}/misc",
            f"{str(root).strip('/')}/pkg/tool/linux_amd64/pprof",
            f"{str(root).strip('/')}/pkg/tool/linux_amd64/trace",
        ),
    )
    for linked in ("src", "api", "pkg/include"):  # symlinks into /usr/share on Debian
        fs.host(str((root / linked).resolve()))
    fs.link("usr/bin/go", f"../lib/{root.name}/bin/go")
    return fs


def static_runtime() -> RootFs:
    """Nothing but /etc/passwd, /etc/group and /tmp: like distroless static-debian12."""
    return RootFs()


BASES = {
    "python-build": python_build,
    "python-runtime": python_runtime,
    "node-build": node_build,
    "node-runtime": node_runtime,
    "go-build": go_build,
    "static-runtime": static_runtime,
}


# ------------------------------------------------------------------ container tools


@dataclass
class Containers:
    """podman, buildah and skopeo on a private image store."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment that points every containers tool at the private store and settings."""
        return {
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
        }

    @classmethod
    def create(cls, root: Path) -> Containers:
        """A fresh private store below root."""
        root.mkdir(parents=True, exist_ok=True)
        (root / "storage.conf").write_text(
            '[storage]\ndriver = "overlay"\n'
            f'graphroot = "{root / "graph"}"\nrunroot = "{root / "run"}"\n'
        )
        (root / "containers.conf").write_text(CONTAINERS_CONF)
        return cls(root)

    def podman(
        self, *args: str | os.PathLike[str], check: bool = True, timeout: float = TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """Run podman on the private store."""
        return run(["podman", *args], env=self.env, check=check, timeout=timeout)

    def skopeo(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run skopeo on the private store."""
        return run(["skopeo", *args], env=self.env)

    def storage_ref(self, image: str) -> str:
        """A containers-storage: reference into this private store."""
        return f"containers-storage:[overlay@{self.root / 'graph'}+{self.root / 'run'}]{image}"

    def import_tar(self, tar: Path, name: str, workdir: str = "/") -> None:
        """podman import the tar as image `name` with a PATH like the real bases."""
        self.podman(
            "import", "--change", f"ENV {PATH_ENV}", "--change", f"WORKDIR {workdir}", tar, name
        )

    def push(self, local: str, remote: str) -> str:
        """skopeo copy a local image to the registry (plain http); returns the pushed digest."""
        digest_file = self.root / "digest.txt"
        self.skopeo(
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--digestfile",
            str(digest_file),
            self.storage_ref(local),
            f"docker://{remote}",
        )
        return digest_file.read_text().strip()

    def push_index(self, local: str, remote: str) -> str:
        """Push the image as a one-platform OCI index, as multi-platform tags are published;
        returns the index digest."""
        index = local.replace(":", "-index:", 1) if ":" in local else f"{local}-index"
        digest_file = self.root / "digest.txt"
        self.podman("manifest", "rm", index, check=False)
        self.podman("manifest", "create", index)
        self.podman("manifest", "add", index, f"containers-storage:{local}")
        self.podman(
            "manifest",
            "push",
            "--all",
            "--quiet",
            "--tls-verify=false",
            "--digestfile",
            str(digest_file),
            index,
            f"docker://{remote}",
        )
        self.podman("manifest", "rm", index, check=False)
        return digest_file.read_text().strip()

    def pull(self, remote: str) -> None:
        """podman pull from the local registry (plain http)."""
        self.podman("pull", "--quiet", "--tls-verify=false", remote)

    def remove_all(self) -> None:
        """Delete every container and image of the private store."""
        self.podman("rm", "--all", "--force", check=False)
        self.podman("rmi", "--all", "--force", check=False)


# ------------------------------------------------------------------ the registry


class Registry:
    """Debian's docker-registry on 127.0.0.1:<free port>, plain http, temp storage."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the registry and wait until /v2/ answers."""
        binary = shutil.which("docker-registry")
        if binary is None:
            raise HarnessError("docker-registry is not installed; run tests/tools/install.sh")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {
                        "filesystem": {"rootdirectory": str(self.root / "data")},
                        "delete": {"enabled": True},
                    },
                    "http": {"addr": self.host},
                }
            )
        )
        log = (self.root / "registry.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2),
            ):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise HarnessError(
            "docker-registry did not start: "
            + (self.root / "registry.log").read_text(errors="replace")
        )

    def stop(self) -> None:
        """Stop the registry process this harness started (by its own pid)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


@contextlib.contextmanager
def registry(root: Path) -> Iterator[Registry]:
    """A running local registry for the duration of the block."""
    reg = Registry(root)
    reg.start()
    try:
        yield reg
    finally:
        reg.stop()
