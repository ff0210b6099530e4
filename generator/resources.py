"""The only place that locates the shipped templates/ and profiles/ folders."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


@cache
def _root(kind: str) -> Traversable:
    # Installed (wheel or editable), templates/ and profiles/ are the subpackages
    # generator._shipped.templates and .profiles; in a source tree they sit beside generator/.
    try:
        found = resources.files(f"generator._shipped.{kind}")
        if found.is_dir():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / kind


def profiles_root() -> Traversable:
    """The shipped runtime profiles folder."""
    return _root("profiles")


def templates_root() -> Traversable:
    """The shipped templates folder."""
    return _root("templates")
