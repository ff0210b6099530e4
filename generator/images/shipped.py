"""The pins cgen ships (profiles/images.lock): known digests of the base images its own
runtime profiles name, so that a first render needs no registry.

A project's own images.lock always wins; only a project without one renders with these,
and says so (one warning). `cgen pin --offline` copies them into the project's lock.
"""

from __future__ import annotations

import datetime
from functools import cache

from generator.images.lock import ImageLock, read_lock

SHIPPED_NAME = "images.lock"


@cache
def shipped_lock() -> ImageLock:
    """The digests (and resolution dates) that this cgen ships for its profiles' images."""
    from generator.runtime.shipped import profiles_root

    path = profiles_root() / SHIPPED_NAME
    return read_lock(path, f"cgen's shipped pins ({SHIPPED_NAME})")


def project_lock(lock: ImageLock, exists: bool) -> ImageLock:
    """The lock a project renders with: its own file, else the shipped pins under its name."""
    if exists:
        return lock
    shipped = shipped_lock()
    return ImageLock(lock.path, dict(shipped.digests), dict(shipped.resolved), shipped=True)


def oldest(lock: ImageLock) -> str | None:
    """The earliest resolution date a lock records (None when it records none)."""
    return min(lock.resolved.values(), default=None)


def age(resolved: str | None, today: datetime.date) -> str:
    """How old a pin is, for people: 'resolved 2026-11-28, 4 days ago'."""
    if resolved is None:
        return "resolution date unknown (the lock predates dates; `cgen pin` records them)"
    try:
        days = (today - datetime.date.fromisoformat(resolved)).days
    except ValueError:
        return f"resolved {resolved}"
    if days <= 0:
        return f"resolved {resolved}, today"
    return f"resolved {resolved}, {days} day{'s' if days != 1 else ''} ago"
