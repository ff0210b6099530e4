"""cgen's own files in the output folder (out/.cgen), read back as untrusted input.

A journal or state file can be damaged, planted or committed by anyone who can write the
output folder, so nothing in it is used before all of it is checked: every path must be a
relative path of plain names that stays inside its folder (a staged file a plain numeric
name in the staging folder, a target a path inside the output folder but outside .cgen),
every hash must be a SHA-256, and the entries must describe a render cgen could have made.
The writer decides what to do; this module reads, checks and applies journals.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import OutputError

STATE_DIR = ".cgen"
KUSTOMIZATION = "kustomization.yaml"
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
_STAGED = re.compile(r"[0-9]{1,9}")
_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_PATH = 4096


class Damaged(ValueError):
    """A journal or state file that cgen could not have written; key says where in it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)


def unsafe_reason(path: object) -> str | None:
    """Why path is not a safe relative path inside the output folder, or None when it is."""
    if not isinstance(path, str):
        return f"{_show(path)} is not a path"
    parts = path.split("/")
    if len(path) > _MAX_PATH or any(not _SAFE_PART.fullmatch(p) for p in parts):
        return f"{_show(path)} is not a relative path of plain names inside the output folder"
    if parts[0] == STATE_DIR:
        return f"{_show(path)} lies in cgen's own state folder"
    return None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def folders_of(path: str) -> list[str]:
    """The folders above path, innermost first, ending with "" for the output folder."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:n]) for n in range(len(parts), -1, -1)]


def is_kustomization(path: str) -> bool:
    """Whether path is a kustomization (the entry point readers such as kubectl -k use)."""
    return path.rsplit("/", 1)[-1] == KUSTOMIZATION


@dataclass(frozen=True)
class Journal:
    """A committed render: staged files to move into place, paths to delete, the new state."""

    writes: list[tuple[str, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The journal file's bytes."""
        body = {"writes": [list(w) for w in self.writes], "deletes": self.deletes}
        return json.dumps({**body, "state": self.state}, sort_keys=True).encode()

    def order(self) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
        """Apply order: kustomizations to withdraw first, other writes, kustomizations last.

        Withdrawn, then restored deepest first once every other file is in place: so no
        kustomization that covers a changed file exists while the tree is a mix.
        """
        kusts = [w for w in self.writes if is_kustomization(w[1])]
        withdraw = [t for _, t in kusts] + [d for d in self.deletes if is_kustomization(d)]
        withdraw.sort(key=lambda path: (path.count("/"), path))  # the root one first
        others = [w for w in self.writes if not is_kustomization(w[1])]
        restore = sorted(kusts, key=lambda w: (-w[1].count("/"), w[1]))
        return withdraw, others, restore


def _paths(value: object, key: str) -> list[str]:
    if not isinstance(value, list):
        raise Damaged(key, "must be a list")
    for number, item in enumerate(value):
        reason = unsafe_reason(item)
        if reason:
            raise Damaged(f"{key}[{number}]", reason)
    if len(set(value)) != len(value):
        raise Damaged(key, "names a path twice")
    return [str(item) for item in value]


