"""Safe YAML loading that remembers where every key and value came from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import Location, Problem

MAX_FILE_BYTES = 1 << 20  # a manifest is a page of YAML; refuse anything huge
MAX_NODES = 100_000  # aliases can expand exponentially ("billion laughs"); stop early


@dataclass
class Document:
    """One YAML document as plain data plus the location of every key path in it."""

    path: str
    data: Any
    marks: dict[str, Location] = field(default_factory=dict)
    key_marks: dict[str, Location] = field(default_factory=dict)
    # The file relative to the project folder, for headers of generated files: unlike
    # path (relative to the current folder), it does not change with where cgen runs.
    source: str = ""

    def at(self, keypath: str) -> Location:
        """Location of the value at keypath, or of its nearest enclosing key."""
        probe = keypath
        while probe:
            if probe in self.marks:
                return self.marks[probe]
            probe = _parent(probe)
        return self.marks.get("", Location(self.path, 1, 1))

    def has(self, keypath: str) -> bool:
        """Whether the document spells out keypath (rather than leaving it to a default)."""
        return keypath in self.key_marks or keypath in self.marks

    def key_at(self, keypath: str) -> Location:
        """Location of the key itself (for unknown keys), else of its value."""
        return self.key_marks.get(keypath) or self.at(keypath)


def _parent(keypath: str) -> str:
    cut = max(keypath.rfind("."), keypath.rfind("["))
    return keypath[:cut] if cut > 0 else ""


def join(keypath: str, key: str | int) -> str:
    """Extend a dotted key path by a mapping key or a list index."""
    if isinstance(key, int):
        return f"{keypath}[{key}]"
    return f"{keypath}.{key}" if keypath else key


class _Converter:
    def __init__(self, path: str, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.doc = Document(path=path, data=None)
        self.problems: list[Problem] = []
        self.count = 0

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node, keypath: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise yaml.YAMLError(f"more than {MAX_NODES} values (aliases expanding?)")
        self.doc.marks[keypath] = self.loc(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, keypath)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, join(keypath, i)) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text: no implicit datetime objects
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, keypath: str) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(self.loc(key_node), keypath, "merge keys (<<) are not supported")
                )
                continue
            key = self.convert(key_node, join(keypath, "<key>"))
            if not isinstance(key, str):
                key = str(key) if not isinstance(key, bool) else str(key).lower()
            child = join(keypath, key)
            if key in result:
                self.problems.append(
                    Problem(self.loc(key_node), child, "duplicate key", (self.doc.key_at(child),))
                )
                continue
            self.doc.key_marks[child] = self.loc(key_node)
            result[key] = self.convert(value_node, child)
        self.doc.marks.pop(join(keypath, "<key>"), None)
        return result


def load_documents(path: Path, display: str) -> tuple[list[Document], list[Problem]]:
    """Load every YAML document of a file; syntax errors become located problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(Location(display), "", f"cannot read file: {exc.strerror}")]
    if len(raw) > MAX_FILE_BYTES:
        return [], [Problem(Location(display), "", "file is larger than 1 MiB")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(Location(display), "", f"not UTF-8 text (byte {exc.start})")]
    loader = yaml.SafeLoader(text)
    docs: list[Document] = []
    problems: list[Problem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            conv = _Converter(display, loader)
            conv.doc.data = conv.convert(node, "")
            docs.append(conv.doc)
            problems.extend(conv.problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        reason = exc.problem or exc.context or "invalid YAML"
        return [], [Problem(where, "", f"invalid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return [], [Problem(Location(display), "", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return docs, problems


def display_path(path: Path) -> str:
    """A path as shown to the user and in headers: relative to the current folder, POSIX."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = str(path)
    if rel.startswith(".."):
        rel = str(path.resolve())
    return Path(rel).as_posix()
