"""A small declarative schema: validates loaded YAML with located errors and emits JSON Schema.

One description serves both `cgen validate` (strict, every problem reported) and
`cgen schema` (for editors), so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Location, ManifestError, Problem
from generator.loader import Document, join, load_documents
from generator.suggest import spelled

Json = dict[str, Any]
Checker = Callable[[Any], str | None]
# An Enum with more values than this names the nearest one instead of listing them all.
_LISTED = 8


class Context:
    """Collects problems while one document is checked."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def fail(self, keypath: str, message: str, *, key: bool = False) -> None:
        """Record a problem at keypath (at the key itself when key=True)."""
        loc = self.doc.key_at(keypath) if key else self.doc.at(keypath)
        self.problems.append(Problem(loc, keypath, message))


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


class Spec:
    """Base of every schema node."""

    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        """Validate value; record problems; True when it is valid."""
        raise NotImplementedError

    def json_schema(self) -> Json:
        """This node as JSON Schema (draft 2020-12)."""
        raise NotImplementedError

    def _described(self, schema: Json) -> Json:
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Str(Spec):
    """A string, optionally matching a pattern, a length bound and a custom check."""

    pattern: str | None = None
    hint: str = ""
    max_len: int | None = None
    checks: tuple[Checker, ...] = ()
    description: str = ""
    # Where max_len comes from (an RFC, a Kubernetes rule, a kernel limit), for the error.
    why: str = ""
    # Compiled on first use: most of the contract's patterns are never needed by a run.
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def _matches(self, pattern: str, value: str) -> bool:
        if self._regex is None:
            self._regex = re.compile(pattern)
        return self._regex.fullmatch(value) is not None

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if not isinstance(value, str):
            extra = " (quote it)" if isinstance(value, bool | int | float) else ""
            ctx.fail(keypath, f"must be a string, not {_type_name(value)}{extra}")
            return False
        if self.max_len is not None and len(value) > self.max_len:
            why = f" ({self.why})" if self.why else ""
            ctx.fail(keypath, f"must be at most {self.max_len} characters{why}")
            return False
        if self.pattern and not self._matches(self.pattern, value):
            ctx.fail(keypath, f"{value!r} is not {self.hint or 'valid'}")
            return False
        for checker in self.checks:
            error = checker(value)
            if error:
                ctx.fail(keypath, error)
                return False
        return True

    def json_schema(self) -> Json:
        schema: Json = {"type": "string"}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.max_len is not None:
            schema["maxLength"] = self.max_len
        return self._described(schema)


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Const(Spec):
    """Exactly one allowed string (apiVersion, kind)."""

    value: str
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if value != self.value:
            ctx.fail(keypath, f"must be {self.value!r}")
            return False
        return True

    def json_schema(self) -> Json:
        return self._described({"const": self.value})


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Int(Spec):
    """A whole number within bounds (booleans are not numbers here)."""

    minimum: int | None = None
    maximum: int | None = None
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(keypath, f"must be a whole number, not {_type_name(value)}")
            return False
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                ctx.fail(keypath, f"must be between {low} and {high}")
            elif low is not None:
                ctx.fail(keypath, f"must be >= {low}")
            else:
                ctx.fail(keypath, f"must be <= {high}")
            return False
        return True

    def json_schema(self) -> Json:
        schema: Json = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return self._described(schema)


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Bool(Spec):
    """true or false."""

    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if not isinstance(value, bool):
            ctx.fail(keypath, f"must be true or false, not {_type_name(value)}")
            return False
        return True

    def json_schema(self) -> Json:
        return self._described({"type": "boolean"})


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Enum(Spec):
    """One of a closed set of strings."""

    values: tuple[str, ...]
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if value not in self.values or not isinstance(value, str):
            hint = spelled(value, self.values) if isinstance(value, str) else ""
            if hint and len(self.values) > _LISTED:
                # The nearest name says more than a long list of every one.
                what = self.description or f"one of the {len(self.values)} allowed values"
                ctx.fail(keypath, f"{value!r} is not {what}{hint}")
            else:
                ctx.fail(keypath, f"must be one of {', '.join(self.values)}{hint}")
            return False
        return True

    def json_schema(self) -> Json:
        return self._described({"enum": list(self.values)})


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class AnyOf(Spec):
    """The first alternative whose type fits (e.g. a port name or a port number)."""

    options: tuple[Spec, ...]
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        for option in self.options:
            trial = Context(ctx.doc)
            if option.check(value, keypath, trial):
                return True
            if _fits_type(option, value):
                ctx.problems.extend(trial.problems)
                return False
        names = " or ".join(_kind(o) for o in self.options)
        ctx.fail(keypath, f"must be {names}, not {_type_name(value)}")
        return False

    def json_schema(self) -> Json:
        return self._described({"anyOf": [o.json_schema() for o in self.options]})


