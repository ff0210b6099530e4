"""The test set-up installs tools and changes no configuration of the machine.

`tests/tools/install.sh` installs Debian packages and pinned tools; the container tests
bring their own containers.conf (CONTAINERS_CONF), so nothing under /etc is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "build"))
import buildharness as bh

TOOLS = Path(__file__).parent / "tools"


def _code_lines(script: Path) -> list[str]:
    return [ln for ln in script.read_text().splitlines() if not ln.lstrip().startswith("#")]


@pytest.mark.parametrize("name", ["install.sh", "install-build.sh"])
def test_install_scripts_name_no_machine_configuration(name: str) -> None:
    """No code line names a path under /etc (apt writes its own files; the scripts none)."""
    assert [ln for ln in _code_lines(TOOLS / name) if "/etc/" in ln] == []


def test_the_check_sees_what_the_old_script_did(tmp_path: Path) -> None:
    old = tmp_path / "old.sh"
    old.write_text("# comment /etc/x\nCONTAINERS_CONF=/etc/containers/containers.conf\n")
    assert _code_lines(old) == ["CONTAINERS_CONF=/etc/containers/containers.conf"]


def test_containers_harness_brings_its_own_engine_settings(tmp_path: Path) -> None:
    store = bh.Containers.create(tmp_path / "store")
    conf = Path(store.env["CONTAINERS_CONF"])
    assert conf.parent == tmp_path / "store"
    assert 'runtime = "runc"' in conf.read_text()
    assert "default_ulimits" in conf.read_text()
