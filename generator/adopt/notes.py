"""What an import found out, could not say, and took away: the report's entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.errors import Location

NoteKind = Literal["inferred", "unsupported", "dropped", "cut"]
TITLES: dict[NoteKind, str] = {
    "inferred": "Inferred",
    "unsupported": "Not imported (left as a comment in the manifest)",
    "dropped": "Privileges the running objects hold that the manifests drop",
    "cut": "Connections the imported policies allowed that the manifests do not",
}


@dataclass(frozen=True, order=True)
class Note:
    """One finding about one workload, with the object field it came from."""

    kind: NoteKind
    subject: str
    text: str
    where: Location | None = None

    def line(self) -> str:
        """The note as one report line."""
        where = f" ({self.where})" if self.where is not None else ""
        return f"{self.subject}: {self.text}{where}"


class Notes:
    """The notes of one workload (what its manifest's comments repeat)."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.items: list[Note] = []

    def add(self, kind: NoteKind, text: str, where: Location | None = None) -> None:
        """Record a finding."""
        self.items.append(Note(kind, self.subject, text, where))
