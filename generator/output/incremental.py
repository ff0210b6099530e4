"""One digest of everything a render reads, so an unchanged project is not built again.

The digest covers cgen itself (its version, code and shipped profiles and templates), the
options that change the output, the current folder (warnings name files relative to it)
and every file below the project's folders: the inputs given, the folder of cgen.yaml (which
holds images.lock, the profiles and templates, and every config or patch file a manifest
may name) and the profiles folder and image lock cgen.yaml names. Output folders and .git
are left out. A project whose build context lies outside those folders gets no digest, so
it is always built. The writer keeps the digest beside the state it belongs to and skips
building only while every generated file is still on disk as cgen wrote it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import CgenError, Location, Problem

if TYPE_CHECKING:
    from generator.output.writer import Plan
    from generator.project import Project

MAX_FILES = 100_000  # beyond this a walk costs more than it saves: build instead
MAX_BYTES = 512 << 20


class _TooLarge(Exception):
    """The project folders are too large to fingerprint cheaply."""


def _walk(
    root: Path, skip: set[Path], sink: hashlib._Hash, budget: list[int], stat_only: bool = False
) -> None:
    """Feed every file below root (names and bytes, links as their targets) into sink; with
    stat_only, a file's size and modification time stand for its bytes. Folders reached
    through a link are not entered (the loaders do not enter them either)."""
    if root.is_file() or root.is_symlink():
        _file(str(root), root.is_symlink(), sink, budget, stat_only)
    else:
        _folder(str(root), {str(s) for s in skip}, sink, budget, stat_only)


def _folder(
    folder: str, skip: set[str], sink: hashlib._Hash, budget: list[int], stat_only: bool
) -> None:
    # folder is resolved and only real folders are entered: each path below it is its own
    # resolved path, so no resolve() per folder is needed to compare it with skip.
    from generator.project import _manifests_in

    with os.scandir(folder) as found:
        entries = sorted(found, key=lambda e: e.name)
    below: list[str] = []
    for entry in entries:
        if not _is_folder(entry):
            _file(entry.path, entry.is_symlink(), sink, budget, stat_only)
            continue
        real = entry.path if not entry.is_symlink() else str(Path(entry.path).resolve())
        if real in skip or os.path.isfile(os.path.join(entry.path, ".cgen", "state.json")):
            # Not read, but a manifest planted there is an error of discovery.
            listed = "\n".join(_manifests_in(Path(entry.path)))
            sink.update(listed.encode("utf-8", "replace"))
        elif not entry.is_symlink() and entry.name not in (".git", "__pycache__"):
            below.append(entry.path)
    for path in below:
        try:
            _folder(path, skip, sink, budget, stat_only)
        except PermissionError:  # what cgen cannot list it cannot read: its name stands for it
            sink.update(b"\0unlisted" + path.encode("utf-8", "surrogateescape"))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    # Through a link, as os.walk sorts entries; a link that loops or cannot be followed is
    # a file whose target text is hashed.
    try:
        return entry.is_dir()
    except OSError:
        return False


def _file(path: str, link: bool, sink: hashlib._Hash, budget: list[int], stat_only: bool) -> None:
    budget[0] -= 1
    sink.update(b"\0f" + path.encode("utf-8", "surrogateescape") + b"\0")
    if link:
        sink.update(b"link:" + os.readlink(path).encode("utf-8", "surrogateescape"))
    if stat_only:
        info = os.stat(path)
        sink.update(f"{info.st_size} {info.st_mtime_ns}".encode())
    elif os.path.isfile(path):  # through a link too: what a reader of the path gets
        with open(path, "rb") as handle:
            data = handle.read()
        budget[1] -= len(data)
        sink.update(hashlib.sha256(data).digest())
    if budget[0] < 0 or budget[1] < 0:
        raise _TooLarge


def digest(
    roots: list[Path], out: Path, *, allow_unpinned: bool, formats: tuple[str, ...] | None
) -> str | None:
    """The digest of cgen, the options and every file below roots; None when too large."""
    from generator.runtime.shipped import profiles_root, templates_root

    sink = hashlib.sha256(b"cgen inputs 1\0")
    options = (os.getcwd(), str(out.resolve()), allow_unpinned, formats)
    sink.update(repr(options).encode("utf-8", "surrogateescape"))
    code = Path(__file__).resolve().parents[1]  # generator/, not only generator/output/
    skip = {out.resolve()}
    budget = [MAX_FILES, MAX_BYTES]
    try:
        # cgen's own files by size and time: an install or an edit changes both, and this
        # record never leaves the machine (inputs.json, signed with the user's key).
        for root in sorted({code, profiles_root().resolve(), templates_root().resolve()}):
            _walk(root, set(), sink, budget, stat_only=True)
        for root in sorted({r.resolve() for r in roots}):
            sink.update(b"\0root" + str(root).encode("utf-8", "surrogateescape"))
            if root.exists() or root.is_symlink():
                _walk(root, skip, sink, budget)
    except (_TooLarge, OSError):
        return None
    return sink.hexdigest()


def project_roots(paths: list[Path]) -> tuple[list[Path], Path] | None:
    """The folders a render of paths reads and its output folder, from cgen.yaml alone;
    None when cgen.yaml cannot be read (the full load then says why)."""
    from generator.project import _load_config

    try:
        config, config_file = _load_config(paths)
    except CgenError:
        return None
    first = paths[0] if paths[0].is_dir() else paths[0].parent
    config_dir = config_file.parent if config_file else first
    roots = [*paths, config_dir, config_dir / config.image_lock]
    if config.profiles:
        roots.append(config_dir / config.profiles)
    return roots, (config_dir / config.out if config.out else Path("out"))


def inside(path: Path, roots: list[Path]) -> bool:
    """Whether path lies below one of roots (so the digest covers it)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root.resolve()) for root in roots)


