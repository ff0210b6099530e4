"""A small HCL writer whose output reads like `terraform fmt` wrote it.

Structured data in, text out: every string is escaped for HCL (so no manifest value can
become an expression), attribute names and labels are checked, and `=` signs are aligned
the way hclwrite aligns them (consecutive one-line attributes of one body; a blank line,
a comment, a block or a multi-line value ends the group).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

INDENT = "  "
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Object keys written bare: no hyphen (a key is an expression: `a-b` would subtract) and
# no keyword that HCL would read as a value or a `for` expression.
BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if", "else", "endif", "endfor"})


@dataclass(frozen=True)
class Raw:
    """An HCL expression written as is (a reference such as module.x); never user input."""

    text: str


Value: TypeAlias = "str | int | float | bool | Raw | Sequence[Value] | Mapping[str, Value] | None"


@dataclass(frozen=True)
class Attribute:
    """`name = value` inside a body."""

    name: str
    value: Value


@dataclass(frozen=True)
class Comment:
    """One `# text` line inside a body."""

    text: str


@dataclass
class Block:
    """`type "label" ... { body }`."""

    type: str
    labels: tuple[str, ...] = ()
    body: list[Attribute | Block | Comment] = field(default_factory=list)


def identifier(name: str) -> str:
    """name, if it is a valid HCL identifier (attribute names, block types); else ValueError."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an HCL identifier: {name!r}")
    return name


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """text as an HCL quoted string that parses back to exactly text (no interpolation)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in ("$", "%") and text.startswith("{", i + 1):
            # `${` and `%{` start template sequences; doubling the sigil makes them literal.
            out.append(char + char + "{")
            i += 2
            continue
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in "\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
        i += 1
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    """An object key: bare when that is unambiguous, else quoted."""
    return key if BARE_KEY.fullmatch(key) and key not in KEYWORDS else quote(key)


def _scalar(value: Value) -> str | None:
    """The one-line text of a scalar (or Raw, or empty collection); None if multi-line."""
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"HCL has no literal for {value!r}")
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        return "{}" if not value else None
    items = [_scalar(v) for v in value]
    if None in items:
        return None
    return "[" + ", ".join(s for s in items if s is not None) + "]"


def _value_lines(value: Value, depth: int) -> list[str]:
    """The lines of a multi-line value; the first continues the line of its `=` or comma."""
    pad = INDENT * (depth + 1)
    if isinstance(value, Mapping):
        rows = [(_key(str(key)), item) for key, item in value.items()]
        return ["{", *_aligned(rows, depth + 1), INDENT * depth + "}"]
    assert isinstance(value, Sequence) and not isinstance(value, str)
    lines = ["["]
    for item in value:
        text = _scalar(item)
        if text is not None:
            lines.append(f"{pad}{text},")
        else:
            inner = _value_lines(item, depth + 1)
            lines.append(pad + inner[0])
            lines += inner[1:-1]
            lines.append(inner[-1] + ",")
    lines.append(INDENT * depth + "]")
    return lines


def _aligned(rows: list[tuple[str, Value]], depth: int) -> list[str]:
    """`key = value` rows at one depth, aligning the `=` of consecutive one-line rows."""
    lines: list[str] = []
    group: list[tuple[str, str]] = []
    pad = INDENT * depth

    def flush() -> None:
        width = max((len(k) for k, _ in group), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in group)
        group.clear()

    for key, value in rows:
        text = _scalar(value)
        if text is not None:
            group.append((key, text))
            continue
        flush()
        inner = _value_lines(value, depth)
        lines.append(f"{pad}{key} = {inner[0]}")
        lines += inner[1:]
    flush()
    return lines


def _block_lines(block: Block, depth: int) -> list[str]:
    pad = INDENT * depth
    head = " ".join([identifier(block.type), *(quote(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{}}"]
    lines = [f"{pad}{head} {{"]
    rows: list[tuple[str, Value]] = []
    for item in block.body:
        if isinstance(item, Attribute):
            rows.append((identifier(item.name), item.value))
            continue
        lines += _aligned(rows, depth + 1)
        rows = []
        if isinstance(item, Comment):
            lines.append(f"{pad}{INDENT}# {_comment_text(item.text)}".rstrip())
        else:
            lines += _block_lines(item, depth + 1)
    lines += _aligned(rows, depth + 1)
    lines.append(f"{pad}}}")
    return lines


def _comment_text(text: str) -> str:
    # A comment ends at the line break: anything after it would be parsed as HCL.
    return "".join(" " if ord(c) < 0x20 or c in "\x7f\u2028\u2029" else c for c in text)


def document(header: list[str], blocks: list[Block]) -> str:
    """A whole .tf file: `#` header lines, then the blocks separated by blank lines."""
    parts = ["\n".join(f"# {_comment_text(h)}".rstrip() for h in header)] if header else []
    parts += ["\n".join(_block_lines(block, 0)) for block in blocks]
    return "\n\n".join(parts) + "\n"
