"""Custom differentiable operations written in Python, as ``torch.autograd.Function``: a
``forward`` computed without recording, and a ``backward`` that maps the output's gradient to
the inputs' gradients. The straight-through estimators and BPDA (Backward Pass Differentiable
Approximation) of adversarial-robustness work are written this way: a non-differentiable
forward (quantisation, JPEG, a purifier) with the identity, or a smooth surrogate, as backward.

Only tensor inputs receive gradients. The forward returns one tensor or a tuple of them (other
values may sit in the tuple). Several floating outputs are recorded as one node over their
flattened concatenation, each output a view of it, so ``backward`` receives one gradient per
output, zeros for outputs the loss did not reach (as PyTorch's materialised gradients). A
backward built from ferrograd ops can be differentiated again (``create_graph=True``); one
marked :func:`once_differentiable` raises instead of silently dropping second-order terms.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional, Sequence

from . import _core
from ._core import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and other attributes."""

    needs_input_grad: tuple[bool, ...]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Optional[Tensor], ...] = ()
        self._non_differentiable: set[int] = set()
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
        """Marks outputs that carry no gradient (indices, masks): they are returned unrecorded and
        ``backward`` receives zeros for them. Integer outputs are never differentiable."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch compatibility: every output's gradient always reaches
        ``backward`` as a tensor (zeros where the loss did not reach the output)."""
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

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> None:
        """PyTorch 2's split form: when a subclass defines it, ``forward(*args)`` takes no
        ``ctx`` and this fills the context from the inputs and the output instead."""
        raise NotImplementedError("autograd.Function: setup_context is defined by subclasses that use it")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Runs ``forward`` and records ``backward`` for the tensor arguments; returns what
        ``forward`` returns (a Tensor, or a tuple)."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        previous = _core.set_grad_enabled(False)
        try:
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            _core.set_grad_enabled(previous)
        outputs = out if isinstance(out, tuple) else (out,)
        if not any(isinstance(o, Tensor) for o in outputs):
            raise TypeError(f"{cls.__name__}.forward: expected to return a Tensor or a tuple holding Tensors, got "
                            f"{type(out).__name__}")
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        inputs = [args[i] for i in positions]
        recorded = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.is_floating_point()
                    and id(o) not in ctx._non_differentiable]
        if not recorded or not previous or not any(t.requires_grad for t in inputs):
            return out
        backward = cls.backward

        def run_backward(grad_outputs: list[Any]) -> list[Optional[Tensor]]:
            grads = backward(ctx, *grad_outputs)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != len(args):
                raise RuntimeError(f"{cls.__name__}.backward: expected {len(args)} gradients (one per forward "
                                   f"argument), got {len(grads)}")
            return [_checked_gradient(cls.__name__, grads[i], args[i], i) for i in positions]

        twice = not getattr(backward, "_once_differentiable", False)
        if not isinstance(out, tuple):
            return _core.function_output(out, inputs, lambda grad: run_backward([grad]), twice)
        return _record_outputs(outputs, recorded, inputs, run_backward, twice)


def _record_outputs(outputs: tuple[Any, ...], recorded: list[int], inputs: Sequence[Tensor],
                    run_backward: Callable[[list[Any]], list[Optional[Tensor]]], twice: bool) -> tuple[Any, ...]:
    """``outputs`` with the floating tensors at ``recorded`` replaced by views of one recorded
    node over their flattened concatenation, whose backward splits the node's gradient into one
    per output (zeros for the others' tensors, None for non-tensors) and calls ``run_backward``."""
    tensors = [outputs[i] for i in recorded]
    dtypes = {t.dtype for t in tensors}
    packed_dtype = dtypes.pop() if len(dtypes) == 1 else "float32"
    sizes = [math.prod(t.shape) for t in tensors]
    starts = [sum(sizes[:k]) for k in range(len(sizes))]
    previous = _core.set_grad_enabled(False)
    try:
        flat = _core.cat([t.reshape(-1).to(packed_dtype) for t in tensors], 0)
    finally:
        _core.set_grad_enabled(previous)

    def piece(whole: Tensor, k: int) -> Tensor:
        t = tensors[k]
        return whole[starts[k]:starts[k] + sizes[k]].reshape(tuple(t.shape)).to(t.dtype)

    def backward_of_packed(grad: Tensor) -> list[Optional[Tensor]]:
        grad_outputs: list[Any] = [None if not isinstance(o, Tensor) else o.new_zeros(tuple(o.shape))
                                   for o in outputs]
        for k, i in enumerate(recorded):
            grad_outputs[i] = piece(grad, k)
        return run_backward(grad_outputs)

    packed = _core.function_output(flat, list(inputs), backward_of_packed, twice)
    result = list(outputs)
    for k, i in enumerate(recorded):
        result[i] = piece(packed, k)
    return tuple(result)


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
