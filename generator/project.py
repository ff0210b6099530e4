"""Load a whole project: find manifests and cgen.yaml, validate, resolve the graph."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from generator import notices
from generator.errors import Location, ManifestError, Problem, UserError
from generator.images import checks as image_checks
from generator.images.lock import ImageLock, read_lock
from generator.images.shipped import oldest, project_lock
from generator.images.templating import Templates, load_templates
from generator.loader import Document, display_path, load_documents
from generator.manifest import files as manifest_files
from generator.manifest.checks_workload import probe_warnings
from generator.manifest.formats import DNS_LABEL
from generator.manifest.parse import RuntimeDefaults, load_config, load_service
from generator.manifest.resolve import Graph, Unloaded, build_graph
from generator.model import Config, Service, container_service
from generator.network.model import NetModel, build_model
from generator.network.warnings import network_warnings
from generator.runtime.profiles import ProfileSet, RuntimeProfile
from generator.seccomp import names as syscalls
from generator.seccomp import policy as seccomp_policy
from generator.suggest import did_you_mean
from generator.supply import checks as signing_checks
from generator.workload import podsecurity

T = TypeVar("T")
CONFIG_NAME = "cgen.yaml"
MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass
class Project:
    """Everything the builders need, validated."""

    config: Config
    config_dir: Path
    services: list[Service]
    graph: Graph
    profiles: ProfileSet
    runtimes: dict[str, RuntimeProfile]
    image_lock: ImageLock
    templates: Templates
    network: NetModel
    warnings: list[Problem]

    def runtime(self, svc: Service) -> RuntimeProfile:
        """The runtime profile of a service (always resolved by load_project)."""
        return self.runtimes[svc.runtime]


def _config_path(paths: list[Path]) -> Path | None:
    found: set[Path] = set()
    for path in paths:
        folder = path if path.is_dir() else path.parent
        if (folder / CONFIG_NAME).is_file():
            found.add((folder / CONFIG_NAME).resolve())
    if len(found) > 1:
        names = ", ".join(display_path(p) for p in sorted(found))
        raise UserError(f"more than one {CONFIG_NAME} among the inputs: {names}")
    return found.pop() if found else None


def _manifests_in(folder: Path) -> list[str]:
    """Every cgen manifest below a folder discover skips (it would never be rendered)."""
    found: list[str] = []
    for root, _, names in os.walk(folder):
        for name in sorted(n for n in names if n.endswith(MANIFEST_SUFFIXES)):
            try:
                with open(Path(root) / name, "rb") as handle:
                    head = handle.read(65536)
            except OSError:
                continue
            lines = head.replace(b'"', b"").replace(b"'", b"").splitlines()
            if any(line.startswith(b"apiVersion: cgen/") for line in lines):
                found.append(
                    f"{display_path(Path(root) / name)}: a cgen manifest inside "
                    f"{display_path(folder)}, which cgen skips (an output or profiles "
                    "folder): it would never be rendered; move it out of that folder"
                )
    return found


def discover(paths: list[Path], skip: list[Path]) -> list[Path]:
    """Manifest files among paths: files as given, folders searched recursively, sorted.

    Output and profile folders are skipped, but never silently: a cgen manifest inside
    one would never be rendered, so it is an error that names it.
    """
    skipped = {p.resolve() for p in skip}
    files: set[Path] = set()
    hidden: list[str] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"{display_path(path)}: no such file or folder")
        if path.is_file():
            files.add(path)
            continue
        for root, dirs, names in os.walk(path):
            here = Path(root)
            if (here / ".cgen" / "state.json").is_file():
                dirs[:] = []  # a cgen output folder (any --out): generated, not manifests
                hidden += _manifests_in(here)
                continue
            for d in dirs:
                if not d.startswith(".") and (here / d).resolve() in skipped:
                    hidden += _manifests_in(here / d)
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and (here / d).resolve() not in skipped
            )
            files.update(
                here / n for n in names if n.endswith(MANIFEST_SUFFIXES) and n != CONFIG_NAME
            )
    if hidden:
        raise UserError("\n".join(sorted(set(hidden))))
    return sorted(files, key=lambda p: display_path(p))


def _load_config(paths: list[Path]) -> tuple[Config, Path | None]:
    config_file = _config_path(paths)
    if config_file is None:
        return load_config(None)[0], None
    display = display_path(config_file)
    docs, problems = load_documents(config_file, display)
    if len(docs) > 1:
        problems.append(Problem(Location(display), "", "must hold one YAML document, not several"))
    config, config_problems = load_config(docs[0] if docs else None)
    if problems or config_problems:
        raise ManifestError(problems=problems + config_problems)
    return config, config_file


def _defaults(doc: Document, profiles: ProfileSet) -> RuntimeDefaults | None:
    """What the manifest's runtime profile fills in (None while the runtime is unknown)."""
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    runtime = spec.get("runtime") if isinstance(spec, dict) else None
    if not isinstance(runtime, str):
        return None
    try:
        profile = profiles.get(runtime)
    except ManifestError:  # a broken profile: _runtimes reports it with the rest
        return None
    if profile is None:
        return None
    return RuntimeDefaults(profile.defaults, profile.prebuilt)


