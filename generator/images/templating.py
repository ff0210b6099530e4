"""Jinja for text formats only: templates read once at load, rendered in a sandbox.

The project's own templates (its profiles folder's templates/) override cgen's shipped
ones by file name. Rendering is pure: sources are read by load_templates, and the
environment is sandboxed, so a template sees only the values cgen passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import ProfileError
from generator.runtime.shipped import templates_root

if TYPE_CHECKING:
    import jinja2

SUFFIX = ".j2"
SHIPPED_DIR = "dockerfile"


@dataclass(frozen=True)
class Templates:
    """Every template source by file name (the user's first), and where each came from."""

    sources: tuple[tuple[str, str], ...]
    origins: tuple[tuple[str, str], ...]
    user_dir: str | None = None

    def has(self, name: str) -> bool:
        """Whether a template of that name exists (the user's or cgen's)."""
        return any(n == name for n, _ in self.sources)

    def origin(self, name: str) -> str:
        """Where a template was read from (for messages)."""
        return dict(self.origins).get(name, name)


def _read_folder(folder: Path, shown: str, found: dict[str, tuple[str, str]]) -> None:
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name not in found and path.is_file():
            found[path.name] = (path.read_text(encoding="utf-8"), f"{shown}/{path.name}")


def load_templates(user_dir: Path | None, user_display: str | None) -> Templates:
    """Read the user's templates (if the folder has any) and cgen's shipped ones."""
    found: dict[str, tuple[str, str]] = {}
    if user_dir is not None and user_dir.is_dir():
        _read_folder(user_dir, f"{user_display or user_dir.parent}/templates", found)
    _read_folder(templates_root() / SHIPPED_DIR, f"cgen's templates/{SHIPPED_DIR}", found)
    names = sorted(found)
    shown = user_display if user_dir is not None and user_dir.is_dir() else None
    return Templates(
        tuple((n, found[n][0]) for n in names), tuple((n, found[n][1]) for n in names), shown
    )


@cache
def _environment(templates: Templates) -> jinja2.Environment:
    # One environment per template set: each template is compiled once per run, not once
    # per service. Sandboxed and immutable: a template can read the values it is given,
    # never call into Python or change them.
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=jinja2.DictLoader(dict(templates.sources)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def compile_error(templates: Templates, name: str) -> str | None:
    """Why a template cannot be compiled (syntax, a missing parent), or None."""
    import jinja2

    try:
        _environment(templates).get_template(name)
    except jinja2.TemplateNotFound as exc:
        return f"{templates.origin(name)}: template {exc.name} not found"
    except jinja2.TemplateSyntaxError as exc:
        return f"{templates.origin(exc.name or name)}:{exc.lineno}: {exc.message}"
    return None


def render_template(templates: Templates, name: str, **values: Any) -> str:
    """Render a template (pure: the sources were read at load) with trailing blanks trimmed."""
    import jinja2  # only the Dockerfile paths pay for importing Jinja

    try:
        text = _environment(templates).get_template(name).render(**values)
    except jinja2.TemplateError as exc:
        raise ProfileError(f"template {templates.origin(name)}: {exc}") from None
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
