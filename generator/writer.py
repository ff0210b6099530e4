"""The only code that touches the output folder: atomic, journaled, hand-edit aware.

A render is staged in out/.cgen/staging, committed by atomically writing a journal, then
applied; any cgen run that finds a journal finishes it first. So an interrupted run leaves
the old output, or (after the next run, which rolls it forward) the new, never a mix.
out/.cgen/state.json records the hash of every generated file: a file whose bytes differ
from its recorded hash was edited by hand and is not overwritten without --force.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import OutputError
from generator.serialize import Artifact

STATE_DIR = ".cgen"
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def sha256(data: bytes) -> str:
    """Hex digest of data."""
    return hashlib.sha256(data).hexdigest()


def _check_relative(path: str) -> None:
    parts = path.split("/")
    if any(not _SAFE_PART.fullmatch(p) or p in (".", "..") for p in parts) or parts[0] == STATE_DIR:
        raise OutputError(f"refusing to write outside the output folder: {path!r}")


@dataclass
class Plan:
    """What a render would change in the output folder."""

    out: Path
    writes: list[Artifact] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True when applying the plan would change any file."""
        return bool(self.writes or self.deletes)


def _state_dir(out: Path) -> Path:
    """out/.cgen, refusing links anywhere in it: a committed symlink must not make cgen
    delete or write outside the output folder."""
    folder = out / STATE_DIR
    for path in (out, folder, folder / "staging", folder / "journal.json", folder / "state.json"):
        if path.is_symlink():
            raise OutputError(f"{path} is a symbolic link; cgen does not follow links there")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is not a folder")
    return folder


def pending(out: Path) -> bool:
    """Whether an interrupted render waits to be finished (its journal was committed)."""
    return (_state_dir(out) / "journal.json").exists()


def _state_path(out: Path) -> Path:
    return _state_dir(out) / "state.json"


