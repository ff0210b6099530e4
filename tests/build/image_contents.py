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


def exported_names(builder: bh.Containers, image: str, export: Path) -> dict[str, bytes]:
    """Every path in the image's root filesystem, relative, without a trailing slash, with
    the bytes of each bytecode file below /app (other paths map to b"")."""
    name = builder.podman("create", image).stdout.strip()
    builder.podman("export", "-o", str(export), name)
    builder.podman("rm", name)
    names: dict[str, bytes] = {}
    with tarfile.open(export) as tar:
        for member in tar.getmembers():
            path = _relative(member.name)
            handle = tar.extractfile(member) if path.endswith(".pyc") else None
            names[path] = handle.read() if handle and path.startswith("app/") else b""
    export.unlink()
    names.pop("", None)
    return names


def bytecode_of(context: Path, app_files: Iterable[str]) -> dict[str, Path]:
    """Where CPython 3.11 looks for the bytecode of each .py below the named app files."""
    found: dict[str, Path] = {}
    for entry in app_files:
        top = context / entry
        for source in [top] if top.is_file() else sorted(top.rglob("*.py")):
            if source.suffix == ".py":
                rel = source.relative_to(context)
                pyc = rel.parent / "__pycache__" / f"{rel.stem}.cpython-311.pyc"
                found[f"app/{pyc.as_posix()}"] = source
    return found


def check_bytecode(names: dict[str, bytes], expected: dict[str, Path]) -> None:
    """Each app source has its .pyc, compiled with a checked hash of exactly that source
    (PEP 552: flags 0b11, then the source hash), for the runtime's CPython."""
    import importlib.util

    assert expected, "no Python source among the app files"
    for pyc, source in expected.items():
        data = names.get(pyc)
        assert data, f"no bytecode {pyc} for {source.name} in the image"
        assert data[:4] == importlib.util.MAGIC_NUMBER, f"{pyc}: not CPython 3.11 bytecode"
        assert int.from_bytes(data[4:8], "little") == 0b11, f"{pyc}: not checked-hash"
        assert data[8:16] == importlib.util.source_hash(source.read_bytes()), pyc


def _relative(member: str) -> str:
    # "./app/x", "/app/x" and "app/x" all name app/x; ".well-known" keeps its dot.
    while member.startswith(("./", "/")):
        member = member[2:] if member.startswith("./") else member[1:]
    return member.rstrip("/")


def check_only_the_artifact(
    names: Iterable[str],
    context: Path,
    built: Iterable[str],
    app_files: Iterable[str],
    strays: Iterable[str],
    compiled: Iterable[str] = (),
) -> None:
    """Below /app: each built path (present, its contents not judged) and exactly the named
    app files, with everything in the named folders, and the compiled bytecode files; no
    stray of the context anywhere."""
    expected = {"app"}
    for path in app_files:
        expected.add(f"app/{path}")
        expected |= {
            f"app/{p.relative_to(context).as_posix()}" for p in (context / path).rglob("*")
        }
    # Bytecode compiled in the build stage (python): each .pyc and its __pycache__ folder.
    expected |= {path for pyc in compiled for path in (pyc, pyc.rpartition("/")[0])}
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
