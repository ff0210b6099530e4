"""Progress of a long render or check on stderr: a line as each step starts, then the time
of each step, also when the run ends in cgen's error (a stale output, a manifest error).
Shown on a terminal once a run has taken a second, never in CI (the CI variable) or when
stderr is not a terminal; CGEN_PROGRESS=1 shows it at once wherever stderr goes,
CGEN_PROGRESS=0 never."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from generator.errors import CgenError
from generator.steps import Progress

ENV = "CGEN_PROGRESS"
DELAY = 1.0  # seconds a run takes before it shows progress
LABELS = {
    "inputs": "hashing the inputs",
    "load": "loading and checking the manifests",
    "build": "building the artifacts",
    "write": "writing the output folder",
}


def delay(stream: TextIO, environ: Mapping[str, str]) -> float | None:
    """Seconds before progress shows on stream (0: at once), or None: it never does."""
    forced = environ.get(ENV, "")
    if forced in ("0", "1"):
        return 0.0 if forced == "1" else None
    if environ.get("CI") or not stream.isatty():
        return None
    return DELAY


class _Reporter:
    """Told each step; prints once the delay has passed (from a timer for the first)."""

    def __init__(self, stream: TextIO, labels: Mapping[str, str]) -> None:
        self.stream, self.labels = stream, labels
        self.start = time.monotonic()
        self.steps: list[tuple[str, float]] = []
        self.shown = False
        self.lock = threading.Lock()

    def step(self, name: str) -> None:
        with self.lock:
            self.steps.append((name, time.monotonic()))
            if self.shown:
                self._line()

    def show(self) -> None:
        with self.lock:
            self.shown = True
            if self.steps:
                self._line()

    def _line(self) -> None:
        name, _ = self.steps[-1]
        elapsed = time.monotonic() - self.start
        self.stream.write(f"cgen: {self.labels.get(name, name)} ({elapsed:.1f} s)\n")
        self.stream.flush()

    def finish(self) -> None:
        with self.lock:
            if not self.shown:
                return
            end = time.monotonic()
            ends = [at for _, at in self.steps[1:]] + [end]
            times = ", ".join(
                f"{n} {e - at:.1f} s" for (n, at), e in zip(self.steps, ends, strict=True)
            )
            self.stream.write(f"cgen: done in {end - self.start:.1f} s ({times})\n")
            self.stream.flush()


@contextmanager
def reporter(labels: Mapping[str, str] = LABELS) -> Iterator[Progress | None]:
    """The progress callback for one command (None when no progress is to be shown)."""
    wait = delay(sys.stderr, os.environ)
    if wait is None:
        yield None
        return
    report = _Reporter(sys.stderr, labels)
    timer = threading.Timer(wait, report.show)
    timer.daemon = True
    if wait:
        timer.start()
    else:
        report.show()
    answered = False
    try:
        yield report.step
        answered = True
    except CgenError:  # a stale output or a manifest error is an answer too: say what it took
        answered = True
        raise
    finally:
        timer.cancel()
        if answered:
            report.finish()
