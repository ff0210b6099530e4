"""Where each Kubernetes field goes in the hashicorp/kubernetes provider v3 resources.

One table per resource type, written from the provider's own schema definitions
(terraform-provider-kubernetes v3.0.0, `kubernetes/schema_*.go` and
`kubernetes/resource_kubernetes_*.go`; v3.0.0 is the oldest release `~> 3.0` admits). A
table lists the fields cgen's builders write (and native sidecars' init containers);
convert.py refuses any other field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class F:
    """Where one Kubernetes field goes in the provider's schema.

    how: value (attribute as is), string (a number the provider types as a string),
    octal (file mode bits as an octal string), map (map-of-string attribute),
    block (one nested block), blocks (a list: one block per item).
    """

    name: str
    how: str = "value"
    body: Mapping[str, F] | None = None


Schema = Mapping[str, "F"]


def _block(name: str, body: Schema) -> F:
    return F(name, "block", body)


def _blocks(name: str, body: Schema) -> F:
    return F(name, "blocks", body)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def _values(*names: str) -> dict[str, F]:
    """Fields whose provider attribute is the snake_case name and takes the value as is."""
    return {name: F(_snake(name)) for name in names}


METADATA: Schema = {
    "name": F("name"),
    "namespace": F("namespace"),
    "labels": F("labels", "map"),
    "annotations": F("annotations", "map"),
}
SELECTOR: Schema = {
    "matchLabels": F("match_labels", "map"),
    "matchExpressions": _blocks(
        "match_expressions", {"key": F("key"), "operator": F("operator"), "values": F("values")}
    ),
}
SECCOMP: Schema = {"type": F("type"), "localhostProfile": F("localhost_profile")}
PROBE: Schema = {
    "httpGet": _block(
        "http_get",
        {"path": F("path"), "port": F("port", "string"), "host": F("host"), "scheme": F("scheme")},
    ),
    "tcpSocket": _block("tcp_socket", {"port": F("port", "string")}),
    "grpc": _block("grpc", {"port": F("port"), "service": F("service")}),
    "exec": _block("exec", {"command": F("command")}),
    **_values(
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    ),
}
CONTAINER_SECURITY: Schema = {
    **_values("allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem", "runAsNonRoot"),
    "runAsUser": F("run_as_user", "string"),
    "runAsGroup": F("run_as_group", "string"),
    "capabilities": _block("capabilities", {"add": F("add"), "drop": F("drop")}),
    "seccompProfile": _block("seccomp_profile", SECCOMP),
}
CONTAINER: Schema = {
    **_values("name", "image", "imagePullPolicy", "command", "args", "workingDir"),
    # schema_container.go: an init container's restartPolicy Always makes it a native sidecar
    "restartPolicy": F("restart_policy"),
    "env": _blocks("env", {"name": F("name"), "value": F("value")}),
    "ports": _blocks("port", _values("name", "containerPort", "protocol")),
    "livenessProbe": _block("liveness_probe", PROBE),
    "readinessProbe": _block("readiness_probe", PROBE),
    "startupProbe": _block("startup_probe", PROBE),
    "resources": _block(
        "resources", {"requests": F("requests", "map"), "limits": F("limits", "map")}
    ),
    "securityContext": _block("security_context", CONTAINER_SECURITY),
    "volumeMounts": _blocks("volume_mount", _values("name", "mountPath", "readOnly", "subPath")),
}
POD_SECURITY: Schema = {
    "runAsNonRoot": F("run_as_non_root"),
    "runAsUser": F("run_as_user", "string"),
    "runAsGroup": F("run_as_group", "string"),
    "fsGroup": F("fs_group", "string"),
    "fsGroupChangePolicy": F("fs_group_change_policy"),
    "seccompProfile": _block("seccomp_profile", SECCOMP),
    "sysctls": _blocks("sysctl", {"name": F("name"), "value": F("value")}),
}
VOLUME: Schema = {
    "name": F("name"),
    "emptyDir": _block("empty_dir", {"medium": F("medium"), "sizeLimit": F("size_limit")}),
    "secret": _block(
        "secret",
        {
            "secretName": F("secret_name"),
            "defaultMode": F("default_mode", "octal"),
            "optional": F("optional"),
        },
    ),
    "configMap": _block(
        "config_map",
        {"name": F("name"), "defaultMode": F("default_mode", "octal"), "optional": F("optional")},
    ),
}
# schema_affinity_spec.go: podAffinityFields, weightedPodAffinityTermFields
POD_AFFINITY_TERM: Schema = {
    "labelSelector": _block("label_selector", SELECTOR),
    "topologyKey": F("topology_key"),
}
POD_AFFINITY: Schema = {
    "preferredDuringSchedulingIgnoredDuringExecution": _blocks(
        "preferred_during_scheduling_ignored_during_execution",
        {"weight": F("weight"), "podAffinityTerm": _block("pod_affinity_term", POD_AFFINITY_TERM)},
    ),
}
AFFINITY: Schema = {"podAntiAffinity": _block("pod_anti_affinity", POD_AFFINITY)}
TOLERATION: Schema = {
    **_values("key", "operator", "value", "effect"),
    "tolerationSeconds": F("toleration_seconds", "string"),
}
TOPOLOGY_SPREAD: Schema = {
    **_values("maxSkew", "minDomains", "topologyKey", "whenUnsatisfiable"),
    "labelSelector": _block("label_selector", SELECTOR),
}
POD: Schema = {
    **_values(
        "serviceAccountName",
        "automountServiceAccountToken",
        "enableServiceLinks",
        "restartPolicy",
        "priorityClassName",
    ),
    "securityContext": _block("security_context", POD_SECURITY),
    "initContainers": _blocks("init_container", CONTAINER),
    "containers": _blocks("container", CONTAINER),
    "volumes": _blocks("volume", VOLUME),
    "affinity": _block("affinity", AFFINITY),
    "nodeSelector": F("node_selector", "map"),
    "tolerations": _blocks("toleration", TOLERATION),
    "topologySpreadConstraints": _blocks("topology_spread_constraint", TOPOLOGY_SPREAD),
}
POD_TEMPLATE: Schema = {"metadata": _block("metadata", METADATA), "spec": _block("spec", POD)}


def _object(spec: Schema) -> Schema:
    return {"metadata": _block("metadata", METADATA), "spec": _block("spec", spec)}


DEPLOYMENT = _object(
    {
        "replicas": F("replicas", "string"),
        "selector": _block("selector", SELECTOR),
        "template": _block("template", POD_TEMPLATE),
    }
)
# schema_persistent_volume_claim.go
CLAIM_TEMPLATE: Schema = {
    "metadata": _block("metadata", METADATA),
    "spec": _block(
        "spec",
        {
            "accessModes": F("access_modes"),
            "resources": _block(
                "resources", {"requests": F("requests", "map"), "limits": F("limits", "map")}
            ),
            "storageClassName": F("storage_class_name"),
        },
    ),
}
# schema_stateful_set_spec.go
STATEFUL_SET = _object(
    {
        "replicas": F("replicas", "string"),
        "serviceName": F("service_name"),
        "selector": _block("selector", SELECTOR),
        "template": _block("template", POD_TEMPLATE),
        "volumeClaimTemplates": _blocks("volume_claim_template", CLAIM_TEMPLATE),
    }
)
# schema_job_spec.go: ttl_seconds_after_finished is a string there
JOB_SPEC: Schema = {
    **_values("backoffLimit", "activeDeadlineSeconds"),
    "ttlSecondsAfterFinished": F("ttl_seconds_after_finished", "string"),
    "template": _block("template", POD_TEMPLATE),
}
JOB = _object(JOB_SPEC)
# schema_cron_job_spec_v1.go: the time zone is `timezone`
CRON_JOB = _object(
    {
        **_values(
            "schedule",
            "concurrencyPolicy",
            "startingDeadlineSeconds",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        ),
        "timeZone": F("timezone"),
        "jobTemplate": _block("job_template", _object(JOB_SPEC)),
    }
)
SERVICE = _object(
    {
        "type": F("type"),
        "clusterIP": F("cluster_ip"),
        "publishNotReadyAddresses": F("publish_not_ready_addresses"),
        "loadBalancerSourceRanges": F("load_balancer_source_ranges"),
        "selector": F("selector", "map"),
        "ports": _blocks(
            "port",
            {
                "name": F("name"),
                "port": F("port"),
                "targetPort": F("target_port", "string"),
                "protocol": F("protocol"),
            },
        ),
    }
)
PEER: Schema = {
    "namespaceSelector": _block("namespace_selector", SELECTOR),
    "podSelector": _block("pod_selector", SELECTOR),
    "ipBlock": _block("ip_block", {"cidr": F("cidr"), "except": F("except")}),
}
POLICY_PORT: Schema = {
    "protocol": F("protocol"),
    "port": F("port", "string"),
    "endPort": F("end_port"),
}
NETWORK_POLICY = _object(
    {
        "podSelector": _block("pod_selector", SELECTOR),
        "policyTypes": F("policy_types"),
        "ingress": _blocks(
            "ingress", {"from": _blocks("from", PEER), "ports": _blocks("ports", POLICY_PORT)}
        ),
        "egress": _blocks(
            "egress", {"to": _blocks("to", PEER), "ports": _blocks("ports", POLICY_PORT)}
        ),
    }
)
# resource_kubernetes_pod_disruption_budget_v1.go: both bounds are int-or-percent strings
POD_DISRUPTION_BUDGET = _object(
    {
        "maxUnavailable": F("max_unavailable", "string"),
        "selector": _block("selector", SELECTOR),
    }
)
# schema_horizontal_pod_autoscaler.go: horizontalPodAutoscalerSchemaV2, metricSpecFields
METRIC_TARGET: Schema = _values("type", "averageUtilization")
HORIZONTAL_POD_AUTOSCALER = _object(
    {
        "scaleTargetRef": _block("scale_target_ref", _values("apiVersion", "kind", "name")),
        "minReplicas": F("min_replicas"),
        "maxReplicas": F("max_replicas"),
        "metrics": _blocks(
            "metric",
            {
                "type": F("type"),
                "resource": _block(
                    "resource", {"name": F("name"), "target": _block("target", METRIC_TARGET)}
                ),
            },
        ),
    }
)
CONFIG_MAP: Schema = {
    "metadata": _block("metadata", METADATA),
    "data": F("data", "map"),
}
SERVICE_ACCOUNT: Schema = {
    "metadata": _block("metadata", METADATA),
    "automountServiceAccountToken": F("automount_service_account_token"),
}

# (apiVersion, kind) -> (resource type, table)
TYPED: dict[tuple[str, str], tuple[str, Schema]] = {
    ("v1", "Namespace"): ("kubernetes_namespace_v1", {"metadata": _block("metadata", METADATA)}),
    ("v1", "ServiceAccount"): ("kubernetes_service_account_v1", SERVICE_ACCOUNT),
    ("v1", "Service"): ("kubernetes_service_v1", SERVICE),
    ("v1", "ConfigMap"): ("kubernetes_config_map_v1", CONFIG_MAP),
    ("apps/v1", "Deployment"): ("kubernetes_deployment_v1", DEPLOYMENT),
    ("apps/v1", "StatefulSet"): ("kubernetes_stateful_set_v1", STATEFUL_SET),
    ("batch/v1", "Job"): ("kubernetes_job_v1", JOB),
    ("batch/v1", "CronJob"): ("kubernetes_cron_job_v1", CRON_JOB),
    ("policy/v1", "PodDisruptionBudget"): (
        "kubernetes_pod_disruption_budget_v1",
        POD_DISRUPTION_BUDGET,
    ),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): (
        "kubernetes_horizontal_pod_autoscaler_v2",
        HORIZONTAL_POD_AUTOSCALER,
    ),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("kubernetes_network_policy_v1", NETWORK_POLICY),
}

# Resource arguments that are the provider's, not the object's, by resource type. A Job
# is applied like `kubectl apply` applies it: Terraform does not wait for it to finish
# (the provider's default would block the apply until the Job completes or times out).
PROVIDER_ARGUMENTS: dict[str, dict[str, bool]] = {
    "kubernetes_job_v1": {"wait_for_completion": False},
}
