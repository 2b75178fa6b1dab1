"""Threads: the GIL is released while Rust computes, and ops called from other Python threads
(outside the thread pool the interpreter's thread belongs to) give the same results, alone and
concurrently with the interpreter's thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F

# Generous: a deadlock would hang forever, a slow machine takes a few seconds.
JOIN_TIMEOUT_S = 120.0


def test_the_gil_is_released_during_a_long_op(rng: np.random.Generator) -> None:
    """A Python thread keeps running while the interpreter's thread waits on a large product:
    with the GIL held it could not run at all during the call."""
    a = fg.tensor(rng.standard_normal((1024, 2048), dtype=np.float32))
    b = fg.tensor(rng.standard_normal((2048, 1024), dtype=np.float32))
    ticks = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            ticks[0] += 1

    worker = threading.Thread(target=spin)
    worker.start()
    try:
        during = 0
        for _ in range(3):
            before = ticks[0]
            (a @ b).numpy()
            during += ticks[0] - before
    finally:
        stop.set()
        worker.join(JOIN_TIMEOUT_S)
    assert during > 0


def _work(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parallel ops (a threaded product, a per-image convolution and its backward pass) on fixed
    inputs; returns the product, the convolution and the weight gradient."""
    r = np.random.default_rng(seed)
    a = r.standard_normal((256, 512), dtype=np.float32)
    b = r.standard_normal((512, 384), dtype=np.float32)
    x = r.standard_normal((16, 3, 20, 20), dtype=np.float32)
    w = fg.tensor(r.standard_normal((8, 3, 3, 3), dtype=np.float32), requires_grad=True)
    product = (fg.tensor(a) @ fg.tensor(b)).numpy()
    y = F.conv2d(fg.tensor(x), w, padding=1)
    (y * y).sum().backward()
    assert w.grad is not None
    return product, y.detach().numpy(), w.grad.numpy()


def test_ops_from_other_threads_match_the_interpreter_thread() -> None:
    """The same work on two other threads at once, while the interpreter's thread runs it too,
    gives bitwise the results of the interpreter's thread alone (no deadlock, no crosstalk)."""
    expected = {seed: _work(seed) for seed in (1, 2)}
    results: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {1: [], 2: []}
    errors: list[BaseException] = []

    def run(seed: int) -> None:
        try:
            for _ in range(5):
                results[seed].append(_work(seed))
        except BaseException as e:  # reported by the test thread below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    on_main = [_work(1) for _ in range(5)]
    for t in threads:
        t.join(JOIN_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "an op from another thread never finished"
    assert not errors, errors
    for seed, runs in results.items():
        assert len(runs) == 5
        for got in runs:
            for g, want in zip(got, expected[seed]):
                np.testing.assert_array_equal(g, want)
    for got in on_main:
        for g, want in zip(got, expected[1]):
            np.testing.assert_array_equal(g, want)
    # The product itself is right, not merely the same everywhere.
    r = np.random.default_rng(1)
    a = r.standard_normal((256, 512), dtype=np.float32)
    b = r.standard_normal((512, 384), dtype=np.float32)
    np.testing.assert_allclose(expected[1][0], a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_a_single_thread_pool_serves_other_threads() -> None:
    """With RAYON_NUM_THREADS=1 the pool stays without the interpreter's thread: a parallel op
    from another thread, joined by the interpreter's thread, finishes (no deadlock)."""
    script = (
        "import threading, numpy as np, ferrograd as fg\n"
        # Above the elementwise parallel threshold: the map runs as a pool loop.
        "a = fg.tensor(np.full((2048, 2048), 0.5, dtype=np.float32))\n"
        "out = []\n"
        "t = threading.Thread(target=lambda: out.append((a * 2.0).numpy().sum(dtype=np.float64)), daemon=True)\n"
        "t.start(); t.join(30)\n"
        "assert not t.is_alive() and out == [2048.0 * 2048], out\n"
        "print('ok')\n"
    )
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=JOIN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("spin_us", ["0", "50000"])
def test_spinning_helpers_change_no_result(spin_us: str, tmp_path: Path) -> None:
    """FERROGRAD_SPIN_US only sets how long the pool's other workers stay awake after an op (0:
    they sleep at once, as rayon's own workers do): the same work gives bitwise the same
    results as in this process, where they spin for the default time."""
    out = tmp_path / "work.npz"
    script = (
        "import sys, numpy as np\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_threads import _work\n"
        "product, conv, grad = _work(1)\n"
        f"np.savez({str(out)!r}, product=product, conv=conv, grad=grad)\n"
    )
    env = {**os.environ, "FERROGRAD_SPIN_US": spin_us}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=JOIN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    saved = np.load(out)
    for name, want in zip(("product", "conv", "grad"), _work(1)):
        np.testing.assert_array_equal(saved[name], want)