def _state(value: object, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Damaged(key, "must be an object of path: sha256")
    for path, digest in value.items():
        reason = unsafe_reason(path)
        if reason:
            raise Damaged(key, reason)
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            raise Damaged(f"{key}[{_show(path)}]", "is not a SHA-256 hex digest")
    paths = set(value)
    for path in sorted(paths):
        above = [f for f in folders_of(path) if f in paths]
        if above:
            raise Damaged(key, f"{_show(above[0])} is a file and the folder of {_show(path)}")
    return {str(k): str(v) for k, v in value.items()}


def parse_journal(data: bytes) -> Journal:
    """Check a journal completely (raise Damaged) before any of it is used."""
    try:
        entries = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Damaged("", "not JSON") from None
    if not isinstance(entries, dict) or set(entries) != {"writes", "deletes", "state"}:
        raise Damaged("", "must be an object with exactly writes, deletes and state")
    state = _state(entries["state"], "state")
    deletes = _paths(entries["deletes"], "deletes")
    raw = entries["writes"]
    if not isinstance(raw, list):
        raise Damaged("writes", "must be a list")
    writes: list[tuple[str, str]] = []
    for number, item in enumerate(raw):
        key = f"writes[{number}]"
        if not isinstance(item, list) or len(item) != 2:
            raise Damaged(key, "must be a [staged name, target path] pair")
        staged, target = item
        if not isinstance(staged, str) or not _STAGED.fullmatch(staged):
            raise Damaged(f"{key}[0]", f"{_show(staged)} is not a staged file's plain name")
        reason = unsafe_reason(target)
        if reason:
            raise Damaged(f"{key}[1]", reason)
        if target not in state:
            raise Damaged(f"{key}[1]", f"{_show(target)} is written but not in the new state")
        writes.append((staged, str(target)))
    if len({s for s, _ in writes}) != len(writes) or len({t for _, t in writes}) != len(writes):
        raise Damaged("writes", "names a staged file or a target twice")
    if set(deletes) & set(state):
        raise Damaged("deletes", "deletes a file the new state keeps")
    return Journal(writes, deletes, state)


def parse_state(data: bytes) -> tuple[dict[str, str], list[str]]:
    """The recorded hashes that are well formed, and a problem for each entry that is not."""
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}, ["not JSON"]
    files = loaded.get("files") if isinstance(loaded, dict) else None
    if not isinstance(files, dict):
        return {}, ["files: missing, or not an object of path: sha256"]
    good: dict[str, str] = {}
    problems: list[str] = []
    for path, digest in files.items():
        try:
            _state({path: digest}, "files")
        except Damaged as exc:
            problems.append(str(exc))
            continue
        good[path] = digest
    for path in sorted(good):
        above = [f for f in folders_of(path) if f in good]
        if above:
            problems.append(f"files: {_show(above[0])} is a file and the folder of {_show(path)}")
            del good[above[0]]
    return good, problems


def encode_state(state: dict[str, str]) -> bytes:
    """The state file's bytes: the hash of every generated file."""
    return (json.dumps({"version": 1, "files": state}, indent=2, sort_keys=True) + "\n").encode()


def sha256(data: bytes) -> str:
    """Hex digest of data."""
    return hashlib.sha256(data).hexdigest()


