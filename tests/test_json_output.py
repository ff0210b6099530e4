"""--json (and graph -f json): the same results as the text output, for other tools."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cgen

SHOP = "examples/shop"
BAD = "tests/cases/bad-port/input"


def test_validate_json_reports_problems_with_their_place() -> None:
    proc = run_cgen(["validate", "tests/cases/bad-port/input", "--json"])
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    first = data["problems"][0]
    assert first["file"].endswith("cart.yaml") and first["line"] > 0 and first["column"] > 0
    assert first["key"] == "spec.ports[0].port"
    ok = json.loads(run_cgen(["validate", SHOP, "--json"], check=True).stdout)
    assert ok == {"ok": True, "problems": [], "warnings": []}


def test_check_json_says_whether_the_output_is_current(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_cgen(["render", SHOP, "--out", str(out)], check=True)
    current = json.loads(run_cgen(["check", SHOP, "--out", str(out), "--json"]).stdout)
    assert current["upToDate"] is True and current["files"] > 50
    policy = out / "shop" / "frontend" / "networkpolicy.yaml"
    policy.write_text(policy.read_text() + "# edited\n")
    stale = run_cgen(["check", SHOP, "--out", str(out), "--json"])
    assert stale.returncode == 1
    data = json.loads(stale.stdout)
    assert data["upToDate"] is False and "networkpolicy.yaml" in data["diff"]


def test_graph_json_has_the_flows_of_the_table() -> None:
    data = json.loads(run_cgen(["graph", SHOP, "-f", "json"], check=True).stdout)
    table = run_cgen(["graph", SHOP, "-f", "table"], check=True).stdout
    assert data["ok"] is True and data["problems"] == []
    flows = data["flows"]
    assert flows and all({"kind", "from", "to", "ports", "where"} <= set(f) for f in flows)
    calls = [f for f in flows if f["kind"] == "service"]
    assert {"shop/frontend", "shop/cartservice"} <= {f["from"]["label"] for f in calls} | {
        f["to"]["label"] for f in calls
    }
    # One table row per flow, after the header.
    assert len(table.strip().splitlines()) - 1 == len(flows)


def test_explain_json_and_its_exit_status() -> None:
    allowed = run_cgen(["explain", "frontend", "cartservice:grpc", SHOP, "--json"])
    assert allowed.returncode == 0
    data = json.loads(allowed.stdout)
    assert data["ok"] is True and data["problems"] == []
    assert data["allowed"] is True and data["ports"][0]["port"] == 7070
    denied = run_cgen(["explain", "cartservice", "frontend", SHOP, "--json"])
    assert denied.returncode == 3
    assert json.loads(denied.stdout)["allowed"] is False


def _places(lines: list[str]) -> list[tuple[str, int, int, str]]:
    """(file, line, column, what) of each manifest line the prose quotes."""
    found = [re.match(r"\s+(\S+):(\d+):(\d+)  (.+?): ", line) for line in lines]
    return [(m[1], int(m[2]), int(m[3]), m[4]) for m in found if m]


def test_explain_json_gives_each_reason_its_place_as_fields() -> None:
    data = json.loads(run_cgen(["explain", "frontend", "cartservice", SHOP, "--json"]).stdout)
    reasons = data["reasons"]
    # Both policy sides allow it, by the frontend's first dependency.
    assert [(r["side"], r["of"], r["allows"]) for r in reasons] == [
        ("egress", "shop/frontend", True),
        ("ingress", "shop/cartservice", True),
    ]
    for reason in reasons:
        assert reason["file"] == f"{SHOP}/shop/frontend.yaml"
        assert (reason["line"], reason["column"], reason["key"]) == (15, 7, "spec.dependencies[0]")
        assert reason["ports"] == [{"protocol": "TCP", "port": 7070, "name": "grpc"}]
    assert [r["peer"] for r in reasons] == ["shop/cartservice", "shop/frontend"]
    # Denied: each side's reasons are what it allows instead, the places the prose quotes.
    denied = json.loads(run_cgen(["explain", "frontend", "redis-cart", SHOP, "--json"]).stdout)
    others = denied["reasons"]
    assert others and not any(r["allows"] for r in others)
    assert {r["side"] for r in others} == {"egress", "ingress"}
    fields = [(r["file"], r["line"], r["column"], r["what"]) for r in others]
    assert fields == _places(denied["explanation"])
    assert all(r["what"].startswith(r["key"]) for r in others if r["key"] != "dns")


def _failure(args: list[str], status: int = 1) -> dict[str, Any]:
    proc = run_cgen(args)
    assert proc.returncode == status, proc.stderr
    assert proc.stderr == ""  # the errors are in the document, not beside it
    data = json.loads(proc.stdout)
    assert isinstance(data, dict) and data["ok"] is False
    return data


@pytest.mark.parametrize(
    "args",
    [
        ["validate", BAD, "--json"],
        ["check", BAD, "--json"],
        ["graph", BAD, "-f", "json"],
        ["explain", "frontend", "cart", BAD, "--json"],
    ],
    ids=["validate", "check", "graph", "explain"],
)
def test_a_manifest_error_is_a_json_document_too(args: list[str]) -> None:
    (problem,) = _failure(args)["problems"]
    assert problem["file"] == f"{BAD}/cart.yaml" and problem["key"] == "spec.ports[0].port"
    assert problem["line"] == 11 and problem["column"] == 13
    assert "65535" in problem["message"]


def test_an_error_without_a_place_is_a_json_document_with_nulls(tmp_path: Path) -> None:
    unknown = _failure(["explain", "front-end", "cartservice", SHOP, "--json"])
    assert unknown["problems"] == [
        {
            "file": None,
            "line": None,
            "column": None,
            "key": None,
            "message": "no cgen service 'front-end'; did you mean 'frontend'?",
            "related": [],
        }
    ]
    for args in (["check", "--json"], ["graph", "-f", "json"], ["validate", "--json"]):
        missing = _failure([args[0], str(tmp_path / "nothing"), *args[1:]])
        (problem,) = missing["problems"]
        assert "nothing" in problem["message"] and problem["line"] is None
        # check's document keeps its shape: the output is not known to be up to date.
        assert missing.get("upToDate") == (False if args[0] == "check" else None)
