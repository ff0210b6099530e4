"""Measure the syscalls real third-party servers make, and write their seccomp baselines.

Each server of the prebuilt runtime profiles (profiles/<server>.yaml) is Debian 12's own
build, started in runc exactly as its profile's defaults say (uid, environment, command,
arguments, writable paths as tmpfs, persistent path on a host folder, read-only root, no
capabilities) but under `strace -f` instead of a seccomp filter, and driven through a
session of real work by its real client (harness/server_sessions.py: psql, redis-cli, curl,
the memcached text protocol, the mariadb client, an AMQP client), then stopped with
SIGTERM; PostgreSQL, Redis, MariaDB and RabbitMQ are started a second time on the same
data.

    python3 bench/servers_bench.py [--server NAME ...] [--write-profiles] [--from-results]
                                   [--repeat N] [--markdown]

Writes bench/servers/<server>.json (every syscall seen, with call and error counts) and
prints per server: syscalls measured, allowed by the baseline, their ratio, ENOSYS
answers, dangerous calls seen and left out, what the profile cgen renders allows (the
baseline plus cgen's harmless list) and Docker's default; exit 1 when a rendered
profile allows more than half of Docker's default. With --write-profiles it rewrites
profiles/seccomp/<server>.yaml from the measurement: the measured set + the vectored
twins of positional reads and writes (pwrite64/pwritev ...) + aarch64 names of
x86_64-only calls + fallbacks of ENOSYS probes + what runc init calls after loading the
filter, minus the dangerous set (listed in the notes: a server that needs one gets it
from a manifest line, never from its baseline). The sessions run twice by default
(--repeat) and their union is kept.
Needs root, runc, strace and the servers (tests/tools/install.sh).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
sys.path.insert(0, str(REPO / "bench" / "seccomp"))
sys.path.insert(0, str(REPO / "bench"))

from runc_servers import ENOSYS_ANSWERED, SERVERS, Layout, workload_from_profile  # noqa: E402
from runc_servers import Workload as ServerWorkload  # noqa: E402
from seccomp_bench import docker_default_count  # noqa: E402
from server_sessions import nginx_config_with_proxy, run_session, with_secrets  # noqa: E402

# The runtime measurement's trace parser and rules (bench/seccomp/measure.py), one source.
_measure = importlib.import_module("measure")
AARCH64_EQUIVALENT: dict[str, tuple[str, ...]] = _measure.AARCH64_EQUIVALENT
ALWAYS: tuple[str, ...] = _measure.ALWAYS
ENOSYS_PROBES: tuple[str, ...] = _measure.ENOSYS_PROBES
FALLBACK: dict[str, tuple[str, ...]] = _measure.FALLBACK
RUNC_NEEDS: tuple[str, ...] = _measure.RUNC_NEEDS
parse_trace: Callable[[str], tuple[Counter[str], dict[str, Counter[str]]]] = _measure.parse_trace

# The same server code picks the positional call or its vectored twin by how many
# buffers the data is in (nginx writes a request body with pwrite64 or pwritev): one
# session sees either, the next may see the other.
VECTORED: dict[str, tuple[str, ...]] = {
    "pread64": ("preadv",),
    "preadv": ("pread64",),
    "pwrite64": ("pwritev",),
    "pwritev": ("pwrite64",),
    "read": ("readv",),
    "readv": ("read",),
    "write": ("writev",),
    "writev": ("write",),
}

RESULTS = REPO / "bench" / "servers"
SECCOMP = REPO / "profiles" / "seccomp"
MAX_RATIO_OF_DOCKER = 0.5

DEBIAN_PACKAGE = {
    "postgresql": "postgresql-15",
    "redis": "redis-server",
    "nginx": "nginx-light",
    "memcached": "memcached",
    "mariadb": "mariadb-server",
    "rabbitmq": "rabbitmq-server",
}
SESSION = {
    "postgresql": "initdb, then psql: create table, insert 20000 rows, index, update, delete, "
    "vacuum, checkpoint, select; SIGTERM; start again on the same data and select",
    "redis": "redis-cli: SET/GET, 5000 pipelined SETs, hash, list, INCRBY, EXPIRE, BGSAVE, "
    "BGREWRITEAOF; SIGTERM; start again on the same data and GET",
    "nginx": "curl: a static file, /healthz, a 404, a proxied GET and a 300 kB proxied POST "
    "(buffered to a temp file); SIGTERM",
    "memcached": "text protocol: 2000 sets, a 500 kB value, get, incr, delete, stats; SIGTERM",
    "mariadb": "mariadb-install-db and root's password, then the mariadb client: create "
    "database and InnoDB table, insert 5000 rows, update, temporary table, delete, optimize; "
    "SIGTERM; start again on the same data and select",
    "rabbitmq": "AMQP (pika): durable queue, 500 persistent messages with publisher "
    "confirms, consume and ack half; SIGTERM; start again on the same data, consume the "
    "other half, delete the queue",
}


def session_workload(name: str) -> ServerWorkload:
    """The profile's defaults plus what a manifest adds: the password secret and, for
    nginx, a proxied location (the measured session proxies requests)."""
    w = workload_from_profile(name)
    w = with_secrets(w)
    if name == "nginx":
        config = {
            m: {"nginx.conf": nginx_config_with_proxy(f["nginx.conf"])} for m, f in w.config.items()
        }
        w = replace(w, config=config)
    return w


def server_version(name: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", DEBIAN_PACKAGE[name]],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{DEBIAN_PACKAGE[name]} {out.stdout.strip()} (Debian 12)"


def measure(name: str, workdir: Path, repeat: int) -> dict[str, Any]:
    """Trace `repeat` sessions (every phase, each on a fresh claim) and count calls and
    failing errnos per syscall over all of them: rare calls show up in some runs only."""
    w = session_workload(name)
    traces = []
    for i in range(repeat):
        layout = Layout(workdir / f"{name}-{i}", w)
        traces += run_session(layout, None, workdir / f"{name}-trace-{i}")
    calls: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for trace in traces:
        run_calls, run_errors = parse_trace(trace.read_text())
        calls.update(run_calls)
        for syscall, errs in run_errors.items():
            errors[syscall].update(errs)
        trace.unlink()
    return {
        "server": name,
        "version": server_version(name),
        "date": datetime.date.today().isoformat(),
        "kernel": os.uname().release,
        "machine": os.uname().machine,
        "command": w.argv,
        "session": SESSION[name],
        "runs": repeat,
        "syscall_count": len(calls),
        "total_calls": sum(calls.values()),
        "calls": dict(sorted(calls.items())),
        "errors": {k: dict(v) for k, v in sorted(errors.items())},
    }


def dangerous() -> set[str]:
    return set(yaml.safe_load((SECCOMP / "dangerous.yaml").read_text())["syscalls"])


def baseline(result: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(allowed, ENOSYS, dangerous calls seen and left out) from a measurement."""
    measured = set(result["calls"])
    # Every probe the trace answered with ENOSYS (ENOSYS_ANSWERED) is answered so under
    # the profile too, whether this session happened to call it or not.
    enosys = set(ENOSYS_ANSWERED) | {n for n in ENOSYS_PROBES if n in measured}
    allow = measured - enosys
    for probe in enosys:
        allow.update(FALLBACK.get(probe, ()))
    for syscall in list(allow):
        allow.update(VECTORED.get(syscall, ()))
    for syscall in list(allow):
        allow.update(AARCH64_EQUIVALENT.get(syscall, ()))
    allow.update(RUNC_NEEDS)
    allow.update(ALWAYS)
    left_out = allow & dangerous()
    return sorted(allow - left_out), sorted(enosys), sorted(left_out)


