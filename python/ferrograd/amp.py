"""Mixed precision: ``autocast`` scopes in which products run on bfloat16 operands.

Inside ``with fg.autocast():`` matmul, linear layers, convolutions and attention round their
operands to bfloat16 and accumulate in float32, as tensor cores do; the gradient reaching each of
these products is rounded to bfloat16 too, so backward multiplies bfloat16 operands as well.
Everything else (activations, normalisation, losses, the optimizer and the weights themselves)
stays float32. ``model.fit(..., precision="bf16")`` trains this way.

:class:`GradScaler` is PyTorch's dynamic loss scaling, which float16 training needs; bfloat16
does not (it has float32's exponent range), but the scaler runs PyTorch's algorithm so that
training loops written with it port unchanged.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from . import _core
from ._grad_scaler import GradScaler
from ._scope import ThreadScope

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "precision_name", "custom_fwd",
           "custom_bwd", "is_autocast_available"]

_NAMES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float32": "float32", "f32": "float32", "fp32": "float32"}
_FLOAT16 = ("float16", "fp16", "f16", "half")
_DEVICE_TYPES = ("cpu", "cuda")


def precision_name(value: str, op: str, argument: str) -> str:
    """The canonical precision name (``"bfloat16"`` or ``"float32"``) for ``value``, or a
    ValueError naming ``op`` and ``argument``."""
    if not isinstance(value, str) or value not in _NAMES:
        why = (": ferrograd's mixed precision runs products on bfloat16 operands only (bfloat16 has float32's "
               "exponent range, so no loss scaling is needed)") if value in _FLOAT16 else ""
        raise ValueError(f"{op}: argument `{argument}` expected 'bf16' (or 'bfloat16') or 'f32' (or 'float32'), "
                         f"got {value!r}{why}")
    return _NAMES[value]


class autocast(ThreadScope[str]):
    """Context manager (and decorator) running products at ``dtype`` on this thread, with
    PyTorch's signature ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``
    (``torch.autocast`` / ``torch.amp.autocast``).

    ``dtype`` is ``bfloat16`` (the default, ``"bf16"``) or ``float32``; float16 raises, as
    ferrograd has no float16 autocast. ``enabled=False`` runs products in float32, so one flag can
    switch a block off. Scopes nest; leaving one restores the precision that held before it.
    ``device_type`` (``"cpu"`` or ``"cuda"``) is checked, but the scope applies to the products
    of tensors on every device, and ``cache_enabled`` is accepted and ignored (nothing is cached).
    ferrograd's own spelling ``autocast("bf16")`` (a dtype in the first place) still works.
    """

    def __init__(self, device_type: str = "cpu", dtype: Optional[str] = None, enabled: bool = True,
                 cache_enabled: Optional[bool] = None) -> None:
        if dtype is None and (device_type in _NAMES or device_type in _FLOAT16):
            device_type, dtype = "cpu", device_type
        if device_type not in _DEVICE_TYPES:
            raise ValueError(f"autocast: argument `device_type` expected 'cpu' or 'cuda', got {device_type!r}")
        precision = precision_name("bfloat16" if dtype is None else dtype, "autocast", "dtype")
        super().__init__(precision if enabled else "float32")
        self.device_type, self.dtype = device_type, self.value

    @staticmethod
    def _swap(value: str) -> str:
        return _core.set_autocast(value)


def is_autocast_enabled() -> bool:
    """Whether products run below float32 on this thread."""
    return _core.autocast_precision() != "float32"


def get_autocast_dtype() -> str:
    """The precision products run at on this thread: ``"bfloat16"`` or ``"float32"``."""
    return _core.autocast_precision()


def is_autocast_available(device_type: str) -> bool:
    """Whether :class:`autocast` accepts ``device_type`` (``"cpu"`` and ``"cuda"``)."""
    return device_type in _DEVICE_TYPES


def custom_fwd(fwd: Optional[Callable[..., Any]] = None, *, device_type: str = "cuda",
               cast_inputs: Optional[str] = None) -> Any:
    """Decorates an ``autograd.Function``'s ``forward``: records the autocast precision on ``ctx``
    for :func:`custom_bwd`; with ``cast_inputs``, runs ``forward`` with autocast off and its
    floating tensor arguments cast to that dtype (when autocast is on), as PyTorch's does."""
    if fwd is None:
        return lambda f: custom_fwd(f, device_type=device_type, cast_inputs=cast_inputs)
    from ._core import Tensor

    @functools.wraps(fwd)
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        ctx._autocast_precision = _core.autocast_precision()
        if cast_inputs is None or ctx._autocast_precision == "float32":
            return fwd(ctx, *args, **kwargs)
        target = precision_name(cast_inputs, "custom_fwd", "cast_inputs")

        def cast(value: Any) -> Any:
            return value.to(target) if isinstance(value, Tensor) and value.is_floating_point() else value

        previous = _core.set_autocast("float32")
        try:
            return fwd(ctx, *(cast(a) for a in args), **{k: cast(v) for k, v in kwargs.items()})
        finally:
            _core.set_autocast(previous)

    return forward


def custom_bwd(bwd: Optional[Callable[..., Any]] = None, *, device_type: str = "cuda") -> Any:
    """Decorates an ``autograd.Function``'s ``backward`` to run at the autocast precision its
    forward (decorated with :func:`custom_fwd`) ran at."""
    if bwd is None:
        return lambda f: custom_bwd(f, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx: Any, *grads: Any) -> Any:
        previous = _core.set_autocast(getattr(ctx, "_autocast_precision", _core.autocast_precision()))
        try:
            return bwd(ctx, *grads)
        finally:
            _core.set_autocast(previous)

    return backward
