"""The privilege facts of one loaded project, each with the manifest line behind it.

A fact is either a member of a set (a connection, a capability, a syscall, a secret, a
writable or persistent path): present in one state and not the other, it was granted or
revoked; or a value (the Pod Security level of a namespace, a seccomp mode, an image
digest): compared between the two states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.errors import Location
from generator.model import Service, container_service
from generator.network.model import Flow, Peer
from generator.project import Project
from generator.seccomp.profile import mode as seccomp_mode
from generator.seccomp.profile import reasons as seccomp_reasons
from generator.workload.podsecurity import namespace_level

Category = Literal[
    "connection",
    "external",
    "capability",
    "syscall",
    "secret",
    "writable",
    "persistent",
    "seccomp-mode",
    "exposure",
    "image",
    "pod-security",
]
# The order sections appear in reports.
CATEGORIES: tuple[Category, ...] = (
    "connection",
    "external",
    "capability",
    "syscall",
    "secret",
    "writable",
    "persistent",
    "seccomp-mode",
    "exposure",
    "image",
    "pod-security",
)
SET_CATEGORIES = frozenset(CATEGORIES[:7])


@dataclass(frozen=True)
class Fact:
    """One privilege of one subject; `value` is set for compared values, else None."""

    category: Category
    subject: str
    item: str
    value: str | None
    where: Location | None
    ident: str = ""  # what the fact denotes when subject and item are only its display

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two states' facts the same fact."""
        if self.ident:
            return (self.category, "", self.ident)
        return (self.category, self.subject, self.item)


Key = tuple[str, str, str]


def _peer_key(peer: Peer) -> str:
    """What a peer denotes, independent of how it is labelled."""
    if peer.kind == "pods":
        labels = ",".join(f"{k}={v}" for k, v in sorted(peer.pod_labels))
        return f"pods {peer.namespace}[{labels}]"
    if peer.kind == "cidr":
        return f"cidr {peer.cidr} except {','.join(sorted(peer.except_))}"
    return f"host {peer.host}"


def _flow_facts(flows: tuple[Flow, ...]) -> list[Fact]:
    found: list[Fact] = []
    for flow in flows:
        external = "pods" not in (flow.src.kind, flow.dst.kind) or flow.src.kind != flow.dst.kind
        category: Category = "external" if external else "connection"
        for spec in flow.ports:
            item = f"{spec.protocol} {spec.port}" + (f" ({spec.name})" if spec.name else "")
            # The identity is the peers' labels or addresses and the port number, so a
            # renamed port or a relabelled peer text is no change.
            ident = f"{_peer_key(flow.src)} -> {_peer_key(flow.dst)} {spec.protocol} {spec.port}"
            subject = f"{flow.src.label} -> {flow.dst.label}"
            found.append(Fact(category, subject, item, None, flow.where, ident))
    return found


def _service_facts(project: Project, svc: Service, subject: str) -> list[Fact]:
    found: list[Fact] = []
    for cap, keypath in svc.capability_keys:
        found.append(Fact("capability", subject, cap, None, svc.doc.at(keypath)))
    for name, why in seccomp_reasons(project, svc).items():
        where = next((r.location for r in why if r.location is not None), None)
        found.append(Fact("syscall", subject, name, None, where))
    mode = seccomp_mode(project, svc)
    found.append(Fact("seccomp-mode", subject, "seccomp", mode, svc.doc.at("spec.seccomp")))
    for path in svc.writable_paths:
        found.append(Fact("writable", subject, path, None, svc.doc.at("spec.writablePaths")))
    return found


def _images(project: Project, svc: Service) -> list[Fact]:
    """The image bytes each container of the service runs, or is built from."""
    subject = f"{svc.namespace}/{svc.name}"
    where = svc.doc.at("spec.image")
    if svc.prebuilt:
        image = project.image_lock.runs(svc.image)
        found = [Fact("image", subject, "image", image, where)]
    else:
        runtime = project.runtime(svc)
        where = Location(project.image_lock.path)  # the digest comes from the lock, not here
        found = []
        for stage, base in (("build", runtime.build_image), ("runtime", runtime.runtime_image)):
            if base:
                pinned = project.image_lock.pin(base) or f"{base} (not pinned)"
                found.append(Fact("image", subject, f"{stage} base", pinned, where))
    for container in svc.containers:
        at = svc.doc.at(f"{container.keypath}.image")
        image = project.image_lock.runs(container.image)
        found.append(Fact("image", subject, f"{container.name} image", image, at))
    return found


def project_facts(project: Project) -> dict[Key, Fact]:
    """Every privilege fact of the project, keyed by (category, subject, item)."""
    facts: list[Fact] = _flow_facts(project.network.flows)
    by_namespace: dict[str, list[Service]] = {}
    for svc in project.services:
        subject = f"{svc.namespace}/{svc.name}"
        by_namespace.setdefault(svc.namespace, []).append(svc)
        facts += _service_facts(project, svc, subject)
        for secret in svc.secrets:
            item = f"{secret.secret} at {secret.mount_path}"
            facts.append(Fact("secret", subject, item, None, svc.doc.at("spec.secrets")))
        for volume in svc.storage:
            item = f"{volume.mount_path} ({volume.name}, {volume.size})"
            facts.append(Fact("persistent", subject, item, None, svc.doc.at(volume.keypath)))
        for container in svc.containers:
            facts += _service_facts(
                project, container_service(svc, container), f"{subject} ({container.name})"
            )
        facts += _images(project, svc)
        if svc.exposure is not None and svc.exposure.type != "ClusterIP":
            ranges = ", ".join(svc.exposure.source_ranges)
            value = svc.exposure.type + (f" from {ranges}" if ranges else "")
            where = svc.doc.at("spec.service")
            facts.append(Fact("exposure", subject, "Service", value, where))
    for namespace in sorted(by_namespace):
        level = namespace_level(project.config, namespace)
        facts.append(Fact("pod-security", namespace, "level", level, None))
    return {f.key: f for f in facts}
