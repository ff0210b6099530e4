"""The hardened pod: one container with a non-root uid, read-only root, drop ALL and its own
seccomp profile; volumes for writable paths, secrets, config files and persistent storage."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from generator.layout import selector
from generator.model import Container, Port, Probe, Service, container_service
from generator.project import Project
from generator.seccomp.profile import pod_seccomp_profile
from generator.workload.probes import DEFAULT_LIVENESS_TIMINGS, DEFAULT_READINESS_TIMINGS

# Kubernetes' safe sysctl (allowed by Pod Security "restricted"): ports from this number up
# may be bound without NET_BIND_SERVICE, in the pod's own network namespace only.
UNPRIVILEGED_PORT_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
PRIVILEGED_PORTS_END = 1024

PROBE_FIELDS = {
    "readiness": "readinessProbe",
    "liveness": "livenessProbe",
    "startup": "startupProbe",
}
# checkov reads skips from annotations; each reason is part of the output for reviewers.
NO_PROBE_SKIPS = {
    "liveness": (
        "CKV_K8S_8",
        "no TCP port: nothing a liveness probe could call (a pure client, or UDP/SCTP only)",
    ),
    "readiness": (
        "CKV_K8S_9",
        "no TCP port: nothing a readiness probe could call (a pure client, or UDP/SCTP only)",
    ),
}


def checkov_skips(svc: Service) -> tuple[tuple[str, str], ...]:
    """The checkov checks the workload cannot meet, each with the reason (check, reason)."""
    if svc.job is not None:
        return ()  # checkov asks no probes of pods that run to completion
    return tuple(
        NO_PROBE_SKIPS[kind] for kind in ("liveness", "readiness") if kind not in probes(svc)
    )


def uid(project: Project, svc: Service) -> int:
    """The service's uid (= gid): the manifest's, else the runtime profile's."""
    return svc.user if svc.user is not None else project.runtime(svc).user


def resources(project: Project, svc: Service) -> dict[str, dict[str, str]]:
    """Requests and limits: the runtime profile's defaults, overridden key by key."""
    merged: dict[str, dict[str, str]] = {}
    for level in ("requests", "limits"):
        values = {**project.runtime(svc).resources[level], **svc.resources.get(level, {})}
        merged[level] = {k: values[k] for k in ("cpu", "memory", "ephemeral-storage")}
    return merged


def probes(svc: Service) -> dict[str, Probe]:
    """Declared probes, and the defaults for those left out (keypath ""): readiness a TCP
    check of the first TCP port, short period and low failure threshold; liveness a TCP
    check of the port readiness checks, with a start delay and a long failure budget."""
    declared = dict(svc.probes)
    tcp = [p for p in svc.ports if p.protocol == "TCP" and p.container is None]
    if not tcp:
        return declared
    if "readiness" not in declared:
        declared["readiness"] = Probe("tcp", tcp[0].name, None, None, DEFAULT_READINESS_TIMINGS, "")
    if "liveness" not in declared:
        ready = svc.port(declared["readiness"].port)
        port = ready if ready is not None and ready.protocol == "TCP" else tcp[0]
        # By number, where readiness names the port: the same socket, but kube-score's
        # identical-probe check compares handlers and ports as written, not timings.
        declared["liveness"] = Probe("tcp", port.port, None, None, DEFAULT_LIVENESS_TIMINGS, "")
    return declared


def unprivileged_port_start(svc: Service) -> int | None:
    """The lowest port below 1024 that a container listens on without NET_BIND_SERVICE
    (the pod's ip_unprivileged_port_start), or None when there is none."""
    caps: dict[str | None, tuple[str, ...]] = {None: svc.capabilities}
    caps.update({c.name: c.capabilities for c in svc.containers})
    low = [
        p.port
        for p in svc.ports
        if p.port < PRIVILEGED_PORTS_END and "NET_BIND_SERVICE" not in caps.get(p.container, ())
    ]
    return min(low) if low else None


def _probe(svc: Service, probe: Probe) -> dict[str, Any]:
    port = svc.port(probe.port)
    assert port is not None  # validated in model
    body: dict[str, Any]
    if probe.kind == "http":
        body = {"httpGet": {"path": probe.path, "port": port.name}}
    elif probe.kind == "grpc":
        body = {"grpc": {"port": port.port}}
        if probe.grpc_service:
            body["grpc"]["service"] = probe.grpc_service
    else:
        # A declared probe names its port; a default one keeps the form it was built with.
        body = {"tcpSocket": {"port": port.name if probe.keypath else probe.port}}
    body.update(dict(probe.timings))
    return body


