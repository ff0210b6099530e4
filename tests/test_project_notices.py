"""What many services share is one warning per project: the `default` namespace, built tags."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cgen

LOCK = ROOT / "examples" / "shop" / "images.lock"
DIGEST = "@sha256:" + "0e5a1c1e" * 8
SIGNING = """signing:
  engine: kyverno
  keyless:
    issuer: https://token.actions.githubusercontent.com
    subjectRegExp: '^https://github\\.com/example/apps/\\.github/workflows/images\\.yaml@refs/heads/main$'
"""


def _manifest(name: str, namespace: str | None, image: str, extra: str = "") -> str:
    meta = f"  name: {name}\n" + (f"  namespace: {namespace}\n" if namespace else "")
    return (
        f"apiVersion: cgen/v1\nkind: Service\nmetadata:\n{meta}spec:\n  runtime: go\n"
        f"  image: {image}\n  ports: [{{name: http, port: 8080}}]\n{extra}"
    )


def _project(tmp_path: Path, services: dict[str, tuple[str | None, str]], config: str = "") -> Path:
    project = tmp_path / "services"
    project.mkdir()
    shutil.copy(LOCK, project)
    if config:
        (project / "cgen.yaml").write_text(config, encoding="utf-8")
    for name, (namespace, image) in services.items():
        text = _manifest(name, namespace, image)
        (project / f"{name}.yaml").write_text(text, encoding="utf-8")
    return project


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_services_in_the_default_namespace_are_one_warning_naming_them(tmp_path: Path) -> None:
    names = [f"svc-{i}" for i in range(7)]
    services = {
        n: (None if i % 2 else "default", f"r.example/{n}{DIGEST}") for i, n in enumerate(names)
    }
    project = _project(tmp_path, {**services, "elsewhere": ("shop", f"r.example/x{DIGEST}")})
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0, proc.stderr
    (warning,) = _warnings(proc.stderr)
    # Placed at the first manifest; its namespace was left out, so at its metadata.
    assert warning.startswith(f"warning: {project}/svc-0.yaml:5:14: metadata.namespace: 7 ")
    assert (
        "7 services run in the namespace 'default' (svc-0, svc-1, svc-2, svc-3, svc-4 and 2 more)"
        in warning
    )
    assert "default-deny NetworkPolicies cut every pod there, cgen's or not" in warning
    assert "enforces Pod Security 'restricted'" in warning and "metadata.namespace" in warning
    rendered = run_cgen(["render", str(project), "--out", str(tmp_path / "out")])
    assert rendered.returncode == 0 and _warnings(rendered.stderr) == [warning]

    # Without a Namespace object, the warning does not claim one.
    (project / "cgen.yaml").write_text("createNamespaces: false\n", encoding="utf-8")
    (warning,) = _warnings(run_cgen(["validate", str(project)]).stderr)
    assert "createNamespaces: false leaves its Namespace object alone" in warning
    assert "Pod Security" not in warning


def test_a_project_outside_the_default_namespace_has_no_such_warning(tmp_path: Path) -> None:
    project = _project(tmp_path, {"api": (None, f"r.example/api{DIGEST}")}, "namespace: apps\n")
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0 and _warnings(proc.stderr) == []


def test_the_golden_case_in_the_default_namespace_warns_and_renders_as_before() -> None:
    # tests/cases/default-namespace keeps the namespace's output, rendered before these
    # warnings existed: the warnings change stderr only.
    proc = run_cgen(["validate", "tests/cases/default-namespace/input"])
    assert proc.returncode == 0
    namespace, image = _warnings(proc.stderr)
    assert (
        "api.yaml:4:3: metadata.namespace: 1 service runs in the namespace 'default'" in namespace
    )
    assert "api.yaml:7:10: spec.image: 1 image that cgen builds (api) will run by tag" in image


def test_tag_only_built_images_are_one_warning_per_project(tmp_path: Path) -> None:
    services = {f"svc-{i}": ("apps", f"registry.example.com/apps/svc-{i}:1.0") for i in range(8)}
    project = _project(tmp_path, {**services, "pinned": ("apps", f"r.example/p{DIGEST}")})
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0, proc.stderr
    (warning,) = _warnings(proc.stderr)
    assert warning.startswith(f"warning: {project}/svc-0.yaml:8:10: spec.image: 8 images ")
    assert "(svc-0, svc-1, svc-2, svc-3, svc-4 and 3 more) will run by tag" in warning
    assert "kustomize edit set image" in warning and "signing:" in warning and "ci:" in warning


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(SIGNING, id="enforced-signing"),
        pytest.param("ci:\n  github: {}\n", id="ci-workflow-deploys-by-digest"),
    ],
)
def test_no_warning_where_the_deploy_pins_the_digest(tmp_path: Path, config: str) -> None:
    project = _project(tmp_path, {"api": ("apps", "registry.example.com/apps/api:1.0")}, config)
    if config.startswith("ci:"):  # the workflow builds only the services with a context
        (project / "api.yaml").write_text(
            _manifest(
                "api", "apps", "registry.example.com/apps/api:1.0", "  build: {context: src}\n"
            ),
            encoding="utf-8",
        )
        (project / "src").mkdir()
        (project / "src" / "go.mod").write_text("module example.com/api\n", encoding="utf-8")
        (project / "src" / "go.sum").write_text("", encoding="utf-8")
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 0 and _warnings(proc.stderr) == [], proc.stderr
    # Audit mode admits unsigned images, tags and all: the warning stays.
    if config is SIGNING:
        (project / "cgen.yaml").write_text(config + "  mode: audit\n", encoding="utf-8")
        (warning,) = _warnings(run_cgen(["validate", str(project)]).stderr)
        assert "1 image that cgen builds (api) will run by tag" in warning


def test_a_tag_only_prebuilt_image_is_still_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, {"db": ("apps", "docker.io/library/postgres:16")})
    (project / "db.yaml").write_text(
        _manifest("db", "apps", "docker.io/library/postgres:16", "  build: {prebuilt: true}\n"),
        encoding="utf-8",
    )
    proc = run_cgen(["validate", str(project)])
    assert proc.returncode == 1 and "a prebuilt image must be pinned by digest" in proc.stderr
