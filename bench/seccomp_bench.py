"""Seccomp benchmark: per runtime, allowed syscalls vs. what real software needed vs. Docker.

Renders one service per runtime profile with cgen (no capabilities, no extra syscalls)
and counts what its generated seccomp.json allows; "needed" is the number of distinct
syscalls the runtime's real workloads made (the corpus, profiles/seccomp/corpus.yaml,
written by bench/seccomp_corpus.py, together with the baseline's own workload,
bench/seccomp/results) that the profile must allow, i.e. not those it answers ENOSYS;
"dangerous" counts allowed calls from profiles/seccomp/dangerous.yaml; Docker's default
is what its default profile lets a container without capabilities call on x86_64
(bench/seccomp/docker-default.yaml).

    python3 bench/seccomp_bench.py [--markdown]

Exit status 1 when a runtime misses a target: more than half of Docker's default
allowed, or any dangerous syscall allowed, or a needed syscall not allowed.
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
PROFILES = REPO / "profiles" / "seccomp"
RUNTIMES = ("python", "node", "java", "go", "dotnet", "static")


def generated_profiles() -> dict[str, tuple[set[str], set[str]]]:
    """{runtime: (allowed, ENOSYS)} from the profiles cgen generates."""
    from generator import load
    from generator.seccomp import profile as seccomp

    found: dict[str, tuple[set[str], set[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="cgen-bench-") as tmp:
        for runtime in RUNTIMES:
            manifest = {
                "apiVersion": "cgen/v1",
                "kind": "Service",
                "metadata": {"name": f"bench-{runtime}", "namespace": "bench"},
                "spec": {"runtime": runtime, "image": f"example.com/{runtime}:1@sha256:{'0' * 64}"},
            }
            (Path(tmp) / f"{runtime}.yaml").write_text(yaml.safe_dump(manifest))
        project, _ = load([Path(tmp)], Path(tmp) / "out", allow_unpinned=True)
        for svc in project.services:
            rules = seccomp.profile(project, svc)["syscalls"]
            allowed = {n for r in rules if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
            errno = {n for r in rules if r["action"] == "SCMP_ACT_ERRNO" for n in r["names"]}
            found[svc.runtime] = (allowed, errno)
    return found


def needed(runtime: str) -> tuple[set[str], list[str]] | None:
    """Syscalls the runtime's real workloads made, and the workloads; None if unmeasured."""
    corpus = yaml.safe_load((PROFILES / "corpus.yaml").read_text())["runtimes"].get(runtime)
    result_file = RESULTS / f"{runtime}.json"
    calls: set[str] = set()
    workloads: list[str] = []
    if corpus is not None:
        calls |= set(corpus["syscalls"])
        workloads += corpus["workloads"]
    if result_file.exists():
        calls |= set(json.loads(result_file.read_text())["calls"])
        workloads.append(f"harness/workloads/{runtime}")
    return (calls, workloads) if workloads else None


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
    profiles = generated_profiles()
    docker, how = docker_default_count()
    dangerous = set(yaml.safe_load((PROFILES / "dangerous.yaml").read_text())["syscalls"])
    rows: list[list[str]] = []
    problems: list[str] = []
    for runtime in RUNTIMES:
        allowed, enosys = profiles[runtime]
        bad = sorted(allowed & dangerous)
        measured = needed(runtime)
        if measured is None:
            shown = ["not measured", "-", "-"]
        else:
            calls, workloads = measured
            must = calls - enosys
            shown = [str(len(must)), f"{len(allowed) / len(must):.2f}x", str(len(workloads))]
            missing = sorted(must - allowed)
            if missing:
                problems.append(f"{runtime}: needed but not allowed: {missing}")
        if len(allowed) > docker / 2:
            problems.append(f"{runtime}: {len(allowed)} allowed, more than half of {docker}")
        if bad:
            problems.append(f"{runtime}: dangerous syscalls allowed: {bad}")
        rows.append([runtime, str(len(allowed)), *shown, str(len(bad)), str(docker)])
    head = ["runtime", "allowed", "needed by corpus", "allowed/needed", "workloads"]
    head += ["dangerous allowed", "Docker default"]
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
    print(
        "Needed: distinct syscalls the runtime's real workloads made (profiles/seccomp/"
        "corpus.yaml and bench/seccomp/results), less the ENOSYS-answered probes."
    )
    print("dotnet: not measured (no .NET SDK or runtime was available to run its workloads).")
    print(f"Targets: at most {docker // 2} allowed (half of Docker's), 0 dangerous, all needed.")
    for problem in problems:
        print(f"TARGET MISSED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
