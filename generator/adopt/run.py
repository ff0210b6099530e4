"""`cgen import`: Kubernetes objects in, one cgen manifest per workload out, and a report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.adopt import edges, podspec, volumes
from generator.adopt.edges import Workload
from generator.adopt.kube import WORKLOAD_KINDS, KObject, check_kinds
from generator.adopt.manifest import build_spec, manifest_text
from generator.adopt.notes import Note, Notes
from generator.adopt.policies import NAME_LABEL, Pod, Policies
from generator.adopt.ports import own_headless, workload_ports
from generator.adopt.shape import shape_problems
from generator.errors import ManifestError, UsageError, UserError
from generator.loader import display_path
from generator.runtime.profiles import ProfileSet


@dataclass
class ImportResult:
    """The manifests an import writes (relative path -> text) and what it found out."""

    out: Path
    files: dict[str, str]
    notes: list[Note]
    workloads: int
    skipped: list[str]


def _config_maps(objects: list[KObject]) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (o.namespace, o.name): {str(k): str(v) for k, v in (o.body.get("data") or {}).items()}
        for o in objects
        if o.kind == "ConfigMap"
    }


def _namespace_labels(objects: list[KObject]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for o in objects:
        if o.kind == "Namespace":
            labels = (o.body.get("metadata") or {}).get("labels") or {}
            found[o.name] = {NAME_LABEL: o.name, **{str(k): str(v) for k, v in labels.items()}}
    return found


def _workload(
    obj: KObject, services: list[KObject], cms: dict[tuple[str, str], dict[str, str]]
) -> tuple[Workload, dict[str, Any], dict[str, Any], str, dict[str, Any]] | None:
    template, tpath = podspec.pod_template(obj)
    pod = template.get("spec") or {}
    containers = pod.get("containers") or []
    notes = Notes(f"{obj.namespace}/{obj.name}")
    if not containers:
        return None
    at = f"{tpath}.spec.containers[0]"
    container = containers[0]
    for i, extra in enumerate(containers[1:], 1):
        notes.add(
            "unsupported",
            f"container {extra.get('name')} (a sidecar: declare it under "
            "spec.sidecars with a pinned image)",
            obj.at(f"{tpath}.spec.containers[{i}]"),
        )
    for i, init in enumerate(pod.get("initContainers") or []):
        notes.add(
            "unsupported",
            f"init container {init.get('name')} (declare it under "
            "spec.initContainers with a pinned image)",
            obj.at(f"{tpath}.spec.initContainers[{i}]"),
        )
    if obj.kind == "DaemonSet":
        notes.add(
            "unsupported", "a DaemonSet (a pod per node): imported as a Deployment", obj.where
        )
    labels = {
        str(k): str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()
    }
    secret_mounts: dict[str, str] = {}
    env = podspec.env(obj, container, at, cms, secret_mounts, notes)
    # Where each variable was set: an env entry, or the envFrom entry that brought it.
    env_at = {name: f"{at}.envFrom" for name in env}
    env_at.update(
        {str(e.get("name")): f"{at}.env[{i}]" for i, e in enumerate(container.get("env") or [])}
    )
    fields = volumes.mounts(obj, pod, container, at, cms, secret_mounts, notes)
    if secret_mounts:
        fields["secrets"] = [
            {"secret": s, "mountPath": p} for s, p in sorted(secret_mounts.items())
        ]
    ports = workload_ports(obj, labels, container, at, services, notes)
    pod_ports = tuple(
        (str(p["name"]), n, proto) for (n, proto), p in sorted(ports.by_number.items())
    )
    me = Pod(obj.namespace, obj.name, tuple(sorted(labels.items())), pod_ports)
    return Workload(obj, me, ports, env, env_at, notes), container, pod, at, fields


def _runtime_for(obj: KObject, runtimes: dict[str, str]) -> str | None:
    return runtimes.get(f"{obj.namespace}/{obj.name}") or runtimes.get(obj.name)


def convert(
    objects: list[KObject],
    *,
    runtimes: dict[str, str],
    images: dict[str, str] | None = None,
    skip_unknown: bool = False,
) -> tuple[dict[str, str], list[Note], int]:
    """Manifests (relative path -> text) for every workload, and the notes."""
    objects = check_kinds(objects, skip_unknown)
    if problems := shape_problems(objects):
        raise ManifestError(problems=problems)
    services = [o for o in objects if o.kind == "Service"]
    cms = _config_maps(objects)
    built = [
        (o, found)
        for o in sorted(
            (o for o in objects if o.kind in WORKLOAD_KINDS), key=lambda o: (o.namespace, o.name)
        )
        if (found := _workload(o, services, cms)) is not None
    ]
    if not built:
        raise UserError(
            "no workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob) in the input"
        )
    workloads = [found[0] for _, found in built]
    policies = Policies(
        [o for o in objects if o.kind == "NetworkPolicy"], _namespace_labels(objects)
    )
    _name_after_services(workloads)
    edges.from_addresses(workloads)
    allowed = edges.from_policies(workloads, policies)
    edges.from_outside(workloads, policies)
    _cuts(workloads, allowed, policies)
    profiles = ProfileSet(None, None)
    files: dict[str, str] = {}
    notes: list[Note] = []
    for obj, (w, container, pod, at, fields) in built:
        image = (images or {}).get(f"{obj.namespace}/{obj.name}") or str(container.get("image", ""))
        runtime = _runtime_for(obj, runtimes) or podspec.guess_runtime(
            image, [str(c) for c in container.get("command") or []], w.notes, obj.at(f"{at}.image")
        )
        spec = build_spec(w, container, at, pod, runtime, image, fields, profiles)
        body = {
            "apiVersion": "cgen/v1",
            "kind": "Service",
            "metadata": {"name": w.name, "namespace": obj.namespace},
            "spec": spec,
        }
        left = [n.text for n in w.notes.items if n.kind == "unsupported"]
        files[f"{obj.namespace}/{w.name}.yaml"] = manifest_text(obj, body, left)
        notes += w.notes.items
    return files, sorted(notes, key=lambda n: (n.kind != "inferred", n.subject)), len(built)


def _name_after_services(workloads: list[Workload]) -> None:
    """Name a workload after the one Service callers reach it by, when that Service
    selects it alone: cgen writes the Service under the manifest's name."""
    taken = {(w.obj.namespace, w.obj.name) for w in workloads}
    selected: dict[tuple[str, str], int] = {}
    for w in workloads:
        for svc in w.ports.services:
            selected[(svc.namespace, svc.name)] = selected.get((svc.namespace, svc.name), 0) + 1
    for w in workloads:
        w.name = w.obj.name
        own = [s for s in w.ports.services if not own_headless(w.obj, s)]
        if len(own) == 1 and own[0].name != w.obj.name:
            key = (own[0].namespace, own[0].name)
            if selected[key] == 1 and key not in taken:
                w.name = own[0].name
                taken.add(key)
                text = f"named {w.name} after {own[0].ref}, which callers use"
                w.notes.add("inferred", text, own[0].where)
        for svc in own:
            if svc.name != w.name:
                w.notes.add(
                    "unsupported",
                    f"{svc.ref} selects it: cgen names the one Service after the manifest "
                    f"({w.name}); callers that use the name {svc.name} must change",
                    svc.where,
                )


