"""The image checks that run at load: every base image pinned, every template present and
compiling, every declared build context holding its runtime's lock files, and each of those
locking what it names (lockfiles.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from generator.errors import Location, Problem
from generator.images.frontend import FRONTEND
from generator.images.lock import ImageLock
from generator.images.shipped import shipped_lock
from generator.images.templating import Templates, compile_error
from generator.loader import display_path
from generator.manifest.checks import quantity
from generator.model import Service
from generator.runtime.profiles import RuntimeProfile


def build_context(svc: Service) -> Path | None:
    """The manifest's spec.build.context as a path (relative to the manifest's folder)."""
    if svc.build_context is None:
        return None
    return Path(svc.doc.path).parent / svc.build_context


def base_image_users(
    services: Sequence[Service], runtimes: Mapping[str, RuntimeProfile]
) -> dict[str, list[tuple[Service, str]]]:
    """Every base image the built services' Dockerfiles use, with each (service, stage)."""
    users: dict[str, list[tuple[Service, str]]] = {}
    for svc in sorted(services, key=lambda s: (s.doc.path, s.name)):
        profile = runtimes.get(svc.runtime)
        if profile is None:
            continue
        for stage, image in (("build", profile.build_image), ("runtime", profile.runtime_image)):
            users.setdefault(image, []).append((svc, stage))
    return users


def _who(users: Sequence[tuple[Service, str]]) -> str:
    """'shop/cart (build stage), shop/front (build and runtime stages)' in manifest order."""
    stages: dict[str, list[str]] = {}
    for svc, stage in users:
        stages.setdefault(f"{svc.namespace}/{svc.name}", []).append(stage)
    return ", ".join(
        f"{name} ({' and '.join(found)} stage{'s' if len(found) > 1 else ''})"
        for name, found in stages.items()
    )


def _missing(image: str, lock: ImageLock, *, allow: bool) -> str:
    """'is not in images.lock: run `cgen pin` ...', with the remedies that apply."""
    where = lock.path
    if lock.shipped:
        where += " (there is no such file, and cgen ships no pin for it)"
    text = f"is not in {where}: run `cgen pin`"
    if not lock.shipped and image in shipped_lock().digests:
        text += " (or `cgen pin --offline` for the digest cgen ships)"
    return text + (" or render with --allow-unpinned" if allow else "")


def unpinned(
    services: Sequence[Service],
    runtimes: Mapping[str, RuntimeProfile],
    lock: ImageLock,
    *,
    warn: bool = False,
) -> list[Problem]:
    """One problem per base image the lock does not pin, at its first user, naming every
    service and stage that uses it (warn: the warnings of an --allow-unpinned render)."""
    problems: list[Problem] = []
    for image, users in sorted(base_image_users(services, runtimes).items()):
        if lock.pin(image) is not None:
            continue
        if warn:
            what = (
                f"rendered by its tag alone, marked UNPINNED above its FROM line, for {_who(users)}"
            )
        else:
            what = f"used by {_who(users)}"
        text = f"base image {image} {_missing(image, lock, allow=not warn)}; {what}"
        problems.append(Problem(users[0][0].doc.at("spec.runtime"), "spec.runtime", text))
    built = sorted(
        (svc for svc in services if svc.runtime in runtimes), key=lambda s: (s.doc.path, s.name)
    )
    if built and lock.pin(FRONTEND) is None:
        # Once, at the first service: every Dockerfile's `# syntax=` line names it.
        names = ", ".join(f"{svc.namespace}/{svc.name}" for svc in built)
        if warn:
            what = f"rendered by its tag alone, with a WARNING in the header, for {names}"
        else:
            what = f"used by {names}"
        text = (
            f"BuildKit's Dockerfile frontend {FRONTEND} (the `# syntax=` line of every "
            f"Dockerfile) {_missing(FRONTEND, lock, allow=not warn)}; {what}"
        )
        problems.append(Problem(built[0].doc.at("spec.runtime"), "spec.runtime", text))
    return problems


def _template_problems(profile: RuntimeProfile, templates: Templates) -> list[Problem]:
    if not templates.has(profile.template):
        where = f" or {templates.user_dir}/templates" if templates.user_dir else ""
        return [
            Problem(
                Location(profile.path),
                "template",
                f"no template {profile.template} in cgen's templates{where}",
            )
        ]
    error = compile_error(templates, profile.template)
    return [Problem(Location(profile.path), "template", error)] if error else []


