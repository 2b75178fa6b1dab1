"""Mixed precision: ``autocast`` scopes in which products run on bfloat16 operands.

Inside ``with fg.autocast():`` matmul, linear layers, convolutions and attention round their
operands to bfloat16 and accumulate in float32, as tensor cores do; the gradient reaching each of
these products is rounded to bfloat16 too, so backward multiplies bfloat16 operands as well.
Everything else (activations, normalisation, losses, the optimizer and the weights themselves)
stays float32. ``model.fit(..., precision="bf16")`` trains this way.
"""

from __future__ import annotations

from . import _core
from ._scope import ThreadScope

_NAMES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float32": "float32", "f32": "float32", "fp32": "float32"}


def precision_name(value: str, op: str, argument: str) -> str:
    """The canonical precision name (``"bfloat16"`` or ``"float32"``) for ``value``, or a
    ValueError naming ``op`` and ``argument``."""
    if not isinstance(value, str) or value not in _NAMES:
        raise ValueError(f"{op}: argument `{argument}` expected 'bf16' (or 'bfloat16') or 'f32' (or 'float32'), "
                         f"got {value!r}")
    return _NAMES[value]


class autocast(ThreadScope[str]):
    """Context manager (and decorator) running products at ``dtype`` on this thread.

    ``dtype`` is ``"bfloat16"`` (``"bf16"``) or ``"float32"``; ``enabled=False`` runs products
    in float32, so one flag can switch a block off. Scopes nest; leaving one restores the
    precision that held before it. It applies to tensors on every device.
    """

    def __init__(self, dtype: str = "bfloat16", enabled: bool = True) -> None:
        super().__init__(precision_name(dtype, "autocast", "dtype") if enabled else "float32")
        self.dtype = self.value

    @staticmethod
    def _swap(value: str) -> str:
        return _core.set_autocast(value)


def is_autocast_enabled() -> bool:
    """Whether products run below float32 on this thread."""
    return _core.autocast_precision() != "float32"


def get_autocast_dtype() -> str:
    """The precision products run at on this thread: ``"bfloat16"`` or ``"float32"``."""
    return _core.autocast_precision()