def _volumes(
    project: Project, svc: Service, prefix: str = ""
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for i, path in enumerate(svc.writable_paths):
        name = f"{prefix}writable-{i}"
        volumes.append(
            {"name": name, "emptyDir": {"sizeLimit": project.config.writable_size_limit}}
        )
        mounts.append({"name": name, "mountPath": path})
    for i, secret in enumerate(svc.secrets):
        name = f"secret-{i}"
        # Secret volumes are tmpfs-backed by the kubelet; 0440 + fsGroup = readable by the app only.
        volumes.append(
            {"name": name, "secret": {"secretName": secret.secret, "defaultMode": 0o440}}
        )
        mounts.append({"name": name, "mountPath": secret.mount_path, "readOnly": True})
    for mount in svc.config:
        name = f"config-{mount.name}"
        volumes.append({"name": name, "configMap": {"name": config_map_name(svc, mount.name)}})
        mounts.append({"name": name, "mountPath": mount.mount_path, "readOnly": True})
    # Persistent volumes come from the StatefulSet's claim templates, named as declared.
    mounts += [{"name": v.name, "mountPath": v.mount_path} for v in svc.storage]
    return volumes, mounts


def config_map_name(svc: Service, name: str) -> str:
    """The ConfigMap that holds one config mount's files."""
    return f"{svc.name}-{name}"


def _container_ports(ports: Sequence[Port]) -> list[dict[str, Any]]:
    return [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in ports]


def _container(
    project: Project, svc: Service, ports: tuple[Port, ...] | None = None
) -> dict[str, Any]:
    user = uid(project, svc)
    # A tag-only prebuilt or sidecar image runs by the digest images.lock pins it to.
    image = project.image_lock.runs(svc.image)
    container: dict[str, Any] = {"name": svc.name, "image": image, "imagePullPolicy": "Always"}
    if svc.command is not None:
        container["command"] = list(svc.command)
    if svc.args is not None:
        container["args"] = list(svc.args)
    if svc.env:
        container["env"] = [{"name": name, "value": value} for name, value in svc.env]
    own = [p for p in ports if p.container is None] if ports is not None else svc.ports
    if own:
        container["ports"] = _container_ports(own)
    for kind, probe in sorted(probes(svc).items()):
        container[PROBE_FIELDS[kind]] = _probe(svc, probe)
    container["resources"] = resources(project, svc)
    capabilities: dict[str, Any] = {"drop": ["ALL"]}
    if svc.capabilities:
        capabilities["add"] = list(svc.capabilities)
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user,
        "capabilities": capabilities,
        "seccompProfile": pod_seccomp_profile(project, svc),
    }
    return container


def _extra_container(
    project: Project, svc: Service, extra: Container, volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    """A sidecar or init container: hardened like the service's own, its own seccomp
    profile and writable paths; a sidecar restarts with the pod (a native sidecar)."""
    alone = container_service(svc, extra)
    container = _container(project, alone)
    container["name"] = extra.name
    listens = [p for p in svc.ports if p.container == extra.name]
    if listens:
        container["ports"] = _container_ports(listens)
    if extra.kind == "sidecar":
        container["restartPolicy"] = "Always"
    own_volumes, mounts = _volumes(project, alone, f"{extra.name}-")
    volumes += own_volumes
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _placement(svc: Service, pod: dict[str, Any]) -> None:
    placement = svc.pod
    if placement.node_selector:
        pod["nodeSelector"] = dict(placement.node_selector)
    if placement.tolerations:
        pod["tolerations"] = [dict(t) for t in placement.tolerations]
    if placement.topology_spread:
        pod["topologySpreadConstraints"] = [
            {**dict(c), "labelSelector": {"matchLabels": selector(svc)}}
            for c in placement.topology_spread
        ]
    if placement.priority_class:
        pod["priorityClassName"] = placement.priority_class


def pod_spec(project: Project, svc: Service) -> dict[str, Any]:
    """The pod spec every workload kind shares."""
    user = uid(project, svc)
    container = _container(project, svc, svc.ports)
    volumes, mounts = _volumes(project, svc)
    if mounts:
        container["volumeMounts"] = mounts
    extra = [_extra_container(project, svc, c, volumes) for c in svc.containers]
    security: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user,
        "fsGroup": user,
    }
    if svc.storage:
        # Only chown a volume whose root does not already belong to fsGroup: a large data
        # directory is not walked on every start.
        security["fsGroupChangePolicy"] = "OnRootMismatch"
    security["seccompProfile"] = {"type": "RuntimeDefault"}
    start = unprivileged_port_start(svc)
    if start is not None:
        # A low port without a capability: the pod lowers its own network namespace's
        # privileged range instead (manifests that add NET_BIND_SERVICE keep theirs).
        security["sysctls"] = [{"name": UNPRIVILEGED_PORT_SYSCTL, "value": str(start)}]
    pod: dict[str, Any] = {
        "serviceAccountName": svc.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": security,
        "containers": [container],
    }
    if extra:
        pod["initContainers"] = extra
    if svc.job is not None:
        pod["restartPolicy"] = "Never"
    if volumes:
        pod["volumes"] = volumes
    if svc.replicas > 1 and svc.job is None:
        # Spread replicas over nodes when possible, so one node failure keeps the service up.
        term = {
            "labelSelector": {"matchLabels": selector(svc)},
            "topologyKey": "kubernetes.io/hostname",
        }
        pod["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": term}
                ]
            }
        }
    _placement(svc, pod)
    return pod


def pod_template(project: Project, svc: Service) -> dict[str, Any]:
    """The pod template: labels (the selector last), annotations, the pod spec."""
    meta: dict[str, Any] = {"labels": {**dict(svc.labels), **selector(svc)}}
    annotations = dict(svc.pod.annotations)
    if svc.config:
        # A changed config file changes the template, so the pods roll and read it.
        digest = hashlib.sha256()
        for mount in svc.config:
            for file in mount.files:
                digest.update(f"{mount.name}/{file.name}\0{file.content}\0".encode())
        annotations["cgen.dev/config-sha256"] = digest.hexdigest()
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return {"metadata": meta, "spec": pod_spec(project, svc)}
