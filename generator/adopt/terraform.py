"""Kubernetes objects from Terraform files that declare hashicorp/kubernetes resources.

Read through python-hcl2, from the provider's documented schema: a resource type names the
kind; a nested block is an object, or a list where the Kubernetes API holds a list
(containers, ports, volumes, policy rules and peers...); attribute names go from snake_case
to camelCase; numbers the provider types as strings become numbers again. Only literal
values are read: an expression (`${...}`, a reference) is a located error, since import
cannot evaluate it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generator.adopt.kube import KObject
from generator.errors import Location, ManifestError, Problem, UserError
from generator.loader import display_path

TYPES = {
    "kubernetes_namespace_v1": ("v1", "Namespace"),
    "kubernetes_service_account_v1": ("v1", "ServiceAccount"),
    "kubernetes_service_v1": ("v1", "Service"),
    "kubernetes_deployment_v1": ("apps/v1", "Deployment"),
    "kubernetes_daemon_set_v1": ("apps/v1", "DaemonSet"),
    "kubernetes_network_policy_v1": ("networking.k8s.io/v1", "NetworkPolicy"),
    "kubernetes_config_map_v1": ("v1", "ConfigMap"),
    "kubernetes_secret_v1": ("v1", "Secret"),
    "kubernetes_stateful_set_v1": ("apps/v1", "StatefulSet"),
    "kubernetes_job_v1": ("batch/v1", "Job"),
    "kubernetes_cron_job_v1": ("batch/v1", "CronJob"),
    "kubernetes_pod_disruption_budget_v1": ("policy/v1", "PodDisruptionBudget"),
    "kubernetes_horizontal_pod_autoscaler_v2": ("autoscaling/v2", "HorizontalPodAutoscaler"),
}
_LISTS = {
    ("spec", "container"): "containers", ("spec", "init_container"): "initContainers",
    ("spec", "toleration"): "tolerations", ("spec", "volume"): "volumes",
    ("spec", "topology_spread_constraint"): "topologySpreadConstraints",
    ("spec", "volume_claim_template"): "volumeClaimTemplates", ("spec", "metric"): "metrics",
    ("spec", "port"): "ports", ("spec", "ingress"): "ingress", ("spec", "egress"): "egress",
    ("container", "volume_mount"): "volumeMounts", ("container", "port"): "ports",
    ("container", "env"): "env", ("init_container", "volume_mount"): "volumeMounts",
    ("init_container", "port"): "ports", ("init_container", "env"): "env",
    ("ingress", "from"): "from", ("ingress", "ports"): "ports", ("egress", "to"): "to",
    ("egress", "ports"): "ports", ("secret", "items"): "items", ("config_map", "items"): "items",
}  # fmt: skip
_MAPS = {"labels", "annotations", "match_labels", "requests", "limits", "selector",
         "manifest", "node_selector", "data", "binary_data"}  # fmt: skip
_NUMBERS = {"replicas", "run_as_user", "run_as_group", "fs_group", "toleration_seconds",
            "ttl_seconds_after_finished"}  # fmt: skip
_INT_OR_STRING = {"port", "target_port", "max_unavailable", "min_available"}
_OCTAL = {"default_mode", "mode"}
_SKIP = {"depends_on", "count", "for_each", "provider", "lifecycle", "timeouts",
         "wait_for_completion", "wait_for_rollout", "wait_for_load_balancer"}  # fmt: skip
_RENAMES = {"cluster_ip": "clusterIP", "timezone": "timeZone"}


class _Expression(ValueError):
    """A value Terraform would evaluate: import reads literals only."""


def _literal(text: str) -> str:
    # python-hcl2 keeps the `$${` / `%%{` escapes of literal `${` / `%{` as written.
    out, i = [], 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i] + "{")
            i += 3
        elif text.startswith(("${", "%{"), i):
            raise _Expression(text)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _camel(name: str) -> str:
    if name in _RENAMES:
        return _RENAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _scalar(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _literal(value)
    if name in _NUMBERS and value.isdigit():
        return int(value)
    if name in _OCTAL and value.isdigit():
        return int(value, 8)
    if name in _INT_OR_STRING and value.isdigit():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _literal(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {
            _literal(str(k)): _plain(v) for k, v in value.items() if not str(k).startswith("__")
        }
    return value


def _body(body: dict[str, Any], block: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in body.items():
        if name in _SKIP or name.startswith("__"):  # python-hcl2's __comments__ and friends
            continue
        is_block = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        if is_block and name not in _MAPS - {"selector"}:
            items = [_body(v, name) for v in value]
            if (block, name) in _LISTS:
                result[_LISTS[block, name]] = items
            else:
                result[_camel(name)] = items[0]
        elif isinstance(value, dict) or name in _MAPS:
            result[_camel(name)] = _plain(value[0] if isinstance(value, list) else value)
        elif isinstance(value, list):
            result[_camel(name)] = [_scalar(name, v) for v in value]
        else:
            result[_camel(name)] = _scalar(name, value)
    return result


def _resources(parsed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for group in parsed.get("resource", []) or []:
        for rtype, by_name in group.items():
            for name, body in by_name.items():
                found.append((str(rtype), str(name), body))
    return found


def _parse(path: Path) -> dict[str, Any]:
    import hcl2

    display = display_path(path)
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    try:
        with open(path, encoding="utf-8") as handle:
            parsed: dict[str, Any] = hcl2.load(handle, serialization_options=options)
    except UnicodeDecodeError as exc:
        raise ManifestError(
            problems=[Problem(Location(display), "", f"not UTF-8 ({exc.reason})")]
        ) from exc
    except Exception as exc:  # lark's parse errors: report the place they name
        line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = Location(display, int(line), int(column))
        raise ManifestError(
            problems=[Problem(where, "", f"not valid Terraform: {reason}")]
        ) from exc
    return parsed


def _tf_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"{display_path(path)}: no such file or folder")
        if path.is_file():
            files.append(path)
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [Path(root) / n for n in sorted(names) if n.endswith(".tf")]
    return files


def read_terraform(paths: list[Path], namespace: str) -> tuple[list[KObject], list[str]]:
    """Objects of the kubernetes_* resources in .tf files; other resources by address."""
    objects: list[KObject] = []
    others: list[str] = []
    problems: list[Problem] = []
    for file in _tf_files(paths):
        for rtype, name, body in _resources(_parse(file)):
            where = Location(f"{display_path(file)} {rtype}.{name}")
            if rtype == "kubernetes_manifest":
                data = _plain(body.get("manifest"))
            elif rtype in TYPES:
                try:
                    data = {"apiVersion": TYPES[rtype][0], "kind": TYPES[rtype][1], **_body(body)}
                except _Expression as exc:
                    problems.append(
                        Problem(
                            where, "", f"an expression ({exc}): import reads literal values only"
                        )
                    )
                    continue
            else:
                others.append(f"{rtype}.{name} ({display_path(file)})")
                continue
            meta = data.get("metadata") if isinstance(data, dict) else None
            if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
                problems.append(Problem(where, "metadata.name", "missing"))
                continue
            ns = meta.get("namespace") or namespace
            objects.append(KObject(str(data["kind"]), meta["name"], str(ns), data, where))
    if problems:
        raise ManifestError(problems=problems)
    return objects, others