def write_profile(result: dict[str, Any]) -> Path:
    allow, enosys, left_out = baseline(result)
    name = result["server"]
    denied = (
        f"; dangerous calls seen and NOT allowed (answered EPERM, the server runs without "
        f"them): {', '.join(left_out)}"
        if left_out
        else ""
    )
    notes = (
        f"measured with strace -f in runc on {result['machine']} (kernel {result['kernel']}), "
        f"the profile's own defaults, read-only root, no capabilities: "
        f"{result['syscall_count']} distinct syscalls seen over {result['runs']} sessions; "
        "allowed = measured set + the vectored twins of positional reads and writes "
        "+ aarch64 equivalents of x86_64-only names + fallbacks of ENOSYS probes "
        f"+ what runc init calls after loading the filter{denied}; see bench/servers/{name}.json"
    )
    text = (
        f"# Seccomp baseline for the {name} server (profiles/{name}.yaml), read by cgen's\n"
        f"# seccomp builder. Generated by bench/servers_bench.py --write-profiles; edit there.\n"
        f"# syscalls: ALLOW; enosys: ERRNO(ENOSYS), never kill. clone is allowed only\n"
        f"# without namespace flags (mask 0x7E020000 on argument 0), as in Docker's profile.\n"
        f"source:\n"
        f"  measured: true\n"
        f'  runtime: "{result["version"]}"\n'
        f'  workload: "harness/server_sessions.py session: {result["session"]}"\n'
        f'  date: "{result["date"]}"\n'
        f'  notes: "{notes}"\n'
        f"syscalls: [{', '.join(allow)}]\n"
        f"enosys: [{', '.join(enosys)}]\n"
    )
    path = SECCOMP / f"{name}.yaml"
    path.write_text(text)
    return path


