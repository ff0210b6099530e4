"""The shape of the fields import reads: a mapping where Kubernetes has one, a list where
it has a list. Anything else is a located error before a single field is read."""

from __future__ import annotations

from typing import Any

from generator.adopt.kube import WORKLOAD_KINDS, KObject
from generator.errors import Problem

# A dict is a mapping with these keys checked (others are free); [x] a list of x; dict a
# mapping of anything; list a list of anything; str/int a scalar of that kind.
Shape = Any
INT_OR_NAME = (int, str)
_SELECTOR: Shape = {"matchLabels": dict, "matchExpressions": [dict]}
_PROBE: Shape = {
    "httpGet": {"port": INT_OR_NAME, "path": str},
    "grpc": {"port": int},
    "tcpSocket": {"port": INT_OR_NAME},
}
_CONTAINER: Shape = {
    "name": str,
    "image": str,
    "command": list,
    "args": list,
    "ports": [{"containerPort": int}],
    "env": [{"name": str, "valueFrom": {"configMapKeyRef": dict, "secretKeyRef": dict}}],
    "envFrom": [{"configMapRef": dict, "secretRef": dict, "prefix": str}],
    "volumeMounts": [{"name": str, "mountPath": str}],
    "securityContext": {"capabilities": {"add": list, "drop": list}, "seccompProfile": dict},
    "resources": {"requests": dict, "limits": dict},
    "readinessProbe": _PROBE,
    "livenessProbe": _PROBE,
    "startupProbe": _PROBE,
}
_POD: Shape = {
    "metadata": {"labels": dict},
    "spec": {
        "containers": [_CONTAINER],
        "initContainers": [dict],
        "volumes": [{"name": str, "secret": dict, "configMap": dict, "emptyDir": dict}],
        "securityContext": {"seccompProfile": dict},
    },
}
_WORKLOAD: Shape = {
    "spec": {
        "selector": _SELECTOR,
        "template": _POD,
        "volumeClaimTemplates": [
            {"metadata": {"name": str}, "spec": {"resources": {"requests": dict}}}
        ],
        "jobTemplate": {"spec": {"template": _POD}},
    }
}
_PEERS: Shape = [{"podSelector": _SELECTOR, "namespaceSelector": _SELECTOR, "ipBlock": dict}]
_RULE: Shape = {
    "from": _PEERS,
    "to": _PEERS,
    "ports": [{"port": INT_OR_NAME, "endPort": int, "protocol": str}],
}
SHAPES: dict[str, Shape] = {
    **dict.fromkeys(WORKLOAD_KINDS, _WORKLOAD),
    "Service": {
        "spec": {
            "selector": dict,
            "ports": [{"port": int, "targetPort": INT_OR_NAME, "protocol": str}],
        }
    },
    "NetworkPolicy": {
        "spec": {
            "podSelector": _SELECTOR,
            "policyTypes": list,
            "ingress": [_RULE],
            "egress": [_RULE],
        }
    },
    "ConfigMap": {"data": dict},
    "Namespace": {"metadata": {"labels": dict}},
}
_NAMES: dict[Any, str] = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "a number",
    INT_OR_NAME: "a number or a name",
}


def _check(value: Any, shape: Shape, keypath: str, obj: KObject, problems: list[Problem]) -> None:
    if value is None:
        return  # absent or null: the reader treats it as empty
    kind = dict if isinstance(shape, dict) else list if isinstance(shape, list) else shape
    if not isinstance(value, kind) or (kind is not str and isinstance(value, bool)):
        problems.append(Problem(obj.at(keypath), keypath, f"must be {_NAMES[kind]} ({obj.ref})"))
        return
    if isinstance(shape, dict) and isinstance(value, dict):
        for key, inner in shape.items():
            _check(value.get(key), inner, f"{keypath}.{key}" if keypath else key, obj, problems)
    elif isinstance(shape, list) and isinstance(value, list):
        for i, item in enumerate(value):
            at = f"{keypath}[{i}]"
            if item is None:
                problems.append(Problem(obj.at(at), at, f"must not be empty ({obj.ref})"))
            else:
                _check(item, shape[0], at, obj, problems)


def shape_problems(objects: list[KObject]) -> list[Problem]:
    """Every field import reads that has the wrong shape, located."""
    problems: list[Problem] = []
    for obj in objects:
        shape = SHAPES.get(obj.kind)
        if shape is not None:
            _check(obj.body, {"metadata": dict, **shape}, "", obj, problems)
    return problems
