"""Print what cgen costs as a project grows: CPU seconds of fresh `cgen` processes.

Run from the repository root: `python bench/scale_bench.py [--sizes 100 1000 3000]
[--profile 1000]`. Each synthetic project has 3 namespaces, about 5 dependencies per service
(a third of them across namespaces) and every runtime in turn. CPU is user + system time
of the child process (resource.getrusage(RUSAGE_CHILDREN) before and after), so a busy
machine changes the figures less than it changes wall time. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = (ROOT / "examples" / "shop" / "images.lock").read_text(encoding="utf-8")
RUNTIMES = ("python", "node", "go", "java", "dotnet", "static")
NAMESPACES = 3
STEPS = (1, 2, 5, 11, 23)  # the services each one calls: i + step


def _cpu(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + sys) and wall seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def _cgen(*args: str) -> list[str]:
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


def _row(label: str, cpu: float, wall: float, note: str = "") -> None:
    print(f"  {label:<34} {cpu:8.2f} s CPU {wall:8.2f} s wall  {note}", flush=True)


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


def floor(project: Path, out: Path, copy: Path) -> tuple[float, float]:
    """CPU of the issue's floor: a pure-Python yaml.safe_load of the manifests plus
    writing the same output bytes plainly."""
    return _cpu([sys.executable, "-c", FLOOR, str(project), str(out), str(copy)])


def measure(tmp: Path, count: int) -> float:
    """Print full, no-change and check figures for count services; return the full CPU."""
    project, out = tmp / f"p{count}", tmp / f"out{count}"
    synthetic(project, count)
    args = [str(project), "--out", str(out), "--allow-unpinned"]
    print(f"N={count}", flush=True)
    full = _cpu(_cgen("render", *args))
    files = sum(1 for p in out.rglob("*") if p.is_file())
    _row("render, new output", *full, f"{files} files")
    base = floor(project, out, tmp / f"copy{count}")
    _row("floor: safe_load + plain writes", *base, f"full render = {full[0] / base[0]:.1f}x")
    same = _cpu(_cgen("render", *args))
    _row("render, nothing changed", *same, f"{same[0] / full[0]:.2f}x full")
    check = _cpu(_cgen("check", *args))
    _row("check, up to date", *check, f"{check[0] / full[0]:.2f}x full")
    forced = _cpu(_cgen("render", "--force", *args))
    _row("render --force, nothing changed", *forced, f"{forced[0] / full[0]:.2f}x full")
    return full[0]


def startup(tmp: Path) -> None:
    """One service against the imports every render needs."""
    floor = min(_cpu([sys.executable, "-c", "import yaml, jinja2"])[0] for _ in range(5))
    project, out = tmp / "one", tmp / "one-out"
    synthetic(project, 1)
    args = ["render", str(project), "--out", str(out), "--allow-unpinned"]
    one = min(_cpu(_cgen(*args, "--force"))[0] for _ in range(5))
    print(f"python -c 'import yaml, jinja2'      {floor:8.3f} s CPU (best of 5)")
    print(f"cgen render, 1 service               {one:8.3f} s CPU (best of 5, {one / floor:.1f}x)")


def profile(tmp: Path, count: int, top: int) -> None:
    """cProfile one full render of count services and print the top entries."""
    project, out, stats = tmp / f"prof{count}", tmp / f"prof-out{count}", tmp / "render.prof"
    synthetic(project, count)
    render = ["render", str(project), "--out", str(out), "--allow-unpinned"]
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "generator", *render],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(f"\nprofile of a full render of {count} services (top {top} by own time):")
    pstats.Stats(str(stats)).sort_stats("tottime").print_stats(top)
    print(f"profile of a full render of {count} services (top {top} by cumulative time):")
    pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(top)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 3000])
    parser.add_argument("--profile", type=int, default=0, help="cProfile a render of N services")
    parser.add_argument("--top", type=int, default=25)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as t:  # TMPDIR picks the disk measured
        tmp = Path(t)
        startup(tmp)
        full = {count: measure(tmp, count) for count in opts.sizes}
        if 1000 in full and 3000 in full:
            print(f"growth 1000 -> 3000: {full[3000] / full[1000]:.2f}x CPU for 3x the services")
        if opts.profile:
            profile(tmp, opts.profile, opts.top)


if __name__ == "__main__":
    main()
