"""The only place that locates the shipped templates/ and profiles/ folders."""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path


@cache
def _root(kind: str) -> Path:
    # In a source tree (a checkout, or an editable install of one) templates/ and
    # profiles/ sit beside generator/, beside pyproject.toml: this file is
    # generator/runtime/shipped.py, three levels down. Installed from a wheel they are the
    # regular packages generator._shipped.templates and .profiles (each has an
    # __init__.py, so its folder is a real one Jinja can load from). find_spec, not
    # importlib.resources, which would bring zipfile and tempfile into every run.
    tree = Path(__file__).resolve().parents[2]
    if (tree / "pyproject.toml").is_file() and (tree / kind).is_dir():
        return tree / kind
    try:
        spec = find_spec(f"generator._shipped.{kind}")
    except ModuleNotFoundError:
        spec = None
    for folder in (spec and spec.submodule_search_locations) or ():
        if Path(folder).is_dir():
            return Path(folder)
    return tree / kind


def profiles_root() -> Path:
    """The shipped runtime profiles folder."""
    return _root("profiles")


def templates_root() -> Path:
    """The shipped templates folder."""
    return _root("templates")
