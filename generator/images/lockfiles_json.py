"""Lock checks for the structured formats: npm's package-lock.json, NuGet's
packages.lock.json and Cargo.lock, and the one table that maps a lock file to its check."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.images.lockfiles import Finding, go_sum, requirements

_NPM_FIX = "run npm install with npm 7 or later (lockfileVersion 3) and commit package-lock.json"
_NPM_INTEGRITY = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]+=*$")
_NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_NUGET_FIX = (
    "set <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile> and "
    "<RuntimeIdentifiers>linux-x64</RuntimeIdentifiers>, run dotnet restore once and commit "
    "packages.lock.json"
)
_NUGET_RID = "linux-x64"  # the runtime identifier the dotnet skeleton restores and publishes for
_CARGO_FIX = "run cargo generate-lockfile with a current cargo and commit Cargo.lock"


def _line_of(text: str, needle: str) -> int:
    """The 1-based line where needle first appears (0 when it does not)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _json(path: Path, fix: str) -> tuple[str, Any, list[Finding]]:
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return text, None, [Finding(path, 0, "", f"is empty: it locks nothing; {fix}")]
    try:
        return text, json.loads(text), []
    except json.JSONDecodeError as error:
        return text, None, [Finding(path, error.lineno, "", f"is not JSON ({error.msg}); {fix}")]


def _npm_stale(path: Path, root: dict[str, Any], text: str) -> list[Finding]:
    """package.json and the lock's root entry must name the same dependencies (npm ci)."""
    manifest = path.with_name("package.json")
    if not manifest.is_file():
        return []
    try:
        wanted = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [Finding(manifest, 0, "", f"is not JSON; {_NPM_FIX}")]
    if not isinstance(wanted, dict):
        return []
    found: list[Finding] = []
    for section in _NPM_SECTIONS:
        declared, locked = wanted.get(section) or {}, root.get(section) or {}
        if not isinstance(declared, dict) or not isinstance(locked, dict):
            continue
        for name in sorted(set(declared) ^ set(locked)):
            side = "package.json" if name in declared else "package-lock.json"
            found.append(
                Finding(
                    path,
                    _line_of(text, '"packages"'),
                    f"{section}.{name}",
                    f"is stale: only {side} names {name} in {section}, and npm ci refuses a "
                    f"lock that does not match package.json; {_NPM_FIX}",
                )
            )
    return found


def npm(path: Path) -> list[Finding]:
    """lockfileVersion 2 or 3, integrity for every fetched package, in step with package.json."""
    text, data, found = _json(path, _NPM_FIX)
    if found:
        return found
    version = data.get("lockfileVersion") if isinstance(data, dict) else None
    packages = data.get("packages") if isinstance(data, dict) else None
    if version not in (2, 3) or not isinstance(packages, dict):
        return [
            Finding(
                path,
                _line_of(text, '"lockfileVersion"'),
                "lockfileVersion",
                f"is lockfileVersion {version}: without the `packages` section of versions 2 "
                f"and 3 npm ci re-resolves the tree; {_NPM_FIX}",
            )
        ]
    for key, entry in packages.items():
        fetched = key.startswith("node_modules/") or "/node_modules/" in key
        if not fetched or not isinstance(entry, dict):
            continue  # the project itself and its workspace folders come from the context
        if entry.get("link") or entry.get("inBundle"):
            continue  # a symlink to a workspace, or shipped inside its parent's tarball
        integrity = entry.get("integrity")
        strong = isinstance(integrity, str) and any(
            _NPM_INTEGRITY.match(part) for part in integrity.split()
        )
        if not strong:
            what = "only a SHA-1 integrity" if integrity else "no integrity"
            found.append(
                Finding(
                    path,
                    _line_of(text, json.dumps(key)),
                    key,
                    f"has {what}: npm ci cannot verify what it downloads for this package; "
                    f"{_NPM_FIX}",
                )
            )
    root = packages.get("")
    return found + (_npm_stale(path, root, text) if isinstance(root, dict) else [])


def nuget(path: Path) -> list[Finding]:
    """Version 1 or 2, a linux-x64 target, and a contentHash for every package."""
    text, data, found = _json(path, _NUGET_FIX)
    if found:
        return found
    targets = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(targets, dict) or data.get("version") not in (1, 2):
        return [
            Finding(path, 1, "version", f"is not a NuGet lock file (version 1 or 2); {_NUGET_FIX}")
        ]
    if not any(isinstance(t, str) and t.endswith("/" + _NUGET_RID) for t in targets):
        found.append(
            Finding(
                path,
                _line_of(text, '"dependencies"'),
                "dependencies",
                f"has no {_NUGET_RID} target, so dotnet restore --locked-mode -r {_NUGET_RID} "
                f"fails (the runtime packages are not locked); {_NUGET_FIX}",
            )
        )
    for target, entries in sorted(targets.items()):
        for name, entry in sorted((entries or {}).items()) if isinstance(entries, dict) else ():
            if not isinstance(entry, dict) or entry.get("type") == "Project":
                continue  # a project reference is built from the context
            if not entry.get("contentHash"):
                found.append(
                    Finding(
                        path,
                        _line_of(text, json.dumps(name)),
                        f"dependencies.{target}.{name}",
                        f"has no contentHash: the restore cannot verify it; {_NUGET_FIX}",
                    )
                )
    return found


def _cargo_line(text: str, name: str, version: str) -> int:
    match = re.search(rf'^name = "{re.escape(name)}"\nversion = "{re.escape(version)}"', text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def cargo(path: Path) -> list[Finding]:
    """Packages listed, every registry package with a checksum, every git source at a commit."""
    import tomllib  # only Cargo.lock is TOML: not imported by every render

    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        return [
            Finding(path, int(line[1]) if line else 0, "", f"is not TOML ({error}); {_CARGO_FIX}")
        ]
    packages = data.get("package")
    if not isinstance(packages, list) or not packages:
        return [Finding(path, 0, "", f"lists no package: it locks nothing; {_CARGO_FIX}")]
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    found: list[Finding] = []
    for package in packages:
        if not isinstance(package, dict):
            continue
        name, version = str(package.get("name")), str(package.get("version"))
        source = str(package.get("source") or "")
        legacy = f"checksum {name} {version} ({source})" in (metadata or {})
        if source.startswith(("registry+", "sparse+")) and not (package.get("checksum") or legacy):
            problem = "has no checksum: cargo build --locked cannot verify the crate"
        elif source.startswith("git+") and "#" not in source:
            problem = "is a git source without a commit"
        else:
            continue
        found.append(
            Finding(
                path,
                _cargo_line(text, name, version),
                f"{name} {version}",
                f"{problem}; {_CARGO_FIX}",
            )
        )
    return found


CHECKS: dict[str, Callable[[Path], list[Finding]]] = {
    "requirements.txt": requirements,
    "go.sum": go_sum,
    "package-lock.json": npm,
    "packages.lock.json": nuget,
    "Cargo.lock": cargo,
}


def check(path: Path) -> list[Finding]:
    """What is wrong with one lock file; nothing for a format cgen does not read."""
    checker = CHECKS.get(path.name)
    if checker is None:
        return []
    try:
        return checker(path)
    except (OSError, UnicodeDecodeError) as error:
        return [Finding(path, 0, "", f"cannot be read: {error}")]
