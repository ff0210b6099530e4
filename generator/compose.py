"""Compose every builder's output into the artifacts of one render (pure)."""

from __future__ import annotations

from typing import Any

from generator.images import dockerfile
from generator.layout import MANAGED_BY, NAMESPACE_DIR, PATCH_DIR, Folder, kustomization
from generator.model import Service, container_service
from generator.network import policies as network
from generator.project import Project
from generator.seccomp import profile as seccomp
from generator.serialize import Artifact, json_text, yaml_text
from generator.supply import policies as supply
from generator.workload import objects as workload
from generator.workload import podsecurity
from generator.workload.pod import checkov_skips


def _namespace_object(project: Project, namespace: str) -> dict[str, Any]:
    # Pod Security Admission enforces what the generated pods already do; warn and audit
    # stay at restricted so that any pod below it is reported.
    metadata: dict[str, Any] = {
        "name": namespace,
        "labels": {
            **MANAGED_BY,
            "pod-security.kubernetes.io/enforce": podsecurity.namespace_level(
                project.config, namespace
            ),
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    }
    lowered = podsecurity.lowered(project.config, namespace)
    if lowered is not None:
        # Whoever reads the cluster sees why this namespace enforces less than restricted.
        metadata["annotations"] = {podsecurity.REASON_ANNOTATION: lowered.reason}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def namespace_folder(project: Project, namespace: str) -> Folder:
    """The namespace-wide objects: Namespace, default deny, DNS egress."""
    objects: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[str]] = {}
    if project.config.create_namespaces:
        members = [s for s in project.graph.services if s.namespace == namespace]
        pods = members + [container_service(s, c) for s in members for c in s.containers]
        objects["namespace.yaml"] = _namespace_object(project, namespace)
        signing = project.config.signing
        if signing is not None:
            # The policy-controller checks only the namespaces that opt in by this label.
            labels = objects["namespace.yaml"]["metadata"]["labels"]
            labels.update(supply.namespace_labels(signing, project.graph.services, namespace))
        reasons = podsecurity.namespace_notes(project.config, namespace, pods)
        if reasons:
            notes["namespace.yaml"] = reasons
    objects.update(network.namespace_objects(project, namespace))
    source = f"the manifests of namespace {namespace}"
    return Folder(f"{namespace}/{NAMESPACE_DIR}", source, objects, notes)


def service_folder(project: Project, svc: Service) -> Folder:
    """The Kubernetes objects of one service."""
    kind_file, workload_object = workload.workload(project, svc)
    objects: dict[str, dict[str, Any]] = {
        "serviceaccount.yaml": workload.service_account(svc),
        kind_file: workload_object,
    }
    objects.update(workload.config_maps(svc))
    if svc.ports:
        objects["service.yaml"] = workload.service(svc)
        if svc.stateful:
            objects["service-headless.yaml"] = workload.headless_service(svc)
    if svc.replicas > 1 and svc.job is None:
        objects["poddisruptionbudget.yaml"] = workload.disruption_budget(svc)
    if svc.autoscaling is not None:
        objects["horizontalpodautoscaler.yaml"] = workload.autoscaler(svc)
    objects.update(network.service_objects(project, svc))
    objects.update(seccomp.service_objects(project, svc))
    for extra in svc.containers:
        for name, obj in seccomp.service_objects(project, container_service(svc, extra)).items():
            objects[name.replace(".yaml", f"-{extra.name}.yaml")] = obj
    skips = checkov_skips(svc)
    return Folder(
        f"{svc.namespace}/{svc.name}",
        svc.source,
        objects,
        skips={kind_file: skips} if skips else {},
        patches={f"{PATCH_DIR}/{patch.name}": patch.content for patch in svc.patches},
    )


def folders(project: Project) -> list[Folder]:
    """Every folder of Kubernetes objects, namespaces first, in a stable order."""
    result: list[Folder] = []
    for namespace in project.graph.namespaces():
        result.append(namespace_folder(project, namespace))
        result += [
            service_folder(project, s) for s in project.graph.services if s.namespace == namespace
        ]
    return result


def _kubernetes(project: Project, all_folders: list[Folder]) -> list[Artifact]:
    artifacts: list[Artifact] = []
    for folder in all_folders:
        for name, obj in folder.objects.items():
            text = yaml_text(obj, folder.source, folder.notes.get(name))
            artifacts.append(Artifact(f"{folder.path}/{name}", text))
        for name, text in folder.patches.items():
            artifacts.append(Artifact(f"{folder.path}/{name}", text))
        resources = kustomization(list(folder.objects), list(folder.patches))
        artifacts.append(
            Artifact(f"{folder.path}/kustomization.yaml", yaml_text(resources, folder.source))
        )
    namespaces = project.graph.namespaces()
    signing = project.config.signing
    if signing is not None:
        # Cluster-wide: the admission policies that verify the built images' signatures.
        policy = supply.objects(signing, project.graph.services)
        source = "cgen.yaml signing: and the manifests' images"
        for name, obj in policy.items():
            artifacts.append(Artifact(f"{supply.CLUSTER_DIR}/{name}", yaml_text(obj, source)))
        artifacts.append(
            Artifact(
                f"{supply.CLUSTER_DIR}/kustomization.yaml",
                yaml_text(kustomization(list(policy)), source),
            )
        )
    for namespace in namespaces:
        members = [
            f.path.split("/", 1)[1] for f in all_folders if f.path.split("/", 1)[0] == namespace
        ]
        artifacts.append(
            Artifact(
                f"{namespace}/kustomization.yaml",
                yaml_text(kustomization(members), f"the manifests of namespace {namespace}"),
            )
        )
    artifacts.append(
        Artifact(
            "kustomization.yaml",
            yaml_text(
                kustomization(namespaces + ([supply.CLUSTER_DIR] if signing else [])),
                "all manifests",
            ),
        )
    )
    return artifacts


def render(project: Project, formats: tuple[str, ...] | None = None) -> list[Artifact]:
    """All artifacts of the project, sorted by path (pure: load has checked everything)."""
    chosen = formats or project.config.formats
    all_folders = folders(project)
    artifacts: list[Artifact] = []
    if "kubernetes" in chosen:
        artifacts += _kubernetes(project, all_folders)
    if "terraform" in chosen:
        from generator.terraform import convert as terraform

        artifacts += terraform.artifacts(project, all_folders)
    for svc in project.graph.services:
        artifacts += seccomp.artifacts(project, svc)
        for extra in svc.containers:
            # Each sidecar and init container has its own profile beside the service's.
            profile = seccomp.profile(project, container_service(svc, extra))
            path = f"{svc.namespace}/{svc.name}/seccomp-{extra.name}.json"
            artifacts.append(Artifact(path, json_text(profile)))
        if not svc.prebuilt:  # a prebuilt image is run as it is: nothing to build
            artifacts += dockerfile.artifacts(project, svc)
    if project.config.ci is not None:
        from generator.supply import workflow

        artifacts += workflow.artifacts(project)
    return sorted(artifacts)
