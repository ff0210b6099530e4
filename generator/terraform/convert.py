"""Terraform (hashicorp/kubernetes provider v3) equivalents of the Kubernetes objects.

Layout (see docs/terraform.md): every YAML folder gets a `main.tf` child module beside
its YAML files; the output root holds `main.tf` calling each of them (service modules
depend on their namespace's module, so the Namespace exists first) and `versions.tf`
pinning the provider. `terraform init && terraform plan` in the output folder works as is.

Every object of a built-in kind becomes the provider's typed resource, field by field
through the tables of schemas.py; a field without a place there is a bug in cgen and
stops the render (never a silent `kubernetes_manifest`, which needs a live cluster at plan
time). Only custom resources, which the provider has no typed resource for
(CiliumNetworkPolicy, the Security Profiles Operator's SeccompProfile), become a
`kubernetes_manifest` holding the object unchanged.

A service's kustomize patches cannot be applied to Terraform resources: rendering such a
project as Terraform is a located error (patch_problems), not a silent difference.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from generator.errors import ManifestError, Problem
from generator.project import Project
from generator.serialize import Artifact, header_lines
from generator.terraform.hcl import Attribute, Block, Comment, Raw, document
from generator.terraform.schemas import PROVIDER_ARGUMENTS, TYPED, F, Schema

if TYPE_CHECKING:
    from generator.layout import Folder

PROVIDER_SOURCE = "hashicorp/kubernetes"
PROVIDER_VERSION = "~> 3.0"
TERRAFORM_VERSION = ">= 1.5"
MODULE_FILE = "main.tf"


class Unsupported(Exception):
    """A field the typed resource's table has no place for (the path, e.g. .spec.x)."""


class Untranslatable(Exception):
    """An object of a built-in kind that the tables cannot express: a bug in cgen."""


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
        # A digits-only string would be read as a number (a port number, not a name).
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


def is_custom(api_version: str) -> bool:
    """Whether an apiVersion belongs to a custom resource (not core, not a *.k8s.io group)."""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def resource(obj: dict[str, Any], name: str, skips: tuple[tuple[str, str], ...] = ()) -> Block:
    """The provider resource for one object: typed for built-in kinds, else kubernetes_manifest."""
    comments = _skip_comments(skips)
    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    typed = TYPED.get((api_version, kind))
    if typed is None:
        if not is_custom(api_version):
            raise Untranslatable(f"{kind} {name}: {api_version} {kind} has no typed resource")
        return Block(
            "resource", ("kubernetes_manifest", name), [*comments, Attribute("manifest", obj)]
        )
    rtype, schema = typed
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    try:
        body = _body(schema, rest, "")
    except Unsupported as exc:
        raise Untranslatable(
            f"{obj.get('kind')} {name}: {exc.args[0].lstrip('.')} has no place in {rtype}"
        ) from None
    arguments = [Attribute(k, v) for k, v in PROVIDER_ARGUMENTS.get(rtype, {}).items()]
    return Block("resource", (rtype, name), [*comments, *body, *arguments])


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


PATCH_MESSAGE = (
    "a kustomize patch cannot be applied to the Terraform output, which would silently "
    "lack {name}: render with --format kubernetes (formats: [kubernetes] in cgen.yaml), or "
    "drop the patch and make its change in a Terraform override file beside the module "
    "({folder}/main_override.tf, which cgen never writes or removes)"
)


def patch_problems(project: Project) -> list[Problem]:
    """One located problem per kustomize patch of a project that renders Terraform."""
    return [
        Problem(
            svc.doc.at(patch.keypath),
            patch.keypath,
            PATCH_MESSAGE.format(name=patch.name, folder=f"{svc.namespace}/{svc.name}"),
        )
        for svc in project.graph.services
        for patch in svc.patches
    ]


def artifacts(project: Project, folders: list[Folder]) -> list[Artifact]:
    """The .tf files of the project; ManifestError if a service has kustomize patches."""
    problems = patch_problems(project)
    if problems:
        raise ManifestError(problems=problems)
    return modules(folders)


def modules(folders: list[Folder]) -> list[Artifact]:
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
