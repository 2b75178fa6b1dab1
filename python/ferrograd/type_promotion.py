"""PyTorch's dtype promotion questions: ``promote_types``, ``result_type``, ``can_cast``, plus
``is_signed``, ``typename`` and ``set_default_dtype``. Dtypes are their names (``"float32"``);
the lattice is PyTorch's over the dtypes ferrograd has (and ``"int16"``, which
``promote_types("uint8", "int8")`` names as PyTorch does, though no tensor here has it)."""

from __future__ import annotations

from typing import Any

from ._core import Tensor
from .dtypes import FLOATING_DTYPES

_INTEGERS = ("uint8", "int8", "int16", "int32", "int64")
_KNOWN = ("bool",) + _INTEGERS + FLOATING_DTYPES


def _dtype(op: str, arg: str, dtype: Any) -> str:
    name = str(dtype)
    if name not in _KNOWN:
        raise ValueError(f"{op}: argument `{arg}` expected one of {list(_KNOWN)}, got {dtype!r}")
    return name


def _category(dtype: str) -> int:
    return 0 if dtype == "bool" else 1 if dtype in _INTEGERS else 2


def promote_types(type1: Any, type2: Any) -> str:
    """The smallest dtype both convert to without losing their kind (``torch.promote_types``):
    bool < integers < floating; unsigned and signed 8-bit meet at int16; float16 and bfloat16 at
    float32."""
    a, b = _dtype("promote_types", "type1", type1), _dtype("promote_types", "type2", type2)
    if a == b:
        return a
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    if _category(a) == 2:
        return "float32" if "float32" in (a, b) or {a, b} == {"float16", "bfloat16"} else a
    if {a, b} == {"uint8", "int8"}:
        return "int16"
    signed = [t for t in (a, b) if t != "uint8"]
    return max(signed, key=_INTEGERS.index)


def _operand_dtype(op: str, operand: Any) -> tuple[str, int]:
    """(dtype, priority): 2 for a tensor with dimensions, 1 for a 0-d tensor, 0 for a number
    (a float counts as the default float32, an int as int64)."""
    if isinstance(operand, Tensor):
        return operand.dtype, 2 if operand.ndim else 1
    if isinstance(operand, bool):
        return "bool", 0
    if isinstance(operand, int):
        return "int64", 0
    if isinstance(operand, float):
        return "float32", 0
    raise TypeError(f"{op}: expected tensors or numbers, got {type(operand).__name__}")


def result_type(tensor1: Any, tensor2: Any) -> str:
    """The dtype an arithmetic op on the two operands gives (``torch.result_type``): tensors
    with dimensions decide, then 0-d tensors, then numbers, and a later group only counts when
    its kind (bool, integer, floating) is higher."""
    groups: dict[int, list[str]] = {}
    for operand in (tensor1, tensor2):
        dtype, priority = _operand_dtype("result_type", operand)
        groups.setdefault(priority, []).append(dtype)
    result = None
    for priority in (2, 1, 0):
        if priority not in groups:
            continue
        group = groups[priority][0] if len(groups[priority]) == 1 else promote_types(*groups[priority])
        if result is None:
            result = group
        elif _category(group) > _category(result):
            # A higher kind from a lower-priority group: a float number with an integer tensor
            # gives the default float32; otherwise the group's own dtype.
            result = "float32" if _category(group) == 2 and priority == 0 else group
    assert result is not None
    return result


def can_cast(from_: Any, to: Any) -> bool:
    """Whether ``torch.can_cast`` allows the conversion: never from floating to an integer or
    bool, nor from an integer to bool."""
    source, target = _dtype("can_cast", "from_", from_), _dtype("can_cast", "to", to)
    return _category(source) <= _category(target)


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative values (everything but bool and uint8)."""
    return input.dtype not in ("bool", "uint8")


_TENSOR_TYPE_NAMES = {"float32": "FloatTensor", "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
                      "int64": "LongTensor", "int32": "IntTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                      "bool": "BoolTensor"}


def typename(obj: Any) -> str:
    """A tensor's type name as PyTorch spells it (``"ferrograd.FloatTensor"``), else the object's
    qualified class name."""
    if isinstance(obj, Tensor):
        return f"ferrograd.{_TENSOR_TYPE_NAMES.get(obj.dtype, 'Tensor')}"
    kind = obj if isinstance(obj, type) else type(obj)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def set_default_dtype(d: Any) -> None:
    """Sets the dtype of tensors made from Python floats: float32 is the one ferrograd supports
    (its floating math is float32, with float16 / bfloat16 storage), so any other raises."""
    if str(d) != "float32":
        raise ValueError(f"set_default_dtype: argument `d` expected float32 (the only floating default "
                         f"ferrograd supports), got {d!r}")
