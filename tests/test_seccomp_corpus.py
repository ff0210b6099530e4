"""Real software runs under the seccomp profiles cgen renders for its runtime.

The corpus (harness/corpus: stdlib http.server, sqlite3 with fsync, logging to a
file, subprocess, gunicorn+Flask, gunicorn+Django, grpcio, uvicorn+FastAPI, requests
over TLS, psycopg against PostgreSQL, redis-py against Redis; express, fastify, pg,
ioredis, grpc-js, worker_threads, fs with fsync; the JDK HTTP server, a JVM behind a
shell entrypoint spawning a process, JDBC against PostgreSQL; Go net/http with and
without cgo, database/sql with lib/pq) runs in runc with exactly the rendered
seccomp.json and the rendered Deployment's securityContext, against real peers, and
must check its own result and exit 0. Removing a syscall the corpus needs from the
profile makes its workload fail, so the runs can fail; profiles/seccomp/corpus.yaml
(written by bench/seccomp_corpus.py) must hold what the baselines carry.

Needs root, runc and what tests/tools/install.sh installs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import corpus as corpus_mod
import pytest
import yaml
from runc_harness import Bind, RunResult, run_in_runc, without_syscall
from runc_workloads import REPO, Rendered, read_rendered, render_project, write_project

pytestmark = pytest.mark.container

NS = "corpus"
RUNTIMES = ("python", "node", "java", "go", "static")
PROFILES = REPO / "profiles" / "seccomp"
BY_NAME = {w.name: w for w in corpus_mod.WORKLOADS}


@pytest.fixture(scope="module")
def corpus() -> Iterator[corpus_mod.Corpus]:
    if os.geteuid() != 0:
        pytest.fail("these tests start runc containers and PostgreSQL and need root")
    try:
        with corpus_mod.corpus() as c:
            yield c
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    base = tmp_path_factory.mktemp("render")
    write_project(base / "p", {rt: {"runtime": rt} for rt in RUNTIMES}, {"namespace": NS})
    proc = render_project(base / "p", base / "out")
    assert proc.returncode == 0, proc.stderr
    return {rt: read_rendered(base / "out", NS, rt) for rt in RUNTIMES}


def run(
    w: corpus_mod.Workload,
    c: corpus_mod.Corpus,
    svc: Rendered,
    seccomp: dict[str, Any] | None = None,
) -> RunResult:
    argv, env = corpus_mod.expand(w, c.container_paths())
    binds = [Bind(src, dest, readonly=not rw) for src, dest, rw in c.mounts()]
    opts = svc.options(binds=binds, cwd="/tmp", timeout_s=180.0)
    opts.env = {**env, "TMPDIR": "/tmp"}
    opts.network = "host" if w.network == "host" else "loopback"
    if seccomp is not None:
        opts.seccomp = seccomp
    return run_in_runc(argv, opts)


@pytest.mark.parametrize("name", list(BY_NAME))
def test_workload_runs_under_its_rendered_profile(
    name: str, corpus: corpus_mod.Corpus, rendered: dict[str, Rendered]
) -> None:
    w = BY_NAME[name]
    res = run(w, corpus, rendered[w.runtime])
    assert not res.timed_out, res.output
    assert "CORPUS OK" in res.stdout, res.output
    assert res.exit_code == 0, res.output


# (workload, a syscall it needs that its baseline or the harmless list allows)
NEEDED = (
    ("python/http.server", "getcwd"),
    ("python/sqlite3-fsync", "fdatasync"),
    ("java/shell-entrypoint+spawn", "wait4"),
    ("node/fs-fsync", "fsync"),
)


@pytest.mark.parametrize(("name", "syscall"), NEEDED)
def test_removing_a_needed_syscall_breaks_the_workload(
    name: str, syscall: str, corpus: corpus_mod.Corpus, rendered: dict[str, Rendered]
) -> None:
    w = BY_NAME[name]
    svc = rendered[w.runtime]
    res = run(w, corpus, svc, without_syscall(svc.seccomp, syscall))
    assert res.exit_code != 0, res.output
    assert "CORPUS OK" not in res.stdout, res.output


def test_corpus_data_is_what_the_baselines_carry() -> None:
    data = yaml.safe_load((PROFILES / "corpus.yaml").read_text())
    dangerous = set(yaml.safe_load((PROFILES / "dangerous.yaml").read_text())["syscalls"])
    assert set(data["runtimes"]) == set(RUNTIMES)
    for runtime, entry in data["runtimes"].items():
        assert set(entry["workloads"]) == {w.name for w in BY_NAME.values() if w.runtime == runtime}
        baseline = yaml.safe_load((PROFILES / f"{runtime}.yaml").read_text())
        carried = set(baseline["syscalls"]) | set(baseline["enosys"])
        missing = set(entry["syscalls"]) - carried - dangerous
        assert not missing, f"{runtime}: the corpus needed {missing}, the baseline lacks them"
        for name, workloads in entry["syscalls"].items():
            assert workloads and set(workloads) <= set(entry["workloads"]), name
