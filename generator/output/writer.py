"""The only code that touches the output folder: locked, journaled, hand-edit aware.

A render takes an exclusive lock on the output folder before it reads anything there, and
holds it through recovery, planning and applying: two renders into one folder run one
after the other. It stages every new file in out/.cgen/staging, commits by atomically
writing out/.cgen/journal.json, then applies. Until the journal exists the old output
stands untouched; once it exists any later run rolls the render forward first.

While a journal exists the tree may be a mix of old and new. Readers are protected two
ways: the journal itself is the marker (`cgen check` fails with "pending"), and the apply
first withdraws every generated kustomization.yaml above a changed file and puts them back,
deepest first, only when every other file is in place. So any kustomization.yaml present
at any instant builds exactly the old or exactly the new files (see docs/output.md).

out/.cgen/state.json records the hash of every generated file: a file whose bytes differ
from its recorded hash was edited by hand and is not overwritten without --force. The
journal and state are read as untrusted input (generator.journal); one cgen could not have
written is refused with its location, and --force discards it.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import OutputError
from generator.output.journal import (
    STATE_DIR,
    Journal,
    check_parents,
    encode_state,
    folders_of,
    fsync_dir,
    is_kustomization,
    kind_of,
    load_journal,
    obstacles,
    parse_state,
    remove,
    sha256,
    stage_file,
    sync_staged,
    unsafe_reason,
    write_file,
)
from generator.output.journal import apply_journal as _apply_journal
from generator.output.records import record_mac
from generator.serialize import Artifact

__all__ = [
    "STATE_DIR",
    "Plan",
    "diff",
    "fresh",
    "inspect",
    "pending",
    "plan",
    "recover",
    "write",
]


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
    blocked: list[str] = field(default_factory=list)
    guards: list[Artifact] = field(default_factory=list)
    skipped: bool = False  # nothing was built: the inputs and the output are as last rendered

    @property
    def changed(self) -> bool:
        """True when applying the plan would change any file."""
        return bool(self.writes or self.deletes)


def _state_dir(out: Path) -> Path:
    """out/.cgen, refusing a link at out or .cgen: cgen must never write outside out/."""
    folder = out / STATE_DIR
    for path in (out, folder):
        if path.is_symlink():
            raise OutputError(
                f"{path} is a symbolic link; cgen does not follow links there "
                "(remove the link, or render into another folder)"
            )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is not a folder; remove it and render again")
    above = next((p for p in (out, *out.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        where = "is a file" if above == out else f"lies below the file {above}"
        named = "(--out, or out: in cgen.yaml)"
        raise OutputError(f"the output folder {out} {named} {where}: name a folder to write")
    return folder


def pending(out: Path) -> bool:
    """Whether an interrupted render waits to be finished (its journal was committed)."""
    return os.path.lexists(_state_dir(out) / "journal.json")


def _inside(out: Path, rel: str, kinds: dict[str, str] | None = None) -> Path:
    reason = unsafe_reason(rel)
    if reason:
        raise OutputError(f"refusing to write outside the output folder: {reason}")
    check_parents(out, rel, kinds)
    return out / rel


def read_state(out: Path, *, force: bool = False) -> dict[str, str]:
    """Recorded hashes of generated files; empty for a new output folder."""
    path = _state_dir(out) / "state.json"
    kind = kind_of(path)
    if kind == "missing":
        return {}
    problems = [f"is a {kind}, not a file"] if kind != "file" else []
    good: dict[str, str] = {}
    if kind == "file":
        good, problems = parse_state(path.read_bytes())
    if problems and not force:
        raise OutputError(
            f"{path}: {problems[0]}: cgen could not have written this state (damaged or "
            "planted); nothing was changed. Render with --force to drop the bad entries "
            "(the files they name are then treated as not cgen's)"
        )
    return good


def _read(path: Path) -> bytes | None:
    kind = kind_of(path)
    if kind == "missing":
        return None
    if kind != "file":
        return f"\x00<a {kind}>".encode()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None


def plan(out: Path, artifacts: list[Artifact], *, force: bool = False) -> Plan:
    """Compare artifacts with the output folder and its recorded state."""
    old = read_state(out, force=force)
    result = Plan(out)
    kinds: dict[str, str] = {}  # the lock is held and nothing is written while planning
    for art in artifacts:
        data = art.content.encode("utf-8")
        result.state[art.path] = sha256(data)
        current = _read(_inside(out, art.path, kinds))
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
    for rel in sorted(set(old) - set(result.state)):
        kind = kind_of(_inside(out, rel, kinds))
        if kind in ("missing", "dir"):
            continue  # gone, or a folder now: not a file cgen wrote, so never removed
        current = _read(out / rel)
        if kind != "file" or current is None or sha256(current) != old[rel]:
            result.edited.append(rel)
        result.deletes.append(rel)
    result.blocked = obstacles(out, [a.path for a in result.writes], result.deletes)
    changed = [a.path for a in result.writes] + result.deletes
    above = {f for rel in changed for f in folders_of(rel)}
    result.guards = [
        a for a in artifacts if is_kustomization(a.path) and a.path.rpartition("/")[0] in above
    ]
    return result


@contextmanager
def _locked(out: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold a lock on the output folder itself (no lock file is left in the output).

    Exclusive for a render, which creates the folder; shared for a reader, which waits
    for a render in progress and locks nothing when the folder does not exist.
    """
    while True:
        _state_dir(out)
        if not shared:
            out.mkdir(parents=True, exist_ok=True)
        elif not out.exists():
            yield
            return
        try:
            fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue  # removed by the render we waited for: take the new one
        except OSError as exc:
            raise OutputError(f"{out}: cannot lock the output folder: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            now = os.stat(out, follow_symlinks=False) if os.path.lexists(out) else None
            held = os.fstat(fd)
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                yield
                return
        finally:
            os.close(fd)


def _recover(out: Path, *, force: bool) -> bool:
    """Finish (or, when it cannot be trusted and force, discard) an interrupted render."""
    folder = _state_dir(out)
    journal, staging = folder / "journal.json", folder / "staging"
    if not os.path.lexists(journal):
        remove(staging)  # an uncommitted render: the old output stands
        return False
    try:
        entries = load_journal(out)
    except OutputError:
        if not force:
            raise
        remove(journal)
        remove(staging)
        return False
    _apply_journal(out, entries)
    return True


def recover(out: Path, *, force: bool = False) -> bool:
    """Finish a render that was interrupted after its journal was committed."""
    if not out.exists():
        return False
    with _locked(out):
        return _recover(out, force=force)


def refuse_unsafe(result: Plan, *, force: bool = False) -> None:
    """Raise OutputError when the plan would overwrite or remove files cgen did not write
    as they are (edited by hand, or never written by cgen), unless force."""
    if result.blocked:
        raise OutputError(
            "cannot write the output:\n"
            + "\n".join(f"  {p}" for p in result.blocked)
            + "\nmove these out of the output folder and render again"
        )
    if (result.edited or result.foreign) and not force:
        lines = [f"  {p} (edited by hand since cgen wrote it)" for p in result.edited]
        lines += [f"  {p} (exists, but cgen did not write it)" for p in result.foreign]
        raise OutputError(
            "refusing to overwrite or remove files cgen did not write as they "
            "are:\n"
            + "\n".join(lines)
            + "\nmove the changes into the manifests, or render with --force"
        )


def _commit(result: Plan, *, force: bool) -> None:
    """Stage, commit and apply the plan; the caller holds the lock."""
    refuse_unsafe(result, force=force)
    out = result.out
    state = out / STATE_DIR / "state.json"
    if not result.changed and _read(state) == encode_state(result.state):
        return
    staging = out / STATE_DIR / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    new = {a.path: a for a in result.writes}
    new.update({a.path: a for a in result.guards if a.path not in new})
    writes = []
    try:
        for number, art in enumerate(sorted(new.values())):
            stage_file(staging / str(number), art.content.encode("utf-8"))
            writes.append((str(number), art.path))
        sync_staged(staging, [staged for staged, _ in writes])  # before the commit point
    except BaseException:
        remove(staging)  # not committed: the old output stands
        raise
    entries = Journal(writes, result.deletes, result.state)
    # The journal's atomic appearance is the commit point of the whole render.
    write_file(out / STATE_DIR / "journal.json", entries.encode())
    fsync_dir(out / STATE_DIR)
    _apply_journal(out, entries)


INPUTS = "inputs.json"


def fresh(out: Path, digest: str) -> tuple[Plan, object] | None:
    """The plan of a render that needs no build, and the data recorded with it (warnings):
    when the last render recorded this input digest for the state on disk, and every file
    of that state is on disk as cgen wrote it. None whenever anything differs."""
    with _locked(out, shared=True):
        if not out.exists() or pending(out):
            return None
        folder = _state_dir(out)
        record, state = _read(folder / INPUTS), _read(folder / "state.json")
        if record is None or state is None:
            return None
        try:
            loaded = json.loads(record)
        except ValueError:
            return None
        if not isinstance(loaded, dict) or loaded.get("digest") != digest:
            return None
        if loaded.get("state") != sha256(state):
            return None  # the record belongs to another render's state
        if not hmac.compare_digest(
            str(loaded.get("mac", "")), record_mac(digest, sha256(state)) or "-"
        ):
            return None  # made elsewhere, or forged: never trusted to skip a build
        files, problems = parse_state(state)
        if problems:
            return None
        kinds: dict[str, str] = {}
        try:
            for rel, recorded in files.items():
                current = _read(_inside(out, rel, kinds))
                if current is None or sha256(current) != recorded:
                    return None  # deleted or edited by hand: build, and say so
        except OutputError:
            return None
    return Plan(out, unchanged=sorted(files), state=files, skipped=True), loaded.get("data")


def _record(out: Path, result: Plan, inputs: tuple[str, object] | None) -> None:
    """Keep the input digest with the hash of the state it produced (or drop a stale one)."""
    path = out / STATE_DIR / INPUTS
    if inputs is None:
        remove(path)
        return
    digest, data = inputs
    state = sha256(encode_state(result.state))
    mac = record_mac(digest, state, create=True)
    if mac is None:  # no private place for the key: keep no record, always build
        remove(path)
        return
    body = {"digest": digest, "state": state, "data": data, "mac": mac}
    write_file(path, (json.dumps(body, sort_keys=True) + "\n").encode("utf-8"))


def write(
    out: Path,
    artifacts: list[Artifact],
    *,
    force: bool = False,
    dry_run: bool = False,
    inputs: tuple[str, object] | None = None,
) -> Plan:
    """Make the output folder hold exactly the artifacts (or, dry, say what that would do)."""
    if dry_run:
        with _locked(out, shared=True):
            if pending(out) and not force:
                load_journal(out)  # say now what the real render would refuse
            result = plan(out, artifacts, force=force)
        refuse_unsafe(result, force=force)  # a dry run says what the real one would
        return result
    created = not os.path.lexists(out)
    with _locked(out):
        try:
            _recover(out, force=force)
            result = plan(out, artifacts, force=force)
            refuse_unsafe(result, force=force)
            # "These inputs make this state" holds before the state is on disk: recorded
            # first, a crash at any later step leaves a record the fast path will not match.
            _record(out, result, inputs)
            _commit(result, force=force)
        except BaseException:
            if created:  # leave no trace of a render that wrote nothing
                remove(out / STATE_DIR / INPUTS)
                for folder in (out / STATE_DIR, out):
                    if kind_of(folder) == "dir" and not any(folder.iterdir()):
                        folder.rmdir()
            raise
    return result


def inspect(out: Path, artifacts: list[Artifact]) -> tuple[Plan, bool]:
    """What a render would change, and whether an interrupted render is pending (writes nothing)."""
    with _locked(out, shared=True):
        waiting = pending(out)
        if waiting:
            load_journal(out)  # a journal the next render would refuse is reported as such
        return plan(out, artifacts), waiting


def write_text_atomic(path: Path, text: str) -> None:
    """Replace one file outside the output folder atomically (old bytes or new, never a mix)."""
    write_file(path, text.encode("utf-8"))


def diff(result: Plan) -> str:
    """A unified diff from what is in the output folder to what a render would write."""
    import difflib  # only a check that fails prints a diff

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