def encode_warnings(warnings: list[Problem]) -> list[list[object]]:
    """Warnings as JSON data, to be shown again by a render that builds nothing."""
    return [
        [
            [w.location.path, w.location.line, w.location.column],
            w.keypath,
            w.message,
            [[r.path, r.line, r.column] for r in w.related],
        ]
        for w in warnings
    ]


def decode_warnings(data: object) -> list[Problem] | None:
    """The warnings encode_warnings wrote; None for anything else."""
    if not isinstance(data, list):
        return None
    found: list[Problem] = []
    try:
        for where, keypath, message, related in data:
            found.append(
                Problem(
                    Location(str(where[0]), int(where[1]), int(where[2])),
                    str(keypath),
                    str(message),
                    tuple(Location(str(r[0]), int(r[1]), int(r[2])) for r in related),
                )
            )
    except (TypeError, ValueError, IndexError):
        return None
    return found


def before_load(
    paths: list[Path], out: Path | None, *, allow_unpinned: bool, formats: tuple[str, ...] | None
) -> tuple[Path, str | None, list[Path]]:
    """The output folder and the input digest, taken before anything is loaded (a file
    changed while loading then differs from its digest next time: built again, never
    wrongly skipped)."""
    found = project_roots(paths)
    if found is None:
        return out or Path("out"), None, []
    roots, default_out = found
    target = out if out is not None else default_out
    return target, digest(roots, target, allow_unpinned=allow_unpinned, formats=formats), roots


def unchanged(out: Path, digest_now: str | None) -> tuple[Plan, list[Problem]] | None:
    """The plan and warnings of a render that builds nothing: the digest is the one
    recorded with the state on disk and every generated file is as cgen wrote it."""
    from generator.output import writer

    if digest_now is None:
        return None
    try:
        found = writer.fresh(out, digest_now)
    except CgenError:  # the full path reports it, in its own order
        return None
    if found is None:
        return None
    result, data = found
    warnings = decode_warnings(data)
    return None if warnings is None else (result, warnings)


def record(
    project: Project, roots: list[Path], digest_now: str | None
) -> tuple[str, object] | None:
    """What the writer keeps with the new state; None when the digest cannot cover every
    input (a build context outside the project's folders)."""
    from generator.images.checks import build_context

    if digest_now is None:
        return None
    for svc in project.services:
        context = build_context(svc)
        if context is not None and not inside(context, roots):
            return None
    return digest_now, encode_warnings(project.warnings)
