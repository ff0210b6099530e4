"""The privilege diff as Markdown (a pull-request comment), plain text or JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.review.compare import Change
from generator.review.run import PrivilegeDiff
from generator.serialize import json_text

FORMATS = ("markdown", "text", "json")
TITLES = {
    "connection": "Connections between workloads",
    "external": "External networks",
    "capability": "Capabilities",
    "syscall": "Syscalls (seccomp)",
    "secret": "Secrets",
    "writable": "Writable paths",
    "persistent": "Persistent paths",
    "seccomp-mode": "Seccomp mode",
    "exposure": "Exposure outside the cluster (Service type)",
    "image": "Image digests",
    "pod-security": "Pod Security level per namespace",
}
_VERBS = {
    ("connection", "widened"): "opened",
    ("connection", "narrowed"): "closed",
    ("external", "widened"): "opened",
    ("external", "narrowed"): "closed",
}


def _verb(change: Change) -> str:
    if change.before is not None:
        return change.direction
    return _VERBS.get((change.category, change.direction), "added" if change.widens else "removed")


def _what(items: list[Change]) -> str:
    first = items[0]
    if first.before is not None:
        return f"{first.item}: {first.before} -> {first.after}"
    return ", ".join(c.item for c in items)


def _groups(changes: list[Change]) -> Iterator[list[Change]]:
    """Changes of one subject, direction and pair of lines together (one row each)."""
    groups: dict[tuple[str, ...], list[Change]] = {}
    for change in changes:
        key = (
            change.category,
            change.subject,
            change.direction,
            change.base_where or "",
            change.head_where or "",
            change.item if change.before is not None else "",
        )
        groups.setdefault(key, []).append(change)
    yield from groups.values()


def _summary(diff: PrivilegeDiff) -> str:
    """The verdict, counting report rows (a service's baseline syscalls are one row)."""
    if not diff.changes:
        return "No privilege changed."
    groups = list(_groups(diff.changes))
    widened = sum(g[0].widens for g in groups)
    verdict = "Privilege widened" if widened else "Nothing widened"
    return f"{verdict}: {widened} widening, {len(groups) - widened} narrowing change(s)."


def markdown(diff: PrivilegeDiff) -> str:
    """A pull-request comment: a verdict, then one table per kind of privilege."""
    lines = [f"## cgen privilege diff: `{diff.base}` -> {diff.head}", "", _summary(diff)]
    for category, title in TITLES.items():
        rows = [g for g in _groups(diff.changes) if g[0].category == category]
        if not rows:
            continue
        lines += [
            "",
            f"### {title}",
            "",
            "| | subject | what | base | head |",
            "|---|---|---|---|---|",
        ]
        for group in rows:
            cells = [
                _verb(group[0]),
                group[0].subject,
                _what(group),
                group[0].base_where or "",
                group[0].head_where or "",
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def text(diff: PrivilegeDiff) -> str:
    """One line per change group: verb, kind, subject, what, and the manifest lines."""
    lines = [f"cgen privilege diff: {diff.base} -> {diff.head}", _summary(diff)]
    for group in _groups(diff.changes):
        first = group[0]
        line = f"{_verb(first):8} {first.category:13} {first.subject}: {_what(group)}"
        if first.base_where:
            line += f" [base {first.base_where}]"
        if first.head_where:
            line += f" [head {first.head_where}]"
        lines.append(line)
    return "\n".join(lines) + "\n"


def as_json(diff: PrivilegeDiff) -> str:
    """Every change as data, for other tools."""
    body: dict[str, Any] = {
        "base": diff.base,
        "head": diff.head,
        "widened": diff.widened,
        "changes": [
            {
                "category": c.category,
                "direction": c.direction,
                "verb": _verb(c),
                "subject": c.subject,
                "item": c.item,
                "before": c.before,
                "after": c.after,
                "base": c.base_where,
                "head": c.head_where,
            }
            for c in diff.changes
        ],
    }
    return json_text(body)


def render(diff: PrivilegeDiff, fmt: str) -> str:
    """The diff in one of FORMATS."""
    return {"markdown": markdown, "text": text, "json": as_json}[fmt](diff)
