"""Kubernetes objects read from YAML: files, folders, `kubectl get -o yaml` lists and
`helm template` / `kustomize build` streams, each object with the place it came from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Location, ManifestError, Problem, UserError
from generator.loader import Document, display_path, join, parse

# The kinds import reads, and the ones it knowingly leaves to their owners (listed in the
# report). Anything else is not a Kubernetes kind import understands: an error, unless
# the caller asks to skip unknown kinds.
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"})
USED_KINDS = WORKLOAD_KINDS | {"Service", "NetworkPolicy", "ConfigMap", "Namespace"}
SKIPPED_KINDS = frozenset({
    "ServiceAccount", "Secret", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
    "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "IngressClass",
    "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "LimitRange", "ResourceQuota",
    "CustomResourceDefinition", "MutatingWebhookConfiguration", "PriorityClass",
    "ValidatingWebhookConfiguration", "Endpoints", "EndpointSlice", "ReplicaSet", "Pod",
    "ControllerRevision", "Lease", "Event", "APIService", "PodTemplate", "CSIDriver",
})  # fmt: skip
MAX_SOURCE_BYTES = 16 << 20  # a rendered chart is large, but not this large
SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class KObject:
    """One Kubernetes object, where it was read, and the namespace it lives in."""

    kind: str
    name: str
    namespace: str
    body: dict[str, Any]
    where: Location
    doc: Document | None = field(default=None, compare=False, repr=False)
    keypath: str = ""

    @property
    def ref(self) -> str:
        """Kind/namespace/name, as the report names objects."""
        return f"{self.kind} {self.namespace}/{self.name}"

    def at(self, keypath: str) -> Location:
        """Where a field of this object was written (the object itself when unknown)."""
        if self.doc is None:
            return self.where
        return self.doc.at(join(self.keypath, keypath) if self.keypath else keypath)


def _object(
    data: Any, doc: Document, keypath: str, namespace: str, problems: list[Problem]
) -> list[KObject]:
    where = doc.at(keypath)
    if not isinstance(data, dict):
        problems.append(Problem(where, keypath, "not a Kubernetes object (a mapping with kind)"))
        return []
    kind, api = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        problems.append(
            Problem(where, keypath, "not a Kubernetes object: it has no apiVersion and kind")
        )
        return []
    if api.startswith("cgen/"):
        problems.append(Problem(where, keypath, "a cgen manifest, not a Kubernetes object"))
        return []
    if kind.endswith("List") and isinstance(data.get("items"), list):
        found: list[KObject] = []
        for i, item in enumerate(data["items"]):
            found += _object(item, doc, join(join(keypath, "items"), i), namespace, problems)
        return found
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        problems.append(Problem(where, join(keypath, "metadata.name"), "missing"))
        return []
    own = meta.get("namespace") if isinstance(meta, dict) else None
    ns = own if isinstance(own, str) and own else namespace
    return [KObject(kind, name, ns, data, where, doc, keypath)]


def parse_objects(text: str, display: str, namespace: str) -> list[KObject]:
    """Every object of a YAML stream; raise ManifestError (located) on anything else."""
    docs, problems = parse(text, display)
    found: list[KObject] = []
    for doc in docs:
        if doc.data is None:
            continue  # an empty document between '---' lines (helm leaves many)
        found += _object(doc.data, doc, "", namespace, problems)
    if problems:
        raise ManifestError(problems=problems)
    return found


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise UserError(f"{display_path(path)}: no such file or folder")
    if path.is_file():
        return [path]
    found: list[Path] = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / n for n in sorted(names) if n.endswith(SUFFIXES)]
    return found


def read_objects(paths: list[Path], namespace: str) -> list[KObject]:
    """The objects in files and folders (recursively), in a stable order."""
    objects: list[KObject] = []
    problems: list[Problem] = []
    for path in paths:
        for file in _files(path):
            display = display_path(file)
            if file.stat().st_size > MAX_SOURCE_BYTES:
                raise UserError(f"{display}: larger than {MAX_SOURCE_BYTES >> 20} MiB")
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(Location(display), "", f"not UTF-8 text ({exc.reason})"))
                continue
            try:
                objects += parse_objects(text, display, namespace)
            except ManifestError as exc:
                problems += exc.problems
    if problems:
        raise ManifestError(problems=problems)
    return objects


def check_kinds(objects: list[KObject], skip_unknown: bool) -> list[KObject]:
    """The objects import understands; an unknown kind is an error unless skipped."""
    unknown = [o for o in objects if o.kind not in USED_KINDS | SKIPPED_KINDS]
    if unknown and not skip_unknown:
        known = ", ".join(sorted(USED_KINDS))
        raise ManifestError(
            problems=[
                Problem(
                    o.where,
                    "kind",
                    f"{o.kind!r} ({o.body.get('apiVersion')}) is not a kind import "
                    f"understands (it reads {known}); pass --skip-unknown to leave it out",
                )
                for o in unknown
            ]
        )
    return objects
