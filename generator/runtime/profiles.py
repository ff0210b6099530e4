"""Runtime profiles (data in profiles/, or the project's own folder) loaded and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from generator.errors import Location, ManifestError, Problem
from generator.loader import Document
from generator.manifest.contract import MANIFEST_SPEC
from generator.manifest.formats import CPU, IMAGE, MEMORY, SYSCALL, app_files, name
from generator.runtime.shipped import profiles_root
from generator.schema import Bool, Field, Int, List, Map, Obj, Str, load_checked
from generator.seccomp.names import architectures_text, known_syscalls
from generator.seccomp.policy import refuse_dangerous

_IMAGE = Str(IMAGE, "an image reference", 512)
_QUANTITIES = Obj(
    {
        "cpu": Field(Str(CPU, "a CPU quantity"), True),
        "memory": Field(Str(MEMORY, "a memory quantity"), True),
        "ephemeral-storage": Field(Str(MEMORY, "a storage quantity"), True),
    }
)

# What a prebuilt profile may fill in for a manifest: the manifest's own field specs.
_DEFAULT_KEYS = (
    "ports",
    "probes",
    "writablePaths",
    "storage",
    "env",
    "command",
    "args",
    "config",
    "peerPorts",
)
_BUILD_KEYS = ("images", "template", "entrypoint", "lockfiles", "lockHint")
# Build keys a built profile may leave out (a prebuilt one may not have them either).
_OPTIONAL_BUILD_KEYS = ("appFiles",)

PROFILE = Obj(
    {
        "name": Field(name(), True),
        "description": Field(Str(max_len=500), True),
        "prebuilt": Field(
            Bool(), description="a server run from its own image: no Dockerfile is written"
        ),
        "user": Field(Int(10000, 2147483647), True),
        "images": Field(Obj({"build": Field(_IMAGE, True), "runtime": Field(_IMAGE, True)})),
        "template": Field(Str(r"[A-Za-z0-9_.-]+", "a template file name", 100)),
        "entrypoint": Field(List(Str(max_len=4096), min_items=1)),
        "lockfiles": Field(
            List(
                Str(r"(?!.*\.\.)[A-Za-z0-9_.][A-Za-z0-9_.*/-]*", "a relative file path", 100),
                min_items=1,
            )
        ),
        "lockHint": Field(Str(max_len=500)),
        "appFiles": Field(
            app_files(
                "the app's own files and folders in the build context that the runtime stage "
                "receives, for runtimes that ship sources (a manifest's spec.build.appFiles "
                "replaces them); a profile without them ships only what its build makes"
            )
        ),
        "seccomp": Field(name(), True),
        "resources": Field(
            Obj({"requests": Field(_QUANTITIES, True), "limits": Field(_QUANTITIES, True)}), True
        ),
        "defaults": Field(
            Obj({key: MANIFEST_SPEC.fields[key] for key in _DEFAULT_KEYS}),
            description="spec fields filled in for manifests that leave them out",
        ),
    }
)


def _check_kind(doc: Document, data: dict[str, Any]) -> None:
    """A built runtime needs its build keys; a prebuilt one has none of them."""
    prebuilt = data.get("prebuilt", False)
    problems = [
        Problem(doc.at(key) if prebuilt else doc.at(""), key, message)
        for key in (*_BUILD_KEYS, *_OPTIONAL_BUILD_KEYS)
        for message in [
            "a prebuilt profile builds nothing: remove it"
            if prebuilt and key in data
            else "is required (or set prebuilt: true)"
            if not prebuilt and key not in data and key in _BUILD_KEYS
            else ""
        ]
        if message
    ]
    if problems:
        raise ManifestError(problems=problems)


SECCOMP = Obj(
    {
        "source": Field(
            Obj(
                {
                    "measured": Field(Bool(), True),
                    "runtime": Field(Str(max_len=200), True),
                    "workload": Field(Str(max_len=300), True),
                    "date": Field(Str(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date YYYY-MM-DD"), True),
                    "notes": Field(Str(max_len=2000)),
                }
            ),
            True,
        ),
        "syscalls": Field(List(Str(SYSCALL, "a syscall name"), unique=True, min_items=1), True),
        "enosys": Field(List(Str(SYSCALL, "a syscall name"), unique=True), True),
    }
)


CAPABILITY_SYSCALLS = Map(
    Str(r"[A-Z_]+", "a capability name without CAP_", 40),
    List(Str(SYSCALL, "a syscall name"), unique=True),
)


def _check_names(doc: Document, keypaths: list[str]) -> None:
    """Refuse syscall names libseccomp does not know (runc would skip them silently)."""
    known = known_syscalls()
    problems = []
    for keypath in keypaths:
        key, index = keypath[:-1].split("[")
        name = doc.data[key][int(index)]
        if name not in known:
            problems.append(
                Problem(
                    doc.at(keypath),
                    keypath,
                    f"{name!r} is not a syscall libseccomp knows on {architectures_text()}",
                )
            )
    if problems:
        raise ManifestError(problems=problems)


class SeccompBaseline(NamedTuple):
    """A runtime's measured (or derived) syscall needs."""

    name: str
    path: str
    source: dict[str, Any]
    syscalls: tuple[str, ...]
    enosys: tuple[str, ...]


