"""Build the real-system parts of a Service (docs/real-systems.md) from validated YAML.

Config file contents named by `{file: path}` are not read here: project.py reads them at
load (inside the project folder only) and passes them in as `files`.
"""

from __future__ import annotations

from typing import Any

from generator.model import (
    Autoscaling,
    ConfigFile,
    ConfigMount,
    Container,
    Exposure,
    JobSpec,
    PodPlacement,
    Volume,
)


def _pairs(mapping: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((mapping or {}).items()))


def _items(entries: list[dict[str, Any]] | None) -> tuple[tuple[tuple[str, str | int], ...], ...]:
    # Each entry keeps its keys in a stable order; the list keeps the manifest's order.
    return tuple(tuple(sorted(entry.items())) for entry in entries or [])


def config_mounts(spec: dict[str, Any], files: dict[str, str]) -> tuple[ConfigMount, ...]:
    """The ConfigMap mounts; files maps a key path of a {file: ...} entry to its text."""
    mounts = []
    for i, entry in enumerate(spec.get("config", [])):
        keypath = f"spec.config[{i}]"
        contents = []
        for name, value in sorted(entry["files"].items()):
            text = value if isinstance(value, str) else files.get(f"{keypath}.files.{name}", "")
            contents.append(ConfigFile(name, text))
        mounts.append(ConfigMount(entry["name"], entry["mountPath"], tuple(contents), keypath))
    return tuple(mounts)


def volumes(spec: dict[str, Any]) -> tuple[Volume, ...]:
    """The persistent volume claim templates."""
    return tuple(
        Volume(
            v["name"],
            v["mountPath"],
            v["size"],
            v.get("storageClass"),
            v.get("accessMode", "ReadWriteOnce"),
            f"spec.storage[{i}]",
        )
        for i, v in enumerate(spec.get("storage", []))
    )


def job(spec: dict[str, Any]) -> JobSpec | None:
    """The Job/CronJob settings, or None for a long-running service."""
    data = spec.get("job")
    if data is None:
        return None
    default = JobSpec()
    return JobSpec(
        schedule=data.get("schedule"),
        time_zone=data.get("timeZone"),
        concurrency_policy=data.get("concurrencyPolicy", default.concurrency_policy),
        backoff_limit=data.get("backoffLimit", default.backoff_limit),
        active_deadline_seconds=data.get("activeDeadlineSeconds"),
        ttl_seconds_after_finished=data.get("ttlSecondsAfterFinished"),
        starting_deadline_seconds=data.get("startingDeadlineSeconds"),
        successful_history=data.get("successfulJobsHistoryLimit"),
        failed_history=data.get("failedJobsHistoryLimit"),
    )


def exposure(spec: dict[str, Any]) -> Exposure | None:
    """The Service's type and load balancer source ranges, when the manifest sets them."""
    data = spec.get("service")
    if data is None:
        return None
    return Exposure(data["type"], tuple(data.get("loadBalancerSourceRanges", ())))


def autoscaling(spec: dict[str, Any], replicas: int) -> Autoscaling | None:
    """The HorizontalPodAutoscaler settings; minReplicas defaults to spec.replicas."""
    data = spec.get("autoscaling")
    if data is None:
        return None
    return Autoscaling(
        data.get("minReplicas", max(replicas, 1)),
        data["maxReplicas"],
        data.get("cpu"),
        data.get("memory"),
    )


def placement(spec: dict[str, Any]) -> PodPlacement:
    """Pod annotations, node selector, tolerations, topology spread and priority class."""
    data = spec.get("pod", {})
    return PodPlacement(
        annotations=_pairs(data.get("annotations")),
        node_selector=_pairs(data.get("nodeSelector")),
        tolerations=_items(data.get("tolerations")),
        topology_spread=_items(data.get("topologySpread")),
        priority_class=data.get("priorityClassName"),
    )


def _container(data: dict[str, Any], kind: str, keypath: str) -> Container:
    return Container(
        name=data["name"],
        kind="sidecar" if kind == "sidecars" else "init",
        runtime=data["runtime"],
        image=data["image"],
        command=tuple(data["command"]) if "command" in data else None,
        args=tuple(data["args"]) if "args" in data else None,
        env=tuple(sorted(data.get("env", {}).items())),
        writable_paths=tuple(data.get("writablePaths", [])),
        capabilities=tuple(sorted(data.get("capabilities", []))),
        syscalls=tuple(sorted(data.get("syscalls", []))),
        capability_keys=tuple(
            (c, f"{keypath}.capabilities[{i}]") for i, c in enumerate(data.get("capabilities", []))
        ),
        syscall_keys=tuple(
            (s, f"{keypath}.syscalls[{i}]") for i, s in enumerate(data.get("syscalls", []))
        ),
        resources={k: dict(v) for k, v in data.get("resources", {}).items()},
        keypath=keypath,
    )


def containers(spec: dict[str, Any]) -> tuple[Container, ...]:
    """Sidecars, then init containers, each in manifest order."""
    return tuple(
        _container(data, kind, f"spec.{kind}[{i}]")
        for kind in ("sidecars", "initContainers")
        for i, data in enumerate(spec.get(kind, []))
    )
