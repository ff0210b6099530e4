"""The wheel carries templates/ and profiles/, and an installed cgen renders from it alone."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

# pip builds the wheel and installs it into a fresh environment: the installer judges it.
pytestmark = pytest.mark.oracle


def test_wheel_ships_templates_and_profiles_and_renders(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("cgen-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        p.relative_to(ROOT / "profiles").as_posix() for p in (ROOT / "profiles").rglob("*.yaml")
    }
    assert shipped and all(f"generator/_shipped/profiles/{n}" in names for n in shipped)
    templates = {
        p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file()
    }
    assert templates and all(f"generator/_shipped/templates/{n}" in names for n in templates)
    # Install into a fresh environment that sees the dependencies but not the source tree.
    # The dependencies are wherever the running interpreter finds them (a venv's own
    # site-packages, or the system's): a .pth file adds exactly those folders. It does not
    # run their .pth files, so an editable install of the source tree stays out of sight.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = dict.fromkeys(
        [
            *site.getsitepackages(),
            sysconfig.get_paths()["purelib"],
            sysconfig.get_paths()["platlib"],
        ]
    )
    Path(own_site, "cgen-test-deps.pth").write_text(
        "".join(f"{folder}\n" for folder in deps if Path(folder).is_dir()), encoding="utf-8"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "project"
    project.mkdir()
    # The environment sees only its own packages, whatever path the test run was given.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    work = subprocess.run(
        [str(python), "-c", "import generator, sys; print(generator.__file__)"],
        cwd=project,
        env=clean,
        check=True,
        capture_output=True,
        text=True,
    )
    assert str(env_dir) in work.stdout, work.stdout
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            str(env_dir / "bin" / "cgen"),
            "render",
            str(ROOT / "examples" / "shop"),
            "--out",
            str(out),
        ],
        cwd=project,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "shop" / "frontend" / "Dockerfile").read_text().startswith("# syntax=")
    assert (out / "payments" / "payment" / "seccomp.json").exists()


def test_a_plain_source_tree_finds_templates_and_profiles_beside_the_package() -> None:
    """As if cgen were not installed: the checkout on the path, no editable-install finder."""
    code = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if 'editable' not in getattr(f, '__module__', type(f).__module__)]; "
        "from generator.runtime.shipped import profiles_root, templates_root; "
        "print(profiles_root()); print(templates_root())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines() == [str(ROOT / "profiles"), str(ROOT / "templates")]
