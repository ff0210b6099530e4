"""checkov's terraform framework finds nothing on the generated Deployment resources.

The same run scans a weakened copy of one Deployment module, which must be reported:
proof that checkov read the Terraform Deployments (and the module layout) at all.
"""

from __future__ import annotations

from pathlib import Path

import oracles
from conftest import ROOT
from test_terraform_equivalence import render_both

WEAKENINGS = {
    "privileged                 = false": "privileged                 = true",
    "read_only_root_filesystem  = true": "read_only_root_filesystem  = false",
    'drop = ["ALL"]': 'drop = ["NET_RAW"]',
}


def test_checkov_terraform_passes_deployments(tmp_path: Path) -> None:
    scan = tmp_path / "scan"
    out = scan / "out"
    render_both(ROOT / "examples" / "shop", out)
    deployment_modules = [
        p for p in out.rglob("main.tf") if "kubernetes_deployment_v1" in p.read_text()
    ]
    assert deployment_modules
    weak = scan / "weakened" / "main.tf"
    weak.parent.mkdir(parents=True)
    text = deployment_modules[0].read_text(encoding="utf-8")
    for old, new in WEAKENINGS.items():
        assert old in text, old
        text = text.replace(old, new)
    weak.write_text(text, encoding="utf-8")

    result = oracles.checkov_run(scan, ["terraform"])

    assert not result.parsing_errors
    deployments = sum(p.read_text().count('"kubernetes_deployment_v1"') for p in out.rglob("*.tf"))
    assert result.resource_counts.get("terraform", 0) >= deployments
    on_output = [f for f in result.failed if f.file.startswith("out/")]
    on_deployments = [f for f in on_output if "kubernetes_deployment_v1" in f.resource]
    assert on_deployments == [], "\n".join(map(str, on_deployments))
    weakened = {f.check_id for f in result.failed if f.file.startswith("weakened/")}
    assert len(weakened) >= 2, weakened
