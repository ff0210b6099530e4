"""What builders return: a file's path below the output folder and its exact text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Artifact:
    """One generated file; path is POSIX and relative to the output folder."""

    path: str
    content: str
