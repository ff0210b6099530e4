"""Turn parsed Terraform (hashicorp/kubernetes provider) resources back into Kubernetes objects.

Written from the provider's documented schema, independently of cgen's builder, so that
comparing the result with cgen's YAML objects proves the two outputs say the same thing:

- resource type -> apiVersion/kind; `kubernetes_manifest` -> its `manifest` as is;
- a nested block (parsed as a list of objects) -> an object, or a list for the fields the
  Kubernetes API holds as lists (containers, ports, volumes, rules, peers, ...);
- an attribute -> its value; names snake_case -> camelCase; map attributes (labels,
  selectors, resource quantities) keep their keys;
- numbers the provider types as strings (replicas, uids, ports, a toleration's seconds, a
  Job's TTL, a PodDisruptionBudget's bound) -> numbers again, file modes ("0440") -> octal
  numbers;
- the few names that are not the snake_case of the Kubernetes name (a Service's
  `cluster_ip` is `clusterIP`, a CronJob's `timezone` is `timeZone`), and the resource
  arguments that are the provider's own (a Job's `wait_for_completion`), which are no
  field of the object.

Strings come from two parsers with the Terraform JSON convention: `$${` and `%%{` stand
for literal `${` and `%{`; a bare `${`/`%{` is an expression, never a literal, and raises
``Interpolation``. python-hcl2 8 returns the text of an escaped `$${...}` span raw
(escape sequences undecoded), so that span is decoded here.
"""

from __future__ import annotations

import re
from typing import Any

TYPES = {
    "kubernetes_namespace_v1": ("v1", "Namespace"),
    "kubernetes_service_account_v1": ("v1", "ServiceAccount"),
    "kubernetes_service_v1": ("v1", "Service"),
    "kubernetes_deployment_v1": ("apps/v1", "Deployment"),
    "kubernetes_network_policy_v1": ("networking.k8s.io/v1", "NetworkPolicy"),
    "kubernetes_config_map_v1": ("v1", "ConfigMap"),
    "kubernetes_stateful_set_v1": ("apps/v1", "StatefulSet"),
    "kubernetes_job_v1": ("batch/v1", "Job"),
    "kubernetes_cron_job_v1": ("batch/v1", "CronJob"),
    "kubernetes_pod_disruption_budget_v1": ("policy/v1", "PodDisruptionBudget"),
    "kubernetes_horizontal_pod_autoscaler_v2": ("autoscaling/v2", "HorizontalPodAutoscaler"),
}
# Blocks whose Kubernetes field is a list (the provider repeats the block per item), by
# (enclosing block, block): the provider's `port` is a container's or a Service's port,
# `ports` a NetworkPolicy rule's.
LIST_BLOCKS = {
    ("spec", "container"): "containers",
    ("spec", "init_container"): "initContainers",
    ("spec", "toleration"): "tolerations",
    ("spec", "topology_spread_constraint"): "topologySpreadConstraints",
    ("spec", "volume_claim_template"): "volumeClaimTemplates",
    ("spec", "metric"): "metrics",
    (
        "pod_anti_affinity",
        "preferred_during_scheduling_ignored_during_execution",
    ): "preferredDuringSchedulingIgnoredDuringExecution",
    ("spec", "volume"): "volumes",
    ("security_context", "sysctl"): "sysctls",
    ("spec", "port"): "ports",
    ("spec", "ingress"): "ingress",
    ("spec", "egress"): "egress",
    ("container", "volume_mount"): "volumeMounts",
    ("container", "port"): "ports",
    ("container", "env"): "env",
    ("init_container", "volume_mount"): "volumeMounts",
    ("init_container", "port"): "ports",
    ("init_container", "env"): "env",
    ("ingress", "from"): "from",
    ("ingress", "ports"): "ports",
    ("egress", "to"): "to",
    ("egress", "ports"): "ports",
}
# Map attributes (`labels = { ... }`): never blocks. `selector` is a block in a
# Deployment and a map in a Service.
MAPS = {
    "labels",
    "annotations",
    "match_labels",
    "requests",
    "limits",
    "selector",
    "manifest",
    "node_selector",
    "data",
}
# Attributes the provider types as strings although Kubernetes holds numbers.
NUMERIC_STRINGS = {
    "replicas",
    "run_as_user",
    "run_as_group",
    "fs_group",
    "toleration_seconds",
    "ttl_seconds_after_finished",
}
INT_OR_STRING = {"port", "target_port", "max_unavailable"}
OCTAL = {"default_mode", "mode"}
META_ARGUMENTS = {"depends_on", "count", "for_each", "provider", "lifecycle", "timeouts"}
# Arguments of a resource (not of a nested block) that configure the provider's apply.
PROVIDER_ARGUMENTS = {"wait_for_completion", "wait_for_rollout", "wait_for_load_balancer"}
# Provider names whose Kubernetes name is not their camelCase.
RENAMES = {"cluster_ip": "clusterIP", "timezone": "timeZone"}

