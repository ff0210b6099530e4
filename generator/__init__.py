"""cgen: least-privilege Kubernetes, seccomp, Dockerfile and Terraform artifacts from manifests.

The public API, one function per command; the CLI (generator.cli) is a thin shell over it.
Data flows one way: load (read and check everything) -> build (pure) -> write.

The library, by domain:
  loader, schema, model, project   read YAML with locations, check it, freeze it
  manifest/    the cgen/v1 contract, parsing into the model, dependency resolution
  network/     connectivity model, NetworkPolicy and Cilium builders, explain, drawing
  seccomp/     syscall names, profile composition, explanations
  images/      image lock, registry client, Dockerfile builder, templates, pin
  workload/    Deployment/Service/ServiceAccount/PDB builders, pod security
  terraform/   the HCL writer and the Kubernetes-object -> HCL converter
  runtime/     runtime profiles (data) and where cgen's shipped files are
  supply/      signature policies (Kyverno, policy-controller) and the CI workflow
  adopt/       cgen import: manifests from Kubernetes YAML, a live cluster or Terraform
  review/      cgen diff: the privilege diff between two states of the manifests
  scaffold/    cgen init: a manifest from a service's source folder
  layout, compose, serialize   where artifacts go, the build, the bytes of each file
  output/      the only code that touches the output folder: journaled writer, state, no-change path
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import steps
from generator.errors import CgenError, CheckFailed, Problem, UserError
from generator.output import incremental, writer
from generator.project import Project, load_project
from generator.serialize import Artifact
from generator.steps import Progress

if TYPE_CHECKING:
    from generator.adopt.run import ImportResult
    from generator.images.pin import PinReport
    from generator.network.explain import Verdict
    from generator.review.run import PrivilegeDiff
    from generator.scaffold.init import InitResult
    from generator.seccomp.explain import SyscallReport

__all__ = [
    "Artifact",
    "CgenError",
    "Project",
    "Report",
    "UserError",
    "build",
    "check",
    "diff",
    "explain",
    "graph",
    "import_cluster",
    "import_terraform",
    "import_yaml",
    "init",
    "load",
    "pin",
    "render",
    "schema",
    "syscalls",
    "validate",
    "version",
]


@dataclass
class Report:
    """What a render did (or would do)."""

    out: Path
    plan: writer.Plan
    warnings: list[Problem]


def load(
    paths: list[Path], out: Path | None = None, *, allow_unpinned: bool = False
) -> tuple[Project, Path]:
    """Load and check the manifests under paths; returns the project and its output folder."""
    return load_project(paths, out, allow_unpinned=allow_unpinned)


def build(project: Project, *, formats: tuple[str, ...] | None = None) -> list[Artifact]:
    """Every artifact of the project (pure: touches no file); formats default to cgen.yaml's."""
    from generator.compose import render as render_all

    return render_all(project, formats)


