"""The image lock (images.lock): every image tag cgen does not build itself (the runtime
profiles' base images, BuildKit's frontend, prebuilt and sidecar images) mapped to the digest
it was pinned to, and the date that digest was resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from generator.manifest.formats import IMAGE
from generator.schema import Field, Int, Map, Obj, Str, load_checked

DIGEST = r"sha256:[a-f0-9]{64}"
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_REFERENCE = Str(IMAGE, "an image reference", 512)
LOCK = Obj(
    {
        "version": Field(Int(1, 1), True),
        "images": Field(Map(_REFERENCE, Str(DIGEST, "a sha256 digest")), True),
        # Optional: locks written before cgen recorded dates have none.
        "resolved": Field(Map(_REFERENCE, Str(DATE, "a date (YYYY-MM-DD)"))),
    }
)
_HAS_DIGEST = re.compile(rf"@{DIGEST}$")


def is_pinned(image: str) -> bool:
    """Whether an image reference names its content by digest (repo[:tag]@sha256:...)."""
    return _HAS_DIGEST.search(image) is not None


@dataclass(frozen=True)
class ImageLock:
    """Pinned digests by image reference; empty when there is no lock file."""

    path: str
    digests: dict[str, str] = field(default_factory=dict)
    # The date (YYYY-MM-DD) each digest was resolved, where the lock records it.
    resolved: dict[str, str] = field(default_factory=dict)
    # Set when the project has no lock file and these are the pins cgen ships (shipped.py).
    shipped: bool = False

    def pin(self, image: str) -> str | None:
        """image@digest, the image itself when it carries a digest, or None when unpinned."""
        if is_pinned(image):
            return image
        digest = self.digests.get(image)
        return f"{image}@{digest}" if digest else None

    def runs(self, image: str) -> str:
        """The image a pod runs: by the digest the lock pins it to (or it carries), else
        as written (a built image's tag; load refuses other tags)."""
        return self.pin(image) or image


def read_lock(path: Path, display: str) -> ImageLock:
    """Read images.lock; a missing file is an empty lock, a broken one an error."""
    if not path.exists():
        return ImageLock(display)
    data = load_checked(path, display, LOCK).data
    return ImageLock(display, dict(data["images"]), dict(data.get("resolved") or {}))


def render_lock(digests: dict[str, str], resolved: dict[str, str] | None = None) -> str:
    """The lock file's text: sorted, one image a line, stable bytes."""
    lines = [
        "# cgen image lock: each image reference cgen does not build (base images, the",
        "# Dockerfile frontend, prebuilt and sidecar images) and the index digest it is pinned",
        "# to. Written by `cgen pin`; `cgen pin --check` fails when a tag has moved.",
        "version: 1",
        "images:" if digests else "images: {}",
    ]
    lines += [f"  {image}: {digests[image]}" for image in sorted(digests)]
    dates = {image: day for image, day in (resolved or {}).items() if image in digests}
    if dates:
        lines.append("resolved:  # the day each digest was resolved (`cgen pin --check`: ages)")
        lines += [f"  {image}: '{dates[image]}'" for image in sorted(dates)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- image references

DOCKER_HUB = "docker.io"
_DIGEST_SUFFIX = re.compile(rf"@({DIGEST})$")
_TAG_SUFFIX = re.compile(r":([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")


class Reference(NamedTuple):
    """An image reference split the way Docker reads it (docker.io and library/ implied)."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, image: str) -> Reference:
        """Split repository[:tag][@digest]; the first part is a registry when it looks like one."""
        rest = image
        digest_match = _DIGEST_SUFFIX.search(rest)
        digest = digest_match.group(1) if digest_match else None
        if digest_match:
            rest = rest[: digest_match.start()]
        tag_match = _TAG_SUFFIX.search(rest)
        tag = tag_match.group(1) if tag_match else None
        if tag_match:
            rest = rest[: tag_match.start()]
        first, _, remainder = rest.partition("/")
        # Docker's rule: a first component with '.' or ':' (or localhost) names a registry.
        if remainder and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, remainder
        else:
            registry, repository = DOCKER_HUB, rest
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return cls(registry, repository, tag, digest)

    def name(self, registry: str | None = None) -> str:
        """registry/repository, optionally on another registry host (a mirror)."""
        return f"{registry or self.registry}/{self.repository}"


def mirrored(image: str, mirrors: tuple[tuple[str, str], ...]) -> str:
    """The image on its pull-through mirror (cgen.yaml registryMirrors), else unchanged."""
    by_host = dict(mirrors)
    ref = Reference.parse(image)
    host = by_host.get(ref.registry)
    if host is None:
        return image
    text = ref.name(host)
    if ref.tag:
        text += f":{ref.tag}"
    if ref.digest:
        text += f"@{ref.digest}"
    return text


# ---------------------------------------------------------------- pin and check


class PinResult(NamedTuple):
    """What `cgen pin` found: the new lock, and how it differs from the old one."""

    path: str
    digests: dict[str, str]
    added: tuple[str, ...]
    moved: tuple[tuple[str, str, str], ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """True when the lock file's content would change."""
        return bool(self.added or self.moved or self.removed)


def compare(lock: ImageLock, digests: dict[str, str]) -> PinResult:
    """The difference between the lock on disk and freshly resolved digests."""
    old = lock.digests
    added = tuple(sorted(set(digests) - set(old)))
    removed = tuple(sorted(set(old) - set(digests)))
    moved = tuple(
        (image, old[image], digests[image])
        for image in sorted(set(old) & set(digests))
        if old[image] != digests[image]
    )
    return PinResult(lock.path, dict(sorted(digests.items())), added, moved, removed)


def write_lock(path: Path, digests: dict[str, str], resolved: dict[str, str]) -> None:
    """Write images.lock atomically (a crash leaves the old file or the new one)."""
    from generator.output.writer import write_text_atomic

    write_text_atomic(path, render_lock(digests, resolved))
