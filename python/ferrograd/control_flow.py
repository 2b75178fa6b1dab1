"""``torch.compile``, ``torch.cond`` and ``torch.while_loop`` for eager ferrograd code.

ferrograd has no tracing compiler: its ops are Rust kernels called eagerly, and the training and
attack loops that PyTorch users compile already run in Rust (``fit``, the attacks). So
:func:`compile` returns what it is given, unchanged, and the control-flow operators run their
branches and loop bodies as plain Python, which is what PyTorch's do outside a compiled region."""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from ._core import Tensor


def compile(model: Optional[Callable[..., Any]] = None, *, fullgraph: bool = False, dynamic: Optional[bool] = None,
            backend: Any = "inductor", mode: Optional[str] = None, options: Optional[dict[str, Any]] = None,
            disable: bool = False) -> Any:
    """Returns ``model`` itself (or, called without one, a decorator that does): code written for
    ``torch.compile`` runs unchanged, eagerly. The options are accepted and have no effect."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: argument `model` expected a module or function, got {type(model).__name__}")
    return model


def _truth(op: str, pred: Any) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise ValueError(f"{op}: expected a predicate with one element, got shape {list(pred.shape)}")
        return bool(pred.item())
    if isinstance(pred, bool):
        return pred
    raise TypeError(f"{op}: expected a bool or a one-element tensor as predicate, got {type(pred).__name__}")


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], operands: Sequence[Any] = ()) -> Any:
    """``true_fn(*operands)`` if ``pred`` (a bool or one-element tensor) holds, else
    ``false_fn(*operands)``."""
    return (true_fn if _truth("cond", pred) else false_fn)(*operands)


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any], carried_inputs: Sequence[Any]) -> tuple[Any, ...]:
    """Replaces ``carried_inputs`` by ``body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)``
    holds, and returns them (a tuple, as PyTorch's); the body must return as many values."""
    carried = tuple(carried_inputs)
    while _truth("while_loop", cond_fn(*carried)):
        result = body_fn(*carried)
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(carried):
            raise ValueError(f"while_loop: `body_fn` expected to return {len(carried)} values (one per carried "
                             f"input), got {len(result)}")
        carried = result
    return carried
