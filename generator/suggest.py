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
    return _listed(names)


def _listed(shown: list[str]) -> str:
    if not shown:
        return ""
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
    return f"; did you mean {listed}?"


def close_spellings(
    word: str, known: Iterable[str], limit: int = 3, cutoff: float = 0.75
) -> list[str]:
    """The known names word may be a misspelling of, for closed sets (keys, enum values).

    Before closeness, the same name in other case (sys_ptrace) and the name behind a
    prefix (CAP_NET_ADMIN, where Kubernetes wants NET_ADMIN) are the one answer.
    """
    names = sorted(set(known) - {word})
    folded: dict[str, str] = {}
    for name in names:
        folded.setdefault(name.casefold(), name)
    if word.casefold() in folded:
        return [folded[word.casefold()]]
    for i, char in enumerate(word):
        if char in "_-." and word[i + 1 :].casefold() in folded:
            return [folded[word[i + 1 :].casefold()]]
    # Closer than for free names: a deliberate key (hostPort) is not a typo of port.
    return [folded[n] for n in close_names(word.casefold(), folded, limit, cutoff)]


def spelled(word: str, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closed-set names word may misspell, else ''."""
    return _listed([repr(n) for n in close_spellings(word, known)])
