"""The YAML serializer writes the bytes PyYAML would: its fast path is checked against
PyYAML itself on random documents and on every object of the bundled examples."""

from __future__ import annotations

from typing import Any

import yaml
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import serialize

# Strings that stress YAML's implicit typing and quoting, plus arbitrary text.
TRICKY = st.sampled_from(
    ["", "yes", "No", "on", "null", "~", "1", "0x1F", "1e3", "1.0", ".inf", "true", "- a",
     "a: b", "#c", "a #b", "it's", " lead", "trail ", "@x", "`x", "%x", "!x", "&x", "*x", "?",
     "-", "---", "...", "0o17", "+1", "1_000", "<<", "=", "2001-01-01", "a\nb", "é", "k8s.io/x"]
)  # fmt: skip
TEXT = st.one_of(TRICKY, st.text(max_size=12))
SCALAR = st.one_of(TEXT, st.none(), st.booleans(), st.integers(-(10**12), 10**12))
DOCUMENT = st.dictionaries(
    TEXT,
    st.recursive(
        SCALAR,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)
        ),
        max_leaves=12,
    ),
    min_size=1,
    max_size=4,
)


def _pyyaml(obj: Any) -> str:
    return yaml.dump(
        obj,
        Dumper=serialize._Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


def _body(obj: Any) -> str:
    text = serialize.yaml_text(obj, "test.yaml")
    return text.split("\n", 2)[2]  # the two header lines


@settings(max_examples=150, deadline=None)
@given(DOCUMENT)
def test_random_documents_match_pyyaml(obj: dict[Any, Any]) -> None:
    assert _body(obj) == _pyyaml(obj)


def test_every_example_object_matches_pyyaml() -> None:
    files = sorted((ROOT / "out").rglob("*.yaml")) + sorted(
        (ROOT / "tests" / "cases").glob("*/expected/**/*.yaml")
    )
    docs = [d for f in files for d in yaml.safe_load_all(f.read_text(encoding="utf-8"))]
    checked = [d for d in docs if isinstance(d, dict) and d]
    assert len(checked) > 100
    for doc in checked:
        assert _body(doc) == _pyyaml(doc)


def test_the_fast_path_is_taken_for_ordinary_objects() -> None:
    # A multi-line value falls back to PyYAML; an ordinary object never does.
    plain = {"metadata": {"name": "api", "labels": {"app": "api"}}, "ports": [{"port": 80}]}
    assert serialize._fast_dump(plain, lambda _: False) == _pyyaml(plain)
