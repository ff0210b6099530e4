"""`cgen import` from Kubernetes YAML: Online Boutique as released upstream, every input
shape (files, folders, `kubectl get -o yaml` lists, helm output), policies, bad input."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cgen, tree

import generator
from generator.errors import ManifestError

BOUTIQUE = ROOT / "tests" / "data" / "import" / "online-boutique" / "kubernetes-manifests.yaml"
POLICIES = ROOT / "tests" / "data" / "import" / "policies" / "app.yaml"
_ADDRESS = re.compile(r"([a-z0-9-]+):(\d+)")


def upstream_objects(path: Path = BOUTIQUE) -> list[dict[str, Any]]:
    """The upstream objects, as plain YAML."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def needed_edges(objects: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    """(caller, callee Deployment, container port) for each `name:port` env value that
    names a Service of the input: the connections the application needs, read without cgen."""
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    edges: set[tuple[str, str, int]] = set()
    for dep in deployments:
        for container in dep["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env") or []:
                match = _ADDRESS.fullmatch(str(env.get("value", "")))
                if not match or match.group(1) not in services:
                    continue
                svc = services[match.group(1)]
                port = next(p for p in svc["spec"]["ports"] if p["port"] == int(match.group(2)))
                labels = svc["spec"]["selector"].items()
                callee = next(
                    d["metadata"]["name"]
                    for d in deployments
                    if labels <= d["spec"]["template"]["metadata"]["labels"].items()
                )
                target = int(port.get("targetPort", port["port"]))
                edges.add((dep["metadata"]["name"], callee, target))
    return edges


def pin_images(folder: Path) -> None:
    """What a user does after import: pin each image (here to a made-up digest)."""

    def pinned(match: re.Match[str]) -> str:
        if "@" in match.group(2):
            return match.group(0)
        digest = hashlib.sha256(match.group(2).encode()).hexdigest()
        return f"{match.group(1)}{match.group(2)}@sha256:{digest}"

    for path in sorted(folder.rglob("*.yaml")):
        text = re.sub(r"(?m)^(  image: )(\S+)$", pinned, path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")


def imported(tmp_path: Path, *sources: Path, args: tuple[str, ...] = ()) -> Path:
    out = tmp_path / "services"
    proc = run_cgen(["import", *map(str, sources), "--out", str(out), *args])
    assert proc.returncode == 0, proc.stderr
    return out


def test_boutique_imports_one_manifest_per_workload_with_the_needed_calls(
    tmp_path: Path,
) -> None:
    objects = upstream_objects()
    out = imported(tmp_path, BOUTIQUE)
    pin_images(out)
    project, _ = generator.load([out])
    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert {s.name for s in project.services} == deployments
    calls = {
        (edge.caller.name, edge.callee.name, port.port)
        for svc in project.services
        for edge in project.graph.calls_of(svc)
        for port in edge.ports
    }
    assert calls == needed_edges(objects)


def test_the_report_names_each_privilege_dropped(tmp_path: Path) -> None:
    objects = upstream_objects()
    out = tmp_path / "services"
    proc = run_cgen(["import", str(BOUTIQUE), "--out", str(out), "-f", "json"])
    report = json.loads(proc.stdout)
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    dropped = {(n["subject"], n["text"].split(" (")[0]) for n in report["notes"]}
    for dep in deployments:
        subject = f"default/{dep['metadata']['name']}"
        pod = dep["spec"]["template"]["spec"]
        assert (subject, "a mounted service-account token") in dropped
        assert any(s == subject and t.startswith("open egress") for s, t in dropped)
        uid = pod["securityContext"]["runAsUser"]
        assert any(s == subject and t.startswith(f"ran as uid {uid}") for s, t in dropped)
    secret_like = [n for n in report["notes"] if "ServiceAccount" in n["text"]]
    assert secret_like == []
    skipped = [s.split(" (")[0] for s in report["skipped"]]
    assert sorted(skipped) == sorted(
        f"ServiceAccount default/{o['metadata']['name']}"
        for o in objects
        if o["kind"] == "ServiceAccount"
    )


def test_the_report_sends_each_tag_only_image_to_cgen_pin(tmp_path: Path) -> None:
    out = tmp_path / "services"
    proc = run_cgen(["import", str(BOUTIQUE), "--out", str(out), "-f", "json"])
    unpinned = [n for n in json.loads(proc.stdout)["notes"] if "is not pinned" in n["text"]]
    tags = {
        c["image"]
        for o in upstream_objects()
        if o["kind"] == "Deployment"
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    assert {n["text"].split()[1] for n in unpinned} == tags
    # What pins them is `cgen pin` (docs/adopt.md), not a digest copied by hand.
    assert all("run `cgen pin` on the manifests" in n["text"] for n in unpinned)
    assert not any("kubectl" in n["text"] for n in unpinned)


def _bodies(files: dict[str, bytes]) -> dict[str, str]:
    """The manifests without their first comment line, which names where each was read."""
    return {k: v.decode().split("\n", 1)[1] for k, v in files.items()}


def _as_list(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects})


def test_every_input_shape_imports_alike(tmp_path: Path) -> None:
    """One stream, a kubectl List, one file per object in folders, and helm's output."""
    objects = upstream_objects()
    reference = tree(imported(tmp_path / "stream", BOUTIQUE))
    listing = tmp_path / "list.yaml"
    listing.write_text(_as_list(objects), encoding="utf-8")
    folder = tmp_path / "folder"
    for i, obj in enumerate(objects):
        sub = folder / obj["kind"].lower()
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:02}-{obj['metadata']['name']}.yml").write_text(
            yaml.safe_dump(obj), encoding="utf-8"
        )
    helm = tmp_path / "helm.yaml"
    helm.write_text(
        "".join(
            f"---\n# Source: boutique/templates/{o['metadata']['name']}.yaml\n"
            f"{yaml.safe_dump(o)}---\n"
            for o in objects
        ),
        encoding="utf-8",
    )

    for source in (listing, folder, helm):
        assert _bodies(tree(imported(tmp_path / source.stem, source))) == _bodies(reference)


