"""The models compare as the frozen dataclasses they replaced: by value, where they were
read from (doc) left out, never equal to a plain tuple."""

from __future__ import annotations

from conftest import ROOT

import generator

EXAMPLE = ROOT / "examples" / "shop"


def test_two_reads_of_one_project_are_equal_models() -> None:
    first, _ = generator.load([EXAMPLE])
    second, _ = generator.load([EXAMPLE])
    assert first.services[0].doc is not second.services[0].doc
    assert first.services == second.services
    assert first.config == second.config and hash(first.config) == hash(second.config)


def test_a_changed_field_or_another_type_is_not_equal() -> None:
    project, _ = generator.load([EXAMPLE])
    svc = project.services[0]
    assert svc != svc._replace(replicas=svc.replicas + 1)
    assert not svc == tuple(svc)  # noqa: SIM201 (== itself is what is tested)
    config = project.config
    assert config != config._replace(namespace="elsewhere")
    assert config != tuple(config)
