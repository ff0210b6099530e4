"""The workload objects around the hardened pod (workload.pod): Deployment, StatefulSet,
Job or CronJob; Services; ServiceAccount; PodDisruptionBudget; ConfigMaps; autoscaler."""

from __future__ import annotations

from typing import Any

from generator.layout import metadata, selector
from generator.model import Service
from generator.project import Project
from generator.workload.pod import checkov_skips, config_map_name, pod_template

HEADLESS_SUFFIX = "-headless"


def _metadata_with_skips(svc: Service) -> dict[str, Any]:
    meta = metadata(svc)
    skips = checkov_skips(svc)
    if skips:
        meta["annotations"] = {
            f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(skips, 1)
        }
    return meta


def _replicas(svc: Service) -> dict[str, Any]:
    # An autoscaler owns the replica count; writing it here would fight it on every apply.
    return {} if svc.autoscaling is not None else {"replicas": svc.replicas}


def deployment(project: Project, svc: Service) -> dict[str, Any]:
    """The Deployment of a stateless, long-running service."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata_with_skips(svc),
        "spec": {
            **_replicas(svc),
            "selector": {"matchLabels": selector(svc)},
            "template": pod_template(project, svc),
        },
    }


def stateful_set(project: Project, svc: Service) -> dict[str, Any]:
    """The StatefulSet of a service with persistent storage: one claim per volume per pod."""
    claims = []
    for volume in svc.storage:
        spec: dict[str, Any] = {
            "accessModes": [volume.access_mode],
            "resources": {"requests": {"storage": volume.size}},
        }
        if volume.storage_class is not None:
            spec["storageClassName"] = volume.storage_class
        claims.append({"metadata": {"name": volume.name}, "spec": spec})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata_with_skips(svc),
        "spec": {
            **_replicas(svc),
            "serviceName": f"{svc.name}{HEADLESS_SUFFIX}",
            "selector": {"matchLabels": selector(svc)},
            "template": pod_template(project, svc),
            "volumeClaimTemplates": claims,
        },
    }


def _job_spec(project: Project, svc: Service) -> dict[str, Any]:
    job = svc.job
    assert job is not None  # only called for jobs
    spec: dict[str, Any] = {"backoffLimit": job.backoff_limit}
    if job.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = job.active_deadline_seconds
    if job.ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = job.ttl_seconds_after_finished
    spec["template"] = pod_template(project, svc)
    return spec


def job(project: Project, svc: Service) -> dict[str, Any]:
    """A Job: the pod runs to completion, retried backoffLimit times."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata_with_skips(svc),
        "spec": _job_spec(project, svc),
    }


def cron_job(project: Project, svc: Service) -> dict[str, Any]:
    """A CronJob: a Job on a schedule, never two at once unless the manifest allows it."""
    settings = svc.job
    assert settings is not None and settings.schedule is not None
    spec: dict[str, Any] = {"schedule": settings.schedule}
    if settings.time_zone is not None:
        spec["timeZone"] = settings.time_zone
    spec["concurrencyPolicy"] = settings.concurrency_policy
    if settings.starting_deadline_seconds is not None:
        spec["startingDeadlineSeconds"] = settings.starting_deadline_seconds
    if settings.successful_history is not None:
        spec["successfulJobsHistoryLimit"] = settings.successful_history
    if settings.failed_history is not None:
        spec["failedJobsHistoryLimit"] = settings.failed_history
    spec["jobTemplate"] = {
        "metadata": {"labels": selector(svc)},
        "spec": _job_spec(project, svc),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata_with_skips(svc),
        "spec": spec,
    }


def workload(project: Project, svc: Service) -> tuple[str, dict[str, Any]]:
    """The service's workload object and its file name."""
    if svc.job is not None:
        if svc.job.schedule is not None:
            return "cronjob.yaml", cron_job(project, svc)
        return "job.yaml", job(project, svc)
    if svc.stateful:
        return "statefulset.yaml", stateful_set(project, svc)
    return "deployment.yaml", deployment(project, svc)


def disruption_budget(svc: Service) -> dict[str, Any]:
    """A PodDisruptionBudget: voluntary evictions take at most one replica at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(svc),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(svc)}},
    }


def _service_ports(svc: Service) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "port": p.service_port, "targetPort": p.name, "protocol": p.protocol}
        for p in svc.ports
    ]


def service(svc: Service) -> dict[str, Any]:
    """The Service: servicePort -> the named container port; ClusterIP unless exposed."""
    spec: dict[str, Any] = {"type": svc.exposure.type if svc.exposure else "ClusterIP"}
    if svc.exposure is not None and svc.exposure.source_ranges:
        spec["loadBalancerSourceRanges"] = list(svc.exposure.source_ranges)
    spec["selector"] = selector(svc)
    spec["ports"] = _service_ports(svc)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(svc), "spec": spec}


def headless_service(svc: Service) -> dict[str, Any]:
    """The StatefulSet's governing Service: a stable DNS name per pod, ready or not."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(svc, f"{svc.name}{HEADLESS_SUFFIX}"),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector(svc),
            "ports": _service_ports(svc),
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


def config_maps(svc: Service) -> dict[str, dict[str, Any]]:
    """One ConfigMap per config mount, by file name."""
    return {
        f"configmap-{mount.name}.yaml": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(svc, config_map_name(svc, mount.name)),
            "data": {file.name: file.content for file in mount.files},
        }
        for mount in svc.config
    }


def autoscaler(svc: Service) -> dict[str, Any]:
    """The HorizontalPodAutoscaler (autoscaling/v2) on CPU and/or memory utilization."""
    scaling = svc.autoscaling
    assert scaling is not None  # only called when the manifest asks for it
    metrics = [
        {
            "type": "Resource",
            "resource": {
                "name": name,
                "target": {"type": "Utilization", "averageUtilization": target},
            },
        }
        for name, target in (("cpu", scaling.cpu), ("memory", scaling.memory))
        if target is not None
    ]
    kind = "StatefulSet" if svc.stateful else "Deployment"
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(svc),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": svc.name},
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": metrics,
        },
    }
