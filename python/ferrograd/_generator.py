"""``Generator``: a random stream of its own, as ``torch.Generator``, for the ``generator=``
keyword of the random functions.

The global generator (``ferrograd.manual_seed``) lives in the Rust core: Philox-4x32-10 keyed by
a 64-bit seed, whose value ``i`` depends only on (seed, offset + i). Swapping the global state in
and out around a draw would race with draws made on other threads (dropout and shuffling inside
``fit``, which runs with the GIL released), so a Generator owns a (seed, offset) pair and asks the
core to draw from that state directly (``_core.philox_draw``): it never reads or moves the global
stream, and a Generator seeded with ``s`` yields exactly the values the global generator yields
after ``manual_seed(s)``. The values are made on the host and moved to the requested device.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, Optional, Sequence

import numpy as np

from . import _core
from ._core import Tensor
from .dtypes import device as _device

# The seed a fresh process's global generator starts from (the core's `0x5eed`), so a new
# Generator starts where the global stream does.
DEFAULT_SEED = 0x5EED
_U64 = 2**64


def _seed_value(op: str, seed: Any) -> int:
    """``seed`` as an unsigned 64-bit key; negative seeds wrap as in PyTorch."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{op}: argument `seed` expected an int, got {seed!r} ({type(seed).__name__})")
    value = int(seed)
    if not -(2**63) <= value < _U64:
        raise ValueError(f"{op}: argument `seed` expected an int in [-2**63, 2**64), got {value}")
    return value % _U64


class Generator:
    """A random stream of its own, as ``torch.Generator``: pass it as ``generator=`` to
    :func:`ferrograd.rand`, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
    ``multinomial``, the in-place fills (``Tensor.uniform_`` ...), ``nn.init`` and the data
    utilities, and their draws come from it instead of the global generator, which they leave
    untouched.

    The stream is ferrograd's Philox-4x32-10, keyed by a 64-bit seed and advanced by an offset, so
    the same seed gives the same numbers on every run and every device, and a Generator seeded with
    ``s`` gives the uniform values that ``ferrograd.manual_seed(s)`` gives the global generator.
    ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) is recorded for PyTorch code: the values are
    computed on the host and moved to whatever device a tensor asks for, so one Generator serves
    every device. A new Generator starts from seed ``0x5eed``, the global generator's start.
    """

    def __init__(self, device: str = "cpu") -> None:
        if not isinstance(device, str):
            raise TypeError(f"Generator: argument `device` expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        try:
            self._device = _device(device)
        except ValueError:
            raise ValueError(f"Generator: argument `device` expected 'cpu', 'cuda' or 'cuda:N', got {device!r}") \
                from None
        self._seed = DEFAULT_SEED
        self._offset = 0
        # Draws from one Generator on several threads each take their own range of the stream.
        self._lock = threading.Lock()

    @property
    def device(self) -> _device:
        """The device named at construction (the values serve any device)."""
        return self._device

    def manual_seed(self, seed: int) -> Generator:
        """Restarts the stream at ``seed`` (an int; negative values wrap modulo 2**64, as in
        PyTorch); returns this generator."""
        value = _seed_value("Generator.manual_seed", seed)
        with self._lock:
            self._seed, self._offset = value, 0
        return self

    def seed(self) -> int:
        """Restarts the stream at a fresh seed from the operating system's entropy; returns it."""
        value = secrets.randbits(64)
        with self._lock:
            self._seed, self._offset = value, 0
        return value

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def get_state(self) -> tuple[int, int]:
        """The stream's ``(seed, offset)``: the form ``ferrograd.get_rng_state`` uses for the
        global generator; :meth:`set_state` resumes from it."""
        with self._lock:
            return self._seed, self._offset

    def set_state(self, state: Sequence[int]) -> Generator:
        """Resumes the stream at a ``(seed, offset)`` pair from :meth:`get_state` (or from
        ``ferrograd.get_rng_state()``, to continue the global stream here); returns this generator."""
        if isinstance(state, (str, bytes)) or not isinstance(state, Sequence) or len(state) != 2 \
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in state):
            raise TypeError(f"Generator.set_state: argument `state` expected a (seed, offset) pair of ints from "
                            f"get_state(), got {state!r}")
        seed, offset = (int(v) for v in state)
        if not (0 <= seed < _U64 and 0 <= offset < _U64):
            raise ValueError(f"Generator.set_state: argument `state` expected a seed and offset in [0, 2**64), got "
                             f"{(seed, offset)}")
        with self._lock:
            self._seed, self._offset = seed, offset
        return self

    # Pickling and copying carry the device and the stream's position, not the lock.
    def __getstate__(self) -> dict[str, Any]:
        return {"device": str(self._device), "state": self.get_state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["device"])  # type: ignore[misc]
        self.set_state(state["state"])

    def __repr__(self) -> str:
        return f"ferrograd.Generator(device={str(self._device)!r}, seed={self._seed}, offset={self._offset})"

    def _draw(self, n: int, normal: bool) -> np.ndarray:
        """The next ``n`` float32 values of the stream: uniform in [0, 1) or standard normal."""
        with self._lock:
            values, self._offset = _core.philox_draw(self._seed, self._offset, n, normal)
        return values


def _checked(op: str, generator: Any) -> Generator:
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: argument `generator` expected a ferrograd.Generator or None, got {generator!r}")
    return generator


def _placed(values: np.ndarray, shape: Sequence[int], requires_grad: bool, device: str) -> Tensor:
    # reshape keeps a 0-d shape (np.ascontiguousarray would make it (1,)); the draws are contiguous.
    out = Tensor.from_numpy(values.reshape([int(s) for s in shape]))
    if str(device) != "cpu":
        out = out.to(str(device))
    return out.requires_grad_(True) if requires_grad else out


def uniform(op: str, generator: Optional[Generator], shape: Sequence[int], low: float = 0.0, high: float = 1.0,
            requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Uniform float32 values in [low, high) of ``shape`` on ``device``: from ``generator``, or from
    the global generator when it is None (``op`` names the caller in errors)."""
    if generator is None:
        return _core.rand(list(shape), low, high, requires_grad, str(device))
    u = _checked(op, generator)._draw(int(np.prod(shape, dtype=np.int64)), False)
    lo, hi = np.float32(low), np.float32(high)
    # The core's float32 arithmetic, low + (high - low) * u, so seeds agree with the global stream.
    return _placed(lo + (hi - lo) * u, shape, requires_grad, device)


def normal(op: str, generator: Optional[Generator], shape: Sequence[int], mean: float = 0.0, std: float = 1.0,
           requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Normal float32 values of ``shape`` on ``device``: from ``generator``, or from the global
    generator when it is None (``op`` names the caller in errors)."""
    if generator is None:
        return _core.randn(list(shape), mean, std, requires_grad, str(device))
    z = _checked(op, generator)._draw(int(np.prod(shape, dtype=np.int64)), True)
    return _placed(np.float32(mean) + np.float32(std) * z, shape, requires_grad, device)


def seed() -> int:
    """Seeds the global generator from a non-deterministic source and returns the seed, as
    ``torch.seed``."""
    value = secrets.randbits(63)
    _core.manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed the global generator was last seeded with, as ``torch.initial_seed``."""
    return int(_core.get_rng_state()[0])
