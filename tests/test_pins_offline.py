"""A first render without a registry: the pins cgen ships (profiles/images.lock), `cgen pin
--offline`, pin ages, missing lock entries reported once per image by validate and render
alike, and --allow-unpinned made loud (a warning per image, a mark above each FROM).

No registry is reachable in these tests: every subprocess gets an HTTP(S) proxy on a
closed loopback port, so any request cgen made would fail.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cgen, tree

import generator
from generator.images.pin import pin_images
from generator.project import load_project

SHOP = ROOT / "examples" / "shop"
SHIPPED = ROOT / "profiles" / "images.lock"
UNPINNED_CASE = ROOT / "tests" / "cases" / "unpinned-base-image"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def offline(tmp_path: Path) -> dict[str, str]:
    """An environment in which no registry answers: every request goes to a closed port."""
    proxy = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "docker-config"
    config.mkdir()
    return {
        "HTTPS_PROXY": proxy,
        "HTTP_PROXY": proxy,
        "https_proxy": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "",
        "no_proxy": "",
        "DOCKER_CONFIG": str(config),
    }


def _shipped() -> dict[str, str]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    images = data["images"]
    assert isinstance(images, dict)
    return {str(k): str(v) for k, v in images.items()}


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def _without_pin_source(files: dict[str, bytes]) -> dict[str, bytes]:
    """Each Dockerfile without the header lines between "pinned by digest" and the blank line."""
    cut = re.compile(rb"(?ms)^# are pinned by digest .*?^#\n")
    return {
        k: cut.sub(b"", v, count=1) if k.endswith("/Dockerfile") else v for k, v in files.items()
    }


def test_shipped_pins_cover_every_base_image_of_the_shipped_profiles() -> None:
    images = set()
    for profile in sorted((ROOT / "profiles").glob("*.yaml")):
        data = yaml.safe_load(profile.read_text(encoding="utf-8"))
        images |= set((data.get("images") or {}).values())
    shipped = _shipped()
    assert images and images | {"docker.io/docker/dockerfile:1.7"} == set(shipped)
    # The same digests the bundled example pins, never others.
    example = yaml.safe_load((SHOP / "images.lock").read_text(encoding="utf-8"))["images"]
    assert shipped == example
    dates = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["resolved"]
    assert set(dates) == set(shipped)
    assert all(datetime.date.fromisoformat(str(d)) for d in dates.values())


def test_new_user_without_registry_renders_the_example(
    tmp_path: Path, offline: dict[str, str]
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    (project / "images.lock").unlink()
    out = tmp_path / "out"
    proc = run_cgen(["render", str(project), "--out", str(out)], cwd=tmp_path, env=offline)
    assert proc.returncode == 0, proc.stderr
    # One note says where the digests came from, and the output is the committed one.
    notes = _warnings(proc.stderr)
    assert len(notes) == 1 and "images.lock: no such file" in notes[0], proc.stderr
    assert "cgen pin --offline" in notes[0]
    # The same output as committed, but each Dockerfile's header says where its pins came from.
    assert _without_pin_source(tree(out)) == _without_pin_source(tree(ROOT / "out"))
    assert all(b"pins that cgen" in v for k, v in tree(out).items() if k.endswith("/Dockerfile"))
    validated = run_cgen(["validate", str(project)], cwd=tmp_path, env=offline)
    assert validated.returncode == 0 and _warnings(validated.stderr) == notes

    # Resolving from the registries fails (nothing is reachable) and writes nothing; every
    # image is tried, and each unreachable host is said once, with the images it holds ...
    online = run_cgen(["pin", str(project)], cwd=tmp_path, env=offline)
    assert online.returncode == 1 and "Traceback" not in online.stderr
    assert not (project / "images.lock").exists()
    errors = online.stderr.splitlines()
    hub, gcr = "cannot reach registry-1.docker.io: ", "cannot reach gcr.io: "
    assert [line for line in errors if hub in line or gcr in line] == [
        line for line in errors if line.startswith(("error: " + hub, "error: " + gcr))
    ]
    assert sum(hub in line for line in errors) == sum(gcr in line for line in errors) == 1
    needed = {image for image in _shipped() if "python" in image or "dockerfile" in image}
    named = {i for line in errors for i in re.findall(r"([a-z0-9./-]+:[a-z0-9.-]+)[,)]", line)}
    assert needed <= named, online.stderr
    # ... and says what does work without a registry.
    assert "nothing written" in errors[-1] and "`cgen pin --offline`" in errors[-1]
    # ... while --offline writes the shipped pins, with their dates.
    pinned = run_cgen(["pin", "--offline", str(project)], cwd=tmp_path, env=offline)
    assert pinned.returncode == 0, pinned.stderr
    lock = yaml.safe_load((project / "images.lock").read_text(encoding="utf-8"))
    shipped = _shipped()
    assert lock["images"] and all(shipped[i] == d for i, d in lock["images"].items())
    assert set(lock["resolved"]) == set(lock["images"])
    again = run_cgen(["render", str(project), "--out", str(out)], cwd=tmp_path, env=offline)
    assert again.returncode == 0 and _warnings(again.stderr) == []
    assert tree(out) == tree(ROOT / "out")


def test_one_copied_manifest_renders_without_a_lock(
    tmp_path: Path, offline: dict[str, str]
) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    shutil.copy(SHOP / "shop" / "email.yaml", project)
    proc = run_cgen(["render", str(project), "--out", "out"], cwd=tmp_path, env=offline)
    assert proc.returncode == 0, proc.stderr
    # One note on the shipped pins, one on the namespace it lands in (it names none).
    namespace_note, shipped_note = _warnings(proc.stderr)
    assert "images.lock: no such file" in shipped_note
    assert "metadata.namespace: 1 service runs in the namespace 'default'" in namespace_note
    dockerfile = (tmp_path / "out" / "default" / "email" / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+) AS", dockerfile, re.M)
    shipped = _shipped()
    profile = yaml.safe_load((ROOT / "profiles" / "python.yaml").read_text(encoding="utf-8"))
    assert froms == [
        f"{profile['images']['build']}@{shipped[profile['images']['build']]}",
        f"{profile['images']['runtime']}@{shipped[profile['images']['runtime']]}",
    ]
    assert dockerfile.startswith(
        f"# syntax=docker/dockerfile:1.7@{shipped['docker.io/docker/dockerfile:1.7']}\n"
    )
    assert "UNPINNED" not in dockerfile and "WARNING" not in dockerfile


def test_validate_reports_a_missing_lock_entry_exactly_as_render() -> None:
    expected = (UNPINNED_CASE / "expected_error.txt").read_text(encoding="utf-8")
    proc = run_cgen(["validate", "tests/cases/unpinned-base-image/input"])
    assert proc.returncode == 1 and proc.stdout == ""
    # The same problems; only render, which writes, adds that it wrote nothing.
    assert proc.stderr == expected.replace("; nothing was written\n", "\n")
    # Once per image: the frontend and the two python bases, each with its users.
    errors = [line for line in expected.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3
    assert "used by shop/api (build stage), shop/web (build stage)" in errors[1]
    assert "used by shop/api (runtime stage), shop/web (runtime stage)" in errors[2]
    assert errors[0].endswith("used by shop/api, shop/web, jobs/worker")


def test_allow_unpinned_warns_once_per_image_and_marks_each_from(tmp_path: Path) -> None:
    case = "tests/cases/unpinned-base-image/input"
    proc = run_cgen(["render", case, "--out", str(tmp_path / "out"), "--allow-unpinned"])
    assert proc.returncode == 0, proc.stderr
    warnings = _warnings(proc.stderr)
    assert len(warnings) == 3, proc.stderr
    assert any("frontend docker.io/docker/dockerfile:1.7" in w for w in warnings)
    for image in ("docker.io/library/python:3.11-slim-bookworm", "gcr.io/distroless/python3"):
        (found,) = [w for w in warnings if f"base image {image}" in w]
        assert "shop/api" in found and "shop/web" in found and "jobs/worker" not in found
    for svc in ("api", "web"):
        lines = (tmp_path / "out" / "shop" / svc / "Dockerfile").read_text().splitlines()
        froms = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
        assert len(froms) == 2
        for i in froms:
            assert lines[i - 1].startswith("# UNPINNED: "), lines[i - 1]
            assert lines[i - 1].split()[2] == lines[i].split()[1]  # names the image it marks
    worker = (tmp_path / "out" / "jobs" / "worker" / "Dockerfile").read_text()
    assert "# UNPINNED" not in worker and "@sha256:" in worker.split("FROM ", 1)[1]
    validated = run_cgen(["validate", case, "--allow-unpinned"])
    assert validated.returncode == 0 and _warnings(validated.stderr) == warnings


def _aged_project(tmp_path: Path, lock: str) -> Path:
    project = tmp_path / "p"
    project.mkdir()
    shutil.copy(SHOP / "shop" / "email.yaml", project)
    (project / "images.lock").write_text(lock, encoding="utf-8")
    return project


def test_pin_check_says_how_old_the_pins_are(tmp_path: Path) -> None:
    shipped = _shipped()
    build, runtime = (
        "docker.io/library/python:3.11-slim-bookworm",
        "gcr.io/distroless/python3-debian12:nonroot",
    )
    frontend = "docker.io/docker/dockerfile:1.7"
    lock = (
        "version: 1\nimages:\n"
        + "".join(f"  {i}: {shipped[i]}\n" for i in (frontend, build, runtime))
        + f"resolved:\n  {build}: '2026-11-20'\n  {frontend}: '2026-12-07'\n"
    )
    project, _ = load_project([_aged_project(tmp_path, lock)], pinning=True)
    report = pin_images(
        project,
        check=True,
        offline=True,
        plain_http=[],
        timeout=1,
        today=datetime.date(2026, 12, 8),
    )
    assert f"  {build}: resolved 2026-11-20, 18 days ago" in report.lines
    assert f"  {frontend}: resolved 2026-12-07, 1 day ago" in report.lines
    assert any(line.startswith(f"  {runtime}: resolution date unknown") for line in report.lines)
    assert report.lines[-2].startswith("cgen's shipped pins (12 images): oldest resolved ")
    assert report.lines[-1].endswith(": every image is pinned") and not report.written


def test_pin_check_offline_fails_on_an_image_the_lock_lacks(tmp_path: Path) -> None:
    project = _aged_project(tmp_path, "version: 1\nimages: {}\n")
    proc = run_cgen(["pin", "--check", "--offline", str(project)])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (error,) = proc.stderr.splitlines()
    assert "does not pin every image" in error and "`cgen pin --offline`" in error
    # The ages are the report, on stdout as when the check passes.
    shown = re.findall(
        r"not in \S+images\.lock; cgen ships a pin \(resolved ([0-9-]+), ", proc.stdout
    )
    assert len(shown) == 3, proc.stdout  # the two bases and the frontend
    assert (project / "images.lock").read_text() == "version: 1\nimages: {}\n"


def test_pin_check_offline_says_which_images_need_a_registry(tmp_path: Path) -> None:
    project = _aged_project(tmp_path, "version: 1\nimages: {}\n")
    image = "registry.example.com/vendor/db:16.4"
    (project / "db.yaml").write_text(
        "apiVersion: cgen/v1\nkind: Service\nmetadata: {name: db}\n"
        f"spec: {{runtime: static, image: {image}, build: {{prebuilt: true}}}}\n",
        encoding="utf-8",
    )
    proc = run_cgen(["pin", "--check", "--offline", str(project)])
    assert proc.returncode == 1 and f"  {image}: not in " in proc.stdout
    (error,) = proc.stderr.splitlines()
    # cgen ships no pin for it: only `cgen pin` with a registry can pin it, not --offline.
    assert "run `cgen pin` where the registries are reachable" in error
    assert f"cgen ships no pin for {image}, so `cgen pin --offline` cannot pin them" in error


def test_pin_check_without_a_registry_still_says_how_old_the_pins_are(
    tmp_path: Path, offline: dict[str, str]
) -> None:
    project = _aged_project(tmp_path, (SHOP / "images.lock").read_text(encoding="utf-8"))
    proc = run_cgen(["pin", "--check", str(project)], env=offline)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    ages = [line for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert len(ages) == 3 and all(": resolved 20" in line for line in ages), proc.stdout
    errors = proc.stderr.splitlines()
    assert sum("cannot reach registry-1.docker.io" in line for line in errors) == 1
    assert sum("cannot reach gcr.io" in line for line in errors) == 1
    assert "`cgen pin --check --offline`" in errors[-1] and len(errors) == 3


def test_a_tag_only_prebuilt_image_runs_by_its_locked_digest(tmp_path: Path) -> None:
    image, sidecar = "registry.example.com/vendor/db:16.4", "registry.example.com/vendor/proxy:2"
    digests = {i: "sha256:" + hashlib.sha256(i.encode()).hexdigest() for i in (image, sidecar)}
    (tmp_path / "db.yaml").write_text(
        "apiVersion: cgen/v1\nkind: Service\nmetadata: {name: db, namespace: data}\n"
        f"spec:\n  runtime: static\n  image: {image}\n  build: {{prebuilt: true}}\n"
        "  ports: [{name: sql, port: 5432}]\n"
        f"  sidecars: [{{name: proxy, runtime: static, image: {sidecar}}}]\n",
        encoding="utf-8",
    )
    refused = run_cgen(["validate", str(tmp_path)])
    assert refused.returncode == 1 and refused.stderr.count("must be pinned by digest") == 2
    (tmp_path / "images.lock").write_text(
        "version: 1\nimages:\n" + "".join(f"  {i}: {d}\n" for i, d in sorted(digests.items())),
        encoding="utf-8",
    )
    assert run_cgen(["validate", str(tmp_path)]).returncode == 0
    project, _ = generator.load([tmp_path])
    (deployment,) = [a for a in generator.build(project) if a.path.endswith("deployment.yaml")]
    spec = yaml.safe_load(deployment.content)["spec"]["template"]["spec"]
    # Sidecars run as native sidecars: init containers that keep running.
    images = {c["name"]: c["image"] for c in spec["containers"] + spec["initContainers"]}
    assert images == {"db": f"{image}@{digests[image]}", "proxy": f"{sidecar}@{digests[sidecar]}"}
