"""checkov finds nothing on the Terraform output of both examples and the real-systems project.

checkov's terraform framework (3.3) runs its pod-security checks only on
`kubernetes_deployment_v1` and pods; on `kubernetes_stateful_set_v1`, `kubernetes_job_v1`
and `kubernetes_cron_job_v1` it checks the namespace alone. So the same run also reads
every resource back into the Kubernetes object it describes (tests/tf_convert.py, the
provider's schema) and gives those objects to checkov's kubernetes framework, which
judges every workload kind. A skipped check must be one the output declares, with its
reason (a `# checkov:skip=` comment in the .tf, a `checkov.io/skipN` annotation in the
object). A weakened copy of one Deployment module must be reported: proof that checkov
read the Terraform (and the module layout) at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import oracles
import pytest
import tf_convert
import yaml
from conftest import ROOT
from test_terraform_equivalence import REAL_SYSTEMS

import generator
from generator.compose import folders

pytestmark = pytest.mark.oracle

WEAKENINGS = {
    "privileged                 = false": "privileged                 = true",
    "read_only_root_filesystem  = true": "read_only_root_filesystem  = false",
    'drop = ["ALL"]': 'drop = ["NET_RAW"]',
}
SOURCES = {
    "shop": ROOT / "examples" / "shop",
    "otel-demo": ROOT / "examples" / "otel-demo",
    "real-systems": REAL_SYSTEMS,
}


def _render_terraform(source: Path, out: Path) -> set[tuple[str, str]]:
    """Write the .tf files of source into out; the skips they declare as (resource, check).

    The resource is named as checkov's kubernetes framework names it: Kind.namespace.name.
    """
    project, _ = generator.load([source], out, allow_unpinned=True)
    for art in generator.build(project, formats=("terraform",)):
        if art.path.endswith(".tf"):
            (out / art.path).parent.mkdir(parents=True, exist_ok=True)
            (out / art.path).write_text(art.content, encoding="utf-8")
    return {
        (_checkov_name(folder.objects[file]), check)
        for folder in folders(project)
        for file, skips in folder.skips.items()
        for check, _ in skips
    }


def _checkov_name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}.{obj['metadata']['namespace']}.{obj['metadata']['name']}"


def _read_back(module: Path, target: Path, prefix: str) -> None:
    """The objects a module's resources describe, as YAML files checkov can read."""
    found = tf_convert.resources(oracles.python_hcl2(module), "python-hcl2")
    for rtype, name, body in found:
        obj = tf_convert.to_k8s(rtype, body)
        (target / f"{prefix}-{name}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False), "utf-8")


def test_checkov_passes_terraform_output(tmp_path: Path) -> None:
    scan = tmp_path / "scan"
    declared: set[tuple[str, str]] = set()
    readback = scan / "readback"
    readback.mkdir(parents=True)
    for label, source in SOURCES.items():
        out = scan / "out" / label
        declared |= _render_terraform(source, out)
        for module in out.rglob("main.tf"):
            _read_back(module, readback, label)
    deployment_modules = sorted(
        p for p in (scan / "out").rglob("main.tf") if "kubernetes_deployment_v1" in p.read_text()
    )
    assert deployment_modules
    weak = scan / "weakened" / "main.tf"
    weak.parent.mkdir(parents=True)
    text = deployment_modules[0].read_text(encoding="utf-8")
    for old, new in WEAKENINGS.items():
        assert old in text, old
        text = text.replace(old, new)
    weak.write_text(text, encoding="utf-8")

    result = oracles.checkov_run(scan, ["terraform", "kubernetes"])

    assert not result.parsing_errors
    tf_files = list((scan / "out").rglob("*.tf"))
    resources = sum(p.read_text().count('\nresource "') for p in tf_files)
    assert result.resource_counts.get("terraform", 0) >= resources
    assert result.resource_counts.get("kubernetes", 0) >= len(list(readback.iterdir()))
    failed = [f for f in result.failed if not f.file.startswith("weakened/")]
    assert failed == [], "\n".join(map(str, failed))
    assert declared
    for finding in result.skipped:
        if finding.file.startswith("readback/"):
            assert (finding.resource, finding.check_id) in declared, finding
        else:  # a Terraform resource is named by its address: the skip is a comment in it
            assert finding.check_id in {check for _, check in declared}, finding
            comment = f"# checkov:skip={finding.check_id}:"
            assert comment in (scan / finding.file).read_text(encoding="utf-8"), finding
    weakened = {f.check_id for f in result.failed if f.file.startswith("weakened/")}
    assert len(weakened) >= 2, weakened
