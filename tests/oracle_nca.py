"""network-config-analyzer (NCA): connectivity maps and permits/forbids queries."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from oracle_base import OracleError, _run, tool_path

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


# Workloads that are not cgen services but take part in an example's traffic, for NCA's
# cluster: a Namespace (with its name label) and a Deployment carrying the given labels.
PLUMBING = """
apiVersion: v1
kind: Namespace
metadata: {name: NS, labels: {kubernetes.io/metadata.name: NS}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME, namespace: NS}
spec:
  selector: {matchLabels: LABELS}
  template:
    metadata: {labels: LABELS}
    spec: {containers: [{name: main, image: example.invalid/plumbing:1}]}
"""


def write_plumbing(folder: Path, ns: str, name: str, labels: str) -> None:
    """Write a stand-in workload NAME in namespace NS whose pods carry LABELS (YAML flow)."""
    text = PLUMBING.replace("NS", ns).replace("NAME", name).replace("LABELS", labels)
    (folder / f"plumbing-{ns}.yaml").write_text(text, encoding="utf-8")
