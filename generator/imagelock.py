"""The image lock (images.lock): every base image tag mapped to the digest it was pinned to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, ManifestError, Problem
from .loader import load_documents
from .manifest_schema import IMAGE
from .schema import Context, Field, Int, Map, Obj, Str

DIGEST = r"sha256:[a-f0-9]{64}"
LOCK = Obj(
    {
        "version": Field(Int(1, 1), True),
        "images": Field(
            Map(Str(IMAGE, "an image reference", 512), Str(DIGEST, "a sha256 digest")), True
        ),
    }
)
_HAS_DIGEST = re.compile(r"@sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class ImageLock:
    """Pinned digests by image reference; empty when there is no lock file."""

    path: str
    digests: dict[str, str] = field(default_factory=dict)

    def pin(self, image: str) -> str | None:
        """image@digest, the image itself when it carries a digest, or None when unpinned."""
        if _HAS_DIGEST.search(image):
            return image
        digest = self.digests.get(image)
        return f"{image}@{digest}" if digest else None


def read_lock(path: Path, display: str) -> ImageLock:
    """Read images.lock; a missing file is an empty lock, a broken one an error."""
    if not path.exists():
        return ImageLock(display)
    docs, problems = load_documents(path, display)
    if not problems and len(docs) != 1:
        problems = [Problem(Location(display), "", "must hold exactly one YAML document")]
    if not problems:
        ctx = Context(docs[0])
        LOCK.check(docs[0].data, "", ctx)
        problems = ctx.problems
    if problems:
        raise ManifestError(problems=problems)
    return ImageLock(display, dict(docs[0].data["images"]))


def render_lock(digests: dict[str, str]) -> str:
    """The lock file's text: sorted, one image a line, stable bytes."""
    lines = [
        "# cgen image lock: each base image reference and the index digest it is pinned to.",
        "# Written by `cgen pin`; `cgen pin --check` fails when a tag has moved.",
        "version: 1",
        "images:" if digests else "images: {}",
    ]
    lines += [f"  {image}: {digests[image]}" for image in sorted(digests)]
    return "\n".join(lines) + "\n"
