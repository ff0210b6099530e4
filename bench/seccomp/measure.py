"""Measure the syscalls each workload in harness/workloads really makes.

Each workload runs under `strace -f -qq -e trace=all` on the host: it starts, drives its
own HTTP server (healthz, DNS lookup, dependency TCP, TLS handshake, file write,
threads), then gets SIGTERM and must exit 0. The trace of the whole process tree from
its first execve to its exit is parsed into per-syscall call and error counts.

    python3 bench/seccomp/measure.py [--runtime python ...] [--out bench/seccomp/results]
                                     [--write-profiles] [--from-results]

Writes <out>/<runtime>.json (what was seen: calls, errors by errno, runtime version)
and prints a table. With --write-profiles it also rewrites profiles/seccomp/<runtime>.yaml
from the measurement (see baseline_from_measurement for the few additions).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "harness"))

from runc_harness import require_tool  # noqa: E402
from runc_workloads import RUNTIMES, Workload, prepare_workload  # noqa: E402

PROFILES = REPO / "profiles" / "seccomp"

# Probed-and-fallback syscalls: answered ERRNO(ENOSYS) instead of allowed, so the
# runtime takes its older path (named in FALLBACK, which is then allowed).
ENOSYS_PROBES = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")
FALLBACK = {"clone3": ("clone",)}

# x86_64-only syscall names and what the same libc/runtime calls on aarch64 instead.
AARCH64_EQUIVALENT: dict[str, tuple[str, ...]] = {
    "access": ("faccessat",),
    "alarm": ("setitimer",),
    "chmod": ("fchmodat",),
    "chown": ("fchownat",),
    "creat": ("openat",),
    "dup2": ("dup3",),
    "epoll_create": ("epoll_create1",),
    "epoll_wait": ("epoll_pwait",),
    "eventfd": ("eventfd2",),
    "fork": ("clone",),
    "getdents": ("getdents64",),
    "getpgrp": ("getpgid",),
    "inotify_init": ("inotify_init1",),
    "link": ("linkat",),
    "lstat": ("newfstatat",),
    "mkdir": ("mkdirat",),
    "open": ("openat",),
    "pipe": ("pipe2",),
    "poll": ("ppoll",),
    "readlink": ("readlinkat",),
    "rename": ("renameat",),
    "rmdir": ("unlinkat",),
    "select": ("pselect6",),
    "stat": ("newfstatat",),
    "symlink": ("symlinkat",),
    "time": ("clock_gettime",),
    "unlink": ("unlinkat",),
    "utimes": ("utimensat",),
    "vfork": ("clone",),
}

# Syscalls runc init (runc 1.1, Go) makes after it has loaded the filter and before
# the workload's execve, seen with `strace -f runc run`: with noNewPrivileges the filter
# is loaded last, after capabilities, uid/gid and mounts are done, so neither capset
# nor setresuid is needed. Its main thread opens and writes the exec fifo, checks that
# /proc/self/fd is procfs (fstatfs) and walks it (getdents64) to close leaked fds, then
# execs; its Go runtime threads meanwhile park in futex/nanosleep/sched_yield/epoll_pwait
# (a failing epoll_pwait makes the Go runtime throw). epoll_ctl there only fails with
# EPERM on non-pollable fds either way and is not needed.
RUNC_NEEDS = (
    "close",
    "epoll_pwait",
    "execve",
    "fstatfs",
    "futex",
    "getdents64",
    "getpid",
    "nanosleep",
    "openat",
    "sched_yield",
    "write",
)
# Needed by a runtime but rare in a short run. Go preempts a goroutine that runs for
# more than 10ms by sending SIGURG to its thread: tgkill(getpid(), tid, SIGURG).
RUNTIME_EXTRA: dict[str, tuple[str, ...]] = {"go": ("getpid", "tgkill")}
# Needed by any workload that gets a signal: the kernel restarts a sleeping syscall
# interrupted by a signal handler (poll, nanosleep, futex with timeout) through
# restart_syscall; exit/exit_group/rt_sigreturn end threads, processes and handlers.
ALWAYS = ("exit", "exit_group", "restart_syscall", "rt_sigreturn")

RUNTIME_DESCRIPTION = {
    "python": "CPython {v} (Debian 12 python3)",
    "node": "Node.js {v} (Debian 12, nodesource nodejs package)",
    "java": "OpenJDK {v} (Debian 12 openjdk-17), java single-file source launcher",
    "go": "Go {v} (Debian 12 golang-go), CGO_ENABLED=0 static binary",
}

_START = re.compile(r"^(\d+)\s+([a-z0-9_]+)\((.*)$")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
_ERRNO = re.compile(r"=\s+-1\s+(E[A-Z0-9]+)\b")


def parse_trace(text: str) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Calls per syscall, and failing errnos per syscall, from `strace -f -o` output."""
    calls: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for line in text.splitlines():
        m = _START.match(line)
        rest = None
        if m:
            name, rest = m.group(2), m.group(3)
            calls[name] += 1
            if rest.endswith("<unfinished ...>"):
                continue
        else:
            r = _RESUMED.match(line)
            if not r:
                continue
            name, rest = r.group(2), r.group(3)
        _head, sep, tail = rest.rpartition(") = ")
        e = _ERRNO.search("= " + tail) if sep else None
        if e:
            errors[name][e.group(1)] += 1
    return calls, dict(errors)


