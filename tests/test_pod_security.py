"""Pod Security per namespace: restricted unless cgen.yaml lowers it on purpose."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cgen

import generator

MANIFEST = """apiVersion: cgen/v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  runtime: static
  image: registry.example.com/{name}:1.0.0@sha256:{digest}
  ports: [{{name: http, port: 8080}}]
  capabilities: [{caps}]
"""
DIGEST = "0" * 63 + "3"


def _write(folder: Path, name: str, namespace: str, caps: str) -> None:
    text = MANIFEST.format(name=name, namespace=namespace, digest=DIGEST, caps=caps)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_the_error_names_place_key_level_and_remedy(tmp_path: Path) -> None:
    _write(tmp_path, "tracer", "debug", "SYS_PTRACE")
    proc = run_cgen(["validate", "--json", str(tmp_path)])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (problem,) = json.loads(proc.stdout)["problems"]
    assert (problem["line"], problem["column"], problem["key"]) == (8, 18, "spec.capabilities[0]")
    assert "needs Pod Security level privileged" in problem["message"]
    assert "podSecurity: {debug: {level: privileged, reason: <why>}}" in problem["message"]


def test_lowering_a_namespace_further_than_its_pods_need_is_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, "owner", "files", "CHOWN")
    (tmp_path / "cgen.yaml").write_text(
        "podSecurity:\n  files: {level: privileged, reason: chowns uploads}\n", encoding="utf-8"
    )
    # (The other warning says the project has no images.lock and uses cgen's shipped pins.)
    (warning,) = [w for w in generator.validate([tmp_path]) if w.keypath.startswith("podSecurity")]
    assert str(warning).endswith(
        "podSecurity.files.level: lowers namespace files to privileged, but its pods need "
        "only baseline: every pod there may now do more than it needs"
    )
    (tmp_path / "cgen.yaml").write_text(
        "podSecurity:\n  files: {level: baseline, reason: chowns uploads}\n", encoding="utf-8"
    )
    assert [w for w in generator.validate([tmp_path]) if w.keypath.startswith("podSecurity")] == []


def test_lowering_a_namespace_without_services_names_the_nearest_one(tmp_path: Path) -> None:
    _write(tmp_path, "owner", "files", "CHOWN")
    (tmp_path / "cgen.yaml").write_text(
        "podSecurity:\n"
        "  files: {level: baseline, reason: chowns uploads}\n"
        "  filse: {level: baseline, reason: chowns uploads}\n"
        "  nosuch: {level: baseline, reason: chowns uploads}\n",
        encoding="utf-8",
    )
    found = [w for w in generator.validate([tmp_path]) if w.keypath.startswith("podSecurity")]
    assert [f"{w.location.line}:{w.location.column} {w.keypath}: {w.message}" for w in found] == [
        "3:3 podSecurity.filse: no cgen service in namespace 'filse', so this entry lowers "
        "nothing; did you mean 'files'?",
        "4:3 podSecurity.nosuch: no cgen service in namespace 'nosuch', so this entry lowers "
        "nothing",
    ]
