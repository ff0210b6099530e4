"""Did-you-mean: the nearest existing names for a name that matches nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def close_names(word: str, known: Iterable[str], limit: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to limit known names close to word, nearest first; the same for the same input."""
    import difflib  # only when a name matched nothing: not on every run's path

    # Sorted input: difflib breaks ties by the names themselves, never by set order.
    return difflib.get_close_matches(word, sorted(set(known) - {word}), limit, cutoff)


def did_you_mean(
    word: str, known: Iterable[str], shown: Mapping[str, str] | None = None, cutoff: float = 0.6
) -> str:
    """'; did you mean 'x'?' (or 'x' or 'y') for the names close to word, else ''.

    shown spells a name in the message where its repr says too little (its namespace).
    """
    names = [(shown or {}).get(n, repr(n)) for n in close_names(word, known, cutoff=cutoff)]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"; did you mean {listed}?"
