"""One imported workload as a cgen manifest: its fields, and the file text with its notes."""

from __future__ import annotations

from typing import Any

import yaml

from generator.adopt import podspec, volumes
from generator.adopt.edges import Workload
from generator.adopt.kube import KObject
from generator.images.lock import is_pinned
from generator.runtime.profiles import ProfileSet
from generator.serialize import comment

_JOB_KEYS = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished")
_CRON_KEYS = (
    ("schedule", "schedule"),
    ("timeZone", "timeZone"),
    ("concurrencyPolicy", "concurrencyPolicy"),
    ("startingDeadlineSeconds", "startingDeadlineSeconds"),
    ("successfulJobsHistoryLimit", "successfulJobsHistoryLimit"),
    ("failedJobsHistoryLimit", "failedJobsHistoryLimit"),
)


def _job(obj: KObject) -> dict[str, Any] | None:
    spec = obj.body.get("spec") or {}
    if obj.kind == "Job":
        return {k: spec[k] for k in _JOB_KEYS if isinstance(spec.get(k), int)}
    if obj.kind != "CronJob":
        return None
    job = (spec.get("jobTemplate") or {}).get("spec") or {}
    out = {new: spec[old] for old, new in _CRON_KEYS if spec.get(old) is not None}
    out.update({k: job[k] for k in _JOB_KEYS if isinstance(job.get(k), int)})
    return out


def _network(w: Workload, job: dict[str, Any] | None) -> dict[str, Any]:
    """ports, dependencies and ingress (a job has no ports and no ingress)."""
    spec: dict[str, Any] = {}
    if job is None and w.ports.by_number:
        spec["ports"] = w.ports.listing()
    deps: list[dict[str, Any]] = []
    for (ns, name), ports in sorted(w.deps.items()):
        dep: dict[str, Any] = {"service": name}
        if ns != w.obj.namespace:
            dep["namespace"] = ns
        dep["ports"] = sorted(ports)
        deps.append(dep)
    deps += w.externals
    if deps:
        spec["dependencies"] = deps
    if w.ingress and job is None:
        spec["ingress"] = w.ingress
    return spec


def _container(
    w: Workload, container: dict[str, Any], at: str, job: dict[str, Any] | None
) -> dict[str, Any]:
    """probes, resources, command, args and env."""
    spec: dict[str, Any] = {}
    if job is None and (found := podspec.probes(w.obj, container, at, w.ports.name_of, w.notes)):
        spec["probes"] = found
    if res := podspec.resources(container):
        spec["resources"] = res
    for key in ("command", "args"):
        if container.get(key):
            spec[key] = [str(a) for a in container[key]]
    if w.env:
        spec["env"] = dict(sorted(w.env.items()))
    return spec


def _profile_storage(w: Workload, spec: dict[str, Any], runtime: str, profiles: ProfileSet) -> None:
    """A server profile keeps its data on a volume: an emptyDir the source had there
    becomes that volume (a writable path may not overlap it)."""
    profile = profiles.get(runtime)
    defaults = profile.defaults if profile is not None else {}
    if "storage" in spec or not defaults.get("storage"):
        return
    writable = spec.get("writablePaths", [])
    kept = [p for p in writable if not _under_any(p, defaults["storage"])]
    if kept == writable:
        return
    text = f"the {runtime} profile's persistent volume replaces the emptyDir at its path"
    w.notes.add("inferred", text + " (a StatefulSet)", w.obj.where)
    if kept:
        spec["writablePaths"] = kept
    else:
        spec.pop("writablePaths", None)


def build_spec(
    w: Workload,
    container: dict[str, Any],
    at: str,
    pod: dict[str, Any],
    runtime: str,
    image: str,
    fields: dict[str, Any],
    profiles: ProfileSet,
) -> dict[str, Any]:
    """The manifest's spec, in the order the contract documents its fields."""
    obj = w.obj
    spec: dict[str, Any] = {"runtime": runtime, "image": image, "build": {"prebuilt": True}}
    if not is_pinned(image):
        w.notes.add(
            "unsupported",
            f"image {image} is not pinned: cgen runs prebuilt images only by digest; run "
            "`cgen pin` on the manifests to record its tag's digest in images.lock",
            obj.at(f"{at}.image"),
        )
    replicas = (obj.body.get("spec") or {}).get("replicas")
    if obj.kind in ("Deployment", "StatefulSet") and isinstance(replicas, int) and replicas != 1:
        spec["replicas"] = replicas
    user = _user(pod, container)
    if user is not None:
        spec["user"] = user
    job = _job(obj)
    exposed = _exposure_of(w) if w.ports.services and job is None else None
    spec.update(_network(w, job))
    if caps := volumes.security(obj, pod, container, at, w.notes):
        spec["capabilities"] = caps
    spec.update({k: fields[k] for k in ("writablePaths", "secrets") if fields.get(k)})
    spec.update(_container(w, container, at, job))
    spec.update({k: fields[k] for k in ("config", "storage") if fields.get(k)})
    _profile_storage(w, spec, runtime, profiles)
    if job is not None:
        spec["job"] = job
    if exposed is not None:
        spec["service"] = exposed
    return spec


def _user(pod: dict[str, Any], container: dict[str, Any]) -> int | None:
    """The uid it ran as, when cgen can keep it (>= 10000, the same as its group)."""
    ctx = container.get("securityContext") or {}
    pod_ctx = pod.get("securityContext") or {}
    user = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
    group = ctx.get("runAsGroup", pod_ctx.get("runAsGroup", user))
    return user if isinstance(user, int) and user >= 10000 and group == user else None


def _under_any(path: str, storage: list[dict[str, Any]]) -> bool:
    mounts = [str(v.get("mountPath", "")) for v in storage]
    return any(path == m or path.startswith(m + "/") or m.startswith(path + "/") for m in mounts)


def _exposure_of(w: Workload) -> dict[str, Any] | None:
    from generator.adopt.edges import exposure

    return exposure(w)


def manifest_text(obj: KObject, body: dict[str, Any], lines: list[str]) -> str:
    """The manifest file: a comment naming the source and what import could not say."""
    head = [f"Imported by `cgen import` from {obj.ref} ({obj.where}).", "Review it before use."]
    if lines:
        head += ["", "What import could not say (see the import report):"]
        head += [f"  - {line}" for line in lines]
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=4096)
    return comment(head) + text
