"""`cgen graph`: the allowed connectivity as Mermaid, Graphviz DOT or a plain table."""

from __future__ import annotations

import json

from generator.network.model import Flow, NetModel, Peer

FORMATS = ("mermaid", "dot", "table", "json")


def _ports(flow: Flow) -> str:
    return ", ".join(str(p) for p in flow.ports)


def _flows(model: NetModel, dns: bool) -> list[Flow]:
    return [f for f in model.flows if dns or f.kind != "dns"]


def _nodes(flows: list[Flow]) -> dict[Peer, str]:
    """Every peer of the flows with a stable id, in order of first appearance."""
    ids: dict[Peer, str] = {}
    for flow in flows:
        for peer in (flow.src, flow.dst):
            ids.setdefault(peer, f"n{len(ids) + 1}")
    return ids


def _group(model: NetModel, peer: Peer) -> str | None:
    """The namespace box a peer is drawn in: the cgen namespaces only."""
    if peer.kind == "pods" and peer.namespace in model.namespaces:
        return peer.namespace
    return None


def _short(model: NetModel, peer: Peer) -> str:
    if _group(model, peer) is None:
        return peer.label
    if peer.service is not None:
        return peer.service[1]
    if not peer.pod_labels:
        return "every pod"
    return peer.label.split("[", 1)[1].rstrip("]")


def table(model: NetModel, dns: bool = True) -> str:
    """One row per allowed flow: from, to, ports and the line that declared it."""
    rows = [("FROM", "TO", "PORTS", "DECLARED AT")]
    rows += [(f.src.label, f.dst.label, _ports(f), str(f.where)) for f in _flows(model, dns)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid reads entity codes inside quoted labels; no other character is special there.
    return '"' + text.replace("&", "#amp;").replace('"', "#quot;") + '"'


def _mermaid_node(model: NetModel, peer: Peer, node_id: str) -> str:
    label = _mermaid_text(_short(model, peer))
    if peer.service is not None:
        return f"{node_id}[{label}]"
    if peer.kind in ("cidr", "host"):
        return f"{node_id}{{{{{label}}}}}"
    return f"{node_id}([{label}])"


def mermaid(model: NetModel, dns: bool = True) -> str:
    """A Mermaid flowchart: one box per cgen namespace, external peers outside."""
    flows = _flows(model, dns)
    ids = _nodes(flows)
    lines = ["flowchart LR"]
    for index, namespace in enumerate(model.namespaces, 1):
        members = [p for p in ids if _group(model, p) == namespace]
        if not members:
            continue
        lines.append(f"  subgraph ns{index}[{_mermaid_text('namespace ' + namespace)}]")
        lines += [f"    {_mermaid_node(model, p, ids[p])}" for p in members]
        lines.append("  end")
    lines += [f"  {_mermaid_node(model, p, ids[p])}" for p in ids if _group(model, p) is None]
    for flow in flows:
        arrow = "-.->" if flow.kind == "dns" else "-->"
        lines.append(f"  {ids[flow.src]} {arrow}|{_mermaid_text(_ports(flow))}| {ids[flow.dst]}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_node(model: NetModel, peer: Peer, node_id: str) -> str:
    shape = "box" if peer.service else "hexagon" if peer.kind != "pods" else "ellipse"
    return f"{node_id} [label={_dot_text(_short(model, peer))}, shape={shape}];"


def dot(model: NetModel, dns: bool = True) -> str:
    """A Graphviz digraph: one cluster per cgen namespace, external peers outside."""
    flows = _flows(model, dns)
    ids = _nodes(flows)
    lines = ["digraph cgen {", "  rankdir=LR;", '  node [fontname="sans-serif"];']
    for index, namespace in enumerate(model.namespaces, 1):
        members = [p for p in ids if _group(model, p) == namespace]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_text('namespace ' + namespace)};")
        lines += [f"    {_dot_node(model, p, ids[p])}" for p in members]
        lines.append("  }")
    lines += [f"  {_dot_node(model, p, ids[p])}" for p in ids if _group(model, p) is None]
    for flow in flows:
        style = ", style=dashed" if flow.kind == "dns" else ""
        lines.append(
            f"  {ids[flow.src]} -> {ids[flow.dst]} [label={_dot_text(_ports(flow))}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _peer_json(peer: Peer) -> dict[str, object]:
    found: dict[str, object] = {"kind": peer.kind, "label": peer.label}
    if peer.namespace is not None:
        found["namespace"] = peer.namespace
    if peer.pod_labels:
        found["podLabels"] = dict(peer.pod_labels)
    if peer.cidr is not None:
        found["cidr"] = peer.cidr
        found["except"] = list(peer.except_)
    if peer.host is not None:
        found["host"] = peer.host
    return found


def as_json(model: NetModel, dns: bool = True) -> str:
    """Every flow as JSON (for other tools): kind, source, destination, ports, manifest line."""
    flows = [
        {
            "kind": flow.kind,
            "from": _peer_json(flow.src),
            "to": _peer_json(flow.dst),
            "ports": [{"protocol": p.protocol, "port": p.port, "name": p.name} for p in flow.ports],
            "where": str(flow.where),
        }
        for flow in _flows(model, dns)
    ]
    document = {"ok": True, "problems": [], "flows": flows}  # as a failure's: ok, problems
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_graph(model: NetModel, fmt: str, dns: bool = True) -> str:
    """The graph in one of FORMATS."""
    if fmt == "json":
        return as_json(model, dns)
    if fmt == "mermaid":
        return mermaid(model, dns)
    if fmt == "dot":
        return dot(model, dns)
    return table(model, dns)
