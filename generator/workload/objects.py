"""Deployment, Service and ServiceAccount with a hardened pod and container securityContext."""

from __future__ import annotations

from typing import Any

from generator.layout import metadata, selector
from generator.model import Probe, Service
from generator.project import Project
from generator.seccomp.profile import pod_seccomp_profile

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
    """The checkov checks the Deployment cannot meet, each with the reason (check, reason)."""
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
    """Declared probes; readiness and liveness default to TCP on the first TCP port."""
    declared = dict(svc.probes)
    tcp = [p for p in svc.ports if p.protocol == "TCP"]
    if tcp:
        for kind in ("readiness", "liveness"):
            declared.setdefault(kind, Probe("tcp", tcp[0].name, None, None, (), ""))
    return declared


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
        body = {"tcpSocket": {"port": port.name}}
    body.update(dict(probe.timings))
    return body


def _volumes(project: Project, svc: Service) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for i, path in enumerate(svc.writable_paths):
        name = f"writable-{i}"
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
    return volumes, mounts


def deployment(project: Project, svc: Service) -> dict[str, Any]:
    """The Deployment: non-root numeric uid, read-only root, drop ALL, own seccomp profile."""
    user = uid(project, svc)
    container: dict[str, Any] = {"name": svc.name, "image": svc.image, "imagePullPolicy": "Always"}
    if svc.ports:
        container["ports"] = [
            {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in svc.ports
        ]
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
    volumes, mounts = _volumes(project, svc)
    if mounts:
        container["volumeMounts"] = mounts
    pod: dict[str, Any] = {
        "serviceAccountName": svc.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": user,
            "runAsGroup": user,
            "fsGroup": user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
    }
    if volumes:
        pod["volumes"] = volumes
    if svc.replicas > 1:
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
    meta = metadata(svc)
    skips = checkov_skips(svc)
    if skips:
        meta["annotations"] = {
            f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(skips, 1)
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": svc.replicas,
            "selector": {"matchLabels": selector(svc)},
            "template": {
                "metadata": {"labels": {**dict(svc.labels), **selector(svc)}},
                "spec": pod,
            },
        },
    }


def disruption_budget(svc: Service) -> dict[str, Any]:
    """A PodDisruptionBudget: voluntary evictions take at most one replica at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(svc),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(svc)}},
    }


def service(svc: Service) -> dict[str, Any]:
    """The ClusterIP Service: servicePort -> the named container port."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(svc),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(svc),
            "ports": [
                {
                    "name": p.name,
                    "port": p.service_port,
                    "targetPort": p.name,
                    "protocol": p.protocol,
                }
                for p in svc.ports
            ],
        },
    }


def service_account(svc: Service) -> dict[str, Any]:
    """A dedicated ServiceAccount whose token is never mounted."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(svc),
        "automountServiceAccountToken": False,
    }
