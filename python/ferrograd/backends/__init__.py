"""``ferrograd.backends``: PyTorch's backend switches, accepted so that notebooks written for
PyTorch run unchanged.

``backends.cudnn`` (``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``,
``is_available()``) and ``backends.cuda.matmul.allow_tf32``, with
:func:`use_deterministic_algorithms` and :func:`are_deterministic_algorithms_enabled`. Each
setting's docstring says what it does in ferrograd: only ``backends.cuda.matmul.allow_tf32``
changes any computation; the others are recorded and read back, since ferrograd has no cuDNN and
one kernel per op.
"""

from __future__ import annotations

from typing import Any

from . import cuda, cudnn

__all__ = ["cuda", "cudnn", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled"]

_deterministic = {"mode": False, "warn_only": False}


def _flag(op: str, name: str, value: Any) -> bool:
    """``value`` when it is a bool; a TypeError naming ``op``'s argument otherwise."""
    if not isinstance(value, bool):
        raise TypeError(f"{op}: argument `{name}` expected a bool, got {value!r} ({type(value).__name__})")
    return value


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Records whether deterministic algorithms are asked for, as
    ``torch.use_deterministic_algorithms``; :func:`are_deterministic_algorithms_enabled` reads it
    back.

    In ferrograd this has no effect: every op has one implementation, so there is no
    deterministic variant to switch to, and no op raises or warns under it. Known to vary from
    run to run on CUDA: the gradients of ``index_select``, ``embedding`` and ``gather`` and of max
    pooling add with ``atomicAdd``, so when several outputs feed one input entry the order of
    those additions, and so the last bits of the sum, can change between runs (as in PyTorch
    without this mode). ``mode=True`` does not change that.
    """
    checked = {"mode": _flag("use_deterministic_algorithms", "mode", mode),
               "warn_only": _flag("use_deterministic_algorithms", "warn_only", warn_only)}
    _deterministic.update(checked)


def are_deterministic_algorithms_enabled() -> bool:
    """The ``mode`` last given to :func:`use_deterministic_algorithms` (False at start); a record
    only, see there."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` last given to :func:`use_deterministic_algorithms` (False at start); a
    record only: ferrograd neither warns nor raises for nondeterministic ops."""
    return _deterministic["warn_only"]