def rendered_counts(servers: list[str]) -> dict[str, int]:
    """{server: syscalls its profile as cgen renders it allows} (baseline + harmless list)."""
    from generator import load
    from generator.seccomp import profile as seccomp

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="cgen-servers-render-", dir="/var/tmp") as tmp:
        for name in servers:
            manifest = {
                "apiVersion": "cgen/v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": "bench"},
                "spec": {"runtime": name, "image": f"example.com/{name}:1@sha256:{'0' * 64}"},
            }
            (Path(tmp) / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
        project, _ = load([Path(tmp)], Path(tmp) / "out")
        for svc in project.services:
            prof = seccomp.profile(project, svc)
            allowed = {
                n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]
            }
            counts[svc.runtime] = len(allowed)
    return counts


def table(results: list[dict[str, Any]], markdown: bool) -> tuple[str, bool]:
    docker, _how = docker_default_count()
    rendered = rendered_counts([r["server"] for r in results])
    head = [
        "server",
        "measured",
        "baseline",
        "baseline/measured",
        "rendered profile allows",
        "ENOSYS",
        "dangerous seen, denied",
        "Docker default",
    ]
    rows: list[list[str]] = []
    ok = True
    for r in results:
        allow, enosys, left_out = baseline(r)
        total = rendered[r["server"]]
        ok &= total <= MAX_RATIO_OF_DOCKER * docker and not set(allow) & dangerous()
        ratio = f"{len(allow) / r['syscall_count']:.2f}x"
        rows.append(
            [
                r["server"],
                str(r["syscall_count"]),
                str(len(allow)),
                ratio,
                str(total),
                str(len(enosys)),
                ", ".join(left_out) or "-",
                str(docker),
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [head, *rows]
        ]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--server", action="append", choices=SERVERS)
    ap.add_argument("--write-profiles", action="store_true")
    ap.add_argument("--from-results", action="store_true", help="reuse bench/servers/*.json")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--repeat", type=int, default=2, help="traced sessions per server (union)")
    args = ap.parse_args(argv)
    results = []
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cgen-servers-", dir="/var/tmp") as tmp:
        for name in args.server or SERVERS:
            path = RESULTS / f"{name}.json"
            if args.from_results:
                result = json.loads(path.read_text())
            else:
                result = measure(name, Path(tmp), args.repeat)
                path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
            if args.write_profiles:
                write_profile(result)
            results.append(result)
    text, ok = table(results, args.markdown)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
