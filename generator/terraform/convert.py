"""Terraform (hashicorp/kubernetes provider v3) equivalents of the Kubernetes objects.

Layout (see docs/terraform.md): every YAML folder gets a `main.tf` child module beside
its YAML files; the output root holds `main.tf` calling each of them (service modules
depend on their namespace's module, so the Namespace exists first) and `versions.tf`
pinning the provider. `terraform init && terraform plan` in the output folder works as is.

Each object becomes the provider's typed resource when every one of its fields has a
known place in that resource's schema (tables below, from the provider's documentation);
any other object, or any kind without a typed resource, becomes a `kubernetes_manifest`
holding the object unchanged, so nothing is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.project import Project
from generator.serialize import Artifact, header_lines
from generator.terraform.hcl import Attribute, Block, Comment, Raw, document

if TYPE_CHECKING:
    from generator.layout import Folder

PROVIDER_SOURCE = "hashicorp/kubernetes"
PROVIDER_VERSION = "~> 3.0"
TERRAFORM_VERSION = ">= 1.5"
MODULE_FILE = "main.tf"


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
_TIMINGS: Schema = {
    k: F(re.sub(r"([A-Z])", r"_\1", k).lower())
    for k in (
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    )
}
PROBE: Schema = {
    "httpGet": _block(
        "http_get",
        {"path": F("path"), "port": F("port", "string"), "host": F("host"), "scheme": F("scheme")},
    ),
    "tcpSocket": _block("tcp_socket", {"port": F("port", "string")}),
    "grpc": _block("grpc", {"port": F("port"), "service": F("service")}),
    "exec": _block("exec", {"command": F("command")}),
    **_TIMINGS,
}
CONTAINER_SECURITY: Schema = {
    "allowPrivilegeEscalation": F("allow_privilege_escalation"),
    "privileged": F("privileged"),
    "readOnlyRootFilesystem": F("read_only_root_filesystem"),
    "runAsNonRoot": F("run_as_non_root"),
    "runAsUser": F("run_as_user", "string"),
    "runAsGroup": F("run_as_group", "string"),
    "capabilities": _block("capabilities", {"add": F("add"), "drop": F("drop")}),
    "seccompProfile": _block("seccomp_profile", SECCOMP),
}
CONTAINER: Schema = {
    "name": F("name"),
    "image": F("image"),
    "imagePullPolicy": F("image_pull_policy"),
    "command": F("command"),
    "args": F("args"),
    "workingDir": F("working_dir"),
    "env": _blocks("env", {"name": F("name"), "value": F("value")}),
    "ports": _blocks(
        "port",
        {"name": F("name"), "containerPort": F("container_port"), "protocol": F("protocol")},
    ),
    "livenessProbe": _block("liveness_probe", PROBE),
    "readinessProbe": _block("readiness_probe", PROBE),
    "startupProbe": _block("startup_probe", PROBE),
    "resources": _block(
        "resources", {"requests": F("requests", "map"), "limits": F("limits", "map")}
    ),
    "securityContext": _block("security_context", CONTAINER_SECURITY),
    "volumeMounts": _blocks(
        "volume_mount",
        {
            "name": F("name"),
            "mountPath": F("mount_path"),
            "readOnly": F("read_only"),
            "subPath": F("sub_path"),
        },
    ),
}
POD: Schema = {
    "serviceAccountName": F("service_account_name"),
    "automountServiceAccountToken": F("automount_service_account_token"),
    "enableServiceLinks": F("enable_service_links"),
    "securityContext": _block(
        "security_context",
        {
            "runAsNonRoot": F("run_as_non_root"),
            "runAsUser": F("run_as_user", "string"),
            "runAsGroup": F("run_as_group", "string"),
            "fsGroup": F("fs_group", "string"),
            "seccompProfile": _block("seccomp_profile", SECCOMP),
        },
    ),
    "containers": _blocks("container", CONTAINER),
    "volumes": _blocks(
        "volume",
        {
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
        },
    ),
}
DEPLOYMENT: Schema = {
    "metadata": _block("metadata", METADATA),
    "spec": _block(
        "spec",
        {
            "replicas": F("replicas", "string"),
            "selector": _block("selector", SELECTOR),
            "template": _block(
                "template", {"metadata": _block("metadata", METADATA), "spec": _block("spec", POD)}
            ),
        },
    ),
}
SERVICE: Schema = {
    "metadata": _block("metadata", METADATA),
    "spec": _block(
        "spec",
        {
            "type": F("type"),
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
        },
    ),
}
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
NETWORK_POLICY: Schema = {
    "metadata": _block("metadata", METADATA),
    "spec": _block(
        "spec",
        {
            "podSelector": _block("pod_selector", SELECTOR),
            "policyTypes": F("policy_types"),
            "ingress": _blocks(
                "ingress", {"from": _blocks("from", PEER), "ports": _blocks("ports", POLICY_PORT)}
            ),
            "egress": _blocks(
                "egress", {"to": _blocks("to", PEER), "ports": _blocks("ports", POLICY_PORT)}
            ),
        },
    ),
}
TYPED: dict[tuple[str, str], tuple[str, Schema]] = {
    ("v1", "Namespace"): ("kubernetes_namespace_v1", {"metadata": _block("metadata", METADATA)}),
    ("v1", "ServiceAccount"): (
        "kubernetes_service_account_v1",
        {
            "metadata": _block("metadata", METADATA),
            "automountServiceAccountToken": F("automount_service_account_token"),
        },
    ),
    ("v1", "Service"): ("kubernetes_service_v1", SERVICE),
    ("apps/v1", "Deployment"): ("kubernetes_deployment_v1", DEPLOYMENT),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("kubernetes_network_policy_v1", NETWORK_POLICY),
}


class Unsupported(Exception):
    """A field the typed resource has no place for: the object goes to kubernetes_manifest."""


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | bool) and not isinstance(value, float)


def _field(spec: F, value: Any, path: str) -> list[Attribute | Block | Comment]:
    """The attribute or blocks for one Kubernetes field."""
    if spec.how == "block" or spec.how == "blocks":
        assert spec.body is not None
        items = [value] if spec.how == "block" else value
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise Unsupported(path)
        return [Block(spec.name, (), _body(spec.body, item, path)) for item in items]
    if spec.how == "map":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise Unsupported(path)
        return [Attribute(spec.name, value)]
    if spec.how == "octal" and isinstance(value, int) and not isinstance(value, bool):
        return [Attribute(spec.name, f"{value:04o}")]
    if spec.how == "string" and _is_scalar(value) and not isinstance(value, bool):
        # A digits-only string would read back as a number: keep such objects verbatim.
        if isinstance(value, str) and value.isdigit():
            raise Unsupported(path)
        return [Attribute(spec.name, str(value))]
    if spec.how == "value" and (
        _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(v) for v in value))
    ):
        return [Attribute(spec.name, value)]
    raise Unsupported(path)


def _body(schema: Schema, obj: dict[str, Any], path: str) -> list[Attribute | Block | Comment]:
    body: list[Attribute | Block | Comment] = []
    for key, value in obj.items():
        spec = schema.get(key)
        if spec is None:
            raise Unsupported(f"{path}.{key}")
        body += _field(spec, value, f"{path}.{key}")
    return body


def _skip_comments(skips: tuple[tuple[str, str], ...]) -> list[Attribute | Block | Comment]:
    """checkov's terraform runner reads skips from comments, not from annotations."""
    return [Comment(f"checkov:skip={check}:{reason}") for check, reason in skips]