def _unloaded(doc: Document, config: Config) -> Unloaded:
    """The name and namespace a manifest that failed to load declares, as far as readable."""
    meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return Unloaded(Location(doc.path))
    namespace = meta.get("namespace", config.namespace)
    if not (isinstance(namespace, str) and re.fullmatch(DNS_LABEL, namespace)):
        namespace = None  # no namespace name: it matches any, its own error says which
    return Unloaded(doc.at("metadata.name"), meta["name"], namespace)


def _load_services(
    files: list[Path],
    config: Config,
    config_dir: Path,
    profiles: ProfileSet,
    problems: list[Problem],
    unloaded: list[Unloaded],
    lock: ImageLock | None,
) -> list[Service]:
    loaded = [(file, *load_documents(file, display_path(file))) for file in files]
    # A file that a manifest names (a config file, a kustomize patch) is not a manifest.
    named = {
        path for file, docs, _ in loaded for doc in docs for path in manifest_files.named(doc, file)
    }
    services: list[Service] = []
    for file, docs, file_problems in loaded:
        if file.resolve() in named:
            continue
        problems += file_problems
        if not docs and not file_problems:
            problems.append(Problem(Location(display_path(file)), "", "empty file"))
        if not docs and file_problems:
            unloaded.append(Unloaded(Location(display_path(file))))
        for doc in docs:
            doc.source = Path(os.path.relpath(file.resolve(), config_dir.resolve())).as_posix()
            read = manifest_files.reader(file, config_dir)
            svc, svc_problems = load_service(doc, config, _defaults(doc, profiles), read, lock)
            problems += svc_problems
            if svc is not None:
                services.append(svc)
            elif svc_problems:
                unloaded.append(_unloaded(doc, config))
    return services


def _collect(problems: list[Problem], load: Callable[[], T]) -> T | None:
    """Run a loader that raises ManifestError; keep its problems and go on checking."""
    try:
        return load()
    except ManifestError as exc:
        problems += exc.problems
        return None


