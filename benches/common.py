"""Timing helpers shared by the benchmarks: warm-up, median of repeated runs, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable


def median_ms(fn: Callable[[], object], repeat: int = 30, warmup: int = 5) -> float:
    """Median wall time of ``fn`` in milliseconds after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def paired_median_ms(ours: Callable[[], object], theirs: Callable[[], object], repeat: int = 30,
                     warmup: int = 5) -> tuple[float, float]:
    """Median wall times (ms) of two functions timed in alternation, one call of each per round
    after ``warmup`` untimed rounds: a slow spell of the machine then hits both sides alike
    instead of whichever happened to be running."""
    for _ in range(warmup):
        ours()
        theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1])


def machine() -> str:
    """A one-line description of the CPU and thread count used."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"
