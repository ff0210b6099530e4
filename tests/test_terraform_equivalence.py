"""The Terraform output says exactly what the YAML output says.

For both examples, the real-systems project (tests/data/real-systems-tf) and every test
topology and rendering golden case: each .tf file is parsed by python-hcl2 and by
HashiCorp's own parser (hcl2json), its resources are turned back into Kubernetes objects
(tests/tf_convert.py, written from the provider's schema), and those must equal, field by
field, the objects cgen writes as YAML for that folder; only a custom resource may be a
`kubernetes_manifest`. A source whose services carry kustomize patches cannot render
Terraform: it must fail with one located error per patch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import oracles
import pytest
import tf_convert
from conftest import ROOT

import generator
from generator.compose import folders
from generator.errors import ManifestError

pytestmark = pytest.mark.oracle

PARSERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "python-hcl2": oracles.python_hcl2,
    "hcl2json": oracles.hcl2json,
}
PY = "python-hcl2"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


# Every kind and field of docs/real-systems.md that shapes an object, in one project.
REAL_SYSTEMS = ROOT / "tests" / "data" / "real-systems-tf" / "manifests"
# Kinds the provider has no typed resource for (custom resources): kubernetes_manifest.
CUSTOM_KINDS = {"CiliumNetworkPolicy", "SeccompProfile"}


def _sources() -> list[Path]:
    found = [ROOT / "examples" / "shop", ROOT / "examples" / "otel-demo", REAL_SYSTEMS]
    for case in sorted((ROOT / "tests" / "cases").iterdir()):
        if (case / "input").is_dir() and not (case / "expected_error.txt").exists():
            found.append(case / "input")
    topologies = ROOT / "tests" / "topologies"
    if topologies.is_dir():
        for topo in sorted(p for p in topologies.iterdir() if p.is_dir()):
            found.append(topo / "manifests" if (topo / "manifests").is_dir() else topo)
    return found


SOURCES = _sources()


# The hcl2json wrapper's output is cut at 64 KiB (its pipe buffer); its JSON is smaller
# than the HCL it reads, so batches of at most this many characters stay below that.
BATCH_CHARS = 48_000


def _batches(files: list[Path]) -> list[list[Path]]:
    """The files in order, grouped so that each group holds at most BATCH_CHARS."""
    batches: list[list[Path]] = [[]]
    size = 0
    for path in files:
        length = len(path.read_text(encoding="utf-8"))
        assert length <= BATCH_CHARS, f"{path}: {length} characters, too many for hcl2json"
        if size + length > BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
    return batches


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return (str(obj.get("kind")), str(meta.get("namespace", "")), str(meta.get("name")))


def render_both(source: Path, out: Path) -> generator.Project:
    """Write the kubernetes and terraform artifacts of source into out."""
    project, _ = generator.load([source], out, allow_unpinned=True)
    artifacts = generator.build(project, formats=("kubernetes", "terraform"))
    for art in artifacts:
        (out / art.path).parent.mkdir(parents=True, exist_ok=True)
        (out / art.path).write_text(art.content, encoding="utf-8")
    return project


def _objects(found: list[tuple[str, str, dict[str, Any]]]) -> dict[tuple[str, str, str], Any]:
    objects: dict[tuple[str, str, str], Any] = {}
    for rtype, _, body in found:
        obj = tf_convert.to_k8s(rtype, body)
        # Only a custom resource may need a live cluster at plan time.
        assert (rtype == "kubernetes_manifest") == (obj["kind"] in CUSTOM_KINDS), (rtype, obj)
        assert _key(obj) not in objects, f"{_key(obj)} twice"
        objects[_key(obj)] = obj
    return objects


def _assert_same(actual: dict[Any, Any], expected: dict[Any, Any], where: str) -> None:
    assert sorted(actual) == sorted(expected), where
    for key, obj in expected.items():
        assert actual[key] == obj, f"{where}: {key}"


@pytest.mark.parametrize("source", SOURCES, ids=[s.relative_to(ROOT).as_posix() for s in SOURCES])
def test_terraform_equals_yaml(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    project, _ = generator.load([source], out, allow_unpinned=True)
    patches = [(svc, p) for svc in project.graph.services for p in svc.patches]
    if patches:  # Terraform cannot apply them: one located error per patch, nothing built
        with pytest.raises(ManifestError) as raised:
            generator.build(project, formats=("terraform",))
        wanted = {(svc.doc.at(p.keypath), p.keypath) for svc, p in patches}
        assert {(e.location, e.keypath) for e in raised.value.problems} == wanted
        return
    render_both(source, out)
    all_folders = folders(project)
    tf_files = sorted(out.rglob("*.tf"))
    assert {p.relative_to(out).as_posix() for p in tf_files} == {
        "main.tf",
        "versions.tf",
        *(f"{f.path}/main.tf" for f in all_folders),
    }
    # python-hcl2 is in-process and fast: every file on its own, folder by folder.
    names: list[str] = []
    for folder in all_folders:
        found = tf_convert.resources(oracles.python_hcl2(out / folder.path / "main.tf"), PY)
        names += [name for _, name, _ in found]
        expected = {_key(obj): obj for obj in folder.objects.values()}
        _assert_same(_objects(found), expected, f"python-hcl2: {folder.path}")
    assert all(IDENTIFIER.fullmatch(n) for n in names), names
    assert len(names) == len(set(names)), "resource names must be unique across the output"
    # HashiCorp's parser starts a node process per call (about a second): it reads the
    # files together, which the globally unique names allow. A file with an unbalanced
    # brace would nest the next file's resources and fail the comparison below.
    together: list[tuple[str, str, dict[str, Any]]] = []
    for number, batch in enumerate(_batches(tf_files)):
        combined = tmp_path / f"batch-{number}.tf"
        combined.write_text("".join(p.read_text(encoding="utf-8") for p in batch), "utf-8")
        together += tf_convert.resources(oracles.hcl2json(combined), "hcl2json")
    expected = {_key(obj): obj for f in all_folders for obj in f.objects.values()}
    _assert_same(_objects(together), expected, "hcl2json")
    assert sorted(name for _, name, _ in together) == sorted(names)


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_root_module_calls_every_folder(parser: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    project = render_both(ROOT / "examples" / "shop", out)
    parse = PARSERS[parser]
    root = parse(out / "main.tf")
    calls = root["module"]
    if isinstance(calls, dict):  # hcl2json: {name: [body]}
        modules = {name: bodies[0] for name, bodies in calls.items()}
    else:  # python-hcl2: [{name: body}]
        modules = {name: body for call in calls for name, body in call.items()}
    sources = {body["source"] for body in modules.values()}
    assert sources == {f"./{f.path}" for f in folders(project)}
    assert all(IDENTIFIER.fullmatch(name) for name in modules)
    # Namespaced objects must not be applied before their Namespace exists.
    for name, body in modules.items():
        if not body["source"].endswith("/_namespace"):
            assert body["depends_on"], name
    versions = parse(out / "versions.tf")["terraform"][0]
    provider = versions["required_providers"][0]["kubernetes"]
    assert provider["source"] == "hashicorp/kubernetes"
    assert re.fullmatch(r"~> 3\.\d+", provider["version"]), provider
