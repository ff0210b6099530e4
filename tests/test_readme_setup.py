"""The README's two set-up commands work inside a fresh virtualenv.

Most users run them in a venv, where the base interpreter's packages are out of sight;
pip resolves cgen's dependencies from the package index for a fresh environment, exactly
as on a new machine. The commands are read from the README itself, so the test follows
any change to them. The install command runs verbatim; of the test command, the part
that installs the test dependencies runs verbatim and the suite is only collected (the
suite cannot run itself).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
from conftest import ROOT, tree

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

# Not part of a fresh clone: git's own folder, build and tool caches; the rendered out/
# is left out so the install command has to write it again.
TOP_LEVEL = {".git", "out", "build", "dist"}
ANYWHERE = shutil.ignore_patterns(
    "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".cgen"
)


def _ignored(folder: str, names: list[str]) -> set[str]:
    top = set(names) & TOP_LEVEL if Path(folder) == ROOT else set()
    return top | ANYWHERE(folder, names)


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)[:2]


def _fresh(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    checkout = tmp_path / "cgen"
    shutil.copytree(ROOT, checkout, ignore=_ignored)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"VIRTUAL_ENV": str(env_dir), "PATH": f"{env_dir / 'bin'}:{env['PATH']}"}
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return checkout, env


def _bash(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -e; {command}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_readme_has_the_two_commands() -> None:
    install, tests = _readme_commands()
    assert install.startswith("pip install . && cgen render examples/shop")
    assert tests == "pip install -e '.[test]' && bash tests/tools/install.sh && python -m pytest"


def test_install_command_renders_the_example_in_a_fresh_venv(tmp_path: Path) -> None:
    checkout, env = _fresh(tmp_path)
    proc = _bash(_readme_commands()[0], checkout, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert tree(checkout / "out") == tree(ROOT / "out")
    where = _bash("command -v cgen", checkout, env).stdout.strip()
    assert where == str(tmp_path / "venv" / "bin" / "cgen")


def test_test_command_installs_what_the_suite_imports_in_a_fresh_venv(tmp_path: Path) -> None:
    checkout, env = _fresh(tmp_path)
    install = _readme_commands()[1].split(" && ")[0]
    assert install.startswith("pip install")
    proc = _bash(f"{install} && python -m pytest --collect-only -q", checkout, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"^\d+ tests collected", proc.stdout, re.MULTILINE), proc.stdout[-500:]
