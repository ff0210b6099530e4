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
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
            key = path.read_bytes()
        except OSError:
            return None
    if len(key) < 32:
        return None
    return hmac.new(key, f"{digest}\0{state}".encode(), hashlib.sha256).hexdigest()