def _cuts(
    workloads: list[Workload], allowed: set[tuple[str, str, str, int]], policies: Policies
) -> None:
    """List what the manifests would no longer allow between imported workloads."""
    after = {
        (w.pod.key, f"{ns}/{name}", proto, n)
        for w in workloads
        for (ns, name), names in w.deps.items()
        for c in workloads
        if (c.obj.namespace, c.name) == (ns, name)
        for (n, proto), p in c.ports.by_number.items()
        if p["name"] in names
    }
    for w in workloads:
        lost = sorted(
            (dst, f"{proto} {n}")
            for src, dst, proto, n in allowed - after
            if src == w.pod.key and dst != src
        )
        if lost:
            w.notes.add("cut", "no longer calls " + ", ".join(f"{d} {p}" for d, p in lost))
        if not policies.selecting(w.pod, "Egress"):
            w.notes.add(
                "dropped",
                f"open egress (no NetworkPolicy restricted it): now only its "
                f"{len(w.deps) + len(w.externals)} dependencies and cluster DNS",
            )
        if not policies.selecting(w.pod, "Ingress"):
            w.notes.add(
                "dropped", "open ingress (no NetworkPolicy restricted it): now only its callers"
            )


def write(out: Path, files: dict[str, str], *, dry_run: bool = False) -> None:
    """Write every manifest, or nothing when any of them exists already."""
    existing = sorted(display_path(out / rel) for rel in files if (out / rel).exists())
    if existing:
        raise UserError("refusing to overwrite: " + ", ".join(existing) + "; nothing was written")
    if dry_run:
        return
    for rel, text in sorted(files.items()):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)


def parse_runtimes(values: list[str]) -> dict[str, str]:
    """--runtime NAME=RUNTIME (or NAMESPACE/NAME=RUNTIME) pairs as a map."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, runtime = value.partition("=")
        if not sep or not name or not runtime:
            raise UsageError(f"--runtime: {value!r}: write WORKLOAD=RUNTIME, e.g. cart=dotnet")
        found[name] = runtime
    return found


def skipped_objects(objects: list[KObject]) -> list[str]:
    """The objects import leaves to their owners (RBAC, Secrets, ...), by name."""
    used = WORKLOAD_KINDS | {"Service", "NetworkPolicy", "ConfigMap", "Namespace"}
    return sorted(f"{o.ref} ({o.where})" for o in objects if o.kind not in used)


def import_objects(
    objects: list[KObject],
    out: Path,
    *,
    runtimes: dict[str, str],
    images: dict[str, str] | None = None,
    skip_unknown: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Convert objects and write the manifests below out (all of them, or none)."""
    files, notes, count = convert(
        objects, runtimes=runtimes, images=images, skip_unknown=skip_unknown
    )
    write(out, files, dry_run=dry_run)
    return ImportResult(out, files, notes, count, skipped_objects(objects))
