"""--json (and graph -f json): the same results as the text output, for other tools."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cgen

SHOP = "examples/shop"


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
    assert data["allowed"] is True and data["ports"][0]["port"] == 7070
    denied = run_cgen(["explain", "cartservice", "frontend", SHOP, "--json"])
    assert denied.returncode == 3
    assert json.loads(denied.stdout)["allowed"] is False