def render(
    paths: list[Path],
    out: Path | None = None,
    *,
    force: bool = False,
    allow_unpinned: bool = False,
    dry_run: bool = False,
    formats: tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Render the manifests under paths into the output folder (atomically); an unchanged
    project whose output is as cgen wrote it is not built again (unless force). progress
    is told each step as it starts (generator.steps)."""
    with steps.running(progress) as step:
        step("inputs")
        target, digest, roots = incremental.before_load(
            paths, out, allow_unpinned=allow_unpinned, formats=formats
        )
        done = None if force or dry_run else incremental.unchanged(target, digest)
        if done is not None:
            return Report(target, *done)
        step("load")
        project, out_dir = load(paths, out, allow_unpinned=allow_unpinned)
        step("build")
        artifacts = build(project, formats=formats)
        step("write")
        inputs = incremental.record(project, roots, digest) if out_dir == target else None
        result = writer.write(out_dir, artifacts, force=force, dry_run=dry_run, inputs=inputs)
    return Report(out_dir, result, project.warnings)


def validate(paths: list[Path], *, allow_unpinned: bool = False) -> list[Problem]:
    """Run every check without building or writing; returns warnings, raises on errors
    (a base image missing from the image lock too, exactly as render reports it)."""
    with steps.running(None):
        project, _ = load(paths, allow_unpinned=allow_unpinned)
    if "terraform" in project.config.formats:
        # What only the Terraform output cannot express (kustomize patches) is an error
        # of a render with cgen.yaml's formats, so validate reports it too.
        from generator.errors import ManifestError
        from generator.terraform.convert import patch_problems

        problems = patch_problems(project)
        if problems:
            raise ManifestError(problems=problems)
    return project.warnings


def check(
    paths: list[Path],
    out: Path | None = None,
    *,
    allow_unpinned: bool = False,
    formats: tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Raise CheckFailed with a unified diff when the output folder is stale or hand-edited;
    progress is told each step as it starts (generator.steps)."""
    with steps.running(progress) as step:
        step("inputs")
        target, digest, _ = incremental.before_load(
            paths, out, allow_unpinned=allow_unpinned, formats=formats
        )
        done = incremental.unchanged(target, digest)
        if done is not None:
            return Report(target, *done)
        step("load")
        project, out_dir = load(paths, out, allow_unpinned=allow_unpinned)
        step("build")
        artifacts = build(project, formats=formats)
        step("write")
        result, pending = writer.inspect(out_dir, artifacts)
    if pending:
        raise CheckFailed(
            diff="",
            summary=f"{out_dir}: an interrupted render is pending; run cgen render to finish it",
        )
    if result.changed:
        parts = [f"{len(result.writes)} to write", f"{len(result.deletes)} to remove"]
        if result.edited:
            parts.append(f"edited by hand: {', '.join(result.edited)}")
        raise CheckFailed(
            diff=writer.diff(result),
            summary=f"{out_dir} is not what the manifests produce ("
            f"{'; '.join(parts)}); run cgen render",
        )
    return Report(out_dir, result, project.warnings)


def schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the manifest, for editors."""
    from generator.manifest.contract import MANIFEST

    body = MANIFEST.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cgen.dev/schema/manifest-v1.json",
        "title": "cgen manifest",
        **body,
    }


def graph(paths: list[Path], fmt: str = "mermaid", *, dns: bool = True) -> str:
    """The allowed connectivity drawn as Mermaid, DOT or a table."""
    from generator.errors import UsageError
    from generator.network.draw import FORMATS, render_graph

    if fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r}: choose {', '.join(FORMATS)}")
    project, _ = load(paths, allow_unpinned=True)
    return render_graph(project.network, fmt, dns)


def explain(paths: list[Path], src: str, dst: str) -> Verdict:
    """Whether SRC may open a connection to DST[:PORT], and which manifest lines allow it."""
    from generator.network.explain import ask

    project, _ = load(paths, allow_unpinned=True)
    return ask(project.network, src, dst)


def pin(
    paths: list[Path],
    *,
    check: bool = False,
    offline: bool = False,
    plain_http: list[str] | None = None,
    timeout: float = 30.0,
) -> PinReport:
    """Pin every image cgen does not build to its digest in images.lock (offline: from the
    pins cgen ships), or (check) say how old the pins are and fail when one moved. Every
    image is asked for; any failure raises PinFailed with the report so far and each
    problem, and nothing is written."""
    from generator.images.pin import pin_images

    project, _ = load_project(paths, pinning=True)
    return pin_images(
        project, check=check, offline=offline, plain_http=plain_http or [], timeout=timeout
    )


def syscalls(
    paths: list[Path], *, service: str | None = None, syscall: str | None = None
) -> SyscallReport:
    """Why each syscall of a service's seccomp profile is allowed (or the one asked about)."""
    from generator.seccomp.explain import explain_syscalls

    project, _ = load(paths, allow_unpinned=True)
    return explain_syscalls(project, service, syscall)


def diff(paths: list[Path], base: str) -> PrivilegeDiff:
    """The privilege diff from BASE (a git revision or a folder) to the manifests under paths."""
    from generator.review.run import privilege_diff

    return privilege_diff(paths, base)


def import_yaml(
    sources: list[Path],
    out: Path,
    *,
    namespace: str = "default",
    runtimes: dict[str, str] | None = None,
    skip_unknown: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import Kubernetes YAML (files, folders, lists, helm output) as one manifest per workload."""
    from generator.adopt.kube import read_objects
    from generator.adopt.run import import_objects

    objects = read_objects(sources, namespace)
    return import_objects(
        objects, out, runtimes=runtimes or {}, skip_unknown=skip_unknown, dry_run=dry_run
    )


if TYPE_CHECKING:
    from generator.seccomp.learn import Learned


def seccomp_learn(paths: list[Path], logs: list[Path], *, service: str | None = None) -> Learned:
    """Propose spec.syscalls lines from kernel audit logs (type=1326) or strace output."""
    from generator.seccomp.learn import learn, read_sources

    project, _ = load(paths, allow_unpinned=True)
    return learn(project, read_sources(logs), service)


def init(
    source: Path,
    out: Path | None = None,
    *,
    name: str | None = None,
    runtime: str | None = None,
    ports: list[str] | None = None,
    image: str | None = None,
    namespace: str | None = None,
) -> InitResult:
    """Write a first manifest for the service in source (runtime, ports, build context)."""
    from generator.scaffold.init import scaffold

    return scaffold(
        source, out, name=name, runtime=runtime, ports=ports, image=image, namespace=namespace
    )


def import_cluster(
    out: Path,
    *,
    kubeconfig: Path | None = None,
    context: str | None = None,
    namespaces: list[str] | None = None,
    runtimes: dict[str, str] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import what runs in a cluster (read-only lists through the kubernetes client)."""
    from generator.adopt.cluster import read_cluster
    from generator.adopt.run import import_objects

    read = read_cluster(kubeconfig, context, namespaces or [])
    result = import_objects(
        read.objects, out, runtimes=runtimes or {}, images=read.images, dry_run=dry_run
    )
    result.skipped += [f"namespace {ns}: forbidden (not imported)" for ns in read.forbidden]
    return result


def import_terraform(
    sources: list[Path],
    out: Path,
    *,
    namespace: str = "default",
    runtimes: dict[str, str] | None = None,
    skip_unknown: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import the kubernetes_* resources of Terraform files (literal values, via python-hcl2)."""
    from generator.adopt.run import import_objects
    from generator.adopt.terraform import read_terraform

    objects, others = read_terraform(sources, namespace)
    result = import_objects(
        objects, out, runtimes=runtimes or {}, skip_unknown=skip_unknown, dry_run=dry_run
    )
    result.skipped += [f"{other}: not a Kubernetes resource" for other in others]
    return result


def version() -> str:
    """This cgen's version (the distribution's metadata is built from the same constant)."""
    from generator.release import VERSION

    return VERSION