def _fits_type(spec: Spec, value: Any) -> bool:
    if isinstance(spec, Str):
        return isinstance(value, str)
    if isinstance(spec, Int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(spec, Enum):
        return isinstance(value, str)
    if isinstance(spec, Obj | Map):
        return isinstance(value, dict)
    return False


def _kind(spec: Spec) -> str:
    names = {"Str": "a string", "Int": "a number", "Enum": "a name", "Obj": "a mapping"}
    return names.get(type(spec).__name__, "a value")


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class List(Spec):
    """A list of items of one spec."""

    item: Spec
    unique: bool = False
    min_items: int = 0
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if not isinstance(value, list):
            ctx.fail(keypath, f"must be a list, not {_type_name(value)}")
            return False
        ok = True
        if len(value) < self.min_items:
            ctx.fail(keypath, f"must have at least {self.min_items} entries")
            ok = False
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            child = join(keypath, i)
            ok = self.item.check(item, child, ctx) and ok
            if self.unique and isinstance(item, str | int):
                token = repr(item)
                if token in seen:
                    ctx.fail(child, f"repeats entry [{seen[token]}] ({item})")
                    ok = False
                seen.setdefault(token, i)
        return ok

    def json_schema(self) -> Json:
        schema: Json = {"type": "array", "items": self.item.json_schema()}
        if self.unique:
            schema["uniqueItems"] = True
        if self.min_items:
            schema["minItems"] = self.min_items
        return self._described(schema)


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Map(Spec):
    """A mapping from string keys (matching key) to values of one spec (labels)."""

    key: Str
    value: Spec
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if not isinstance(value, dict):
            ctx.fail(keypath, f"must be a mapping, not {_type_name(value)}")
            return False
        ok = True
        for name, item in value.items():
            child = join(keypath, name)
            trial = Context(ctx.doc)
            if not self.key.check(name, child, trial):
                # The key's own reason when it has one (too long, a name part over 63...).
                reason = trial.problems[0].message if trial.problems else ""
                if not reason or reason.startswith(repr(name)):
                    reason = f" is not {self.key.hint or 'valid'}"
                else:
                    reason = f": {reason}"
                ctx.fail(child, f"key {name!r}{reason}", key=True)
                ok = False
            ok = self.value.check(item, child, ctx) and ok
        return ok

    def json_schema(self) -> Json:
        schema: Json = {
            "type": "object",
            "propertyNames": self.key.json_schema(),
            "additionalProperties": self.value.json_schema(),
        }
        return self._described(schema)


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Field:
    """One key of an Obj."""

    spec: Spec
    required: bool = False
    description: str = ""


@dataclass(eq=False, repr=False)  # contract nodes: never compared or printed
class Obj(Spec):
    """A closed mapping: known keys only, required keys present, optionally one-of groups."""

    fields: Mapping[str, Field]
    exactly_one: tuple[str, ...] = ()
    description: str = ""

    def check(self, value: Any, keypath: str, ctx: Context) -> bool:
        if not isinstance(value, dict):
            ctx.fail(keypath, f"must be a mapping, not {_type_name(value)}")
            return False
        ok = True
        for name, item in value.items():
            child = join(keypath, name)
            spec = self.fields.get(name)
            if spec is None:
                known = ", ".join(self.fields)
                hint = spelled(name, self.fields) if isinstance(name, str) else ""
                ctx.fail(child, f"unknown key{hint} (known keys: {known})", key=True)
                ok = False
                continue
            ok = spec.spec.check(item, child, ctx) and ok
        for name, spec in self.fields.items():
            if spec.required and name not in value:
                ctx.fail(join(keypath, name), "is required")
                ok = False
        if self.exactly_one:
            present = [k for k in self.exactly_one if k in value]
            if len(present) != 1:
                options = ", ".join(self.exactly_one)
                ctx.fail(keypath, f"needs exactly one of: {options}")
                ok = False
        return ok

    def json_schema(self) -> Json:
        props: Json = {}
        for name, spec in self.fields.items():
            sub = spec.spec.json_schema()
            if spec.description:
                sub = {**sub, "description": spec.description}
            props[name] = sub
        schema: Json = {"type": "object", "properties": props, "additionalProperties": False}
        required = [n for n, s in self.fields.items() if s.required]
        if required:
            schema["required"] = required
        if self.exactly_one:
            schema["oneOf"] = [{"required": [k]} for k in self.exactly_one]
        return self._described(schema)


def load_checked(path: Path, display: str, spec: Spec) -> Document:
    """Load a file that holds exactly one YAML document and check it against spec."""
    docs, problems = load_documents(path, display)
    if not problems and len(docs) != 1:
        problems = [Problem(Location(display), "", "must hold exactly one YAML document")]
    if not problems:
        ctx = Context(docs[0])
        spec.check(docs[0].data, "", ctx)
        problems = ctx.problems
    if problems:
        raise ManifestError(problems=problems)
    return docs[0]
