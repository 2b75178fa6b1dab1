"""In-place updates: ``zero_``, ``fill_``, ``add_`` ... and the augmented assignments ``+=``,
``-=``, ``*=``, ``/=``.

Autograd does not record writes into existing storage, so an update is written in place only
where no gradient depends on it: grad mode off (``no_grad``, the manual SGD step
``w -= lr * w.grad``) or neither side requiring grad. Otherwise the named methods (which promise
to return ``self``) raise, and the augmented assignments compute the out-of-place result, which
autograd records and Python binds to the name (``out += identity`` in a residual block). Unlike
PyTorch, other references to the old tensor then keep its old values. A leaf that requires grad
refuses both, as in PyTorch. ``install()`` attaches them to :class:`Tensor`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

from . import _core
from ._core import Tensor
from .dtypes import FLOATING_DTYPES


def _records_grad(self: Tensor, value: Any) -> bool:
    return _core.is_grad_enabled() and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))


def _write(self: Tensor, op: str, result: Tensor) -> Tensor:
    """Writes ``result`` into ``self``, refusing a result that ``self`` cannot hold."""
    if result.dtype in FLOATING_DTYPES and self.dtype not in FLOATING_DTYPES:
        raise TypeError(f"{op}: the result's dtype {result.dtype} cannot be written into a tensor of dtype {self.dtype} "
                        "in place; use the out-of-place form")
    if list(result.shape) != list(self.shape):
        raise ValueError(f"{op}: the result's shape {list(result.shape)} (broadcast) differs from the updated "
                         f"tensor's shape {list(self.shape)}")
    return self.copy_(result)


def _in_place(self: Tensor, op: str, value: Any, compute: Callable[[], Any]) -> Tensor:
    if _records_grad(self, value):
        raise RuntimeError(f"{op}: in-place updates are not recorded by autograd; use the out-of-place form, or "
                           "wrap the update in `with ferrograd.no_grad():`")
    result = compute()
    if not isinstance(result, Tensor):
        return self.copy_(result)
    return _write(self, op, result)


def in_place_result(x: Tensor, result: Tensor, inplace: bool, op: str) -> Tensor:
    """``result``; with ``inplace=True`` (the activations' flag) it is also written into ``x``, and
    ``x`` returned, where no gradient depends on ``x``. Where one does, the out-of-place result is
    returned and ``x`` keeps its values."""
    if inplace and not _records_grad(x, None):
        return _write(x, op, result)
    return result


def zero_(self: Tensor) -> Tensor:
    """Sets every entry to 0 in place."""
    return _in_place(self, "zero_", 0.0, lambda: 0.0)


def fill_(self: Tensor, value: float) -> Tensor:
    """Sets every entry to ``value`` in place."""
    return _in_place(self, "fill_", value, lambda: value)


def add_(self: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``self += alpha * other`` in place (under ``no_grad`` when either side requires grad)."""
    return _in_place(self, "add_", other, lambda: self + (other if alpha == 1 else alpha * other))


def sub_(self: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``self -= alpha * other`` in place (under ``no_grad`` when either side requires grad)."""
    return _in_place(self, "sub_", other, lambda: self - (other if alpha == 1 else alpha * other))


def mul_(self: Tensor, other: Any) -> Tensor:
    """``self *= other`` in place (under ``no_grad`` when either side requires grad)."""
    return _in_place(self, "mul_", other, lambda: self * other)


def div_(self: Tensor, other: Any) -> Tensor:
    """``self /= other`` in place (under ``no_grad`` when either side requires grad)."""
    return _in_place(self, "div_", other, lambda: self / other)


def clamp_(self: Tensor, min: Optional[Union[float, Tensor]] = None,
           max: Optional[Union[float, Tensor]] = None) -> Tensor:
    """Clamps the entries to [min, max] in place (under ``no_grad`` when it requires grad)."""
    return _in_place(self, "clamp_", None, lambda: self.clamp(min, max))


def _augmented(name: str, op: str, compute: Callable[[Tensor, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def update(self: Tensor, other: Any) -> Tensor:
        if _records_grad(self, other):
            if self.requires_grad and self.is_leaf:
                raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be updated in place; wrap the "
                                   "update in `with ferrograd.no_grad():` (as in an optimizer step)")
            return compute(self, other)
        return _write(self, op, compute(self, other))

    update.__name__ = name
    update.__doc__ = (f"``self {op} other``: in place where no gradient depends on it, else the recorded "
                      "out-of-place result (see the module's notes).")
    return update


AUGMENTED = {
    "__iadd__": _augmented("__iadd__", "+=", lambda a, b: a + b),
    "__isub__": _augmented("__isub__", "-=", lambda a, b: a - b),
    "__imul__": _augmented("__imul__", "*=", lambda a, b: a * b),
    "__itruediv__": _augmented("__itruediv__", "/=", lambda a, b: a / b),
}
METHODS = (zero_, fill_, add_, sub_, mul_, div_, clamp_)


def install() -> None:
    """Attaches the in-place methods and augmented assignments to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
    for name, update in AUGMENTED.items():
        setattr(Tensor, name, update)
