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
