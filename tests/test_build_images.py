"""The generated Dockerfiles really build and run: pinned bases, locked restores, no shell.

Base images are made locally from the host's runtimes (tests/build/buildharness.py),
pushed to a real registry (Debian's docker-registry on 127.0.0.1) and pinned with
`cgen pin` through cgen.yaml's registryMirrors (docker.io and gcr.io -> the local
registry) and through a user profile (go's build image). Each app under tests/build/ is
built with `podman build --pull=never --network none` from the generated Dockerfile, then
run with exactly the constraints of the generated Deployment and its seccomp.json, and
must answer its readiness probe; its exported filesystem must hold below /app only the
build's output and the app files named (a secret.txt and a notes/ folder planted in the
context, matched by no ignore pattern, must not ship, nor a file the python build image
keeps in /app), python's with the checked-hash bytecode of exactly each app source beside
it. A base re-tagged to new content
must make `cgen pin --check` and the pinned build fail.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cgen

sys.path.insert(0, str(ROOT / "tests" / "build"))
import buildharness as bh
import image_contents as contents

pytestmark = pytest.mark.container

APPS = ROOT / "tests" / "build"
RUNTIMES = ("python", "node", "go")
NAMESPACE = "builds"
SECRET_FILE = ".env"
# Lying in every build context but matched by no Dockerfile.dockerignore pattern: only
# the runtime stage's copy-by-name keeps them out of the image.
STRAYS = {"secret.txt": "TOKEN=planted-in-the-context\n", "notes/todo.md": "internal notes\n"}
# What the runtime stage holds below /app besides the app files: the build's output.
BUILT = {"python": ("deps",), "node": ("node_modules",), "go": ("server",)}
# node names its app files in the manifest (a lib/ folder beyond the profile's default);
# python ships the profile's default (the app/ package); go ships only its binary.
MANIFEST_APP_FILES = {"node": ["package.json", "server.js", "lib"]}
# Where each local base goes, as path below the registry, and whether it is pushed as a
# multi-platform index (like the real distroless tags) or as a single image manifest.
BASES = {
    "python-build": ("library/python:3.11-slim-bookworm", False),
    "python-runtime": ("distroless/python3-debian12:nonroot", True),
    "node-build": ("library/node:20-bookworm-slim", False),
    "node-runtime": ("distroless/nodejs20-debian12:nonroot", True),
    "go-build": ("cgen-test/golang:1.19-bookworm", False),
    "static-runtime": ("distroless/static-debian12:nonroot", True),
}
# BuildKit's Dockerfile frontend, pinned in images.lock like the bases. podman does not
# run a `# syntax=` frontend, so any content stands in for it in the test registry.
FRONTEND = ("docker/dockerfile:1.7", "static-runtime")


@dataclass
class World:
    """The registry, the published bases and the rendered test project."""

    tmp: Path
    registry: bh.Registry
    publisher: bh.Containers
    pushed: dict[str, str]  # registry reference -> digest, as skopeo/podman reported it
    project: Path
    out: Path

    def folder(self, runtime: str) -> Path:
        """The rendered output folder of the runtime's service."""
        return self.out / NAMESPACE / f"{runtime}-app"

    def deployment(self, runtime: str) -> dict[str, Any]:
        """The generated Deployment of the runtime's service."""
        text = (self.folder(runtime) / "deployment.yaml").read_text()
        return dict(yaml.safe_load(text))

    def context(self, runtime: str) -> Path:
        """The build context of the runtime's service."""
        return self.project / "apps" / runtime


def _publish(world_pub: bh.Containers, reg: bh.Registry, tmp: Path) -> dict[str, str]:
    pushed: dict[str, str] = {}
    for name, (path, as_index) in BASES.items():
        tar = tmp / f"{name}.tar"
        bh.BASES[name]().write(tar)
        local = f"localhost/cgen-test/{name}:1"
        world_pub.import_tar(tar, local)
        remote = f"{reg.host}/{path}"
        pushed[remote] = (
            world_pub.push_index(local, remote) if as_index else world_pub.push(local, remote)
        )
        tar.unlink()
    path, stand_in = FRONTEND
    tar = tmp / "frontend.tar"
    bh.BASES[stand_in]().write(tar)
    world_pub.import_tar(tar, "localhost/cgen-test/frontend:1")
    pushed[f"{reg.host}/{path}"] = world_pub.push_index(
        "localhost/cgen-test/frontend:1", f"{reg.host}/{path}"
    )
    tar.unlink()
    return pushed


