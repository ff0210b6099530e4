"""Rules across the real-system fields of one manifest (docs/real-systems.md)."""

from __future__ import annotations

import posixpath
from typing import Any

import yaml

from generator.errors import Problem
from generator.images.lock import ImageLock
from generator.manifest.contract import CIDR, MOUNT_PATH
from generator.manifest.workload_contract import SECRET_NAME, SECRET_VALUE
from generator.model import PortRef, Service
from generator.schema import Context
from generator.suggest import did_you_mean

# What a job cannot have: nothing calls a pod that runs to completion.
_NOT_FOR_JOBS = {
    "ports": "a job listens on no port",
    "ingress": "nothing calls a job",
    "probes": "a job runs to completion; probes are for long-running pods",
    "service": "a job has no Service",
    "autoscaling": "a job is not scaled by an autoscaler",
    "peerPorts": "a job's pods do not call each other",
    "storage": "persistent volumes belong to long-running services (StatefulSets)",
}


def check_workload(svc: Service, ctx: Context) -> None:
    """Record every problem of the real-system fields of one service."""
    spec = svc.doc.data["spec"]
    if svc.job is not None:
        for key, why in _NOT_FOR_JOBS.items():
            if key in spec:
                ctx.fail(f"spec.{key}", f"does not apply to a job: {why}", key=True)
    _check_env(svc, ctx)
    _check_mounts(svc, ctx)
    _check_exposure(svc, ctx)
    _check_prebuilt(svc, ctx)
    for i, ref in enumerate(svc.peer_ports):
        if svc.port(ref) is None:
            ctx.fail(f"spec.peerPorts[{i}]", not_own_port(svc, ref))
    if svc.autoscaling is not None:
        scaling = svc.autoscaling
        if scaling.min_replicas > scaling.max_replicas:
            ctx.fail("spec.autoscaling.maxReplicas", "must not be below minReplicas")
        if scaling.cpu is None and scaling.memory is None:
            ctx.fail("spec.autoscaling", "needs a target: cpu and/or memory (percent)")
    _check_patches(svc, ctx)
    _check_containers(svc, ctx)


def _check_containers(svc: Service, ctx: Context) -> None:
    names = {svc.name: "metadata.name (the service's own container)"}
    sidecars = {c.name for c in svc.containers if c.kind == "sidecar"}
    for container in svc.containers:
        if container.name in names:
            ctx.fail(f"{container.keypath}.name", f"repeats the name of {names[container.name]}")
        names.setdefault(container.name, f"{container.keypath}.name")
        for name, value in container.env:
            why = secret_problem(name, value)
            if why is not None:
                ctx.fail(f"{container.keypath}.env.{name}", f"{why}: secrets stay files")
    for port in svc.ports:
        if port.container is not None and port.container not in sidecars:
            known = ", ".join(sorted(sidecars)) or "none"
            ctx.fail(
                f"{port.keypath}.container", f"no sidecar {port.container!r} (sidecars: {known})"
            )
    for _, probe in svc.probes:
        target = svc.port(probe.port)
        if target is not None and target.container is not None:
            ctx.fail(
                f"{probe.keypath}.port",
                f"{target.name} belongs to sidecar {target.container}; probes check the service's "
                "own container",
            )


def secret_problem(name: str, value: str) -> str | None:
    """Why an environment variable looks like a secret, or None."""
    if name.upper().endswith("_FILE") and value.startswith("/"):
        return None  # the *_FILE convention: a path to a mounted secret, not the secret
    if SECRET_NAME.search(name):
        return f"{name} looks like a secret by its name"
    if SECRET_VALUE.search(value):
        return f"the value of {name} looks like a secret (a key, token or password in a URL)"
    return None


SECRETS_ROOT = "/var/run/secrets/"


def _check_env(svc: Service, ctx: Context) -> None:
    mounts = [s.mount_path for s in svc.secrets]
    for name, value in svc.env:
        if name.upper().endswith("_FILE") and value.startswith(SECRETS_ROOT):
            if not any(value.startswith(path + "/") for path in mounts):
                folder = posixpath.dirname(value)
                ctx.fail(
                    f"spec.env.{name}",
                    f"points at {value}, but no secret is mounted there: add "
                    f"secrets: [{{secret: NAME, mountPath: {folder}}}]",
                )
            continue
        _secret_env(name, value, ctx)


def _secret_env(name: str, value: str, ctx: Context) -> None:
    why = secret_problem(name, value)
    if why is not None:
        ctx.fail(
            f"spec.env.{name}",
            f"{why}: secrets stay files, never environment values. Mount it "
            "(secrets: [{secret: NAME, mountPath: /var/run/secrets/NAME}]) and point the "
            f"program at the file, e.g. {name}_FILE: /var/run/secrets/NAME/{name.lower()}",
        )


def check_raw_env(data: Any, ctx: Context) -> None:
    """The secret-looking env entries of a manifest the schema refused (a value of the wrong
    type elsewhere): every problem is reported at once, not only the type errors."""
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict):
        return
    for name, value in _strings(spec.get("env")):
        if not (name.upper().endswith("_FILE") and value.startswith(SECRETS_ROOT)):
            _secret_env(name, value, ctx)
    for kind in ("sidecars", "initContainers"):
        entries = spec.get(kind)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            env = entry.get("env") if isinstance(entry, dict) else None
            for name, value in _strings(env):
                why = secret_problem(name, value)
                if why is not None:
                    ctx.fail(f"spec.{kind}[{i}].env.{name}", f"{why}: secrets stay files")


