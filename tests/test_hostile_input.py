"""Input that tries to break out of its format, its folder or the tools that read the output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import oracles
import pytest
from conftest import ROOT, run_cgen, tree

LOCK = ROOT / "examples" / "shop" / "images.lock"
BASE = """apiVersion: cgen/v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  runtime: python
  image: registry.example.com/shop/api:1.0.0@sha256:{digest}
  ports: [{name: http, port: 8080}]
""".replace("{digest}", "ab" * 32)


def _project(tmp_path: Path, manifest: str = BASE, config: str | None = None) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    shutil.copy(LOCK, folder / "images.lock")
    (folder / "api.yaml").write_text(manifest, encoding="utf-8")
    if config is not None:
        (folder / "cgen.yaml").write_text(config, encoding="utf-8")
    return folder


def _fails(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr


@pytest.mark.oracle
def test_names_that_yaml_1_2_reads_as_numbers_stay_strings(tmp_path: Path) -> None:
    manifest = BASE.replace("name: api", "name: 1e3\n  labels: {a: '1e3', b: '0x1f', c: '12'}")
    manifest = manifest.replace("namespace: shop", "namespace: 0o17")
    # A client only: a name that starts with a digit cannot name a Service (DNS-1035).
    manifest = manifest.replace("  ports: [{name: http, port: 8080}]\n", "")
    project = _project(tmp_path, manifest)
    run_cgen(["render", "."], cwd=project, check=True)
    built = subprocess.run(["kubectl", "kustomize", str(project / "out")], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    # kustomize (Go, YAML 1.2) would have failed or turned these into numbers.
    for text in ("name: \"1e3\"", "namespace: \"0o17\"", "a: \"1e3\"", "b: \"0x1f\"",
                 "c: \"12\""):  # fmt: skip
        assert text in built, text


def test_a_symlinked_state_folder_is_not_followed(tmp_path: Path) -> None:
    project = _project(tmp_path)
    outside = tmp_path / "outside"
    (outside / "staging").mkdir(parents=True)
    (outside / "staging" / "precious").write_text("keep me\n")
    (project / "out").mkdir()
    (project / "out" / ".cgen").symlink_to(outside)
    _fails(run_cgen(["render", "."], cwd=project), "symbolic link")
    assert (outside / "staging" / "precious").read_text() == "keep me\n"
    assert sorted(p.name for p in outside.iterdir()) == ["staging"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ('  writablePaths: ["/tmp/a\\u2028b"]', "spec.writablePaths[0]: must not contain control"),
        ('  secrets: [{secret: a, mountPath: "/s/\\x85x"}]', "spec.secrets[0].mountPath"),
        ('  build: {entrypoint: ["\\ud800"]}', "spec.build.entrypoint[0]: must not contain"),
        ('  build: {entrypoint: ["a\\u202eb"]}', "spec.build.entrypoint[0]: must not contain"),
    ],
)
def test_invisible_characters_are_refused(tmp_path: Path, extra: str, needle: str) -> None:
    project = _project(tmp_path, BASE + extra + "\n")
    _fails(run_cgen(["render", "."], cwd=project), needle)
    assert not (project / "out").exists()


@pytest.mark.oracle
def test_entrypoint_arguments_may_hold_newlines_quotes_and_templates(tmp_path: Path) -> None:
    extra = '  build: {entrypoint: ["/app/run", "--motd=a\\nb \\"q\\" ${X} %{y} \\\\"]}\n'
    project = _project(tmp_path, BASE + extra)
    run_cgen(["render", "."], cwd=project, check=True)
    dockerfile = project / "out" / "shop" / "api" / "Dockerfile"
    entry = [ln for ln in dockerfile.read_text().splitlines() if ln.startswith("ENTRYPOINT")]
    assert entry == ['ENTRYPOINT ["/app/run", "--motd=a\\nb \\"q\\" ${X} %{y} \\\\"]']
    assert oracles.hadolint(dockerfile) == []


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ("imageLock: /etc/shadow\n", "imageLock: must be a path inside the project folder"),
        ("out: ../../elsewhere\n", "out: must be a path inside the project folder"),
        ("profiles: /etc\n", "profiles: must be a path inside the project folder"),
        ("namespace: a\n---\nnamespace: b\n", "must hold one YAML document, not several"),
    ],
)
def test_config_cannot_reach_outside_the_project(tmp_path: Path, config: str, needle: str) -> None:
    project = _project(tmp_path, config=config)
    _fails(run_cgen(["render", "."], cwd=project), needle)


@pytest.mark.oracle
def test_udp_only_service_passes_checkov_with_explained_skips(tmp_path: Path) -> None:
    project = _project(tmp_path, BASE.replace("port: 8080}", "port: 8080, protocol: UDP}"))
    run_cgen(["render", "."], cwd=project, check=True)
    result = oracles.checkov_run(project / "out", ["kubernetes"])
    assert [str(f) for f in result.failed] == []
    assert sorted(s.check_id for s in result.skipped) == ["CKV_K8S_8", "CKV_K8S_9"]


def test_output_bytes_do_not_depend_on_the_current_folder(tmp_path: Path) -> None:
    project = _project(tmp_path, config="namespace: shop\n")
    run_cgen(["render", "proj", "--out", "proj/out"], cwd=tmp_path, check=True)
    inside = run_cgen(["check", "."], cwd=project)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    header = (project / "out" / "shop" / "api" / "deployment.yaml").read_text().splitlines()[0]
    assert header == "# Generated by cgen from api.yaml."


def test_dry_run_reports_the_refusal_the_real_run_would_make(tmp_path: Path) -> None:
    project = _project(tmp_path)
    run_cgen(["render", "."], cwd=project, check=True)
    edited = project / "out" / "shop" / "api" / "service.yaml"
    edited.write_text(edited.read_text() + "# mine\n")
    (project / "api.yaml").write_text(BASE.replace("8080", "8081"))
    before = tree(project / "out")
    _fails(run_cgen(["render", ".", "--dry-run"], cwd=project), "edited by hand")
    assert tree(project / "out") == before


def test_keys_cannot_forge_error_lines(tmp_path: Path) -> None:
    manifest = BASE + '  "x\\nerror: fake.yaml:1:1: everything fine": 1\n'
    proc = run_cgen(["render", "."], cwd=_project(tmp_path, manifest))
    _fails(proc, "spec.x\\x0aerror: fake.yaml")
    assert not any(line.startswith("error: fake.yaml") for line in proc.stderr.splitlines())


def test_broken_user_profiles_are_located_errors(tmp_path: Path) -> None:
    project = _project(tmp_path, config="profiles: own\n")
    seccomp = project / "own" / "seccomp"
    seccomp.mkdir(parents=True)
    shipped = ROOT / "profiles"
    shutil.copy(shipped / "python.yaml", project / "own" / "python.yaml")
    baseline = (shipped / "seccomp" / "python.yaml").read_text()
    (seccomp / "python.yaml").write_text(baseline.replace("accept4,", "accept4, notasyscall,"))
    _fails(
        run_cgen(["render", "."], cwd=project),
        "own/seccomp/python.yaml:",
        "'notasyscall' is not a syscall",
    )
    (seccomp / "python.yaml").write_text(baseline)
    (seccomp / "capabilities.yaml").write_text("- NET_ADMIN\n")
    manifest = BASE + "  capabilities: [NET_ADMIN]\n"
    (project / "api.yaml").write_text(manifest)
    _fails(run_cgen(["render", "."], cwd=project), "own/seccomp/capabilities.yaml:1:1")


def test_a_damaged_journal_is_a_clear_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    run_cgen(["render", "."], cwd=project, check=True)
    (project / "out" / ".cgen" / "journal.json").write_text("{bad")
    _fails(run_cgen(["render", "."], cwd=project), "damaged journal")


def test_a_rendered_output_folder_is_never_read_as_manifests(tmp_path: Path) -> None:
    project = _project(tmp_path)
    run_cgen(["render", ".", "--out", "generated"], cwd=project, check=True)
    proc = run_cgen(["validate", "."], cwd=project)
    assert proc.returncode == 0, proc.stderr


def test_ipv6_egress_everywhere_still_excludes_the_metadata_endpoint(tmp_path: Path) -> None:
    manifest = BASE + "  dependencies: [{cidr: '::/0', ports: [443]}]\n"
    project = _project(tmp_path, manifest)
    run_cgen(["render", "."], cwd=project, check=True)
    policy = (project / "out" / "shop" / "api" / "networkpolicy.yaml").read_text()
    assert "cidr: ::/0\n            except:\n              - fd00:ec2::254/128" in policy