_HCL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_PY_HCL2_SPAN = re.compile(r"(\$\$|%%)\{[^}]*\}")


class Interpolation(ValueError):
    """A string that Terraform would evaluate as a template, not read as a literal."""


def _unescape(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            code = raw[i + 1]
            if code == "u":
                out.append(chr(int(raw[i + 2 : i + 6], 16)))
                i += 6
                continue
            if code == "U":
                out.append(chr(int(raw[i + 2 : i + 10], 16)))
                i += 10
                continue
            out.append(_HCL_ESCAPES[code])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def literal(text: str, parser: str) -> str:
    """The literal value of a parsed string; Interpolation if it holds a template sequence."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if parser == "python-hcl2":
            span = _PY_HCL2_SPAN.match(text, i)
            if span:
                out.append(span[0][0] + "{" + _unescape(span[0][3:]))
                i = span.end()
                continue
        elif text.startswith(("$${", "%%{"), i):
            out.append(text[i] + "{")
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            raise Interpolation(f"template sequence in {text!r}")
        out.append(text[i])
        i += 1
    return "".join(out)


def _strings(value: Any, parser: str) -> Any:
    """Every string (keys too) of a parsed value, as its literal."""
    if isinstance(value, str):
        return literal(value, parser)
    if isinstance(value, list):
        return [_strings(v, parser) for v in value]
    if isinstance(value, dict):
        return {literal(k, parser): _strings(v, parser) for k, v in value.items()}
    return value


def resources(parsed: dict[str, Any], parser: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource in one parser's output, strings as literals.

    python-hcl2 gives ``resource: [{type: {name: body}}]``; hcl2json (HashiCorp's parser)
    gives ``resource: {type: {name: [body]}}``.
    """
    found: list[tuple[str, str, dict[str, Any]]] = []
    groups = parsed.get("resource", [])
    if isinstance(groups, dict):
        groups = [groups]
    for group in groups:
        for rtype, by_name in group.items():
            for name, bodies in by_name.items():
                for body in bodies if isinstance(bodies, list) else [bodies]:
                    found.append((rtype, name, _strings(body, parser)))
    return found


def _camel(name: str) -> str:
    if name in RENAMES:
        return RENAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _number(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in NUMERIC_STRINGS:
        return int(value)
    if name in OCTAL:
        return int(value, 8)
    if name in INT_OR_STRING and value.isdigit():
        return int(value)
    return value


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def body_to_k8s(body: dict[str, Any], block: str = "") -> dict[str, Any]:
    """A resource (or nested block) body as the Kubernetes object fields it stands for."""
    result: dict[str, Any] = {}
    for name, value in body.items():
        if name in META_ARGUMENTS or name.startswith("__"):  # python-hcl2's __comments__
            continue
        if not block and name in PROVIDER_ARGUMENTS:
            continue
        if _is_block(value):
            if name in MAPS - {"selector"}:
                raise ValueError(f"{block}.{name} is a map attribute, not a block")
            items = [body_to_k8s(v, name) for v in value]
            if (block, name) in LIST_BLOCKS:
                result[LIST_BLOCKS[block, name]] = items
            else:
                if len(items) != 1:
                    raise ValueError(f"block {block}.{name} given {len(items)} times")
                result[_camel(name)] = items[0]
        elif isinstance(value, dict):  # a map attribute: keys are data, not field names
            if name not in MAPS:
                raise ValueError(f"{block}.{name} is a block, not a map attribute")
            result[_camel(name)] = value
        else:
            result[_camel(name)] = _number(name, value)
    return result


def to_k8s(rtype: str, body: dict[str, Any]) -> dict[str, Any]:
    """The Kubernetes object one resource describes."""
    if rtype == "kubernetes_manifest":
        manifest = body["manifest"]
        assert isinstance(manifest, dict), manifest
        return manifest
    api_version, kind = TYPES[rtype]
    return {"apiVersion": api_version, "kind": kind, **body_to_k8s(body)}
