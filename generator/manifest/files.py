"""Files a manifest names (config files, kustomize patches), read at load and kept inside
the project folder: no path in a manifest can steer a read outside it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from generator.loader import Document
from generator.manifest.parse import FileReader

MAX_BYTES = 1 << 20  # a ConfigMap holds at most 1 MiB; so does any one patch here


def reader(manifest: Path, root: Path) -> FileReader:
    """A reader of paths relative to the manifest's folder, confined to root."""
    folder = manifest.parent
    top = root.resolve()

    def read(relative: str) -> tuple[str | None, str | None]:
        path = (folder / relative).resolve()
        if not path.is_relative_to(top):
            return None, f"{relative}: must stay inside the project folder"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            return None, f"{relative}: cannot be read ({exc.strerror})"
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None, f"{relative}: is not a regular file"
            if info.st_size > MAX_BYTES:
                return None, f"{relative}: is larger than {MAX_BYTES} bytes"
            data = os.read(fd, MAX_BYTES + 1)
        finally:
            os.close(fd)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None, f"{relative}: is not UTF-8 text"
        if not text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable():
            return None, f"{relative}: contains control or invisible characters"
        return text, None

    return read


def named(doc: Document, manifest: Path) -> set[Path]:
    """The files a manifest names (config files, patches), resolved; read from raw YAML, so
    a manifest's own errors do not hide them."""
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    if not isinstance(spec, dict):
        return set()
    paths = [p for p in spec.get("patches") or [] if isinstance(p, str)]
    for entry in spec.get("config") or []:
        files = entry.get("files") if isinstance(entry, dict) else None
        for value in (files or {}).values() if isinstance(files, dict) else []:
            if isinstance(value, dict) and isinstance(value.get("file"), str):
                paths.append(value["file"])
    found = set()
    for relative in paths:
        try:
            found.add((manifest.parent / relative).resolve())
        except (OSError, ValueError):
            continue  # the reader reports it with its key
    return found
