"""Names for dtypes and devices, as PyTorch spells them.

A dtype is its name (``fg.float32 == "float32"``, which is what ``Tensor.dtype`` returns), so
``x.to(fg.float32)``, ``fg.zeros(3, dtype=fg.int64)`` and ``x.dtype == fg.float32`` read as in
PyTorch. A :class:`device` is a string too (``"cpu"``, ``"cuda:0"``), with PyTorch's ``type`` and
``index``; ``Tensor.device`` returns one.
"""

from __future__ import annotations

from typing import Optional

float32 = "float32"
float16 = "float16"
half = "float16"
bfloat16 = "bfloat16"
int64 = "int64"
long = "int64"
int32 = "int32"
int8 = "int8"
uint8 = "uint8"

# The floating dtypes, which carry gradients (float32) or widen to float32 exactly.
FLOATING_DTYPES = ("float32", "float16", "bfloat16")

# ``fg.float``, ``fg.int`` and ``fg.bool``: served by the package's module ``__getattr__`` so that
# no module's own ``float``, ``int`` and ``bool`` are shadowed.
BUILTIN_NAMED = {"float": "float32", "int": "int32", "bool": "bool"}


class device(str):
    """A device name (``"cpu"``, ``"cuda"``, ``"cuda:1"``) with ``type`` (``"cpu"`` or ``"cuda"``)
    and ``index`` (None when not given), as ``torch.device``; it compares equal to its string."""

    def __new__(cls, name: str, index: Optional[int] = None) -> "device":
        if not isinstance(name, str):
            raise TypeError(f"device: argument `name` expected a string such as 'cpu' or 'cuda:0', got {name!r}")
        if index is not None:
            name = f"{name}:{index}"
        kind, _, number = name.partition(":")
        if kind not in ("cpu", "cuda") or (number and not number.isdigit()) or (kind == "cpu" and number):
            raise ValueError(f"device: argument `name` expected 'cpu', 'cuda' or 'cuda:N', got {name!r}")
        return super().__new__(cls, name)

    @property
    def type(self) -> str:
        """``"cpu"`` or ``"cuda"``."""
        return self.partition(":")[0]

    # PyTorch's `device.index` replaces str.index on these objects (a device name is not searched).
    @property
    def index(self) -> Optional[int]:  # type: ignore[override]
        """The device number, or None when the name gives none."""
        number = self.partition(":")[2]
        return int(number) if number else None

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

