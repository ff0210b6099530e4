"""The generated GitHub Actions workflow: actionlint and zizmor (pedantic) report nothing
on it in every configuration, each of them does flag a deliberately broken copy, every
action is pinned by commit, permissions are per job and minimal, and no GitHub expression
reaches a shell script."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from oracle_base import tool_path

import generator
from generator.supply.workflow import ACTIONS

CASE = ROOT / "tests" / "cases" / "signing-policies" / "input"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
KEYLESS = (
    "signing:\n  engine: both\n  keyless:\n"
    "    issuer: https://token.actions.githubusercontent.com\n"
    "    subjectRegExp: '^https://github\\.com/example/apps/\\.github/workflows/"
    "cgen-images\\.yaml@refs/heads/main$'\n"
)
VARIANTS = {
    "keyless-policies": ("registry.example.com", KEYLESS + "ci:\n  github: {}\n"),
    "ghcr-no-signing": ("ghcr.io", "ci:\n  github: {branch: release/v2}\n"),
    "subfolder-key-signing": (
        "registry.example.com",
        "signing:\n  engine: kyverno\n  attestations: [slsa-provenance]\n  publicKey: |\n"
        "    -----BEGIN PUBLIC KEY-----\n    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "    -----END PUBLIC KEY-----\n"
        "ci:\n  github:\n    workingDirectory: deploy/apps\n"
        "    registryEnvironment: prod-registry\n"
        "    registryUsernameSecret: APPS_PUSH_USER\n    registryPasswordSecret: APPS_PUSH_TOKEN\n",
    ),
}


APP_FILES = {
    "api": {"app/__main__.py": ""},
    "web": {"package.json": '{"name": "web"}\n', "server.js": ""},
}


def _workflow(tmp_path: Path, variant: str) -> Path:
    """Render the case with build contexts and the variant's cgen.yaml; the workflow file."""
    registry, config = VARIANTS[variant]
    work = tmp_path / "project"
    shutil.copytree(CASE, work)
    text = (work / "cgen.yaml").read_text(encoding="utf-8")
    (work / "cgen.yaml").write_text(text.split("signing:")[0] + config, encoding="utf-8")
    for name, lock, content in (
        ("api", "requirements.txt", "# the standard library only: no packages\n"),
        ("web", "package-lock.json", (ROOT / "tests/build/node/package-lock.json").read_text()),
    ):
        (work / name).mkdir()
        (work / name / lock).write_text(content, encoding="utf-8")
        # The app files each profile ships by default (appFiles): python app/, node's
        # package.json and server.js.
        for app_file, text in APP_FILES[name].items():
            (work / name / app_file).parent.mkdir(exist_ok=True)
            (work / name / app_file).write_text(text, encoding="utf-8")
        manifest = work / f"{name}.yaml"
        body = manifest.read_text(encoding="utf-8").replace("registry.example.com", registry)
        manifest.write_text(body + f"  build:\n    context: {name}\n", encoding="utf-8")
    project, _ = generator.load([work])
    [artifact] = [a for a in generator.build(project) if a.path.startswith("_ci/")]
    path = tmp_path / ".github" / "workflows" / "cgen-images.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(artifact.content, encoding="utf-8")
    return path


def _lint(tool: str, workflow: Path) -> subprocess.CompletedProcess[str]:
    args = [str(tool_path(tool))]
    args += ["--offline", "--persona", "pedantic"] if tool == "zizmor" else ["-no-color"]
    return subprocess.run(
        [*args, str(workflow)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.oracle
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_actionlint_and_zizmor_find_nothing(tmp_path: Path, variant: str) -> None:
    workflow = _workflow(tmp_path, variant)
    actionlint = _lint("actionlint", workflow)
    assert actionlint.returncode == 0, actionlint.stdout + actionlint.stderr
    zizmor = _lint("zizmor", workflow)
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    assert "No findings to report" in zizmor.stdout + zizmor.stderr


@pytest.mark.oracle
def test_each_linter_flags_a_broken_workflow(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, "keyless-policies")
    good = workflow.read_text(encoding="utf-8")
    # A step output that does not exist: actionlint's expression checker must refuse it.
    workflow.write_text(good.replace("steps.build.outputs.digest", "steps.bild.outputs.digest"))
    actionlint = _lint("actionlint", workflow)
    assert actionlint.returncode != 0 and '"bild"' in actionlint.stdout, actionlint.stdout
    # A tag instead of a commit, and an attacker-controlled value inside a script.
    broken = good.replace(ACTIONS["checkout"], "actions/checkout@v4").replace(
        'cosign sign --yes "$IMAGE"',
        'echo "${{ github.event.head_commit.message }}"\n          cosign sign --yes "$IMAGE"',
    )
    workflow.write_text(broken, encoding="utf-8")
    zizmor = _lint("zizmor", workflow)
    report = zizmor.stdout + zizmor.stderr
    assert zizmor.returncode != 0, report
    assert "unpinned-uses" in report and "template-injection" in report, report


def _jobs(workflow: Path) -> dict[str, Any]:
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    assert data["permissions"] == {}
    jobs: dict[str, Any] = data["jobs"]
    return jobs


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pinned_actions_minimal_permissions_no_expression_in_scripts(
    tmp_path: Path, variant: str
) -> None:
    workflow = _workflow(tmp_path, variant)
    pins = {value.split(" # ")[0] for value in ACTIONS.values()}
    for name, job in _jobs(workflow).items():
        permissions = job["permissions"]
        assert permissions.get("contents") == "read"
        assert ("id-token" in permissions) == name.startswith("build-")
        assert set(permissions) <= {"contents", "id-token", "packages"}
        ghcr = VARIANTS[variant][0] == "ghcr.io"
        assert ("packages" in permissions) == (ghcr and name != "deploy")
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]) and step["uses"] in pins, step["uses"]
            assert "${{" not in step.get("run", ""), step["name"]
    text = workflow.read_text(encoding="utf-8")
    for pin in ACTIONS.values():
        if pin.startswith(("actions/checkout", "sigstore/")):
            assert f"uses: {pin}\n" in text  # the version comment stays beside the commit


def test_jobs_build_every_built_image_then_verify_then_deploy(tmp_path: Path) -> None:
    jobs = _jobs(_workflow(tmp_path, "keyless-policies"))
    builds = sorted(name for name in jobs if name.startswith("build-"))
    assert builds == ["build-apps-api", "build-edge-web"]  # db is prebuilt: not built
    assert jobs["verify"]["needs"] == builds
    assert jobs["deploy"]["needs"] == ["verify", *builds]
    for name in builds:
        build = next(s for s in jobs[name]["steps"] if s.get("id") == "build")["with"]
        assert build["sbom"] is True and build["provenance"] == "mode=max"
        assert "push-by-digest=true" in build["outputs"]
    verify = "\n".join(s.get("run", "") for s in jobs["verify"]["steps"])
    assert verify.count("cosign verify ") == 2
    assert verify.count("cosign verify-attestation --type spdxjson") == 2
    assert verify.count("cosign verify-attestation --type slsaprovenance") == 2
    identity = {s["env"]["IDENTITY"] for s in jobs["verify"]["steps"] if "env" in s}
    assert identity == {
        r"^https://github\.com/example/apps/\.github/workflows/cgen-images\.yaml@refs/heads/main$"
    }
