"""Compare the privilege facts of two states: what was granted, revoked or changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from generator.errors import Location
from generator.review.facts import CATEGORIES, SET_CATEGORIES, Category, Fact, Key
from generator.workload.podsecurity import LEVELS

Direction = Literal["widened", "narrowed", "changed"]
# A value fact missing on one side is compared with what cgen does without it.
_DEFAULT_VALUES: dict[str, str] = {
    "pod-security": "restricted",
    "seccomp-mode": "enforce",
    "exposure": "ClusterIP",
}
_EXPOSURES = ("ClusterIP", "NodePort", "LoadBalancer")
_SECCOMP_MODES = ("enforce", "audit")


@dataclass(frozen=True)
class Change:
    """One difference between the base and the head state, with the lines on each side."""

    category: Category
    direction: Direction
    subject: str
    item: str
    before: str | None
    after: str | None
    base_where: str | None
    head_where: str | None

    @property
    def widens(self) -> bool:
        """Whether this change needs a privilege review (granted, loosened or new bytes)."""
        return self.direction != "narrowed"


def _value_direction(category: Category, before: str, after: str) -> Direction:
    if category == "pod-security":
        wider = LEVELS.index(after) > LEVELS.index(before)
        return "widened" if wider else "narrowed"
    if category == "seccomp-mode":
        wider = _SECCOMP_MODES.index(after) > _SECCOMP_MODES.index(before)
        return "widened" if wider else "narrowed"
    if category == "exposure":
        old, new = (_EXPOSURES.index(v.split(" ")[0]) for v in (before, after))
        return "widened" if new > old else "narrowed" if new < old else "changed"
    return "changed"  # an image: other bytes run with the same privileges


Where = Callable[[Location | None], str | None]


def compare(
    base: dict[Key, Fact], head: dict[Key, Fact], base_where: Where, head_where: Where
) -> list[Change]:
    """Every change from base to head, in report order (category, subject, item)."""
    changes: list[Change] = []
    for key in sorted(base.keys() | head.keys()):
        old, new = base.get(key), head.get(key)
        fact = new or old
        assert fact is not None
        if fact.category in SET_CATEGORIES:
            if old is None or new is None:
                changes.append(
                    Change(
                        fact.category,
                        "widened" if old is None else "narrowed",
                        fact.subject,
                        fact.item,
                        None,
                        None,
                        base_where(old.where) if old else None,
                        head_where(new.where) if new else None,
                    )
                )
            continue
        default = _DEFAULT_VALUES.get(fact.category)
        before = old.value if old else default
        after = new.value if new else default
        if before is None or after is None or before == after:
            continue  # an image of a service that comes or goes: its other facts say it
        changes.append(
            Change(
                fact.category,
                _value_direction(fact.category, before, after),
                fact.subject,
                fact.item,
                before,
                after,
                base_where(old.where) if old else None,
                head_where(new.where) if new else None,
            )
        )
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(changes, key=lambda c: (order[c.category], c.subject, c.direction, c.item))
