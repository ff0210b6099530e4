"""The one exception tree of cgen: every user-facing problem carries its location."""

from __future__ import annotations

from typing import NamedTuple


class Location(NamedTuple):
    """A place in an input file: path as the user gave it, 1-based line and column."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


class Problem(NamedTuple):
    """One finding about the input: where, which key, and what is wrong."""

    location: Location
    keypath: str
    message: str
    related: tuple[Location, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The problem for other tools (`--json`): file, line, column, key, message."""
        return {
            "file": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "key": self.keypath,
            "message": self.message,
            "related": [str(other) for other in self.related],
        }

    def __str__(self) -> str:
        # Keys come from the input: escape control characters so none can forge a line.
        keypath = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in self.keypath)
        key = f" {keypath}:" if keypath else ""
        text = f"{self.location}:{key} {self.message}"
        for other in self.related:
            text += f" (see {other})"
        return text


class CgenError(Exception):
    """Base of every error cgen raises on purpose."""

    exit_code = 1


class UserError(CgenError):
    """A problem the user can fix; the message is shown as is, without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(UserError):
    """A command-line argument that names nothing cgen knows (exit status 2, like a bad option)."""

    exit_code = 2


class ManifestError(UserError):
    """One or more problems in manifests, configuration or profiles, all reported at once."""

    def __init__(self, *, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class ProfileError(UserError):
    """A runtime profile (shipped or the user's own) is broken."""


class OutputError(UserError):
    """The output folder cannot be written safely (hand-edited or foreign files)."""


class CheckFailed(CgenError):
    """`cgen check` found stale or hand-edited output; the diff is in `diff`."""

    def __init__(self, *, diff: str, summary: str) -> None:
        super().__init__(summary)
        self.diff = diff
        self.summary = summary
