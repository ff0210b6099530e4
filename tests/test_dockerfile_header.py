"""What a Dockerfile's header claims is true: where its pins came from, where to build it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cgen

import generator

SHOP = ROOT / "examples" / "shop"
FROM_LOCK = "are pinned by digest from\n#   images.lock\n"


def _header(dockerfile: str) -> str:
    return dockerfile.split("\n\n", 1)[0]


def test_without_a_lock_the_header_names_the_pins_cgen_ships(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    shutil.copy(SHOP / "shop" / "email.yaml", project)
    out = tmp_path / "out"
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    shipped = (out / "default" / "email" / "Dockerfile").read_text(encoding="utf-8")
    dates = yaml.safe_load((ROOT / "profiles" / "images.lock").read_text(encoding="utf-8"))
    oldest = min(str(d) for d in dates["resolved"].values())
    header = " ".join(line.lstrip("# ") for line in _header(shipped).splitlines())
    assert f"the pins that cgen {generator.version()} ships (resolved {oldest})" in header
    assert "the project has no images.lock" in header and "`cgen pin --offline`" in header
    assert FROM_LOCK not in shipped

    # Once the pins are committed, the header names the lock and nothing else changes.
    run_cgen(["pin", "--offline", str(project)], check=True)
    run_cgen(["render", str(project), "--out", str(out)], check=True)
    locked = (out / "default" / "email" / "Dockerfile").read_text(encoding="utf-8")
    assert FROM_LOCK in locked and "ships" not in _header(locked)
    assert locked.split("\n\n", 1)[1] == shipped.split("\n\n", 1)[1]


def _source(folder: Path) -> None:
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__main__.py").write_text("", encoding="utf-8")
    (folder / "requirements.txt").write_text("# no packages\n", encoding="utf-8")


@pytest.mark.parametrize("given", ["config", "folder", "file"])
def test_the_build_context_is_relative_to_the_folder_the_header_names(
    tmp_path: Path, given: str
) -> None:
    project = tmp_path / "repo"
    _source(project / "src" / "api")
    (project / "services").mkdir()
    manifest = yaml.safe_load((SHOP / "shop" / "email.yaml").read_text(encoding="utf-8"))
    manifest["spec"]["build"] = {"context": "../src/api"}
    (project / "services" / "api.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    # With cgen.yaml the project folder is its folder; without, the first folder given
    # or the folder of the first file.
    folder = project if given == "config" else project / "services"
    shutil.copy(SHOP / "images.lock", folder)
    if given == "config":
        (project / "cgen.yaml").write_text("namespace: shop\n", encoding="utf-8")
    path = folder / "api.yaml" if given == "file" else folder
    texts = []
    for cwd in (tmp_path, project / "src"):  # the bytes do not depend on where cgen runs
        out = tmp_path / f"out-{cwd.name}"
        run_cgen(["render", str(path), "--out", str(out)], cwd=cwd, check=True)
        (dockerfile,) = out.rglob("Dockerfile")
        texts.append(dockerfile.read_text(encoding="utf-8"))
    assert texts[0] == texts[1]
    (context,) = set(re.findall(r"REVISION=<commit> (\S+)$", texts[0], re.M))
    assert (folder / context).resolve() == (project / "src" / "api").resolve()
    said = " ".join(line.lstrip("# ") for line in _header(texts[0]).splitlines())
    assert "Run them from the project folder: that of cgen.yaml, else the first folder" in said
    assert f"(or the first file's folder); the context path {context} is relative to it." in said
