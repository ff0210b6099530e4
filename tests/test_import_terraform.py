"""`cgen import` from Terraform: cgen's own `--format terraform` output imports back to
manifests that render to the same Kubernetes objects; bad Terraform is a located error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cgen

PROJECT = ROOT / "tests" / "data" / "import" / "terraform-roundtrip"
# The runtime is no field of a Kubernetes object: the user tells it (a server profile's
# image names it).
RUNTIMES = ["--runtime", "web=python", "--runtime", "api=go", "--runtime", "report=static"]


def _objects(folder: Path) -> dict[tuple[str, str, str], Any]:
    found = {}
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                meta = doc["metadata"]
                found[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return found


def test_terraform_output_round_trips_to_the_same_objects(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cgen(
        [
            "render",
            str(PROJECT),
            "--out",
            str(out),
            "--allow-unpinned",
            "--format",
            "kubernetes",
            "--format",
            "terraform",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    terraform = tmp_path / "tf"
    for tf in out.rglob("*.tf"):  # only the Terraform: the YAML beside it is not read
        target = terraform / tf.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tf, target)
    services = tmp_path / "services"
    proc = run_cgen(["import", str(terraform), "--out", str(services), *RUNTIMES])
    assert proc.returncode == 0, proc.stderr
    again = tmp_path / "again"
    proc = run_cgen(["render", str(services), "--out", str(again)])
    assert proc.returncode == 0, proc.stderr
    before, after = _objects(out), _objects(again)
    assert len(before) > 10
    assert sorted(after) == sorted(before)
    for key, obj in before.items():
        assert after[key] == obj, key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('resource "kubernetes_deployment_v1" "x" {\n  metadata {\n', "main.tf:"),
        ('resource "kubernetes_deployment_v1" "x" {\n  spec = {{\n}\n', "not valid Terraform"),
        (
            'resource "kubernetes_config_map_v1" "c" {\n  metadata { name = var.name }\n}\n',
            "kubernetes_config_map_v1.c",
        ),
        (
            'resource "kubernetes_deployment_v1" "d" {\n  metadata { name = "d-${var.env}" }\n}\n',
            "import reads literal values only",
        ),
        ('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', "no workloads"),
    ],
)
def test_bad_terraform_is_a_located_error(tmp_path: Path, text: str, message: str) -> None:
    source = tmp_path / "main.tf"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "services"
    proc = run_cgen(["import", str(source), "--out", str(out)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not out.exists()
