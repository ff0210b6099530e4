"""Seccomp benchmark: per runtime, allowed syscalls vs. measured use vs. Docker's default.

Renders one service per runtime profile with cgen (no capabilities, no extra syscalls)
and counts what its generated seccomp.json allows; "measured" is the number of distinct
syscalls the runtime's workload made under strace (bench/seccomp/results, written by
bench/seccomp/measure.py); Docker's default is what its default profile lets a container
without capabilities call on x86_64 (bench/seccomp/docker-default.yaml).

    python3 bench/seccomp_bench.py [--markdown]

Exit status 1 when a runtime exceeds the targets (120 allowed, 1.3x measured use).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "seccomp" / "results"
DOCKER = REPO / "bench" / "seccomp" / "docker-default.yaml"
RUNTIMES = ("python", "node", "java", "go", "dotnet", "static")
MAX_ALLOWED = 120
MAX_RATIO = 1.3


def generated_counts() -> dict[str, tuple[int, int]]:
    """{runtime: (allowed, ENOSYS)} from the profiles cgen generates."""
    from generator import load
    from generator.seccomp import profile as seccomp

    counts: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="cgen-bench-") as tmp:
        for runtime in RUNTIMES:
            manifest = {
                "apiVersion": "cgen/v1",
                "kind": "Service",
                "metadata": {"name": f"bench-{runtime}", "namespace": "bench"},
                "spec": {"runtime": runtime, "image": f"example.com/{runtime}:1@sha256:{'0' * 64}"},
            }
            (Path(tmp) / f"{runtime}.yaml").write_text(yaml.safe_dump(manifest))
        project, _ = load([Path(tmp)], Path(tmp) / "out")
        for svc in project.services:
            prof = seccomp.profile(project, svc)
            allowed = {
                n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]
            }
            errno = {
                n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ERRNO" for n in r["names"]
            }
            counts[svc.runtime] = (len(allowed), len(errno))
    return counts


def docker_default_count() -> tuple[int, str]:
    """Docker's default allow list for x86_64 without capabilities, and how it was counted."""
    names = yaml.safe_load(DOCKER.read_text())["allow"]
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except ImportError:
        return len(names), "names as listed"
    native = [n for n in names if pyseccomp.resolve_syscall(pyseccomp.Arch.X86_64, n) >= 0]
    return len(native), "names that exist on x86_64"


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", action="store_true", help="a Markdown table (for README)")
    args = ap.parse_args(argv)
    counts = generated_counts()
    docker, how = docker_default_count()
    rows: list[list[str]] = []
    failed = False
    for runtime in RUNTIMES:
        allowed, enosys = counts[runtime]
        result_file = RESULTS / f"{runtime}.json"
        if result_file.exists():
            measured = json.loads(result_file.read_text())["syscall_count"]
            ratio = allowed / measured
            shown = (str(measured), f"{ratio:.2f}x")
            failed |= ratio > MAX_RATIO
        else:
            shown = ("not measured", "-")
        failed |= allowed > MAX_ALLOWED
        rows.append([runtime, str(allowed), *shown, str(enosys), str(docker)])
    head = ["runtime", "allowed", "measured use", "allowed/measured", "ENOSYS", "Docker default"]
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        for row in [head, *rows]:
            print(
                "  ".join(
                    c.rjust(w) if i else c.ljust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
    print(f"\nDocker default: its default profile, no capabilities, x86_64 ({how}).")
    print(f"Targets: at most {MAX_ALLOWED} allowed and at most {MAX_RATIO}x measured use.")
    if failed:
        print("TARGET MISSED", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
