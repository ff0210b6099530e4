"""What a source folder runs and ships: the entry point and app files `cgen init` writes.

python and node images ship sources, so the manifest must name the app's own files
(spec.build.appFiles) and what runs (spec.build.entrypoint). The conventions read here are
those of the source layouts, not of the builds: a python entry module (`app.py`,
`main.py`, a package with `__main__.py`), a node `package.json` (`scripts.start`, `main`).
Beside the entry, the app files are the folder's own modules the entry imports, directly
or through each other, so the image holds what the program loads and nothing else.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.manifest.formats import app_files
from generator.runtime.profiles import RuntimeProfile

# A folder holding more source files than this is not scanned further (a vendored tree).
MAX_SCANNED = 500
# Python entry modules, in the order they are preferred (after a package with __main__.py).
PY_ENTRIES = ("app.py", "main.py", "server.py", "run.py")
NOT_APP = ("test", "tests", "docs", "node_modules", "venv", "build", "dist", "site-packages")
# Options of `node` that take a value: `node -r dotenv/config index.js` runs index.js.
NODE_VALUE_OPTIONS = ("-r", "--require", "--import", "--loader", "--experimental-loader")
_NODE_IMPORT = re.compile(
    r"""(?:\brequire\s*\(|\bimport\s*\(|\bfrom\s+|\bimport\s+)\s*['"](\.{1,2}/[^'"\s]*)['"]"""
)
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_APP_FILE = app_files().item


@dataclass
class Layout:
    """What init writes under spec.build, and what it says about how it found it."""

    app_files: list[str] | None = None  # None: the profile's default fits
    entrypoint: list[str] | None = None  # None: the profile's default fits
    lines: list[str] = field(default_factory=list)


def _shippable(name: str) -> bool:
    pattern = getattr(_APP_FILE, "pattern", None)
    return isinstance(pattern, str) and re.fullmatch(pattern, name) is not None


def _sources(path: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """A file itself, or the source files below a folder (sorted, bounded)."""
    if path.is_file():
        yield path
        return
    found = sorted(
        p
        for p in path.rglob("*")
        if p.suffix in suffixes and "node_modules" not in p.parts and p.is_file()
    )
    yield from found[:MAX_SCANNED]


def _closure(source: Path, entry: str, imports: Callable[[Path], set[str]]) -> list[str]:
    """The entry's top-level component and every one it reaches through local imports."""
    found = [entry]
    queue = [entry]
    while queue:
        for name in sorted(imports(source / queue.pop())):
            if name not in found and _shippable(name):
                found.append(name)
                queue.append(name)
    return found


def _python_imports(source: Path) -> Callable[[Path], set[str]]:
    def imports(path: Path) -> set[str]:
        names: set[str] = set()
        for file in _sources(path, (".py",)):
            try:
                tree = ast.parse(file.read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
        # Only what the folder itself holds: a module file or a package folder.
        return {hit for n in names for hit in (f"{n}.py", n) if (source / hit).exists()}

    return imports


def python(source: Path, profile: RuntimeProfile) -> Layout | None:
    """The python entry module (`python3 -m NAME`) and the local modules it imports."""
    packages = sorted(
        p.name
        for p in source.iterdir()
        if p.is_dir()
        and (p / "__main__.py").is_file()
        and p.name not in NOT_APP
        and not p.name.startswith(".")
    )
    files = [name for name in PY_ENTRIES if (source / name).is_file()]
    if len(packages) > 1:
        said = f"packages {', '.join(packages)} each have a __main__.py: name the one that "
        return Layout(lines=[said + "runs with build.entrypoint and build.appFiles"])
    entry = packages[0] if packages else (files[0] if files else None)
    if entry is None:
        return None
    module = entry.removesuffix(".py")
    shipped = _closure(source, entry, _python_imports(source))
    return _layout(profile, module, shipped, f"{entry} (python3 -m {module})")


def _node_imports(source: Path) -> Callable[[Path], set[str]]:
    def imports(path: Path) -> set[str]:
        names: set[str] = set()
        for file in _sources(path, (".js", ".mjs", ".cjs")):
            try:
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            here = posixpath.dirname(file.relative_to(source).as_posix())
            for spec in _NODE_IMPORT.findall(text):
                target = posixpath.normpath(posixpath.join(here, spec))
                top = target.split("/")[0]
                if top in ("..", ".", ""):
                    continue  # outside the context: the build could not copy it anyway
                for hit in (top, f"{top}.js", f"{top}.mjs", f"{top}.cjs", f"{top}.json"):
                    if (source / hit).exists():
                        names.add(hit)
                        break
        return names

    return imports


def _start_script(command: str) -> tuple[list[str], str, list[str]] | None:
    """`[VAR=value] node [options] FILE` of an npm start script: options, file, variables."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    env = []
    while words and _ENV_ASSIGNMENT.fullmatch(words[0]):
        env.append(words.pop(0))
    if not words or posixpath.basename(words[0]) != "node":
        return None
    options: list[str] = []
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-e", "--eval", "-p", "--print"):
            return None
        options.append(option)
        if option in NODE_VALUE_OPTIONS and rest:
            options.append(rest.pop(0))
    return (options, rest[0], env) if rest else None


def _node_file(source: Path, name: str) -> str | None:
    path = posixpath.normpath(name.strip())
    if path.startswith(("/", "..")) or path == ".":
        return None
    for hit in (path, f"{path}.js", f"{path}/index.js"):
        if (source / hit).is_file():
            return hit
    return path  # named, but not in the source (built by a step the image does not run?)


def node(source: Path, profile: RuntimeProfile) -> Layout | None:
    """What `npm start` (or package.json's main) runs, and the local files it requires."""
    try:
        package = json.loads((source / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(package, dict):
        return None
    scripts = package.get("scripts")
    start = scripts.get("start") if isinstance(scripts, dict) else None
    lines: list[str] = []
    parsed = _start_script(start) if isinstance(start, str) else None
    if isinstance(start, str) and parsed is None:
        lines.append(f"scripts.start {start!r} does not run `node FILE`: the image runs "
                     "node itself; check build.entrypoint")  # fmt: skip
    options: list[str] = []
    file: str | None = None
    said = ""
    if parsed is not None:
        options, named, env = parsed
        file, said = _node_file(source, named), "scripts.start"
        if env:
            lines.append(f"scripts.start sets {' '.join(env)}: the image does not run npm; "
                         "give the pod what it needs with spec.env")  # fmt: skip
    elif isinstance(package.get("main"), str):
        file, said = _node_file(source, package["main"]), "package.json main"
    else:
        found = [n for n in ("server.js", "index.js") if (source / n).is_file()]
        file, said = (found[0], "the file npm start runs") if found else (None, "")
    if file is None:
        return Layout(lines=lines) if lines else None
    if not (source / file).exists():
        lines.append(f"{said} names {file}, which the source does not hold: the image "
                     "build runs no compile step; commit it or name the built files")  # fmt: skip
    # package.json tells node the module type and is read at run time: always shipped.
    found = _closure(source, file.split("/")[0], _node_imports(source))
    shipped = ["package.json", *(n for n in found if n != "package.json")]
    layout = _layout(profile, file, shipped, f"{file}, from {said}", options)
    layout.lines[:0] = lines
    return layout


def _layout(
    profile: RuntimeProfile,
    target: str,
    shipped: list[str],
    said: str,
    options: list[str] | None = None,
) -> Layout:
    """Entry point and app files as the manifest writes them: only what the profile lacks."""
    layout = Layout()
    default = list(profile.entrypoint)
    # The profile's entrypoint ends with what it runs (python3 -m app, node server.js);
    # the same interpreter runs this source's entry instead.
    if default and default[-1] in profile.app_files:
        entrypoint = [*default[:-1], *(options or []), target]
        if entrypoint != default:
            layout.entrypoint = entrypoint
        runs = " ".join(entrypoint)
    else:
        runs = " ".join(default)
    files = list(shipped)
    if files != list(profile.app_files):
        layout.app_files = files
    layout.lines.append(
        f"runs {said}: entrypoint {runs}; ships {', '.join(files)} (the entry and the local "
        "modules it imports: add files it reads at run time to build.appFiles)"
    )
    return layout


# The source-layout conventions init knows, by the runtime whose profile ships sources.
FINDERS: dict[str, Callable[[Path, RuntimeProfile], Layout | None]] = {
    "python": python,
    "node": node,
}


def find(source: Path, profile: RuntimeProfile) -> Layout | None:
    """The source's entry point and app files, when its profile ships sources."""
    finder = FINDERS.get(profile.name)
    if finder is None or not profile.app_files:
        return None
    return finder(source, profile)