class RuntimeProfile(NamedTuple):
    """What cgen knows about one runtime."""

    name: str
    path: str
    description: str
    user: int
    build_image: str
    runtime_image: str
    template: str
    entrypoint: tuple[str, ...]
    lockfiles: tuple[str, ...]
    lock_hint: str
    seccomp: SeccompBaseline
    resources: dict[str, dict[str, str]]
    # Spec keys (manifest YAML, already validated) a manifest of this runtime leaves out.
    defaults: dict[str, Any]
    prebuilt: bool = False
    # The context's files and folders the runtime stage receives (none: the build's output only).
    app_files: tuple[str, ...] = ()


class ProfileSet:
    """Runtime profiles by name: the project's own folder first, then the shipped ones."""

    def __init__(self, user_dir: Path | None, user_display: str | None) -> None:
        self.user_dir = user_dir
        self.user_display = user_display
        self._cache: dict[str, RuntimeProfile | None] = {}
        self._capabilities: dict[str, tuple[str, ...]] | None = None

    def _find(self, relative: str) -> tuple[Path | None, str]:
        if self.user_dir is not None:
            candidate = self.user_dir / relative
            if candidate.is_file():
                return candidate, f"{self.user_display}/{relative}"
        shipped = profiles_root() / relative
        if shipped.is_file():
            return Path(str(shipped)), f"<cgen>/profiles/{relative}"
        return None, relative

    def _load(self, relative: str, spec: Obj) -> Document | None:
        path, display = self._find(relative)
        if path is None:
            return None
        return load_checked(path, display, spec)

    def available(self) -> list[str]:
        """Names of every runtime profile that can be used."""
        names = {p.name[:-5] for p in profiles_root().iterdir() if p.name.endswith(".yaml")}
        if self.user_dir is not None and self.user_dir.is_dir():
            names |= {p.stem for p in self.user_dir.glob("*.yaml")}
        return sorted(names)

    def get(self, runtime: str) -> RuntimeProfile | None:
        """The profile for runtime, None when no such profile exists."""
        if runtime not in self._cache:
            self._cache[runtime] = self._build(runtime)
        return self._cache[runtime]

    def _build(self, runtime: str) -> RuntimeProfile | None:
        doc = self._load(f"{runtime}.yaml", PROFILE)
        if doc is None:
            return None
        data: dict[str, Any] = doc.data
        _check_kind(doc, data)
        if data["name"] != runtime:
            raise ManifestError(
                problems=[Problem(doc.at("name"), "name", f"must equal the file name ({runtime})")]
            )
        seccomp_doc = self._load(f"seccomp/{data['seccomp']}.yaml", SECCOMP)
        if seccomp_doc is None:
            raise ManifestError(
                problems=[
                    Problem(
                        doc.at("seccomp"),
                        "seccomp",
                        f"no seccomp baseline seccomp/{data['seccomp']}.yaml",
                    )
                ]
            )
        sdata: dict[str, Any] = seccomp_doc.data
        _check_names(
            seccomp_doc,
            [f"{key}[{i}]" for key in ("syscalls", "enosys") for i in range(len(sdata[key]))],
        )
        # A baseline never allows a dangerous syscall: only a capability or a manifest can.
        refuse_dangerous(seccomp_doc, [f"syscalls[{i}]" for i in range(len(sdata["syscalls"]))])
        baseline = SeccompBaseline(
            data["seccomp"],
            seccomp_doc.path,
            dict(sdata["source"]),
            tuple(sorted(sdata["syscalls"])),
            tuple(sorted(sdata["enosys"])),
        )
        return RuntimeProfile(
            name=runtime,
            path=doc.path,
            description=data["description"],
            user=data["user"],
            build_image=data.get("images", {}).get("build", ""),
            runtime_image=data.get("images", {}).get("runtime", ""),
            template=data.get("template", ""),
            entrypoint=tuple(data.get("entrypoint", ())),
            lockfiles=tuple(data.get("lockfiles", ())),
            lock_hint=data.get("lockHint", ""),
            seccomp=baseline,
            resources={k: dict(v) for k, v in data["resources"].items()},
            prebuilt=data.get("prebuilt", False),
            app_files=tuple(data.get("appFiles", ())),
            defaults=dict(data.get("defaults", {})),
        )

    def capability_syscalls(self) -> dict[str, tuple[str, ...]]:
        """Syscalls each capability unlocks (profiles/seccomp/capabilities.yaml)."""
        if self._capabilities is None:
            path, display = self._find("seccomp/capabilities.yaml")
            if path is None:
                raise ManifestError(problems=[Problem(Location(display), "", "missing")])
            doc = load_checked(path, display, CAPABILITY_SYSCALLS)
            _check_names(
                doc, [f"{cap}[{i}]" for cap, names in doc.data.items() for i in range(len(names))]
            )
            self._capabilities = {k: tuple(v) for k, v in doc.data.items()}
        return self._capabilities
