"""Errors point at the cause: no false second error for a broken manifest's callers, the
nearest existing names for a name that matches nothing, and limits that say their source.

The golden cases callee-with-errors, dependency-did-you-mean and port-name-too-long show
the render messages whole; this file covers explain, syscalls and the rules behind them.
"""

from __future__ import annotations

from generator.loader import Document
from generator.manifest.contract import CONFIG, MANIFEST, PORT
from generator.schema import AnyOf, Context, List, Map, Obj, Spec, Str


def _limits(spec: Spec, keypath: str) -> list[tuple[str, Str]]:
    """Every length-limited string in a contract, with where it sits."""
    if isinstance(spec, Str):
        return [(keypath, spec)] if spec.max_len is not None else []
    children: list[tuple[str, Spec]] = []
    if isinstance(spec, Obj):
        children = [(f"{keypath}.{k}", f.spec) for k, f in spec.fields.items()]
    elif isinstance(spec, List):
        children = [(f"{keypath}[]", spec.item)]
    elif isinstance(spec, Map):
        children = [(f"{keypath}.<key>", spec.key), (f"{keypath}.*", spec.value)]
    elif isinstance(spec, AnyOf):
        children = [(keypath, option) for option in spec.options]
    return [found for path, child in children for found in _limits(child, path)]


def test_every_length_limit_says_where_it_comes_from() -> None:
    limits = _limits(MANIFEST, "") + _limits(CONFIG, "cgen.yaml")
    assert len(limits) > 40
    assert [path for path, spec in limits if not spec.why] == []


def test_a_port_name_limit_names_its_rfc() -> None:
    ctx = Context(Document("web.yaml", None))
    assert not PORT.check({"name": "p" * 16, "port": 80}, "spec.ports[0]", ctx)
    assert [f"{p.keypath}: {p.message}" for p in ctx.problems] == [
        "spec.ports[0].name: must be at most 15 characters "
        "(Kubernetes port names are IANA service names: RFC 6335, IANA_SVC_NAME)"
    ]