def read_state(out: Path) -> dict[str, str]:
    """Recorded hashes of generated files; empty for a new output folder."""
    path = _state_path(out)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict):
            raise TypeError
        return {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(
            f"{path}: unreadable cgen state; delete it and render with --force"
        ) from None


def _inside(out: Path, rel: str) -> Path:
    _check_relative(rel)
    target = out / rel
    real_out = out.resolve()
    if not target.resolve().is_relative_to(real_out):
        raise OutputError(f"refusing to follow a link out of the output folder: {rel}")
    return target


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return b"\x00<a folder>"
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None


def plan(out: Path, artifacts: list[Artifact]) -> Plan:
    """Compare artifacts with the output folder and its recorded state."""
    old = read_state(out)
    result = Plan(out)
    produced = set()
    for art in artifacts:
        produced.add(art.path)
        data = art.content.encode("utf-8")
        result.state[art.path] = sha256(data)
        current = _read(_inside(out, art.path))
        if current == data:
            result.unchanged.append(art.path)
        elif current is None:
            result.writes.append(art)
        else:
            recorded = old.get(art.path)
            if recorded is None:
                result.foreign.append(art.path)
            elif sha256(current) != recorded:
                result.edited.append(art.path)
            result.writes.append(art)
    for rel in sorted(set(old) - produced):
        current = _read(_inside(out, rel))
        if current is None:
            continue
        if sha256(current) != old[rel]:
            result.edited.append(rel)
        result.deletes.append(rel)
    return result


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.cgen-tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    # Lock the state folder itself: no lock file is left behind in the output.
    folder = _state_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recover(out: Path) -> bool:
    """Finish a render that was interrupted after its journal was committed."""
    folder = _state_dir(out)
    journal = folder / "journal.json"
    staging = folder / "staging"
    if not journal.exists():
        if staging.exists():
            shutil.rmtree(staging)  # an uncommitted render: the old output stands
        return False
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
        if not isinstance(entries, dict) or not {"writes", "deletes", "state"} <= set(entries):
            raise TypeError
    except (ValueError, TypeError):
        raise OutputError(
            f"{journal}: an interrupted render left a damaged journal; delete {folder} and "
            "run cgen render --force to write the whole output again"
        ) from None
    _apply_journal(out, entries)
    return True


def _apply_journal(out: Path, entries: dict[str, object]) -> None:
    staging = out / STATE_DIR / "staging"
    writes = entries["writes"]
    deletes = entries["deletes"]
    assert isinstance(writes, list) and isinstance(deletes, list)
    for staged, rel in writes:
        source = staging / staged
        if source.exists():
            target = _inside(out, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(source, target)
    for rel in deletes:
        target = _inside(out, rel)
        target.unlink(missing_ok=True)
        _prune(out, target.parent)
    _write_file(_state_path(out), _state_bytes(entries["state"]))
    (out / STATE_DIR / "journal.json").unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _prune(out: Path, folder: Path) -> None:
    root = out.resolve()
    while folder.resolve() != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _state_bytes(state: object) -> bytes:
    return (json.dumps({"version": 1, "files": state}, indent=2, sort_keys=True) + "\n").encode()


def refuse_unsafe(result: Plan, *, force: bool = False) -> None:
    """Raise OutputError when the plan would overwrite or remove files cgen did not write
    as they are (edited by hand, or never written by cgen), unless force."""
    if (result.edited or result.foreign) and not force:
        lines = [f"  {p} (edited by hand since cgen wrote it)" for p in result.edited]
        lines += [f"  {p} (exists, but cgen did not write it)" for p in result.foreign]
        raise OutputError(
            "refusing to overwrite or remove files cgen did not write as they "
            "are:\n"
            + "\n".join(lines)
            + "\nmove the changes into the manifests, or render with --force"
        )


def apply(result: Plan, *, force: bool = False) -> None:
    """Write the plan: refuses hand-edited and foreign files unless force."""
    refuse_unsafe(result, force=force)
    out = result.out
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        recover(out)
        if not result.changed and read_state(out) == result.state:
            return
        staging = out / STATE_DIR / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        writes = []
        for number, art in enumerate(result.writes):
            _write_file(staging / str(number), art.content.encode("utf-8"))
            writes.append([str(number), art.path])
        _fsync_dir(staging)
        entries = {"writes": writes, "deletes": result.deletes, "state": result.state}
        # The journal's atomic appearance is the commit point of the whole render.
        _write_file(out / STATE_DIR / "journal.json", json.dumps(entries).encode())
        _fsync_dir(out / STATE_DIR)
        _apply_journal(out, entries)


def write(
    out: Path, artifacts: list[Artifact], *, force: bool = False, dry_run: bool = False
) -> Plan:
    """Make the output folder hold exactly the artifacts (or, dry, say what that would do)."""
    if out.exists() and not dry_run:
        recover(out)
    result = plan(out, artifacts)
    if dry_run:
        refuse_unsafe(result, force=force)  # a dry run says what the real one would
    else:
        apply(result, force=force)
    return result


def inspect(out: Path, artifacts: list[Artifact]) -> tuple[Plan, bool]:
    """What a render would change, and whether an interrupted render is pending (writes nothing)."""
    return plan(out, artifacts), pending(out)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace one file outside the output folder atomically (old bytes or new, never a mix)."""
    _write_file(path, text.encode("utf-8"))


def diff(result: Plan) -> str:
    """A unified diff from what is in the output folder to what a render would write."""
    chunks: list[str] = []
    for art in sorted(result.writes):
        current = _read(result.out / art.path)
        old_text = (current or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new_text = art.content.splitlines(keepends=True)
        old_name = f"a/{art.path}" if current is not None else "/dev/null"
        chunks += difflib.unified_diff(old_text, new_text, old_name, f"b/{art.path}")
    for rel in result.deletes:
        current = _read(result.out / rel) or b""
        old_text = current.decode("utf-8", "replace").splitlines(keepends=True)
        chunks += difflib.unified_diff(old_text, [], f"a/{rel}", "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)
