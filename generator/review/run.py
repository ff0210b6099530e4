"""`cgen diff`: load both states through the public model and compare their privileges."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import Location, ManifestError, UserError
from generator.loader import display_path
from generator.project import discover, load_project
from generator.review.base import folder_tree, revision_tree, scratch_root, where_in
from generator.review.compare import Change, compare
from generator.review.facts import Fact, Key, project_facts


@dataclass
class PrivilegeDiff:
    """The changes from base to head; `widened` decides the exit status."""

    base: str
    head: str
    changes: list[Change] = field(default_factory=list)

    @property
    def widened(self) -> bool:
        """Whether any change grants, loosens or brings new bytes (needs a review)."""
        return any(change.widens for change in self.changes)


def _facts(paths: list[Path]) -> dict[Key, Fact]:
    """The facts of the manifests under paths; none when there are no manifests."""
    if not paths or not discover(paths, []):
        return {}
    project, _ = load_project(paths, allow_unpinned=True)
    return project_facts(project)


def _head_where(location: Location | None) -> str | None:
    return None if location is None else str(location)


def privilege_diff(paths: list[Path], base: str) -> PrivilegeDiff:
    """Compare the manifests under paths with BASE: a folder, or a git revision of them."""
    head = _facts(paths)
    folder = Path(base)
    if folder.is_dir():
        label = display_path(folder)
        return PrivilegeDiff(
            label,
            ", ".join(display_path(p) for p in paths),
            compare(_facts(folder_tree(folder, paths)), head, _head_where, _head_where),
        )
    scratch = Path(tempfile.mkdtemp(prefix="cgen-diff-", dir=scratch_root()))
    try:
        show = where_in(scratch, base)
        try:
            old = _facts(revision_tree(base, paths, scratch))
        except ManifestError as exc:
            lines = [f"{show(p.location)}: {p.keypath}: {p.message}" for p in exc.problems]
            raise UserError(f"BASE {base} does not load:\n" + "\n".join(lines)) from exc
        return PrivilegeDiff(base, "working tree", compare(old, head, show, _head_where))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
