"""Safe YAML loading that remembers where every key and value came from."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import Location, Problem

MAX_FILE_BYTES = 1 << 20  # a manifest is a page of YAML; refuse anything huge
MAX_NODES = 100_000  # aliases can expand exponentially ("billion laughs"); stop early
# The composer recurses once per level: a few hundred levels would overflow Python's stack.
# No cgen file needs more than a handful of levels.
MAX_DEPTH = 64
_CORE = "tag:yaml.org,2002:"
# Explicit tags that yield plain JSON-like data; !!binary, !!set, !!omap, !!pairs would put
# bytes, sets or pairs where every later step expects strings, lists and mappings.
_PLAIN_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


class _Unsure(Exception):
    """libyaml's reading may differ from the reference here: read the text again."""


class _Refused(Exception):
    """A located problem that ends the reading of one file."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Bounded(yaml.composer.Composer):
    """A composer with a nesting limit, so deep input is an error, not a crash."""

    name: Any

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # index is the key node (for a mapping value), the position (in a sequence), or
        # None (a key or the root): enough to name the key path where the limit is hit.
        path: list[str | int] = self.__dict__.setdefault("_cgen_path", [])
        if isinstance(index, yaml.ScalarNode):
            path.append(str(index.value))
        elif isinstance(index, int) and not isinstance(index, bool):
            path.append(index)
        else:
            path.append("<key>" if parent is not None else "")
        try:
            if len(path) > MAX_DEPTH:
                keypath = ""
                for part in path[1:]:
                    keypath = join(keypath, part)
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _Refused(
                    Problem(
                        Location(self.name, mark.line + 1, mark.column + 1),
                        keypath.replace(".<key>", ""),
                        f"invalid YAML: nested deeper than {MAX_DEPTH} levels",
                    )
                )
            return super().compose_node(parent, index)
        finally:
            path.pop()


class _BoundedLoader(_Bounded, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, bounded: the reference for every error message."""


_FastLoader: Callable[[str], Any] | None = None
try:  # libyaml's scanner and parser, when PyYAML was built with it
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    pass
else:

    class _CLoader(_Bounded, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml's events composed by the same bounded Python composer: the same nodes
        with the same marks, several times faster than the pure-Python scanner."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
            node = super().compose_scalar_node(anchor)
            if node.value == "" and not node.style:
                raise _Unsure  # libyaml may place an empty plain value's mark elsewhere
            return node

    _FastLoader = _CLoader


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
        self.open: set[int] = set()

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node, keypath: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            message = f"invalid YAML: more than {MAX_NODES} values (aliases expanding?)"
            raise _Refused(Problem(self.loc(node), keypath, message))
        self.doc.marks[keypath] = self.loc(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            # An alias inside the node it names (&a [*a]) would nest for ever.
            if id(node) in self.open:
                message = "invalid YAML: an alias refers to a node that contains it"
                raise _Refused(Problem(self.loc(node), keypath, message))
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, keypath)
                return [self.convert(item, join(keypath, i)) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        if node.tag == _CORE + "timestamp":
            return str(node.value)  # dates stay text: no implicit datetime objects
        return self._scalar(node, keypath)

    def _scalar(self, node: yaml.Node, keypath: str) -> Any:
        if node.tag.startswith(_CORE) and node.tag not in _PLAIN_TAGS:
            tag = "!!" + node.tag.removeprefix(_CORE)
            raise _Refused(Problem(self.loc(node), keypath, f"the tag {tag} is not supported"))
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            reason = exc.problem or exc.context or "invalid YAML"
            raise _Refused(Problem(self.loc(node), keypath, f"invalid YAML: {reason}")) from None
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            # PyYAML's constructors convert explicitly tagged scalars (!!int 'x') with int(),
            # float() and dict lookups and let their exceptions escape.
            tag = node.tag.removeprefix(_CORE)
            shown = str(node.value)[:40]
            reason = f"{shown!r} is not a valid !!{tag}" if tag != node.tag else str(exc)
            raise _Refused(Problem(self.loc(node), keypath, f"invalid YAML: {reason}")) from None

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
    return parse(text, display)


def parse(text: str, display: str) -> tuple[list[Document], list[Problem]]:
    """Parse YAML text into documents; every parser failure becomes a located problem."""
    # libyaml words its errors differently, and reads a few texts otherwise than PyYAML (a
    # tab between tokens, a ? inside a plain scalar in a flow collection, a byte order mark
    # past the start, the mark of an empty value): such texts, and any text libyaml does
    # not take cleanly, are read by the pure-Python loader, whose messages and marks are
    # the reference.
    if _FastLoader is not None and not any(c in text for c in ("\t", "?", "\ufeff")):
        try:
            docs, problems = _parse(_FastLoader, text, display)
        except Exception:  # any failure is reported by the reference loader
            docs, problems = [], [Problem(Location(display), "", "")]
        if not problems:
            return docs, problems
    return _parse(_BoundedLoader, text, display)


def _parse(
    kind: Callable[[str], Any], text: str, display: str
) -> tuple[list[Document], list[Problem]]:
    try:
        loader = kind(text)
    except yaml.reader.ReaderError as exc:
        return [], [_reader_problem(exc, text, display)]
    loader.name = display
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
    except _Refused as exc:
        return [], [exc.problem]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        reason = exc.problem or exc.context or "invalid YAML"
        return [], [Problem(where, "", f"invalid YAML: {reason}")]
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        # The last line of defence: whatever else the parser raises still names the file
        # and the place it had reached.
        mark = loader.get_mark()
        where = Location(display, mark.line + 1, mark.column + 1)
        return [], [Problem(where, "", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return docs, problems


def _reader_problem(exc: yaml.reader.ReaderError, text: str, display: str) -> Problem:
    """A character YAML does not allow (a control character), at its line, column and key."""
    pos = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    where = Location(display, line, column)
    message = (
        f"invalid YAML: the control character U+{ord(char):04X} is not allowed"
        ' (write it as an escape in a double-quoted string, e.g. "\\x01")'
    )
    return Problem(where, _keypath_at(text, display, where), message)


def _keypath_at(text: str, display: str, where: Location) -> str:
    """The key whose value holds where, found by parsing the text with the bad characters
    blanked out; empty when even that text does not parse."""
    blanked = "".join(
        c if c in "\t\n\r" or (" " <= c != "\x7f" and not 0x80 <= ord(c) < 0xA0) else "_"
        for c in text
    )
    try:
        docs, _ = parse(blanked, display) if blanked != text else ([], [])
    except RecursionError:
        return ""
    best, found = Location(display), ""
    for doc in docs:
        for keypath, loc in [*doc.marks.items(), *doc.key_marks.items()]:
            if best <= loc <= where and keypath:
                best, found = loc, keypath
    return found


def display_path(path: Path) -> str:
    """A path as shown to the user and in headers: relative to the current folder, POSIX."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = str(path)
    if rel.startswith(".."):
        rel = str(path.resolve())
    return Path(rel).as_posix()
