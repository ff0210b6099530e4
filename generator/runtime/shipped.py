"""The only place that locates the shipped templates/ and profiles/ folders."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def _root(kind: str) -> Path:
    # Installed (wheel or editable), templates/ and profiles/ are the regular packages
    # generator._shipped.templates and .profiles (each has an __init__.py, so files() is a
    # real folder Jinja can load from); in a plain source tree they sit beside generator/
    # (this file is generator/runtime/shipped.py: three levels up).
    try:
        found = resources.files(f"generator._shipped.{kind}")
        if isinstance(found, Path) and found.is_dir():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / kind


def profiles_root() -> Path:
    """The shipped runtime profiles folder."""
    return _root("profiles")


def templates_root() -> Path:
    """The shipped templates folder."""
    return _root("templates")
