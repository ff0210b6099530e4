"""The fast path: a plain `cgen render|validate|check PATH... [options]` without typer.

Importing typer (and the pydantic it builds every option's converter with) costs more than
a one-service render itself. The typer app in app.py stays the one definition of the
command line: fast_table.py is derived from it by `derive()` (a test keeps the two equal;
`python -m generator.cli.fast` writes it again), and the fast path only takes what the
table says in the plainest spellings. Anything else (help, a missing or unknown option,
`--`, `-oDIR`, a repeated option, an empty value) returns None, and typer parses the
command line as always, with its own messages.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.cli import commands
from generator.cli.fast_table import COMMANDS

# An option's kind in the table: "path" or "str" (takes a value; "path*" and "str*" may
# repeat and collect a list), or True / False (a flag and the value it sets).
Kind = str | bool
Spec = dict[str, Any]


def parse(argv: list[str]) -> Callable[[], int] | None:
    """The command body call argv asks for, or None when typer must parse argv."""
    spec = COMMANDS.get(argv[0]) if argv else None
    if spec is None:
        return None
    values: dict[str, Any] = dict(spec["defaults"])
    options: dict[str, tuple[str, Kind]] = spec["options"]
    arguments: list[Path] = []
    given: set[str] = set()
    rest = iter(argv[1:])
    for token in rest:
        if not token.startswith("-"):
            if not token:
                return None
            arguments.append(Path(token))
            continue
        name, eq, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        dest, kind = options.get(name, ("", ""))
        if not dest or (isinstance(kind, bool) and eq):
            return None
        if isinstance(kind, bool):
            values[dest] = kind
            continue
        value = inline if eq else next(rest, None)
        if not value or (not eq and value.startswith("-")):
            return None
        converted: Any = Path(value) if kind.startswith("path") else value
        if kind.endswith("*"):
            values[dest] = [*(values[dest] or ()), converted]
        elif dest in given:
            return None
        else:
            values[dest] = converted
        given.add(dest)
    if not arguments:
        return None
    values[spec["argument"]] = arguments
    body: Callable[..., int] = getattr(commands, argv[0])
    return lambda: body(**values)


def _kind(annotation: Any) -> tuple[str, bool]:
    """ "path", "str" or "bool" for an option's annotation, and whether it is a list."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _kind(args[0])
    if type(None) in args:  # X | None
        (inner,) = [a for a in args if a is not type(None)]
        return _kind(inner)
    if typing.get_origin(annotation) is list:
        return _kind(args[0])[0], True
    return {Path: "path", str: "str", bool: "bool"}[annotation], False


def _plain(info: Any) -> bool:
    """Whether typer does nothing to this parameter's value beyond converting its type."""
    checks = ("exists", "resolve_path", "allow_dash", "callback", "envvar", "parser", "prompt")
    return not any(getattr(info, name, None) for name in checks)


def derive(app: Any) -> dict[str, Spec]:
    """The fast path's table from the typer app: what it parses for render, validate, check."""
    import typer

    group: Any = typer.main.get_command(app)
    callbacks = {
        info.name or info.callback.__name__: info.callback for info in app.registered_commands
    }
    table: dict[str, Spec] = {}
    for name in ("render", "validate", "check"):
        hints = typing.get_type_hints(callbacks[name], include_extras=True)
        spec: Spec = {"argument": "", "options": {}, "defaults": {}}
        for param in group.commands[name].params:
            info = typing.get_args(hints[param.name])[1]
            assert _plain(info) and param.callback is None and not param.envvar, param.name
            kind, many = _kind(hints[param.name])
            if param.param_type_name == "argument":
                assert param.nargs == -1 and param.required and kind == "path", param.name
                spec["argument"] = param.name
                continue
            spec["defaults"][param.name] = param.default
            if kind == "bool":
                assert param.is_flag and param.default is False, param.name
                spec["options"].update({opt: (param.name, True) for opt in param.opts})
                spec["options"].update({opt: (param.name, False) for opt in param.secondary_opts})
            else:
                assert param.multiple == many and param.default is None, param.name
                spec["options"].update({opt: (param.name, kind + "*" * many) for opt in param.opts})
        table[name] = spec
    return table


def _write() -> None:
    """Write fast_table.py from the typer app."""
    import importlib
    import pprint

    app = importlib.import_module("generator.cli.app").app
    importlib.import_module("generator.cli.adopt")
    importlib.import_module("generator.cli.seccomp")
    text = (
        '"""Derived from the typer app by generator/cli/fast.py (`python -m generator.cli.fast`'
        '\nwrites it); a test keeps it equal to what derive() finds. Do not edit."""\n\n'
        "from typing import Any\n\n"
        f"COMMANDS: dict[str, dict[str, Any]] = {pprint.pformat(derive(app), width=92)}\n"
    )
    (Path(__file__).parent / "fast_table.py").write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    _write()
