"""Print how long cgen takes: start-up, one small render, and a large synthetic project.

Run from the repository root: `python bench/render_bench.py [--services N]`. Figures are
medians of several runs in fresh processes (what a user or CI waits for). How the cost
grows with the number of services, in CPU seconds: bench/scale_bench.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = (ROOT / "examples" / "shop" / "images.lock").read_text(encoding="utf-8")
RUNTIMES = ("python", "node", "go", "java", "dotnet", "static")


def _timed(args: list[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "generator", *args], cwd=cwd, check=True, capture_output=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _synthetic(folder: Path, count: int) -> None:
    (folder / "images.lock").write_text(LOCK, encoding="utf-8")
    for i in range(count):
        deps = "".join(
            f"    - service: svc-{j}\n      ports: [http]\n"
            for j in (i + 1, i + 7, i + 31)
            if j < count
        )
        (folder / f"svc-{i}.yaml").write_text(
            "apiVersion: cgen/v1\nkind: Service\n"
            f"metadata:\n  name: svc-{i}\n  namespace: ns-{i % 5}\n"
            f"spec:\n  runtime: {RUNTIMES[i % len(RUNTIMES)]}\n"
            f"  image: registry.example.com/svc-{i}:1.0.{i}\n"
            "  ports:\n    - name: http\n      port: 8080\n"
            + (
                "  dependencies:\n" + deps.replace("service: svc-", "service: svc-") if deps else ""
            ),
            encoding="utf-8",
        )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - start
    print(f"python start-up                       {bare * 1000:8.0f} ms")
    helptime = _timed(["--help"], ROOT, opts.runs)
    print(f"cgen --help                           {helptime * 1000:8.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        example = ["render", str(ROOT / "examples" / "shop"), "--out", str(out)]
        first = _timed(example, ROOT, 1)
        print(f"render example (9 services), new out  {first * 1000:8.0f} ms")
        again = _timed(example, ROOT, opts.runs)
        print(f"render example again (no change)      {again * 1000:8.0f} ms")
        big = Path(tmp) / "big"
        big.mkdir()
        _synthetic(big, opts.services)
        for i in range(opts.services):  # cross-namespace callers need the namespace named
            path = big / f"svc-{i}.yaml"
            text = path.read_text(encoding="utf-8")
            for j in (i + 1, i + 7, i + 31):
                text = text.replace(
                    f"    - service: svc-{j}\n",
                    f"    - service: svc-{j}\n      namespace: ns-{j % 5}\n",
                )
            path.write_text(text, encoding="utf-8")
        args = ["render", str(big), "--out", str(Path(tmp) / "big-out"), "--allow-unpinned"]
        elapsed = _timed(args, ROOT, 1)
        files = sum(1 for _ in (Path(tmp) / "big-out").rglob("*") if _.is_file())
        print(
            f"render {opts.services} services ({files} files)     {elapsed * 1000:8.0f} ms"
            f"  ({elapsed / opts.services * 1000:.1f} ms per service)"
        )
        check = _timed(
            ["check", str(big), "--out", str(Path(tmp) / "big-out"), "--allow-unpinned"],
            ROOT,
            opts.runs,
        )
        print(f"check {opts.services} services (up to date)      {check * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
