"""Jinja for text formats only: strict undefined, no autoescape (values are escaped by callers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ProfileError
from ..resources import templates_root


def render_template(search: list[Path], name: str, **values: Any) -> str:
    """Render a template found first in the user's folders, then in cgen's templates/<sub>."""
    import jinja2  # only the Dockerfile/HCL paths pay for importing Jinja

    dirs: list[str] = []
    for folder in search:
        dirs.append(str(folder if folder.is_absolute() else templates_root() / folder))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        text = env.get_template(name).render(**values)
    except jinja2.TemplateNotFound as exc:
        raise ProfileError(f"template {exc.name} not found in {', '.join(dirs)}") from None
    except jinja2.TemplateError as exc:
        raise ProfileError(f"template {name}: {exc}") from None
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
