"""The base state of a diff: a folder as it is, or the manifests as a git revision had them."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from generator.errors import Location, UsageError, UserError

MAX_ARCHIVE_BYTES = 256 << 20  # a manifest repository; refuse to unpack anything huge


def scratch_root() -> str:
    """Where a revision's tree is unpacked: $TMPDIR, else /var/tmp (roomier than /tmp)."""
    return os.environ.get("TMPDIR") or ("/var/tmp" if os.path.isdir("/var/tmp") else "/tmp")


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise UserError("git is not installed: BASE must then be a folder") from exc


def _text(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else f"exit status {proc.returncode}"


def revision_tree(revision: str, paths: list[Path], scratch: Path) -> list[Path]:
    """Unpack the revision's tree into scratch; the given paths as they were there."""
    here = Path.cwd()
    if revision.startswith("-"):
        raise UsageError(f"BASE: {revision!r} is neither a folder nor a git revision")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], here)
    if commit.returncode != 0:
        raise UsageError(f"BASE: {revision!r} is neither a folder nor a git revision")
    top_proc = _git(["rev-parse", "--show-toplevel"], here)
    top = Path(top_proc.stdout.decode().strip()).resolve()
    relative: list[Path] = []
    for path in paths:
        try:
            relative.append(path.resolve().relative_to(top))
        except ValueError as exc:
            raise UserError(f"{path}: outside the git working tree {top.name}/") from exc
    archive = _git(["archive", "--format=tar", commit.stdout.decode().strip()], top)
    if archive.returncode != 0:
        raise UserError(f"git archive {revision}: {_text(archive)}")
    if len(archive.stdout) > MAX_ARCHIVE_BYTES:
        raise UserError(f"git archive {revision}: larger than {MAX_ARCHIVE_BYTES >> 20} MiB")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(scratch, filter="data")
    return [scratch / rel for rel in relative if (scratch / rel).exists()]


def folder_tree(folder: Path, paths: list[Path]) -> list[Path]:
    """A base folder stands for the whole of the head's paths."""
    del paths  # the folder is the base project as a whole
    return [folder]


def where_in(scratch: Path, label: str) -> Callable[[Location | None], str | None]:
    """A function showing a base location as LABEL:path instead of the scratch folder."""
    prefix = str(scratch.resolve()) + os.sep

    def show(location: Location | None) -> str | None:
        if location is None:
            return None
        text = str(location)
        return f"{label}:{text[len(prefix) :]}" if text.startswith(prefix) else text

    return show
