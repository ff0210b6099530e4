"""hadolint and checkov (dockerfile framework) report nothing on any generated Dockerfile.

Rendered: the bundled example, one service per shipped runtime, a user profile with its
own template, mirrored bases, a service naming its own appFiles, an --allow-unpinned
render, and an entrypoint full of characters that need escaping. Every finding of every
level counts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import oracles
import pytest
from conftest import ROOT, run_cgen

CASES = ROOT / "tests" / "cases"
INPUTS = {
    "shop": ROOT / "examples" / "shop",
    "all-runtimes": CASES / "docker-all-runtimes" / "input",
    "user-profile": CASES / "docker-user-profile" / "input",
    "mirror": CASES / "docker-mirror-and-context" / "input",
    "app-files": CASES / "docker-app-files" / "input",
}


def _render(inputs: Path, out: Path, *extra: str) -> list[Path]:
    run_cgen(["render", str(inputs), "--out", str(out), *extra], check=True)
    return sorted(out.rglob("Dockerfile"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every input rendered below one folder."""
    root = tmp_path_factory.mktemp("dockerfiles")
    for name, inputs in INPUTS.items():
        _render(inputs, root / name)
    # Unpinned (an empty lock): the loud variant must lint clean too.
    project = root / "unpinned-src"
    shutil.copytree(INPUTS["all-runtimes"], project)
    # A lock that pins nothing (without one, the pins cgen ships would apply).
    (project / "images.lock").write_text("version: 1\nimages: {}\n")
    _render(project, root / "unpinned", "--allow-unpinned")
    shutil.rmtree(project)
    # An entrypoint with quotes, a backslash, a dollar sign and a newline.
    odd = root / "odd-src"
    odd.mkdir()
    shutil.copy(INPUTS["all-runtimes"] / "images.lock", odd)
    (odd / "svc.yaml").write_text(
        "apiVersion: cgen/v1\nkind: Service\nmetadata: {name: odd}\n"
        "spec:\n  runtime: go\n  image: registry.example.com/odd:1\n"
        '  build: {entrypoint: ["/app/server", "--motd=say \\"hi\\" \\\\ $HOME\\nbye"]}\n'
    )
    _render(odd, root / "odd")
    shutil.rmtree(odd)
    return root


def _dockerfiles(root: Path) -> list[Path]:
    return sorted(root.rglob("Dockerfile"))


def test_every_dockerfile_is_pinned_or_loudly_unpinned(rendered: Path) -> None:
    files = _dockerfiles(rendered)
    assert len(files) >= 20
    for path in files:
        text = path.read_text()
        froms = [line for line in text.splitlines() if line.startswith("FROM ")]
        assert len(froms) == 2, path
        if "unpinned" in path.parts:
            assert "WARNING: rendered with --allow-unpinned" in text
        else:
            assert all("@sha256:" in line for line in froms), path
        assert (path.parent / "Dockerfile.dockerignore").is_file()


@pytest.mark.oracle
def test_hadolint_reports_nothing(rendered: Path) -> None:
    findings = [f for path in _dockerfiles(rendered) for f in oracles.hadolint(path)]
    assert findings == [], "\n".join(str(f) for f in findings)


@pytest.mark.oracle
def test_checkov_reports_nothing(rendered: Path) -> None:
    result = oracles.checkov_run(rendered, ["dockerfile"])
    assert not result.parsing_errors
    # checkov really read every Dockerfile (a skipped file would pass vacuously).
    assert result.resource_counts.get("dockerfile") == len(_dockerfiles(rendered))
    assert result.failed == [], "\n".join(str(f) for f in result.failed)


@pytest.mark.oracle
def test_the_linters_do_catch_a_named_user(tmp_path: Path) -> None:
    """The oracles are not blind: the same skeleton with a named USER is reported."""
    source = CASES / "docker-all-runtimes" / "input"
    out = tmp_path / "out"
    _render(source, out)
    dockerfile = out / "apps" / "python-svc" / "Dockerfile"
    text = dockerfile.read_text()
    dockerfile.write_text(text.replace("USER 65532:65532", "USER nonroot"))
    assert "DL3066" in {f.check_id for f in oracles.hadolint(dockerfile)}
    dockerfile.write_text(text.replace("HEALTHCHECK NONE\n", "").replace("USER 65532:65532\n", ""))
    ids = {f.check_id for f in oracles.checkov(out, ["dockerfile"])}
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3"} <= ids
