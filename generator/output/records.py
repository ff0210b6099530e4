"""The key that signs an output folder's inputs record (inputs.json), kept in the user's
cache so that a record made elsewhere, or written by hand, is never trusted."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "inputs.key"


def _key_path() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cgen" / KEY_FILE


def _new_key(path: Path) -> bytes | None:
    """Create the key whole (a temporary file linked into place), or read the one another
    cgen run created first; None when the cache cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(temp, path)  # never replaces a key another run made meanwhile
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
        return path.read_bytes()
    except OSError:
        return None


def record_mac(digest: str, state: str, *, create: bool = False) -> str | None:
    """An HMAC of a record under a key that never leaves this machine's user cache.

    inputs.json lets a render or check skip building, so it must not be forgeable: one
    committed to a repository, or written by anyone without the key, never matches, and
    cgen builds (and checks) everything. None when there is no key (and create is off, or
    the cache cannot be written).
    """
    path = _key_path()
    try:
        key = path.read_bytes()
    except OSError:
        if not create:
            return None
        key = _new_key(path) or b""
    if len(key) < 32:
        return None
    return hmac.new(key, f"{digest}\0{state}".encode(), hashlib.sha256).hexdigest()
