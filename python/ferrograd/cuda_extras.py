"""More of ``torch.cuda`` over ferrograd's CUDA backend: the device's capability and properties,
bfloat16 support, the current device (``"cuda"`` always names device 0 here), seeding and the
generator state (one generator serves both devices, so these are :func:`ferrograd.manual_seed`
and friends), ``Event`` for timing, and ``OutOfMemoryError`` (the ``MemoryError`` ferrograd raises
when device memory runs out)."""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Optional

from . import _core

#: What ferrograd raises when device memory runs out, under PyTorch's name.
OutOfMemoryError = MemoryError


class DeviceProperties(NamedTuple):
    """``get_device_properties``' result: the device's name, compute capability and memory."""

    name: str
    major: int
    minor: int
    total_memory: int


def _require_gpu(op: str) -> None:
    from .cuda import is_available

    if not is_available():
        raise RuntimeError(f"cuda.{op}: no CUDA device is available (ferrograd.cuda.is_available() is False)")


def get_device_capability(device: Any = 0) -> tuple[int, int]:
    """The compute capability ``(major, minor)``, e.g. ``(9, 0)`` on an H100."""
    from .cuda import get_arch

    _require_gpu("get_device_capability")
    digits = get_arch(device)[3:]
    return int(digits[:-1]), int(digits[-1])


def get_device_properties(device: Any = 0) -> DeviceProperties:
    """The device's name, compute capability and total memory in bytes."""
    from .cuda import get_device_name, mem_get_info

    major, minor = get_device_capability(device)
    return DeviceProperties(get_device_name(device), major, minor, mem_get_info(device)[1])


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 tensor-core math is available: a CUDA device of capability 8.0 or newer."""
    from .cuda import is_available

    return is_available() and get_device_capability() >= (8, 0)


def current_device() -> int:
    """0: ``"cuda"`` names device 0 in ferrograd (other devices by ``"cuda:N"``)."""
    _require_gpu("current_device")
    return 0


def set_device(device: Any) -> None:
    """Accepts device 0, the one ``"cuda"`` names; other devices are chosen per tensor with
    ``"cuda:N"``, so changing the default raises."""
    from .cuda import _index

    if _index(device) != 0:
        raise ValueError(f"cuda.set_device: ferrograd's 'cuda' always names device 0; put tensors on "
                         f"'cuda:{_index(device)}' instead of changing the default, got {device!r}")


def manual_seed(seed: int) -> None:
    """Seeds the generator (shared by the CPU and the GPU: :func:`ferrograd.manual_seed`)."""
    _core.manual_seed(int(seed))


def manual_seed_all(seed: int) -> None:
    """Seeds the generator every device draws from (:func:`ferrograd.manual_seed`)."""
    _core.manual_seed(int(seed))


def get_rng_state(device: Any = "cuda") -> tuple[int, int]:
    """The shared generator's state (:func:`ferrograd.get_rng_state`)."""
    return _core.get_rng_state()


def set_rng_state(new_state: tuple[int, int], device: Any = "cuda") -> None:
    """Restores the shared generator's state (:func:`ferrograd.set_rng_state`)."""
    seed, offset = new_state
    _core.set_rng_state((int(seed), int(offset)))


def get_arch_list() -> list[str]:
    """The architectures kernels are built for: ferrograd compiles them at run time for the device
    present (NVRTC), so this is that device's, or empty without one."""
    from .cuda import get_arch, is_available

    return [get_arch(0)] if is_available() else []


class Event:
    """A point in the device's work for timing, as ``torch.cuda.Event(enable_timing=True)``:
    ``record()`` waits for the work queued so far and notes the time, so
    ``start.elapsed_time(end)`` is the milliseconds the device spent between two records.
    (PyTorch's records without waiting; the measured span is the same.)"""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        self.enable_timing = enable_timing
        self._time: Optional[float] = None

    def record(self, stream: Any = None) -> None:
        """Waits for the queued work (on every device there is) and notes the time."""
        from .cuda import device_count, is_available, synchronize

        if is_available():
            for index in range(device_count()):
                synchronize(index)
        self._time = time.perf_counter()

    def synchronize(self) -> None:
        """Returns once the recorded work is done (``record`` already waited)."""

    def query(self) -> bool:
        """True once recorded (the work before it is done by then)."""
        return self._time is not None

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds from this event's record to ``end_event``'s."""
        if not self.enable_timing or not end_event.enable_timing:
            raise RuntimeError("Event.elapsed_time: both events need enable_timing=True")
        if self._time is None or end_event._time is None:
            raise RuntimeError("Event.elapsed_time: both events must be recorded first")
        return (end_event._time - self._time) * 1000.0
