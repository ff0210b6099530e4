"""Read what runs in a cluster through the `kubernetes` client: read-only lists, paged.

Only list calls are made (get and watch never, write never). A 410 on a continue token
(the list moved on while paging) restarts that list; a 403 on a namespace cgen found by
listing namespaces leaves it out and says so; on a namespace the user named, it is an
error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.adopt.kube import KObject
from generator.errors import Location, UserError

PAGE = 250
RESTARTS = 3  # relists of one list after expired continue tokens before giving up
TIMEOUT = 30.0
# (API class, method suffix, kind): every list import reads in a namespace.
LISTS = (
    ("AppsV1Api", "deployment", "Deployment"),
    ("AppsV1Api", "stateful_set", "StatefulSet"),
    ("AppsV1Api", "daemon_set", "DaemonSet"),
    ("BatchV1Api", "job", "Job"),
    ("BatchV1Api", "cron_job", "CronJob"),
    ("CoreV1Api", "service", "Service"),
    ("CoreV1Api", "config_map", "ConfigMap"),
    ("NetworkingV1Api", "network_policy", "NetworkPolicy"),
    ("CoreV1Api", "pod", "Pod"),
)


class _Forbidden(Exception):
    """The API server refused a list (403)."""


@dataclass
class ClusterRead:
    """The objects read, digests of the images the pods run, namespaces left out."""

    objects: list[KObject] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    forbidden: list[str] = field(default_factory=list)


def _client(kubeconfig: Path | None, context: str | None) -> Any:
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    shown = str(kubeconfig) if kubeconfig else "the default kubeconfig"
    new_client: Any = config.new_client_from_config  # untyped in the client library
    try:
        client = new_client(config_file=str(kubeconfig) if kubeconfig else None, context=context)
    except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UserError(f"{shown}: not a usable kubeconfig: {exc}") from exc
    except Exception as exc:  # the YAML parser's errors carry no common base we import
        raise UserError(f"{shown}: not a usable kubeconfig: {type(exc).__name__}: {exc}") from exc
    client.configuration.retries = 0  # a refusing server is an answer, not a reason to wait
    return client


def _call(list_page: Callable[..., Any], what: str, server: str, **kwargs: Any) -> Any:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        response = list_page(_preload_content=False, _request_timeout=TIMEOUT, **kwargs)
        return json.loads(response.data)
    except ApiException as exc:
        if exc.status == 403:
            raise _Forbidden(what) from exc
        if exc.status == 410:
            raise
        raise UserError(f"{server}: {what}: {exc.status} {exc.reason}") from exc
    except HTTPError as exc:
        raise UserError(f"{server}: cannot reach the API server ({what}): {exc}") from exc
    except ValueError as exc:
        raise UserError(f"{server}: {what}: the answer is not JSON") from exc


def _list_all(list_page: Callable[..., Any], what: str, server: str, **kwargs: Any) -> list[Any]:
    """Every item of one list, page by page; an expired continue token restarts it."""
    from kubernetes.client.exceptions import ApiException

    for _ in range(RESTARTS + 1):
        items: list[Any] = []
        token: str | None = None
        try:
            while True:
                page = _call(list_page, what, server, limit=PAGE, _continue=token, **kwargs)
                items += page.get("items") or []
                token = (page.get("metadata") or {}).get("continue") or None
                if not token:
                    return items
        except ApiException:  # 410 Gone: the snapshot expired while paging
            continue
    raise UserError(f"{server}: {what}: the list kept changing while it was read; try again")


def _objects(items: list[Any], kind: str, namespace: str, label: str) -> list[KObject]:
    found = []
    for item in items:
        meta = item.get("metadata") or {}
        name = str(meta.get("name", ""))
        body = {"kind": kind, **item}
        where = Location(f"{label} {kind} {namespace}/{name}")
        found.append(KObject(kind, name, namespace, body, where))
    return found


def _pod_images(pods: list[KObject]) -> list[tuple[dict[str, str], str, str, str]]:
    """(labels, namespace, container image, image@digest) of every running container."""
    found = []
    for pod in pods:
        labels = {
            str(k): str(v)
            for k, v in ((pod.body.get("metadata") or {}).get("labels") or {}).items()
        }
        images = {
            c.get("name"): c.get("image")
            for c in (pod.body.get("spec") or {}).get("containers") or []
        }
        for status in (pod.body.get("status") or {}).get("containerStatuses") or []:
            digest = str(status.get("imageID", "")).rpartition("@")[2]
            image = images.get(status.get("name"))
            if digest.startswith("sha256:") and image:
                found.append(
                    (labels, pod.namespace, str(image), f"{str(image).split('@')[0]}@{digest}")
                )
    return found


def read_cluster(
    kubeconfig: Path | None, context: str | None, namespaces: list[str]
) -> ClusterRead:
    """List the workloads, Services, ConfigMaps, policies and pods of the namespaces."""
    from kubernetes import client as k8s

    api_client = _client(kubeconfig, context)
    server = str(api_client.configuration.host)
    label = f"cluster {context}" if context else "cluster"
    result = ClusterRead()
    chosen = list(namespaces)
    if not chosen:
        core = k8s.CoreV1Api(api_client)
        try:
            found = _list_all(core.list_namespace, "list namespaces", server)
        except _Forbidden as exc:
            raise UserError(
                f"{server}: may not list namespaces: name them with --namespace"
            ) from exc
        result.objects += _objects(found, "Namespace", "", label)
        chosen = sorted(str((n.get("metadata") or {}).get("name")) for n in found)
    for namespace in chosen:
        try:
            read: list[KObject] = []
            for api_name, suffix, kind in LISTS:
                api = getattr(k8s, api_name)(api_client)
                method = getattr(api, f"list_namespaced_{suffix}")
                what = f"list {kind}s in namespace {namespace}"
                read += _objects(
                    _list_all(method, what, server, namespace=namespace), kind, namespace, label
                )
        except _Forbidden as exc:
            if namespaces:
                raise UserError(f"{server}: forbidden: {exc} (RBAC)") from exc
            result.forbidden.append(namespace)
            continue
        result.objects += [o for o in read if o.kind != "Pod"]
        pods = [o for o in read if o.kind == "Pod"]
        result.images.update(_workload_images(read, _pod_images(pods)))
    return result


def _workload_images(
    objects: list[KObject], running: list[tuple[dict[str, str], str, str, str]]
) -> dict[str, str]:
    """namespace/name -> image@digest of the workload's first container, from its pods."""
    from generator.adopt.podspec import pod_template
    from generator.adopt.policies import matches

    found: dict[str, str] = {}
    for obj in objects:
        selector = (obj.body.get("spec") or {}).get("selector")
        template, _ = pod_template(obj)
        containers = (template.get("spec") or {}).get("containers") or []
        if not isinstance(selector, dict) or not containers:
            continue
        for labels, namespace, image, pinned in running:
            if (
                namespace == obj.namespace
                and image == containers[0].get("image")
                and matches(selector, labels)
            ):
                found[f"{obj.namespace}/{obj.name}"] = pinned
                break
    return found