def _write_project(project: Path, reg: bh.Registry) -> None:
    project.mkdir()
    (project / "cgen.yaml").write_text(
        yaml.safe_dump(
            {
                "namespace": NAMESPACE,
                "profiles": "profiles",
                # Both upstream registries come through the local one, as through a
                # company's pull-through cache.
                "registryMirrors": {"docker.io": reg.host, "gcr.io": reg.host},
            }
        )
    )
    # A user profile: go's build image is the team's own (Debian's Go 1.19 here).
    go = yaml.safe_load((ROOT / "profiles" / "go.yaml").read_text())
    go["images"]["build"] = f"{reg.host}/{BASES['go-build'][0]}"
    (project / "profiles").mkdir()
    (project / "profiles" / "go.yaml").write_text(yaml.safe_dump(go, sort_keys=False))
    for i, runtime in enumerate(RUNTIMES):
        context = project / "apps" / runtime
        # Without local caches, which the ignore file keeps out of the build anyway.
        shutil.copytree(
            APPS / runtime, context, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
        )
        # A secret lying around in the context must not reach any image layer.
        (context / SECRET_FILE).write_text("TOKEN=must-not-reach-the-image\n")
        for stray, text in STRAYS.items():
            (context / stray).parent.mkdir(exist_ok=True)
            (context / stray).write_text(text)
        build: dict[str, Any] = {"context": f"apps/{runtime}"}
        if runtime in MANIFEST_APP_FILES:
            build["appFiles"] = MANIFEST_APP_FILES[runtime]
        manifest = {
            "apiVersion": "cgen/v1",
            "kind": "Service",
            "metadata": {"name": f"{runtime}-app"},
            "spec": {
                "runtime": runtime,
                "image": f"registry.example.com/builds/{runtime}-app:1.0.0@sha256:{i + 1:064d}",
                "user": 10001 + i,
                "ports": [{"name": "http", "port": 8080}],
                "writablePaths": ["/tmp"],
                "probes": {"readiness": {"http": {"path": "/healthz", "port": "http"}}},
                "build": build,
            },
        }
        (project / f"{runtime}-app.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Bases built and pushed once; the project pinned through the registry and rendered."""
    tmp = tmp_path_factory.mktemp("images")
    publisher = bh.Containers.create(tmp / "publisher")
    with bh.registry(tmp / "registry") as reg:
        try:
            pushed = _publish(publisher, reg, tmp)
            project = tmp / "project"
            _write_project(project, reg)
            run_cgen(["pin", str(project)], check=True)
            out = tmp / "out"
            run_cgen(["render", str(project), "--out", str(out)], check=True)
            yield World(tmp, reg, publisher, pushed, project, out)
        finally:
            publisher.remove_all()


def _from_lines(dockerfile: Path) -> list[str]:
    return [
        line.split()[1] for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")
    ]


def test_pin_writes_the_digests_the_registry_holds(world: World) -> None:
    lock = yaml.safe_load((world.project / "images.lock").read_text())
    reg = world.registry.host
    # Keys are the profiles' own references (upstream names; the user's for go's build).
    expected = {
        "docker.io/library/python:3.11-slim-bookworm": world.pushed[
            f"{reg}/{BASES['python-build'][0]}"
        ],
        "gcr.io/distroless/python3-debian12:nonroot": world.pushed[
            f"{reg}/{BASES['python-runtime'][0]}"
        ],
        "docker.io/library/node:20-bookworm-slim": world.pushed[f"{reg}/{BASES['node-build'][0]}"],
        "gcr.io/distroless/nodejs20-debian12:nonroot": world.pushed[
            f"{reg}/{BASES['node-runtime'][0]}"
        ],
        f"{reg}/{BASES['go-build'][0]}": world.pushed[f"{reg}/{BASES['go-build'][0]}"],
        "gcr.io/distroless/static-debian12:nonroot": world.pushed[
            f"{reg}/{BASES['static-runtime'][0]}"
        ],
        f"docker.io/{FRONTEND[0]}": world.pushed[f"{reg}/{FRONTEND[0]}"],
    }
    assert lock["version"] == 1 and lock["images"] == expected
    assert set(lock["resolved"]) == set(expected)  # with the day each was resolved
    for runtime in RUNTIMES:
        first = (world.folder(runtime) / "Dockerfile").read_text().splitlines()[0]
        assert first == f"# syntax={FRONTEND[0]}@{world.pushed[f'{reg}/{FRONTEND[0]}']}"
    check = run_cgen(["pin", "--check", str(world.project)])
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_skeleton_builds_and_runs_under_the_deployment(world: World, runtime: str) -> None:
    folder = world.folder(runtime)
    dockerfile = folder / "Dockerfile"
    builder = bh.Containers.create(world.tmp / f"builder-{runtime}")
    try:
        froms = _from_lines(dockerfile)
        assert len(froms) == 2 and all("@sha256:" in ref for ref in froms), froms
        for ref in froms:
            assert ref.startswith(world.registry.host + "/"), f"{ref} not through the mirror"
            builder.pull(ref)
        image = f"localhost/cgen-test/{runtime}-app:1"
        builder.podman(
            "build",
            "--pull=never",
            "--network",
            "none",
            "--ignorefile",
            str(folder / "Dockerfile.dockerignore"),
            "-f",
            str(dockerfile),
            "-t",
            image,
            str(world.context(runtime)),
        )
        _check_image_config(builder, image, world.deployment(runtime), runtime)
        names = contents.exported_names(builder, image, world.tmp / f"export-{runtime}.tar")
        _check_no_shell_and_no_secret(set(names))
        app_files = MANIFEST_APP_FILES.get(runtime) or _profile_app_files(runtime)
        compiled = contents.bytecode_of(world.context(runtime), app_files)
        if runtime == "python":
            contents.check_bytecode(names, compiled)
        contents.check_only_the_artifact(
            names,
            world.context(runtime),
            BUILT[runtime],
            app_files,
            STRAYS,
            compiled if runtime == "python" else {},
        )
        seccomp = folder / "seccomp.json"
        assert _run_under_deployment(builder, image, world.deployment(runtime), seccomp)
        # Control: the same run with bind(2) taken out of the generated profile must not get
        # ready, so the profile is really applied (and the app really needs bind).
        without_bind = json.loads(seccomp.read_text())
        for rule in without_bind["syscalls"]:
            rule["names"] = [n for n in rule["names"] if n != "bind"]
        denied = world.tmp / f"seccomp-without-bind-{runtime}.json"
        denied.write_text(json.dumps(without_bind))
        assert not _run_under_deployment(builder, image, world.deployment(runtime), denied)
    finally:
        builder.remove_all()


def _check_image_config(
    builder: bh.Containers, image: str, deployment: dict[str, Any], runtime: str
) -> None:
    config = json.loads(builder.podman("image", "inspect", image).stdout)[0]["Config"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ctx = container["securityContext"]
    assert config["User"] == f"{ctx['runAsUser']}:{ctx['runAsGroup']}"
    ports = {f"{p['containerPort']}/{p['protocol'].lower()}" for p in container["ports"]}
    assert set(config["ExposedPorts"]) == ports
    profile = yaml.safe_load((ROOT / "profiles" / f"{runtime}.yaml").read_text())
    assert config["Entrypoint"] == profile["entrypoint"]  # exec form: a JSON list, no sh -c
    assert not config.get("Cmd")


def _profile_app_files(runtime: str) -> list[str]:
    """The app files the runtime's profile ships when the manifest names none."""
    profile = yaml.safe_load((ROOT / "profiles" / f"{runtime}.yaml").read_text())
    return list(profile.get("appFiles", []))


def _check_no_shell_and_no_secret(names: set[str]) -> None:
    shells = {"bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "usr/bin/dash", "bin/busybox"}
    assert not names & shells, f"the runtime image has a shell: {names & shells}"
    assert not [n for n in names if n.endswith(SECRET_FILE)], "a secret reached the image"
    assert not [n for n in names if n.endswith(("bin/pip", "bin/npm", "bin/go"))]


def run_flags(deployment: dict[str, Any], seccomp: Path) -> list[str]:
    """podman run flags that mirror the Deployment's pod and container constraints."""
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ctx = container["securityContext"]
    flags = [f"--user={ctx['runAsUser']}:{ctx['runAsGroup']}"]
    flags += [f"--cap-drop={cap}" for cap in ctx["capabilities"]["drop"]]
    flags += [f"--cap-add={cap}" for cap in ctx["capabilities"].get("add", [])]
    if ctx["readOnlyRootFilesystem"]:
        # Only the declared writable paths are writable (podman would add its own tmpfs).
        flags += ["--read-only", "--read-only-tmpfs=false"]
    if ctx["allowPrivilegeEscalation"] is False:
        flags.append("--security-opt=no-new-privileges")
    assert ctx["seccompProfile"]["type"] == "Localhost"
    flags.append(f"--security-opt=seccomp={seccomp}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        size = volumes[mount["name"]]["emptyDir"]["sizeLimit"]
        flags.append(f"--tmpfs={mount['mountPath']}:rw,size={size.removesuffix('i')},mode=1777")
    limits = container["resources"]["limits"]
    cpu = str(limits["cpu"])
    cpus = int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    flags += [f"--memory={limits['memory'].removesuffix('i').lower()}", f"--cpus={cpus}"]
    return flags


def _probe(pid: int, port: int, path: str) -> bytes | None:
    """GET the readiness path from inside the container's network namespace (as the kubelet
    reaches the pod's own address)."""
    code = (
        "import sys, urllib.request\n"
        f"print(urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=2).read())\n"
    )
    proc = bh.run(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", code], check=False)
    return proc.stdout.encode() if proc.returncode == 0 else None


def _run_under_deployment(
    builder: bh.Containers, image: str, deployment: dict[str, Any], seccomp: Path
) -> bool:
    """Run the image as the Deployment would; True when its readiness probe answers."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    readiness = container["readinessProbe"]["httpGet"]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == readiness["port"])
    name = builder.podman(
        "run", "-d", "--network=none", *run_flags(deployment, seccomp), image
    ).stdout.strip()
    answer = None
    deadline = time.monotonic() + 30
    while answer is None and time.monotonic() < deadline:
        state = json.loads(builder.podman("inspect", name).stdout)[0]["State"]
        if not state["Running"]:
            break
        answer = _probe(int(state["Pid"]), port, readiness["path"])
        if answer is None:
            time.sleep(0.3)
    logs = builder.podman("logs", name, check=False)
    state = json.loads(builder.podman("inspect", name).stdout)[0]["State"]
    builder.podman("rm", "-f", name, check=False)
    if answer is None:
        print(  # shown by pytest when the test fails: why the app did not get ready
            f"{image} under {seccomp.name}: no readiness answer; state={state.get('Status')} "
            f"exit={state.get('ExitCode')}\n{logs.stdout[-2000:]}\n{logs.stderr[-2000:]}"
        )
    return answer is not None and b"ok" in answer


def test_retagged_base_fails_pin_check_and_the_pinned_build(world: World) -> None:
    """Runs last: it moves the python runtime tag to new content in the shared registry."""
    reg = world.registry.host
    path = BASES["python-runtime"][0]
    mutated = bh.python_runtime()
    mutated.text("etc/mutated-upstream", "this tag was re-pushed with new content\n")
    tar = world.tmp / "mutated.tar"
    mutated.write(tar)
    world.publisher.import_tar(tar, "localhost/cgen-test/mutated:1")
    new_digest = world.publisher.push("localhost/cgen-test/mutated:1", f"{reg}/{path}")
    old_digest = world.pushed[f"{reg}/{path}"]
    assert new_digest != old_digest

    check = run_cgen(["pin", "--check", str(world.project)])
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"moved gcr.io/{path}: {old_digest} -> {new_digest}" in check.stderr
    assert "Traceback" not in check.stderr

    # A builder that has only what the registry serves now: the moved tag's content.
    builder = bh.Containers.create(world.tmp / "builder-retagged")
    folder = world.folder("python")
    try:
        build_ref, _ = _from_lines(folder / "Dockerfile")
        builder.pull(build_ref)
        builder.pull(f"{reg}/{path}")  # by tag: the mutated content
        argv = [
            "build",
            "--pull=never",
            "--network",
            "none",
            "-f",
            str(folder / "Dockerfile"),
            "-t",
            "localhost/cgen-test/retagged:1",
            str(world.context("python")),
        ]
        pinned = builder.podman(*argv, check=False)
        assert pinned.returncode != 0, "the pinned build accepted a moved tag"
        assert old_digest in pinned.stderr + pinned.stdout
        # The same Dockerfile without the digest builds: it is the pin that refused.
        loose = folder / "Dockerfile.unpinned"
        loose.write_text((folder / "Dockerfile").read_text().replace(f"@{old_digest}", ""))
        unpinned = builder.podman(
            *[a if a != str(folder / "Dockerfile") else str(loose) for a in argv], check=False
        )
        assert unpinned.returncode == 0, unpinned.stderr
    finally:
        builder.remove_all()
