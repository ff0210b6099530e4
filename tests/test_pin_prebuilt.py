"""Import -> pin -> validate -> render for a real upstream system whose images cgen does not
build: Online Boutique's released manifests (tests/data/import) name tag-only images on
Artifact Registry and Docker Hub. Tiny images are pushed under the same repositories and
tags to the local registry of test_pin_registry.py, which cgen.yaml names as the mirror of
both hosts; `cgen pin` resolves every tag through it.

The digests checked are the ones skopeo reported when it pushed, never values in the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run_cgen
from test_import import BOUTIQUE
from test_pin_registry import Published, _env, published  # noqa: F401 (the registry fixture)

from generator.images.lock import Reference

pytestmark = pytest.mark.container


def _images(services: Path) -> set[str]:
    """Every image the imported manifests run: spec.image and each extra container's."""
    found: set[str] = set()
    for path in sorted(services.rglob("*.yaml")):
        spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]
        found.add(spec["image"])
        for key in ("sidecars", "initContainers"):
            found |= {c["image"] for c in spec.get(key, [])}
    return found


def _pod_images(out: Path) -> dict[str, set[str]]:
    """The images each rendered workload's pod runs, by workload folder."""
    found: dict[str, set[str]] = {}
    for path in sorted(out.rglob("*.yaml")):
        if path.name not in ("deployment.yaml", "statefulset.yaml"):
            continue
        pod = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
        containers = pod["containers"] + pod.get("initContainers", [])
        found[path.parent.name] = {c["image"] for c in containers}
    return found


def test_imported_system_is_pinned_validated_and_rendered(
    published: Published,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    host = published.registry.host
    services = tmp_path / "services"
    imported = run_cgen(["import", str(BOUTIQUE), "--out", str(services)])
    assert imported.returncode == 0, imported.stderr
    images = _images(services)
    assert len(images) >= 12 and not any("@sha256:" in image for image in images)
    pushed: dict[str, str] = {}
    for image in sorted(images):
        ref = Reference.parse(image)
        marker = "ob-" + ref.repository.rsplit("/", 1)[-1]
        pushed[image] = published.push(f"{ref.repository}:{ref.tag}", marker)
    hosts = sorted({Reference.parse(image).registry for image in images})
    mirrors = ", ".join(f"{h}: '{host}'" for h in hosts)
    (services / "cgen.yaml").write_text(f"registryMirrors: {{{mirrors}}}\n", encoding="utf-8")

    # Before pinning, every workload's tag-only image is refused, with the remedy.
    refused = run_cgen(["validate", str(services)])
    assert refused.returncode == 1
    assert refused.stderr.count("run `cgen pin` to record its tag's digest") == len(images)

    env = _env(tmp_path)
    pinned = run_cgen(["pin", str(services)], env=env)
    assert pinned.returncode == 0, pinned.stderr
    lock = yaml.safe_load((services / "images.lock").read_text(encoding="utf-8"))
    assert lock["images"] == pushed  # nothing is built here: no base image, no frontend
    assert set(lock["resolved"]) == set(pushed)

    validated = run_cgen(["validate", str(services)])
    assert validated.returncode == 0, validated.stderr
    out = tmp_path / "out"
    rendered = run_cgen(["render", str(services), "--out", str(out)])
    assert rendered.returncode == 0, rendered.stderr
    by_workload = _pod_images(out)
    assert len(by_workload) == len(list(services.rglob("*.yaml"))) - 1  # minus cgen.yaml
    ran = set().union(*by_workload.values())
    assert ran == {f"{image}@{digest}" for image, digest in pushed.items()}

    checked = run_cgen(["pin", "--check", str(services)], env=env)
    assert checked.returncode == 0, checked.stderr
    assert "every tag still points to its pin" in checked.stdout
    assert checked.stdout.count(", today") == len(pushed)
