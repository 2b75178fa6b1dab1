"""Timing helpers shared by the benchmarks: warm-up, median of repeated runs, machine description."""

from __future__ import annotations

import math
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


# How long each library runs untimed at the start of its turn (see `paired_median_ms`).
SETTLE_S = 0.02
# Calls slower than this get no untimed settling calls: another library's spinning threads cost
# them a negligible share.
SETTLE_UP_TO_S = 0.1


def paired_median_ms(ours: Callable[[], object], theirs: Callable[[], object], repeat: int = 30,
                     warmup: int = 5, burst: int = 1) -> tuple[float, float]:
    """Median wall times (ms) of two functions over ``repeat`` timed calls each, after ``warmup``
    untimed rounds. The timing runs in rounds, each giving both functions a turn: a slow spell of
    the machine then hits both sides alike instead of whichever happened to be running.

    A turn is a few untimed calls (about ``SETTLE_S`` of them, for calls shorter than
    ``SETTLE_UP_TO_S``) and then ``burst`` timed ones. Both libraries keep their worker threads
    spinning for a while after a call (PyTorch's OpenMP runtime, and ferrograd's pool for
    ``FERROGRAD_SPIN_US``), so a call timed right after the other library's would share the cores
    with that library's spinning threads, which a user's own training loop never does."""
    call_s = [float("inf"), float("inf")]
    for _ in range(warmup):
        for i, fn in enumerate((ours, theirs)):
            start = time.perf_counter()
            fn()
            call_s[i] = min(call_s[i], time.perf_counter() - start)
    settle = [math.ceil(SETTLE_S / s) if s < SETTLE_UP_TO_S else 0 for s in call_s]
    times: tuple[list[float], list[float]] = ([], [])
    while len(times[0]) < repeat:
        for i, fn in enumerate((ours, theirs)):
            for _ in range(settle[i]):
                fn()
            for _ in range(min(burst, repeat - len(times[i]))):
                start = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - start)
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