def runtime_version(runtime: str) -> str:
    cmd = {
        "python": ["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"],
        "node": ["/usr/bin/node", "-p", "process.versions.node"],
        "java": [
            "/usr/bin/java",
            "-XshowSettings:properties",
            "-version",
        ],
        "go": ["go", "env", "GOVERSION"],
    }[runtime]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    text = out.stdout + out.stderr
    if runtime == "java":
        m = re.search(r"java\.runtime\.version = (\S+)", text)
        return m.group(1) if m else "17"
    return text.strip().removeprefix("go")


def trace_workload(w: Workload, trace: Path, timeout_s: float = 180.0) -> str:
    """Run the workload under strace, stop it with SIGTERM after its self-check."""
    strace = require_tool("strace")
    proc = subprocess.Popen(
        [strace, "-f", "-qq", "-e", "trace=all", "-o", str(trace), "--", *w.host_args()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    pid = None
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("READY"):
            pid = int(line.split("pid=")[1].split()[0])
        if line.startswith("SELFCHECK OK") and pid is not None:
            os.kill(pid, signal.SIGTERM)
    code = proc.wait(timeout=timeout_s)
    output = "".join(seen)
    if code != 0 or "SHUTDOWN OK" not in output:
        raise RuntimeError(f"{w.runtime} workload failed under strace (exit {code}):\n{output}")
    return output


def _in_every_run(per_run: list[list[str]]) -> set[str]:
    common = set(per_run[0])
    for names in per_run[1:]:
        common &= set(names)
    return common


def measure(runtime: str, workdir: Path, repeat: int) -> dict[str, Any]:
    """Trace `repeat` runs and merge them: rare calls (a Go preemption tgkill, a
    signal-restarted sleep) show up in some runs only."""
    w = prepare_workload(runtime, workdir / runtime, port=0)
    calls: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    per_run: list[list[str]] = []
    for i in range(repeat):
        trace = workdir / f"{runtime}-{i}.strace"
        output = trace_workload(w, trace)
        run_calls, run_errors = parse_trace(trace.read_text())
        per_run.append(sorted(run_calls))
        calls.update(run_calls)
        for name, errs in run_errors.items():
            errors[name].update(errs)
        trace.unlink()
    version = runtime_version(runtime)
    return {
        "runtime": runtime,
        "runtime_description": RUNTIME_DESCRIPTION[runtime].format(v=version),
        "date": datetime.date.today().isoformat(),
        "kernel": os.uname().release,
        "machine": os.uname().machine,
        "command": " ".join(w.container_args()),
        "workload_output": output.splitlines(),
        "runs": repeat,
        "syscall_count": len(calls),
        "syscall_count_per_run": [len(r) for r in per_run],
        "seen_in_some_runs_only": sorted(set(calls) - _in_every_run(per_run)),
        "total_calls": sum(calls.values()),
        "calls": dict(sorted(calls.items())),
        "errors": {k: dict(v) for k, v in sorted(errors.items())},
    }


def baseline_from_measurement(result: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Allowed and ENOSYS lists: measured set, probes moved to ENOSYS with their
    fallbacks allowed, aarch64 equivalents of x86_64-only names, and runc's needs."""
    measured = set(result["calls"])
    enosys = {n for n in ENOSYS_PROBES if n in measured} | {"clone3"}
    allow = measured - enosys
    for probe in enosys:
        allow.update(FALLBACK.get(probe, ()))
    for name in list(allow):
        allow.update(AARCH64_EQUIVALENT.get(name, ()))
    allow.update(RUNC_NEEDS)
    allow.update(ALWAYS)
    allow.update(RUNTIME_EXTRA.get(result["runtime"], ()))
    if result["runtime"] == "node":
        enosys.update(ENOSYS_PROBES)  # libuv probes io_uring; answer, never kill
    return sorted(allow), sorted(enosys)


def write_profile(result: dict[str, Any]) -> Path:
    allow, enosys = baseline_from_measurement(result)
    runtime = result["runtime"]
    notes = (
        f"measured with strace -f on {result['machine']} (kernel {result['kernel']}): "
        f"{result['syscall_count']} distinct syscalls seen over {result['runs']} runs; "
        "allowed = measured set "
        "+ aarch64 equivalents of x86_64-only names + fallbacks of ENOSYS probes "
        "+ what runc init calls after loading the filter; see bench/seccomp/results"
    )
    text = (
        f"# Seccomp baseline for {runtime} workloads, read by cgen's seccomp builder.\n"
        f"# Generated by bench/seccomp/measure.py --write-profiles; edit there.\n"
        f"# syscalls: ALLOW; enosys: ERRNO(ENOSYS), never kill. clone is listed plainly:\n"
        f"# the profile builder must allow it only without namespace flags, as Docker does\n"
        f"# (mask 0x7E020000 on argument 0), or clone(CLONE_NEWUSER) would bypass unshare.\n"
        f"source:\n"
        f"  measured: true\n"
        f'  runtime: "{result["runtime_description"]}"\n'
        f"  workload: harness/workloads/{runtime}\n"
        f'  date: "{result["date"]}"\n'
        f'  notes: "{notes}"\n'
        f"syscalls: [{', '.join(allow)}]\n"
        f"enosys: [{', '.join(enosys)}]\n"
    )
    path = PROFILES / f"{runtime}.yaml"
    path.write_text(text)
    return path


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'runtime':8} {'distinct':>8} {'allowed':>8} {'calls':>9}  failing syscalls (errno)")
    for r in results:
        allow, _ = baseline_from_measurement(r)
        failing = ", ".join(
            f"{name}({'/'.join(sorted(errs))})" for name, errs in sorted(r["errors"].items())
        )
        print(
            f"{r['runtime']:8} {r['syscall_count']:>8} {len(allow):>8} "
            f"{r['total_calls']:>9}  {failing}"
        )
    for r in results:
        print(f"\n{r['runtime']} ({r['runtime_description']}):")
        print("  " + " ".join(sorted(r["calls"])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", action="append", choices=RUNTIMES)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "seccomp" / "results")
    ap.add_argument("--repeat", type=int, default=3, help="traced runs per workload (union)")
    ap.add_argument("--write-profiles", action="store_true")
    ap.add_argument(
        "--from-results", action="store_true", help="reuse <out>/<runtime>.json, do not run"
    )
    args = ap.parse_args(argv)
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cgen-measure-") as tmp:
        for runtime in args.runtime or RUNTIMES:
            saved = args.out / f"{runtime}.json"
            if args.from_results:
                result = json.loads(saved.read_text())
            else:
                result = measure(runtime, Path(tmp), args.repeat)
                saved.write_text(json.dumps(result, indent=2) + "\n")
            if args.write_profiles:
                write_profile(result)
            results.append(result)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
