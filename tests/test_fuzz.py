"""Property: a mutated valid project is accepted (and every file it yields parses and is an
object Kubernetes accepts) or refused with a CgenError; nothing else escapes.

About a minute of cases from tests/tools/fuzz.py's mutation engine, driven by hypothesis
so that a failure shrinks and replays; `python tests/tools/fuzz.py --cases 100000` is the
long run of the same engine.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(ROOT / "tests" / "tools"))
import fuzz

# Every case's output goes through kubernetes-validate.
pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder the cases take turns to write their project into."""
    return tmp_path_factory.mktemp("fuzz") / "proj"


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rnd=st.randoms(use_true_random=False))
def test_mutated_projects_are_accepted_or_refused_never_crash(
    scratch: Path, rnd: random.Random
) -> None:
    texts = fuzz.Mutator(rnd).project()
    outcome = fuzz.run_case(scratch, texts, fuzz.check_output)
    event(outcome.split(":")[0])  # --hypothesis-show-statistics shows the mix
    assert outcome in ("accepted", "refused"), f"{outcome}\n{texts}"


def test_the_seed_project_is_accepted_with_valid_output(scratch: Path) -> None:
    texts = {name: yaml.safe_dump(doc) for name, doc in fuzz.SEED.items()}
    assert fuzz.run_case(scratch, texts, fuzz.check_output) == "accepted"


def test_the_output_oracle_is_not_blind() -> None:
    bad_service = "apiVersion: v1\nkind: Service\nmetadata: {name: 1e3}\nspec: {ports: []}\n"
    assert any("Service name" in p for p in fuzz.check_output("s.yaml", bad_service))
    mapped = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\n"
        "spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: '::ffff:0:0/96'}}]}]}\n"
    )
    assert any("IPv4-mapped" in p for p in fuzz.check_output("p.yaml", mapped))
    assert fuzz.check_output("main.tf", 'resource "a" {') != []
    assert fuzz.check_output("x.json", "{") != []