def load_project(
    paths: list[Path],
    out_dir: Path | None = None,
    *,
    allow_unpinned: bool = False,
    pinning: bool = False,
) -> tuple[Project, Path]:
    """Load and validate everything; raise ManifestError with every problem found.

    allow_unpinned turns base images missing from the image lock into warnings; pinning
    (for `cgen pin`) skips every lock check: what the lock lacks is what pin resolves.
    """
    config, config_file = _load_config(paths)
    # Without cgen.yaml, the project folder (images.lock, profiles) is the first input's.
    first = paths[0] if paths[0].is_dir() else paths[0].parent
    config_dir = config_file.parent if config_file else first
    default_out = config_dir / config.out if config.out else Path("out")
    out = out_dir if out_dir is not None else default_out
    user_profiles = config_dir / config.profiles if config.profiles else None
    files = discover(paths, [out] + ([user_profiles] if user_profiles else []))
    if not files:
        raise UserError(
            "no manifests found (*.yaml or *.yml) in " + ", ".join(display_path(p) for p in paths)
        )
    problems: list[Problem] = []
    profiles = ProfileSet(user_profiles, display_path(user_profiles) if user_profiles else None)
    unloaded: list[Unloaded] = []
    lock_path = config_dir / config.image_lock
    lock = _collect(
        problems,
        lambda: project_lock(read_lock(lock_path, display_path(lock_path)), lock_path.exists()),
    )
    # Prebuilt and sidecar images are pinned inline or by the lock (a broken lock pins none).
    pins = None if pinning else lock or ImageLock(display_path(lock_path))
    services = _load_services(files, config, config_dir, profiles, problems, unloaded, pins)
    # Sidecars and init containers are judged like services of their own: their runtime
    # profile, syscall names and capabilities.
    containers = [container_service(s, c) for s in services for c in s.containers]
    runtimes = _runtimes(services + containers, profiles, problems)
    # The capability map is read now, so a broken capabilities.yaml is reported with the
    # other problems instead of failing a build halfway.
    _collect(problems, profiles.capability_syscalls)
    graph, graph_problems = build_graph(services, config.unmanaged, tuple(unloaded))
    problems += graph_problems
    problems += syscalls.validate(services + containers)
    problems += podsecurity.problems(config, services + containers)
    templates = load_templates(
        user_profiles / "templates" if user_profiles else None,
        f"{display_path(user_profiles)}" if user_profiles else None,
    )
    pin_warnings: list[Problem] = []
    if not problems and lock is not None:
        # What the builds need (pinned bases, templates, lock files), once the manifests
        # themselves are sound: a base image follows from a valid runtime.
        # Only what cgen builds has base images, templates and lock files to check.
        built = [svc for svc in graph.services if not svc.prebuilt]
        built_runtimes = {svc.runtime: runtimes[svc.runtime] for svc in built}
        if not pinning:  # what the lock lacks is what `cgen pin` resolves
            unpinned = image_checks.unpinned(built, built_runtimes, lock, warn=allow_unpinned)
            (pin_warnings if allow_unpinned else problems).extend(unpinned)
            if built and lock.shipped:
                pin_warnings.append(_shipped_note(lock))
        problems += image_checks.unlocked(built, built_runtimes, templates)
        problems += signing_checks.problems(config, graph.services)
    if problems or lock is None:
        raise ManifestError(problems=problems)
    warnings = sorted(
        pin_warnings
        + _warnings(config, services, lock)
        + network_warnings(config, services)
        + podsecurity.warnings(config, services + containers)
        + seccomp_policy.warnings(services, profiles.capability_syscalls())
    )
    network = build_model(config, graph)
    project = Project(
        config, config_dir, services, graph, profiles, runtimes, lock, templates, network, warnings
    )
    return project, out


def _runtimes(
    services: list[Service], profiles: ProfileSet, problems: list[Problem]
) -> dict[str, RuntimeProfile]:
    found: dict[str, RuntimeProfile] = {}
    broken: set[str] = set()
    for svc in services:
        if svc.runtime in found or svc.runtime in broken:
            continue
        try:
            profile = profiles.get(svc.runtime)
        except ManifestError as exc:  # a broken profile file: report it with the rest
            problems += exc.problems
            broken.add(svc.runtime)
            continue
        if profile is None:
            known = ", ".join(profiles.available())
            hint = did_you_mean(svc.runtime, profiles.available())
            problems.append(
                Problem(
                    svc.doc.at("spec.runtime"),
                    "spec.runtime",
                    f"no runtime profile {svc.runtime!r}{hint} (available: {known})",
                )
            )
        else:
            found[svc.runtime] = profile
    return found


def _shipped_note(lock: ImageLock) -> Problem:
    """The one note of a render without images.lock: where its digests came from."""
    return Problem(
        Location(lock.path),
        "",
        "no such file: base images are pinned to the digests this cgen ships (resolved "
        f"{oldest(lock) or 'at release'}); `cgen pin --offline` writes them there to commit, "
        "`cgen pin` resolves current ones from the registries",
    )


def _warnings(config: Config, services: list[Service], lock: ImageLock) -> list[Problem]:
    warnings: list[Problem] = []
    for svc in services:
        warnings += probe_warnings(svc)
    # What many services share is one line each, never one line per service.
    warnings += notices.default_namespace(config, services)
    warnings += notices.unpinned_built(config, services, lock)
    return sorted(warnings)