def _strings(env: Any) -> list[tuple[str, str]]:
    """The entries of a raw env mapping whose name and value are both strings."""
    if not isinstance(env, dict):
        return []
    return [(k, v) for k, v in env.items() if isinstance(k, str) and isinstance(v, str)]


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _check_mounts(svc: Service, ctx: Context) -> None:
    taken: list[tuple[str, str]] = [
        (path, f"spec.writablePaths[{i}]") for i, path in enumerate(svc.writable_paths)
    ]
    taken += [(s.mount_path, f"spec.secrets[{i}].mountPath") for i, s in enumerate(svc.secrets)]
    names: dict[str, str] = {}
    mounts = [(c.mount_path, f"{c.keypath}.mountPath", c.name) for c in svc.config]
    mounts += [(v.mount_path, f"{v.keypath}.mountPath", v.name) for v in svc.storage]
    for path, keypath, name in mounts:
        if not MOUNT_PATH.check(path, keypath, ctx):
            continue
        clash = next((where for other, where in taken if _overlaps(path, other)), None)
        if clash is not None:
            ctx.fail(keypath, f"{path} overlaps the mount of {clash}")
        taken.append((path, keypath))
        parent = keypath.rsplit(".", 1)[0]
        if name in names and names[name].split("[")[0] == parent.split("[")[0]:
            ctx.fail(f"{parent}.name", f"repeats the name of {names[name]}")
        names.setdefault(name, parent)


def _check_exposure(svc: Service, ctx: Context) -> None:
    exposure = svc.exposure
    if exposure is None:
        return
    if not svc.ports:
        ctx.fail("spec.service", "this service listens on no port, so it has no Service")
    if exposure.type == "LoadBalancer" and not exposure.source_ranges:
        ctx.fail(
            "spec.service.loadBalancerSourceRanges",
            "is required for a LoadBalancer: name the client networks it admits "
            "(0.0.0.0/0 only if it is truly public)",
        )
    if exposure.type != "LoadBalancer" and exposure.source_ranges:
        ctx.fail("spec.service.loadBalancerSourceRanges", "applies to LoadBalancer only", key=True)
    for i, text in enumerate(exposure.source_ranges):
        CIDR.check(text, f"spec.service.loadBalancerSourceRanges[{i}]", ctx)


def _check_prebuilt(svc: Service, ctx: Context) -> None:
    if not svc.prebuilt:
        return
    # Its digest (inline or from images.lock) is checked with the lock: check_pins.
    build = svc.doc.data["spec"].get("build", {})
    for key in ("context", "entrypoint", "appFiles"):
        if key in build:
            ctx.fail(f"spec.build.{key}", "a prebuilt image is not built by cgen", key=True)


def _check_patches(svc: Service, ctx: Context) -> None:
    seen: dict[str, str] = {}
    for patch in svc.patches:
        if patch.name in seen:
            ctx.fail(patch.keypath, f"has the same file name as {seen[patch.name]}")
        seen.setdefault(patch.name, patch.keypath)
        try:
            # compose, not load: aliases stay shared nodes, so no alias bomb can expand
            node = yaml.compose(patch.content, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            ctx.fail(patch.keypath, f"{patch.name} is not valid YAML{where}")
            continue
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode) or not node.value:
            ctx.fail(patch.keypath, f"{patch.name} is not a kustomize patch (a mapping or a list)")
        elif isinstance(node, yaml.MappingNode) and not {"apiVersion", "kind"} <= {
            key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)
        }:
            ctx.fail(
                patch.keypath,
                f"{patch.name}: a strategic-merge patch names its target's apiVersion and kind",
            )
        if posixpath.splitext(patch.name)[1] not in (".yaml", ".yml", ".json"):
            ctx.fail(patch.keypath, "must be a .yaml, .yml or .json file")


def not_own_port(svc: Service, ref: PortRef) -> str:
    """The error for a reference to a port the service does not declare, with near names."""
    hint = did_you_mean(ref, (p.name for p in svc.ports)) if isinstance(ref, str) else ""
    return f"{ref!r} is not one of this service's ports{hint}"


def check_pins(svc: Service, ctx: Context, lock: ImageLock) -> None:
    """Prebuilt, sidecar and init container images pinned neither inline nor by the image
    lock: cgen does not build them, so nobody reviewed the bytes a moving tag points to.
    (No --allow-unpinned for these: only base images of a build may go unpinned.)"""
    remedy = f"append @sha256:..., or run `cgen pin` to record its tag's digest in {lock.path}"
    if svc.prebuilt and lock.pin(svc.image) is None:
        ctx.fail(
            "spec.image",
            "a prebuilt image must be pinned by digest (repository:tag@sha256:...): "
            f"nobody reviewed the bytes a moving tag points to; {remedy}",
        )
    for container in svc.containers:
        if lock.pin(container.image) is None:
            ctx.fail(
                f"{container.keypath}.image",
                "a sidecar or init container image must be pinned by digest "
                f"(repository:tag@sha256:...): cgen does not build it; {remedy}",
            )


def probe_warnings(svc: Service) -> list[Problem]:
    """A warning when the declared liveness probe calls what readiness calls: a pod slow
    under load then fails both and is restarted instead of only taken out of rotation."""
    probes = dict(svc.probes)
    ready, live = probes.get("readiness"), probes.get("liveness")
    if ready is None or live is None or ready.kind != live.kind:
        return []
    same_port = svc.port(ready.port) == svc.port(live.port)
    if not same_port or (live.kind == "http" and ready.path != live.path):
        return []
    # A gRPC health check without a service name asks about the server as a whole ("").
    if live.kind == "grpc" and (ready.grpc_service or "") != (live.grpc_service or ""):
        return []
    return [
        Problem(
            svc.doc.at(live.keypath),
            live.keypath,
            "checks what readiness checks: leave it out for cgen's default (a TCP check "
            "with a long failure budget), or check only that the process is alive",
        )
    ]
