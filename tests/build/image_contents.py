"""What a built image holds, read from outside: the images have no shell to list themselves.

`podman create` + `podman export` give the container's root filesystem as a tar; its
member names are the image's paths. The build tests check with them that the runtime
stage received only the build's output and the app files its Dockerfile names.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from pathlib import Path

import buildharness as bh


def exported_names(builder: bh.Containers, image: str, export: Path) -> set[str]:
    """Every path in the image's root filesystem, relative, without a trailing slash."""
    name = builder.podman("create", image).stdout.strip()
    builder.podman("export", "-o", str(export), name)
    builder.podman("rm", name)
    with tarfile.open(export) as tar:
        names = {_relative(m.name) for m in tar.getmembers()}
    export.unlink()
    return names - {""}


def _relative(member: str) -> str:
    # "./app/x", "/app/x" and "app/x" all name app/x; ".well-known" keeps its dot.
    while member.startswith(("./", "/")):
        member = member[2:] if member.startswith("./") else member[1:]
    return member.rstrip("/")


def check_only_the_artifact(
    names: set[str],
    context: Path,
    built: Iterable[str],
    app_files: Iterable[str],
    strays: Iterable[str],
) -> None:
    """Below /app: each built path (present, its contents not judged) and exactly the named
    app files, with everything in the named folders; no stray of the context anywhere."""
    expected = {"app"}
    for path in app_files:
        expected.add(f"app/{path}")
        expected |= {
            f"app/{p.relative_to(context).as_posix()}" for p in (context / path).rglob("*")
        }
    outputs = tuple(f"app/{b}" for b in built)
    for output in outputs:
        assert any(n == output or n.startswith(output + "/") for n in names), f"no /{output}"
    below_app = {n for n in names if n == "app" or n.startswith("app/")}
    shipped = {n for n in below_app if n in expected or not any(_within(n, o) for o in outputs)}
    assert shipped == expected, f"/app differs from the artifact: {sorted(shipped ^ expected)}"
    for stray in strays:
        found = sorted(n for n in names if n == stray or n.endswith(f"/{stray}"))
        assert not found, f"{stray} from the build context reached the image: {found}"


def _within(name: str, folder: str) -> bool:
    return name == folder or name.startswith(folder + "/")