def test_policies_become_dependencies_and_ingress(tmp_path: Path) -> None:
    out = imported(tmp_path, POLICIES)
    pin_images(out)
    project, _ = generator.load([out])
    api = next(s for s in project.services if s.name == "api")
    web = next(s for s in project.services if s.name == "web")
    assert [(d.service, d.ports) for d in web.dependencies] == [("api", ("http",))]
    assert [(r.namespace, r.pod_labels) for r in api.ingress] == [
        ("monitoring", (("app", "prometheus"),))
    ]
    assert [(e.cidrs, e.ports) for e in api.externals] == [(("203.0.113.0/24",), (443,))]
    report = run_cgen(["import", str(POLICIES), "--out", str(tmp_path / "x"), "-f", "json"])
    cuts = [n for n in json.loads(report.stdout)["notes"] if n["kind"] == "cut"]
    # batch is under no policy: what it could reach and now cannot is listed, nothing else.
    assert [c["subject"] for c in cuts] == ["shop/batch"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "not a Kubernetes object"),
        ("name: x\nvalue: 3\n", "no apiVersion and kind"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "metadata.name: missing"),
        ("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", "'Widget'"),
        ("apiVersion: cgen/v1\nkind: Service\nmetadata: {name: a}\n", "a cgen manifest"),
        ("apiVersion: v1\nkind: [\n", "invalid YAML"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "no workloads"),
    ],
)
def test_bad_input_is_a_located_error_and_writes_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    source = tmp_path / "in.yaml"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "services"
    proc = run_cgen(["import", str(source), "--out", str(out)])
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not out.exists()


def test_unknown_kinds_can_be_skipped(tmp_path: Path) -> None:
    source = tmp_path / "in.yaml"
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
    source.write_text(widget + BOUTIQUE.read_text(encoding="utf-8"), encoding="utf-8")
    failed = run_cgen(["import", str(source), "--out", str(tmp_path / "a")])
    assert failed.returncode == 1 and "in.yaml:1:1: kind: 'Widget'" in failed.stderr
    skipped = tree(imported(tmp_path / "b", source, args=("--skip-unknown",)))
    assert _bodies(skipped) == _bodies(tree(imported(tmp_path / "c", BOUTIQUE)))


def test_an_existing_manifest_is_never_overwritten(tmp_path: Path) -> None:
    out = imported(tmp_path, BOUTIQUE)
    before = tree(out)
    (out / "default" / "adservice.yaml").unlink()
    proc = run_cgen(["import", str(BOUTIQUE), "--out", str(out)])
    assert proc.returncode == 1 and "refusing to overwrite" in proc.stderr
    assert "default/adservice.yaml" not in tree(out)
    assert {k: v for k, v in before.items() if k != "default/adservice.yaml"} == tree(out)


def test_runtime_can_be_given(tmp_path: Path) -> None:
    out = imported(tmp_path, BOUTIQUE, args=("--runtime", "cartservice=dotnet"))
    text = (out / "default" / "cartservice.yaml").read_text(encoding="utf-8")
    assert "runtime: dotnet" in text
    proc = run_cgen(["import", str(BOUTIQUE), "--out", str(tmp_path / "y"), "--runtime", "x"])
    assert proc.returncode == 2 and "WORKLOAD=RUNTIME" in proc.stderr
    shutil.rmtree(out)


PRIVILEGED = ROOT / "tests" / "data" / "import" / "privileged" / "app.yaml"


