"""No manifest value can become an HCL expression: hostile strings round-trip exactly.

Both parsers must read every string back as the same literal (tf_convert.literal raises
on any `${`/`%{` the parser saw as a template sequence).
"""

from __future__ import annotations

from pathlib import Path

import oracles
import pytest
import tf_convert
import yaml
from conftest import ROOT
from test_terraform_equivalence import render_both

from generator.terraform.hcl import Attribute, Block, Comment, document

HOSTILE = [
    "${var.secret}",
    "/data/${HOME}/x",
    "%{ if true }yes%{ endif }",
    "%{for x in y}${x}%{endfor}",
    'say "hi"',
    "back\\slash",
    "ends with backslash\\",
    "new\nline",
    "cr\rtab\tbell\x07nul\x00del\x7f",
    "$${already escaped}",
    "$$${x}",
    "%%{x}",
    '${a"b}',
    "${a\\b}",
    "trailing $",
    "50 %",
    "}{",
    "é ü 😀",
    "line\u2028separator",
    "",
]
# python-hcl2 8.1.4 cannot read a correct `$${` or `%%{` that has no `}` after it in the
# string (its grammar wants the closing brace); HashiCorp's parser, which is Terraform's,
# reads them. Kept apart so that a python-hcl2 fix shows up here as a failure to update.
UNCLOSED = ["/tmp/${", "/run/%{x", "a${b}c${"]


def _locals(values: list[str], tmp_path: Path) -> Path:
    body: list[Attribute | Block | Comment] = [Attribute(f"v{i}", v) for i, v in enumerate(values)]
    body.append(Attribute("keys", {v: str(i) for i, v in enumerate(values)}))
    path = tmp_path / "values.tf"
    path.write_text(document(["hostile strings"], [Block("locals", (), body)]), "utf-8")
    return path


def _read_back(parsed: dict[str, object], parser: str, count: int) -> tuple[list[str], list[str]]:
    locals_ = parsed["locals"]
    assert isinstance(locals_, list)
    body = locals_[0]
    values = [tf_convert.literal(body[f"v{i}"], parser) for i in range(count)]
    keys = tf_convert._strings(body["keys"], parser)
    return values, sorted(keys, key=lambda k: int(keys[k]))


def test_literal_check_can_fail() -> None:
    """The checker itself: an unescaped template sequence is an expression, not a value."""
    for parser in ("python-hcl2", "hcl2json"):
        with pytest.raises(tf_convert.Interpolation):
            tf_convert.literal("${var.x}", parser)
        with pytest.raises(tf_convert.Interpolation):
            tf_convert.literal("%{ if x }", parser)


@pytest.mark.oracle
@pytest.mark.parametrize("parser", ["python-hcl2", "hcl2json"])
def test_hostile_strings_round_trip(parser: str, tmp_path: Path) -> None:
    path = _locals(HOSTILE, tmp_path)
    parse = oracles.python_hcl2 if parser == "python-hcl2" else oracles.hcl2json
    values, keys = _read_back(parse(path), parser, len(HOSTILE))
    assert values == HOSTILE
    assert keys == HOSTILE


@pytest.mark.oracle
def test_unclosed_sequences(tmp_path: Path) -> None:
    path = _locals(UNCLOSED, tmp_path)
    values, keys = _read_back(oracles.hcl2json(path), "hcl2json", len(UNCLOSED))
    assert values == UNCLOSED
    assert keys == UNCLOSED
    with pytest.raises(oracles.ParseError):
        oracles.python_hcl2(path)


@pytest.mark.oracle
def test_manifest_paths_reach_terraform_as_literals(tmp_path: Path) -> None:
    """The tf-injection case's paths, read from its manifest, are what Terraform gets."""
    source = ROOT / "tests" / "cases" / "tf-injection" / "input"
    spec = yaml.safe_load((source / "api.yaml").read_text(encoding="utf-8"))["spec"]
    out = tmp_path / "out"
    render_both(source, out)
    module = out / "tf-injection" / "api" / "main.tf"
    for parser, parse in (("python-hcl2", oracles.python_hcl2), ("hcl2json", oracles.hcl2json)):
        found = tf_convert.resources(parse(module), parser)
        [deployment] = [tf_convert.to_k8s(t, b) for t, _, b in found if t.endswith("deployment_v1")]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        mounts = [m["mountPath"] for m in container["volumeMounts"]]
        wanted = spec["writablePaths"] + [s["mountPath"] for s in spec["secrets"]]
        assert mounts == wanted, parser
        probe_path = container["readinessProbe"]["httpGet"]["path"]
        assert probe_path == spec["probes"]["readiness"]["http"]["path"], parser
