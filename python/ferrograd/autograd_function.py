"""Custom differentiable operations written in Python, as ``torch.autograd.Function``: a
``forward`` computed without recording, and a ``backward`` that maps the output's gradient to
the inputs' gradients. The straight-through estimators and BPDA (Backward Pass Differentiable
Approximation) of adversarial-robustness work are written this way: a non-differentiable
forward (quantisation, JPEG, a purifier) with the identity, or a smooth surrogate, as backward.

Only tensor inputs receive gradients. The forward returns one tensor. A backward built from
ferrograd ops can be differentiated again (``create_graph=True``); one marked
:func:`once_differentiable` raises instead of silently dropping second-order terms.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from . import _core
from ._core import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and other attributes."""

    needs_input_grad: tuple[bool, ...]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Optional[Tensor], ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Optional[Tensor]) -> None:
        """Keeps ``tensors`` (or None) for ``backward``, which reads them as ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: argument {i} expected a Tensor or None, got {type(t).__name__}")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Optional[Tensor], ...]:
        """The tensors given to :meth:`save_for_backward`, in order."""
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Accepted for PyTorch compatibility; an integer output carries no gradient anyway."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch compatibility: the output's gradient always reaches ``backward``
        as a tensor (the one-output forward always has one)."""
        self.materialize_grads = bool(value)


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a ``backward`` that is not itself differentiable (it leaves ferrograd, say through
    numpy): its gradients can be used, but differentiating them again raises."""

    @functools.wraps(backward)
    def wrapper(ctx: FunctionCtx, *grads: Tensor) -> Any:
        previous = _core.set_grad_enabled(False)
        try:
            return backward(ctx, *grads)
        finally:
            _core.set_grad_enabled(previous)

    wrapper._once_differentiable = True  # type: ignore[attr-defined]
    return wrapper


class Function:
    """Base class of a custom operation: subclasses define the static methods
    ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, grad_output)``, and are called as
    ``MyFunction.apply(*args, **kwargs)``.

    ``backward`` returns one gradient per positional argument of ``forward`` (None for
    arguments that are not tensors or need no gradient), each of its input's shape.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Tensor:
        """The operation's value (runs with recording off)."""
        raise NotImplementedError("autograd.Function: subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        """The gradients of the inputs, given the output's gradient."""
        raise NotImplementedError("autograd.Function: subclasses must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Runs ``forward`` and records ``backward`` for the tensor arguments."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        previous = _core.set_grad_enabled(False)
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            _core.set_grad_enabled(previous)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward: expected to return one Tensor, got {type(out).__name__}")
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        inputs = [args[i] for i in positions]
        backward = cls.backward

        def run_backward(grad: Tensor) -> list[Optional[Tensor]]:
            grads = backward(ctx, grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != len(args):
                raise RuntimeError(f"{cls.__name__}.backward: expected {len(args)} gradients (one per forward "
                                   f"argument), got {len(grads)}")
            return [_checked_gradient(cls.__name__, grads[i], args[i], i) for i in positions]

        twice = not getattr(backward, "_once_differentiable", False)
        return _core.function_output(out, inputs, run_backward, twice)


def _checked_gradient(name: str, grad: Any, input: Tensor, position: int) -> Optional[Tensor]:
    """``grad`` for argument ``position`` if it fits the input (None passes)."""
    if grad is None:
        return None
    if not isinstance(grad, Tensor):
        raise TypeError(f"{name}.backward: gradient {position} expected a Tensor or None, got {type(grad).__name__}")
    if tuple(grad.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}.backward: gradient {position} expected shape {tuple(input.shape)}, "
                           f"got {tuple(grad.shape)}")
    if grad.dtype != input.dtype and input.is_floating_point():
        return grad.to(input.dtype)
    return grad


__all__ = ["Function", "FunctionCtx", "once_differentiable"]
