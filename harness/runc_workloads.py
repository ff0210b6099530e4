"""What runs inside the runc harness: the seccomp workloads, the probe, and services
rendered by cgen (their seccomp.json and Deployment read back for the container)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from runc_harness import (
    Bind,
    HarnessError,
    RuncOptions,
    options_from_deployment,
    require_tool,
)

# --- workloads from harness/workloads ---------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).resolve().parent
WORKLOADS = HARNESS / "workloads"
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
        # Content-addressed, shared between runs: only the first build compiles the std.
        "GOCACHE": "/var/tmp/cgen-corpus-gocache",
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


PROBE_SOURCE = HARNESS / "probe" / "probe.c"


def build_probe(dest: Path) -> Path:
    """Compile harness/probe/probe.c statically into dest/probe."""
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


def privileged_namespace(namespace: str) -> dict[str, Any]:
    """cgen.yaml's podSecurity entry that lets a test namespace's services add any
    capability (what the capability opens is the test's subject, not Pod Security)."""
    reason = "tests what each capability opens in the seccomp profile"
    return {namespace: {"level": "privileged", "reason": reason}}


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
