"""libyaml reads manifests exactly as the pure-Python loader does: data, marks, errors."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from conftest import ROOT

from generator import loader
from generator.errors import Problem

TRICKY = [
    "a: 1\nb:\t2\n",  # a tab PyYAML refuses where libyaml takes it
    "readiness: {tcp?: {port: http}}\n",  # ? in a flow plain scalar
    "a: 1\nb: \ufeff2\n",  # a byte order mark past the start
    "s: {maxSurge: 0, maxUnavailable: }\n",  # an empty flow value (its mark)
    "a:\n  b:\n  c: ''\n",  # empty values, plain and quoted
    "a: [" * 70 + "]" * 70 + "\n",  # deeper than the limit
    "a: &x [*x]\n",
    "a: 1\na: 2\n",
    "<<: {a: 1}\n",
    "a: !!binary aGk=\n",
    "a: b: c\n",
    "- a\nb: c\n",
    "a: 'unterminated\n",
    "a: \x01\n",
    "---\na: 1\n---\nb: 2\n",
]


Reader = Callable[[str, str], tuple[list[loader.Document], list[Problem]]]


def _read(kind: Reader, text: str) -> object:
    docs, problems = kind(text, "m.yaml")
    return [(d.data, d.marks, d.key_marks) for d in docs], problems


def _reference(text: str, display: str) -> tuple[list[loader.Document], list[Problem]]:
    return loader._parse(loader._BoundedLoader, text, display)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_read_as_the_reference_reads_them(text: str) -> None:
    assert _read(loader.parse, text) == _read(_reference, text)


def test_mutated_manifests_read_as_the_reference_reads_them() -> None:
    sources = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.yaml"))][:40]
    pieces = [*"\t :-[]{}#&*!|>'\",?\n", "\ufeff", "\r\n", "é", "---\n", "&a ", "*a"]
    rng = random.Random(13)
    for _ in range(400):
        text = rng.choice(sources)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(pieces) + text[at + (rng.random() < 0.4) :]
        assert _read(loader.parse, text) == _read(_reference, text), text