def resource(obj: dict[str, Any], name: str, skips: tuple[tuple[str, str], ...] = ()) -> Block:
    """The provider resource for one Kubernetes object (typed, else kubernetes_manifest)."""
    typed = TYPED.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    if typed is not None:
        rtype, schema = typed
        rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        try:
            return Block("resource", (rtype, name), _skip_comments(skips) + _body(schema, rest, ""))
        except Unsupported:
            pass
    return Block(
        "resource",
        ("kubernetes_manifest", name),
        [*_skip_comments(skips), Attribute("manifest", obj)],
    )


class Names:
    """Terraform identifiers, unique across the whole output, derived from output paths."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, *parts: str) -> str:
        """A fresh identifier from the parts (DNS labels and file stems keep their hyphens)."""
        base = "_".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)
        if not re.match(r"[A-Za-z_]", base):
            base = "_" + base
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def _requirements(version: str | None) -> Block:
    provider: dict[str, str] = {"source": PROVIDER_SOURCE}
    body: list[Attribute | Block | Comment] = []
    if version is not None:
        provider["version"] = version
        body.append(Attribute("required_version", TERRAFORM_VERSION))
    body.append(Block("required_providers", (), [Attribute("kubernetes", provider)]))
    return Block("terraform", (), body)


def artifacts(project: Project, folders: list[Folder]) -> list[Artifact]:
    """The .tf files: one child module per YAML folder, the root module and versions.tf."""
    from generator.layout import NAMESPACE_DIR

    names = Names()
    modules: list[Block] = []
    namespace_module: dict[str, str] = {}
    result: list[Artifact] = []
    for folder in folders:
        parts = folder.path.split("/")
        module = names.take(*parts)
        blocks = [_requirements(None)]
        for file_name, obj in folder.objects.items():
            stem = file_name.rsplit(".", 1)[0]
            skips = folder.skips.get(file_name, ())
            blocks.append(resource(obj, names.take(module, stem), skips))
        text = document(header_lines(folder.source), blocks)
        result.append(Artifact(f"{folder.path}/{MODULE_FILE}", text))
        body: list[Attribute | Block | Comment] = [Attribute("source", f"./{folder.path}")]
        if parts[-1] == NAMESPACE_DIR:
            namespace_module[parts[0]] = module
        elif parts[0] in namespace_module:
            depends = Raw(f"[module.{namespace_module[parts[0]]}]")
            body.append(Attribute("depends_on", depends))
        modules.append(Block("module", (module,), body))
    header = header_lines("all manifests")
    result.append(Artifact(MODULE_FILE, document(header, modules)))
    result.append(Artifact("versions.tf", document(header, [_requirements(PROVIDER_VERSION)])))
    return result
