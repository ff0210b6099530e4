"""Jinja for text formats only: strict undefined, no autoescape (values are escaped by callers)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ProfileError
from ..resources import templates_root

if TYPE_CHECKING:
    import jinja2


@cache
def _environment(dirs: tuple[str, ...]) -> jinja2.Environment:
    # One environment per search path: each template is compiled once per run, not once
    # per service.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(search: list[Path], name: str, **values: Any) -> str:
    """Render a template found first in the user's folders, then in cgen's templates/<sub>."""
    import jinja2  # only the Dockerfile/HCL paths pay for importing Jinja

    dirs = tuple(str(f if f.is_absolute() else templates_root() / f) for f in search)
    try:
        text = _environment(dirs).get_template(name).render(**values)
    except jinja2.TemplateNotFound as exc:
        raise ProfileError(f"template {exc.name} not found in {', '.join(dirs)}") from None
    except jinja2.TemplateError as exc:
        raise ProfileError(f"template {name}: {exc}") from None
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