def test_every_privilege_the_objects_hold_is_named(tmp_path: Path) -> None:
    out = tmp_path / "services"
    proc = run_cgen(["import", str(PRIVILEGED), "--out", str(out), "-f", "json"])
    assert proc.returncode == 0, proc.stderr
    dropped = [n["text"] for n in json.loads(proc.stdout)["notes"] if n["subject"] == "ops/agent"]
    for what in (
        "env API_TOKEN held Secret agent-api key token",
        "env DB_PASSWORD looks like a secret",
        "may run as root",
        "hostNetwork: true",
        "hostPath volume host",
        "privileged container",
        "privilege escalation",
        "a writable root filesystem",
        "default capabilities",
        "a mounted service-account token",
        "seccomp unset",
        "open egress",
        "open ingress",
    ):
        assert any(text.startswith(what) or what in text for text in dropped), what
    inferred = [n["text"] for n in json.loads(proc.stdout)["notes"] if n["kind"] == "inferred"]
    assert any("render needs podSecurity: {ops: {level: privileged" in t for t in inferred)
    pin_images(out)
    with pytest.raises(ManifestError, match="SYS_PTRACE needs Pod Security level"):
        generator.load([out])
    reason = "the agent traces and reconfigures the node's network"
    (out / "cgen.yaml").write_text(
        f"podSecurity: {{ops: {{level: privileged, reason: {reason}}}}}\n", encoding="utf-8"
    )
    project, _ = generator.load([out])
    agent = next(s for s in project.services if s.name == "agent")
    collector = next(s for s in project.services if s.name == "collector")
    assert agent.capabilities == ("NET_ADMIN", "SYS_PTRACE")
    assert [(s.secret, s.mount_path) for s in agent.secrets] == [
        ("agent-api", "/var/run/secrets/agent-api"),
        ("agent-tls", "/etc/agent/tls"),
    ]
    assert dict(agent.env) == {"COLLECTOR_ADDR": "collector.ops:4317", "LOG_LEVEL": "debug"}
    assert [d.service for d in agent.dependencies] == ["collector"]
    assert (collector.user, [(v.mount_path, v.size) for v in collector.storage]) == (
        10001,
        [("/var/lib/collector", "2Gi")],
    )
    # Nothing the collector held is taken away but its open network.
    held = [n for n in json.loads(proc.stdout)["notes"] if n["subject"] == "ops/collector"]
    assert sorted(n["text"].split(" (")[0] for n in held if n["kind"] == "dropped") == [
        "open egress",
        "open ingress",
    ]


BOOKINFO = ROOT / "tests" / "data" / "import" / "bookinfo" / "bookinfo.yaml"


def test_bookinfo_is_named_after_its_services_and_every_cut_is_listed(tmp_path: Path) -> None:
    objects = upstream_objects(BOOKINFO)
    out = tmp_path / "services"
    proc = run_cgen(["import", str(BOOKINFO), "--out", str(out), "-f", "json"])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    services = [o for o in objects if o["kind"] == "Service"]

    def selecting(dep: dict[str, Any]) -> list[str]:
        labels = dep["spec"]["template"]["metadata"]["labels"].items()
        return [s["metadata"]["name"] for s in services if s["spec"]["selector"].items() <= labels]

    shared = {
        name
        for name in (n for d in deployments for n in selecting(d))
        if sum(name in selecting(d) for d in deployments) > 1
    }
    names = [
        s[0] if (s := selecting(d))[0] not in shared else d["metadata"]["name"] for d in deployments
    ]
    expected = {f"default/{name}.yaml" for name in names}
    assert set(report["files"]) == expected
    renamed = [n for n in report["notes"] if "callers that use the name" in n["text"]]
    assert sorted(n["subject"] for n in renamed) == sorted(
        f"default/{d['metadata']['name']}" for d in deployments if selecting(d)[0] in shared
    )
    # Its calls live in code, so none is inferred: each workload's cut names every other.
    cuts = {n["subject"]: n["text"] for n in report["notes"] if n["kind"] == "cut"}
    for dep in deployments:
        others = [d["metadata"]["name"] for d in deployments if d is not dep]
        assert all(
            f"default/{o} TCP 9080" in cuts[f"default/{dep['metadata']['name']}"] for o in others
        )


ODD_VALUES: list[Any] = [
    None,
    7,
    "x",
    [],
    {},
    [1],
    {"a": 1},
    True,
    "80",
    1.5,
    [None],
    [{"port": [1]}],
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


@pytest.mark.slow  # every field of every fixture, one import each
def test_any_field_of_the_wrong_shape_is_a_clear_error_never_a_crash() -> None:
    """Every field of the fixtures, in turn, given a value of another type."""
    from generator.adopt.kube import parse_objects
    from generator.adopt.run import convert
    from generator.errors import CgenError

    base = upstream_objects(PRIVILEGED) + upstream_objects(POLICIES)
    for i, obj in enumerate(base):
        for path in _paths(obj)[1:]:
            docs = [dict(o) for o in base]
            mutated = yaml.safe_load(yaml.safe_dump(obj))
            holder = mutated
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = ODD_VALUES[len(path) % len(ODD_VALUES)]
            docs[i] = mutated
            with contextlib.suppress(CgenError):
                convert(parse_objects(yaml.safe_dump_all(docs), "in.yaml", "default"), runtimes={})
