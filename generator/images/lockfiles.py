"""What a lock file in a build context locks: a lock that locks nothing is refused at load.

Each check knows one lock-file format (pip requirements and Go modules here; npm, NuGet
and Cargo in lockfiles_json.py) and reports every place where a locked restore would fail
or would fetch something unverified, at the line of the lock file that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    """One place in a lock file that does not lock what it names."""

    path: Path
    line: int
    key: str
    message: str


_PIP_HASH = re.compile(
    r"^--hash[=\s](sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$"
)
_PIP_HASH_FIX = (
    "generate the file with every hash: pip-compile --generate-hashes -o requirements.txt "
    "(pip-tools) or uv pip compile --generate-hashes -o requirements.txt"
)
# pip's own comment rule: `#` at the start or after whitespace starts a comment.
_PIP_COMMENT = re.compile(r"(^|\s+)#.*$")
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s*,;<>=!~]+\s*(;.*)?$")
_NESTED = ("-r", "--requirement", "-c", "--constraint")
_EDITABLE = ("-e", "--editable")


def _pip_lines(text: str) -> list[tuple[int, str]]:
    """Logical lines of a requirements file (continuations joined, comments removed)."""
    lines: list[tuple[int, str]] = []
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), 1):
        if not parts:
            start = number
        line = _PIP_COMMENT.sub("", raw)
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(p.strip() for p in parts).strip()
        parts = []
        if joined:
            lines.append((start, joined))
    if parts and " ".join(parts).strip():
        lines.append((start, " ".join(p.strip() for p in parts).strip()))
    return lines


def _requirement(path: Path, number: int, line: str) -> list[Finding]:
    """Whether one requirement line can pass `pip install --require-hashes`."""
    spec, _, options = line.partition(" --")
    spec = spec.strip()
    options = "--" + options if options else ""
    hashes = re.findall(r"--hash[=\s]+\S+", options)
    name = re.split(r"[\s\[=<>!~;@]", spec, maxsplit=1)[0] or spec
    found: list[Finding] = []
    if not hashes:
        found.append(
            Finding(
                path,
                number,
                name,
                f"{spec} has no --hash: pip install --require-hashes refuses it; {_PIP_HASH_FIX}",
            )
        )
    for value in hashes:
        if not _PIP_HASH.match(value.replace("--hash ", "--hash=")):
            found.append(
                Finding(
                    path,
                    number,
                    name,
                    f"{value} is not a sha256, sha384 or sha512 hex digest; {_PIP_HASH_FIX}",
                )
            )
    if " @ " not in spec and not _PINNED.match(spec):
        found.append(
            Finding(
                path,
                number,
                name,
                f"{spec} is not pinned to one version with ==: hash-checking mode installs "
                f"only exact versions; {_PIP_HASH_FIX}",
            )
        )
    return found


def requirements(path: Path) -> list[Finding]:
    """Every requirement hashed and pinned, no editable or nested file, and not empty."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return [
            Finding(
                path,
                0,
                "",
                "is empty: it locks nothing; if the service needs no package, say so in "
                f"a # comment line, else {_PIP_HASH_FIX}",
            )
        ]
    found: list[Finding] = []
    for number, line in _pip_lines(text):
        option = line.split()[0].split("=")[0]
        if option in _NESTED:
            found.append(
                Finding(
                    path,
                    number,
                    option,
                    f"{line} names another file, which the build does not copy: "
                    f"{_PIP_HASH_FIX} to write one self-contained file",
                )
            )
        elif option in _EDITABLE:
            found.append(
                Finding(
                    path,
                    number,
                    option,
                    f"{line} is editable, and an editable requirement cannot be "
                    f"hash-checked: build it into a wheel or list it by version; {_PIP_HASH_FIX}",
                )
            )
        elif not line.startswith("-"):
            found += _requirement(path, number, line)
    return found


_GO_SUM_LINE = re.compile(r"^(\S+) (v\S+?)(/go\.mod)? h1:[A-Za-z0-9+/]{43}=$")
_GO_FIX = "run go mod tidy and commit go.mod and go.sum"


def _go_directives(text: str, verb: str) -> list[tuple[int, list[str]]]:
    """The (line, fields) of every `verb` directive of a go.mod, single or in a block."""
    found: list[tuple[int, list[str]]] = []
    block = False
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("//", 1)[0].split()
        if not fields:
            continue
        if block:
            if fields == [")"]:
                block = False
            else:
                found.append((number, fields))
        elif fields[0] == verb:
            if fields[1:] == ["("]:
                block = True
            elif len(fields) > 1:
                found.append((number, fields[1:]))
    return found


def _go_sums(path: Path) -> tuple[set[tuple[str, str]], list[Finding]]:
    """The (module, version) pairs go.sum holds a checksum for, and its malformed lines."""
    found: list[Finding] = []
    sums: set[tuple[str, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _GO_SUM_LINE.match(line.strip())
        if match:
            sums.add((match[1], match[2]))
        elif line.strip():
            found.append(
                Finding(path, number, "", f"is not a go.sum line ({line.strip()!r}); {_GO_FIX}")
            )
    return sums, found


def go_sum(path: Path) -> list[Finding]:
    """Every module go.mod requires has its checksum in go.sum, and go.sum is well formed."""
    mod = path.with_name("go.mod")
    if not mod.is_file():
        return [Finding(path, 0, "", f"has no go.mod beside it; {_GO_FIX}")]
    sums, found = _go_sums(path)
    text = mod.read_text(encoding="utf-8")
    if not _go_directives(text, "module"):
        found.append(Finding(mod, 0, "module", f"has no module line; {_GO_FIX}"))
    replaced: dict[str, list[str]] = {}
    for _, fields in _go_directives(text, "replace"):
        if "=>" in fields:
            arrow = fields.index("=>")
            replaced[fields[0]] = fields[arrow + 1 :]
    for number, fields in _go_directives(text, "require"):
        if len(fields) < 2:
            continue
        module, version = fields[0], fields[1]
        target = replaced.get(module)
        if target is not None:
            if len(target) < 2:
                continue  # replaced by a local folder: built from the context itself
            module, version = target[0], target[1]
        if (module, version) not in sums:
            found.append(
                Finding(
                    mod,
                    number,
                    module,
                    f"go.sum has no checksum for {module} {version}: go mod verify and "
                    f"-mod=readonly refuse the build (go.sum is stale); {_GO_FIX}",
                )
            )
    return found