def kind_of(path: Path) -> str:
    """What is at path, links not followed: missing, file, dir, link or other."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def _kind_in(out: Path, rel: str, kinds: dict[str, str] | None) -> str:
    """kind_of(out / rel), looked up once per folder when kinds caches it (a folder above
    thousands of files is checked once, not once per file)."""
    if kinds is None:
        return kind_of(out / rel)
    found = kinds.get(rel)
    if found is None:
        found = kinds[rel] = kind_of(out / rel)
    return found


def check_parents(out: Path, rel: str, kinds: dict[str, str] | None = None) -> None:
    """Refuse a link anywhere above rel inside out/: names never steer a path elsewhere."""
    for folder in reversed(folders_of(rel)[:-1]):
        if _kind_in(out, folder, kinds) == "link":
            where = "out of" if not (out / folder).resolve().is_relative_to(out.resolve()) else "in"
            raise OutputError(
                f"refusing to follow a link {where} the output folder: {rel} "
                f"({out / folder} is a symbolic link; replace it with a folder)"
            )


def obstacles(out: Path, writes: list[str], deletes: list[str]) -> list[str]:
    """Folders where a file goes, and files where a folder goes, that the deletes do not clear."""
    gone = set(deletes)
    found: list[str] = []
    kinds: dict[str, str] = {}  # nothing here changes the tree: each folder is looked at once
    for rel in writes:
        for folder in reversed(folders_of(rel)[:-1]):
            if _kind_in(out, folder, kinds) not in ("dir", "missing") and folder not in gone:
                found.append(f"{folder} (a file stands where cgen needs a folder for {rel})")
        if kind_of(out / rel) == "dir":
            inside = [
                (Path(root) / name).relative_to(out).as_posix()
                for root, dirs, names in os.walk(out / rel)
                for name in names + [d for d in dirs if kind_of(Path(root) / d) == "link"]
            ]
            if any(p not in gone for p in inside):
                found.append(f"{rel} (a folder stands where cgen writes a file)")
    return found


def fsync_dir(path: Path) -> None:
    """Make a folder's entries durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Replace one file atomically and durably (old bytes or new, never a mix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.cgen-tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def stage_file(path: Path, data: bytes) -> None:
    """Write one staged file; it is durable only after sync_staged (before the commit)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.fchmod(fd, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def sync_staged(staging: Path, names: list[str]) -> None:
    """Make every staged file and the staging folder durable, in one step where possible.

    syncfs(2) flushes the staging folder's whole filesystem at once (one wait, instead of
    one per file); where the C library lacks it, each file is fsynced, all written first so
    the kernel writes them back together. Either way this ends before the journal is
    committed, so a committed journal never names a staged file that could be lost.
    """
    fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if _syncfs(fd):
            return
        for name in names:
            file_fd = os.open(staging / name, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(file_fd)
            finally:
                os.close(file_fd)
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(fd: int) -> bool:
    """syncfs(2) on fd's filesystem; False where it is not available (then fsync each)."""
    import ctypes  # only a render that writes needs it

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return False
    if call(ctypes.c_int(fd)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return True


def remove(path: Path) -> None:
    """Remove what is at path without following links (a folder with what is in it)."""
    kind = kind_of(path)
    if kind == "dir":
        shutil.rmtree(path)
    elif kind != "missing":
        path.unlink()


def load_journal(out: Path) -> Journal:
    """The committed journal, fully checked (and its staged files hashed) before any move."""
    folder = out / STATE_DIR
    path, staging = folder / "journal.json", folder / "staging"
    try:
        if kind_of(path) != "file":
            raise Damaged("", f"is a {kind_of(path)}, not a file")
        journal = parse_journal(path.read_bytes())
        if journal.writes and kind_of(staging) != "dir":
            raise Damaged("", f"its staging folder {staging} is a {kind_of(staging)}")
        for number, (staged, target) in enumerate(journal.writes):
            kind = kind_of(staging / staged)
            if kind not in ("missing", "file"):
                raise Damaged(f"writes[{number}][0]", f"the staged file is a {kind}")
            if kind == "file" and sha256((staging / staged).read_bytes()) != journal.state[target]:
                raise Damaged(f"writes[{number}][0]", "the staged file does not match its hash")
        pending_writes = [t for s, t in journal.writes if kind_of(staging / s) == "file"]
        for rel in pending_writes + journal.deletes:
            check_parents(out, rel)
        blocked = obstacles(out, pending_writes, journal.deletes)
    except (Damaged, OutputError) as exc:
        raise OutputError(
            f"{path}: {exc}: a damaged journal (planted, or not written by cgen); nothing "
            f"was moved. Render with --force to discard it and the staged files in {staging} "
            "(nothing outside them is touched) and write the output again"
        ) from None
    if blocked:
        raise OutputError(
            f"{path}: cannot finish the interrupted render: {blocked[0]}; move it out of the "
            "output folder, or render with --force to discard the interrupted render"
        )
    return journal


def _place(out: Path, staging: Path, staged: str, rel: str) -> None:
    source = staging / staged
    if kind_of(source) != "file":
        return  # moved into place before the interruption
    target = out / rel
    if kind_of(target) == "dir":
        shutil.rmtree(target)  # obstacles made sure it only held files being deleted
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def apply_journal(out: Path, entries: Journal) -> None:
    """Roll a committed journal forward; every step can be repeated after an interruption."""
    staging = out / STATE_DIR / "staging"
    withdraw, others, restore = entries.order()
    staged_as = {target: staged for staged, target in entries.writes}
    for rel in withdraw:  # first, so no reader builds a kustomization over a mix
        still_staged = rel in staged_as and kind_of(staging / staged_as[rel]) == "file"
        if (still_staged or rel in entries.deletes) and kind_of(out / rel) in ("file", "link"):
            (out / rel).unlink()
    for rel in entries.deletes:
        if all(kind_of(out / f) in ("dir", "missing") for f in folders_of(rel)[:-1]):
            if kind_of(out / rel) in ("file", "link", "other"):
                (out / rel).unlink()
            _prune(out, (out / rel).parent)
    for staged, rel in others + restore:
        _place(out, staging, staged, rel)
    state = out / STATE_DIR / "state.json"
    if kind_of(state) not in ("missing", "file"):
        remove(state)
    write_file(state, encode_state(entries.state))
    (out / STATE_DIR / "journal.json").unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _prune(out: Path, folder: Path) -> None:
    root = out.resolve()
    while kind_of(folder) == "dir" and folder.resolve() != root and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
