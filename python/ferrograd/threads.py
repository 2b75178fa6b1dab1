"""``get_num_threads`` and ``set_num_threads``: the host thread pool the CPU kernels share."""

from __future__ import annotations

from . import _core


def get_num_threads() -> int:
    """Threads the CPU kernels use (the interpreter's thread is one of them)."""
    return int(_core.num_threads())


def set_num_threads(num: int) -> None:
    """Asks for ``num`` threads. ferrograd sizes its pool once, when it is imported (one thread
    per CPU, or ``RAYON_NUM_THREADS``), and cannot resize it afterwards: asking for the current
    size is accepted, any other size raises a RuntimeError saying how to get it (set
    ``RAYON_NUM_THREADS`` before importing ferrograd, e.g. at the top of a notebook)."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads: argument `num` expected an integer >= 1, got {num!r}")
    current = get_num_threads()
    if num != current:
        raise RuntimeError(f"set_num_threads: the thread pool has {current} threads, fixed when ferrograd was imported; "
                           f"set the environment variable RAYON_NUM_THREADS={num} before importing ferrograd (for "
                           f"a notebook: restart the kernel and set it in the first cell)")