def _resource_problems(svc: Service, profile: RuntimeProfile) -> list[Problem]:
    """A request above its limit once the profile's defaults fill what the manifest omits."""
    problems: list[Problem] = []
    own = svc.resources
    for key in ("cpu", "memory", "ephemeral-storage"):
        request = own.get("requests", {}).get(key) or profile.resources["requests"].get(key)
        limit = own.get("limits", {}).get(key) or profile.resources["limits"].get(key)
        if (
            request is None
            or limit is None
            or (key in own.get("limits", {}) and (key in own.get("requests", {})))
        ):
            continue  # both from the manifest: manifest/checks.py reports it with its place
        low, high = quantity(request), quantity(limit)
        if low is not None and high is not None and low > high:
            side = "requests" if key in own.get("requests", {}) else "limits"
            keypath = f"spec.resources.{side}.{key}"
            where = svc.doc.at(keypath) if svc.doc.has(keypath) else svc.doc.at("spec.runtime")
            problems.append(
                Problem(
                    where,
                    keypath,
                    f"request {request} is more than the limit {limit} (the {profile.name} "
                    f"profile gives the other; Kubernetes refuses it): set both",
                )
            )
    return problems


def _lock_problems(lockfile: Path, where: Location) -> list[Problem]:
    """A lock file that exists but locks nothing (empty, unhashed, old format, stale)."""
    # Only a service built from a context has a lock file: the readers load with it.
    from generator.images.lockfiles_json import check as check_lockfile

    return [
        Problem(
            Location(display_path(f.path), f.line, 1 if f.line else 0),
            f.key,
            f.message,
            (where,),
        )
        for f in check_lockfile(lockfile)
    ]


def _app_file_problems(
    svc: Service, profile: RuntimeProfile, context: Path | None
) -> list[Problem]:
    """appFiles the runtime cannot ship, or that the build context does not hold (a COPY of
    a missing file fails the build; better here, at the line that names it)."""
    if svc.app_files is not None and not profile.app_files:
        return [
            Problem(
                svc.doc.at("spec.build.appFiles"),
                "spec.build.appFiles",
                f"the {profile.name} runtime ships only what its build makes, no files of the "
                "context (its profile names no appFiles)",
            )
        ]
    if context is None or not context.is_dir():
        return []
    problems: list[Problem] = []
    own = svc.app_files is not None
    for i, path in enumerate(profile.app_files if svc.app_files is None else svc.app_files):
        if (context / path).exists():
            continue
        shown = f"{display_path(context)} has no {path}"
        if own:
            keypath = f"spec.build.appFiles[{i}]"
            message = f"{shown}: the build's COPY of it would fail; name what the context holds"
        else:
            keypath = "spec.build.context"
            message = (
                f"{shown}, which the {profile.name} profile ships by default: name the app's "
                "own files and folders with spec.build.appFiles"
            )
        problems.append(Problem(svc.doc.at(keypath), keypath, message))
    return problems


def unlocked(
    services: Sequence[Service], runtimes: Mapping[str, RuntimeProfile], templates: Templates
) -> list[Problem]:
    """Problems that stop a locked restore: missing lock files in the build context, or a
    template that exists nowhere (or does not compile)."""
    problems: list[Problem] = []
    for profile in sorted(runtimes.values(), key=lambda p: p.name):
        problems += _template_problems(profile, templates)
    for svc in services:
        if svc.runtime in runtimes:
            # Here the services first meet their profiles at load: the only place a request
            # above the profile's default limit (which Kubernetes refuses) can be seen.
            problems += _resource_problems(svc, runtimes[svc.runtime])
        found = runtimes.get(svc.runtime)
        context = build_context(svc)
        if found is not None:
            problems += _app_file_problems(svc, found, context)
        if found is None or context is None:
            continue
        profile = found
        where = svc.doc.at("spec.build.context")
        shown = display_path(context)
        if not context.is_dir():
            problems.append(Problem(where, "spec.build.context", f"{shown} is not a folder"))
            continue
        for pattern in profile.lockfiles:
            present = sorted(p for p in context.glob(pattern) if p.is_file())
            for lockfile in present:
                problems += _lock_problems(lockfile, where)
            if not present:
                problems.append(
                    Problem(
                        where,
                        "spec.build.context",
                        f"{shown} has no {pattern}: the {profile.name} build restores "
                        f"dependencies only from its lock files; {profile.lock_hint}",
                    )
                )
    return problems
