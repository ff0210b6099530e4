"""Measure what cgen costs: start-up, and a sweep of synthetic projects of N services.

Run from the repository root: `python bench/render_bench.py [--sizes 100 1000 3000 10000]
[--repeat 2] [--profile 1000]`. Each project has 3 namespaces, about 5 dependencies per
service (a third of them across namespaces) and every runtime in turn. For every N it runs
fresh processes: a full render (new output folder), a render with nothing changed, `check`,
a render after one manifest changed, and beside them, in the same run, the floor (a
pure-Python `yaml.safe_load` of the same manifests plus writing the same output bytes
plainly) and `kubectl kustomize` (or `kustomize build`) of the output where installed.

CPU is user + system time of the child (from os.wait4, so load on the machine changes it
less than wall time); peak RSS is the child's. With --repeat R each figure is the best of R
runs. Bytecode is cached in the bench's folder, as an installed cgen has it. Set TMPDIR
to put the projects on the disk to be measured. It prints a table; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = (ROOT / "examples" / "shop" / "images.lock").read_text(encoding="utf-8")
RUNTIMES = ("python", "node", "go", "java", "dotnet", "static")
NAMESPACES = 3
STEPS = (1, 2, 5, 11, 23)  # the services each one calls: i + step
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CI")},
    "CGEN_PROGRESS": "0",
}


@dataclass
class Run:
    """What one child process cost."""

    cpu: float
    wall: float
    rss_mb: float

    @classmethod
    def best(cls, runs: list[Run]) -> Run:
        """The least CPU and wall time and the largest peak of several runs."""
        return cls(min(r.cpu for r in runs), min(r.wall for r in runs), max(r.rss_mb for r in runs))


def measure(command: list[str], cwd: Path = ROOT) -> Run:
    """Run command once and return its CPU, wall time and peak RSS."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=null, stderr=null)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}")
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


def cgen(*args: str) -> list[str]:
    """A fresh `cgen` process."""
    return [sys.executable, "-m", "generator", *args]


def synthetic(folder: Path, count: int) -> None:
    """Write a project of count services into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images.lock").write_text(LOCK, encoding="utf-8")
    for i in range(count):
        deps = "".join(
            f"    - service: svc-{j}\n      namespace: ns-{j % NAMESPACES}\n      ports: [http]\n"
            for j in (i + step for step in STEPS)
            if j < count
        )
        (folder / f"svc-{i}.yaml").write_text(
            "apiVersion: cgen/v1\nkind: Service\n"
            f"metadata:\n  name: svc-{i}\n  namespace: ns-{i % NAMESPACES}\n"
            f"spec:\n  runtime: {RUNTIMES[i % len(RUNTIMES)]}\n"
            f"  image: registry.example.com/svc-{i}:1.0.{i}\n"
            "  ports:\n    - name: http\n      port: 8080\n"
            + ("  dependencies:\n" + deps if deps else ""),
            encoding="utf-8",
        )


FLOOR = """
import sys, yaml
from pathlib import Path
project, out, copy = map(Path, sys.argv[1:])
for path in sorted(project.glob("*.yaml")):
    yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
for path in sorted(out.rglob("*")):
    if path.is_file() and ".cgen" not in path.parts:
        target = copy / path.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
"""


def kustomize_command() -> list[str] | None:
    """How to run kustomize here, or None when neither kustomize nor kubectl is installed."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def _change(project: Path, count: int, turn: int) -> None:
    """Change one manifest (another image tag), a different one each turn."""
    path = project / f"svc-{(count // 2 + turn) % count}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  image: ", f"  # change {turn}\n  image: ", 1), "utf-8")


def sweep_one(tmp: Path, count: int, repeat: int, kustomize_up_to: int) -> dict[str, Run]:
    """Every figure for a project of count services."""
    project, out, copy = tmp / f"p{count}", tmp / f"out{count}", tmp / f"copy{count}"
    synthetic(project, count)
    args = [str(project), "--out", str(out), "--allow-unpinned"]
    runs: dict[str, list[Run]] = {}

    def take(name: str, command: list[str]) -> None:
        runs.setdefault(name, []).append(measure(command))

    for turn in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        take("full render", cgen("render", *args))
        shutil.rmtree(copy, ignore_errors=True)
        take("floor", [sys.executable, "-c", FLOOR, str(project), str(out), str(copy)])
        take("no change", cgen("render", *args))
        take("check", cgen("check", *args))
        _change(project, count, turn)
        take("one change", cgen("render", *args))
        kustomize = kustomize_command()
        if kustomize and count <= kustomize_up_to:
            take("kustomize", [*kustomize, str(out)])
    figures = {name: Run.best(found) for name, found in runs.items()}
    shutil.rmtree(copy, ignore_errors=True)
    return figures


