"""BuildKit's Dockerfile frontend: the image a Dockerfile's `# syntax=` line names.

BuildKit pulls and runs that image for the whole build, with the context and every build
secret, so it is pinned like the base images: its index digest comes from images.lock,
`cgen pin` writes it and `cgen pin --check` fails when the tag has moved.
"""

from __future__ import annotations

from generator.images.lock import ImageLock

# As the lock names it (upstream, fully qualified).
FRONTEND = "docker.io/docker/dockerfile:1.7"
# As the `# syntax=` line names it: Docker's own short form, which BuildKit resolves on
# docker.io (through the daemon's own registry mirrors when it has them; the digest
# names the content, so any mirror serves the same bytes).
_SHORT = "docker/dockerfile:1.7"


def syntax(lock: ImageLock) -> str:
    """The `# syntax=` value: the frontend pinned by its digest, or the bare tag (unpinned)."""
    digest = lock.digests.get(FRONTEND)
    return f"{_SHORT}@{digest}" if digest else _SHORT