def _row(count: str, name: str, run: Run, note: str = "") -> None:
    print(
        f"{count:>6}  {name:<12} {run.cpu:8.2f} {run.wall:8.2f} {run.rss_mb:8.0f}  {note}",
        flush=True,
    )


def print_sweep(count: int, figures: dict[str, Run]) -> None:
    """The rows of one N, with their ratios."""
    full, floor = figures["full render"], figures["floor"]
    _row(str(count), "full render", full, f"{full.cpu / floor.cpu:.2f}x the floor")
    _row("", "floor", floor, "yaml.safe_load (pure Python) + plain writes")
    for name in ("no change", "check", "one change"):
        _row("", name, figures[name], f"{figures[name].cpu / full.cpu:.2f}x full")
    if "kustomize" in figures:
        kust = figures["kustomize"]
        _row("", "kustomize", kust, f"full render = {full.cpu / kust.cpu:.2f}x kustomize")


def startup(tmp: Path, runs: int) -> None:
    """One service against the imports every render needs (best of runs)."""
    project, out = tmp / "one", tmp / "one-out"
    synthetic(project, 1)
    base = [sys.executable, "-c", "import yaml, jinja2"]
    render = cgen("render", str(project), "--out", str(out), "--allow-unpinned", "--force")
    validate = cgen("validate", str(project))
    for command in (base, render, validate):  # compile and cache the bytecode first
        measure(command)
    floor = Run.best([measure(base) for _ in range(runs)])
    print(f"start-up, CPU seconds, best of {runs}:")
    print(f"  python -c 'import yaml, jinja2'   {floor.cpu:6.3f}")
    for name, command in (("render", render), ("validate", validate)):
        one = Run.best([measure(command) for _ in range(runs)])
        print(f"  cgen {name:<8} 1 service         {one.cpu:6.3f}  {one.cpu / floor.cpu:.2f}x")


def profile(tmp: Path, count: int, top: int) -> None:
    """cProfile one full render of count services and print the top entries."""
    project, out, stats = tmp / f"prof{count}", tmp / f"prof-out{count}", tmp / "render.prof"
    synthetic(project, count)
    render = ["render", str(project), "--out", str(out), "--allow-unpinned"]
    measure([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "generator", *render])
    for order in ("tottime", "cumulative"):
        print(f"\nprofile of a full render of {count} services (top {top} by {order}):")
        pstats.Stats(str(stats)).sort_stats(order).print_stats(top)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 3000, 10000])
    parser.add_argument("--repeat", type=int, default=1, help="best of R runs per figure")
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, help="cProfile a render of N services")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--kustomize-up-to",
        type=int,
        default=1000,
        help="run kustomize on outputs of at most N services (it grows faster than linearly)",
    )
    opts = parser.parse_args()
    print(
        f"cgen bench {datetime.date.today()}: {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    kustomize = kustomize_command()
    print(
        f"kustomize: {' '.join(kustomize)} (up to N={opts.kustomize_up_to})"
        if kustomize
        else "kustomize: neither kustomize nor kubectl is installed here; no comparison"
    )
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        startup(tmp, opts.startup_runs)
        print(f"\n{'N':>6}  {'what':<12} {'CPU s':>8} {'wall s':>8} {'peak MB':>8}")
        full: dict[int, float] = {}
        for count in opts.sizes:
            figures = sweep_one(tmp, count, opts.repeat, opts.kustomize_up_to)
            print_sweep(count, figures)
            full[count] = figures["full render"].cpu
        sizes = sorted(full)
        for small, large in itertools.pairwise(sizes):
            growth = full[large] / full[small]
            print(f"full render {small} -> {large} services: {growth:.2f}x CPU")
        if opts.profile:
            profile(tmp, opts.profile, opts.top)


if __name__ == "__main__":
    main()
