"""Grad-mode scopes and gradients with respect to chosen inputs."""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Sequence, Union

from . import _core
from ._core import Tensor
from ._scope import ThreadScope


class set_grad_enabled(ThreadScope[bool]):
    """Context manager (and decorator) that turns tape recording on or off on this thread."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.mode = mode

    @staticmethod
    def _swap(value: bool) -> bool:
        return _core.set_grad_enabled(value)


def _bare_decorator(cls: type, fn: Any) -> Any:
    if not callable(fn):
        raise TypeError(f"{cls.__name__}: expected no argument, or a function when used as a bare decorator, "
                        f"got {type(fn).__name__}")
    return cls()(fn)


class no_grad(set_grad_enabled):
    """Disables gradient recording inside a ``with`` block or a decorated function; as in
    PyTorch it decorates with or without parentheses (``@no_grad()`` or ``@no_grad``)."""

    def __new__(cls, orig_func: Optional[Callable[..., Any]] = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return _bare_decorator(cls, orig_func)

    def __init__(self, orig_func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(False)


class inference_mode(set_grad_enabled):
    """``torch.inference_mode``: with ``mode=True`` (the default) disables gradient recording
    inside a ``with`` block or a function decorated with ``@inference_mode()``, as :class:`no_grad`
    does; ``mode=False`` enables it, as PyTorch's does. ferrograd has no separate inference
    tensors: tensors made inside may take part in autograd later."""

    _modes = threading.local()

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)
        self.mode = mode

    def __enter__(self) -> None:
        super().__enter__()
        inference_mode._stack().append(self.mode)

    def __exit__(self, *exc: object) -> None:
        inference_mode._stack().pop()
        super().__exit__(*exc)

    @staticmethod
    def _stack() -> list[bool]:
        if not hasattr(inference_mode._modes, "stack"):
            inference_mode._modes.stack = []
        return inference_mode._modes.stack  # type: ignore[no-any-return]


def is_inference_mode_enabled() -> bool:
    """Whether the innermost :class:`inference_mode` scope on this thread has ``mode=True``."""
    stack = inference_mode._stack()
    return bool(stack and stack[-1])


class set_detect_anomaly:
    """Turns anomaly detection on or off on this thread as soon as it is made (so it works as a
    plain call), and back to the previous setting when used as a ``with`` block exits. While on,
    each gradient a backward pass computes is checked for NaN (``check_nan``), and the first one
    found raises a RuntimeError naming the op whose backward produced it; every check reads the
    gradient back to the host, so this is for debugging."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        self._previous = _core.set_detect_anomaly(self.mode, self.check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _core.set_detect_anomaly(*self._previous)


class detect_anomaly:
    """Anomaly detection inside a ``with`` block or a decorated function (``@detect_anomaly()``);
    see :class:`set_detect_anomaly`."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._previous.append(_core.set_detect_anomaly(True, self.check_nan))

    def __exit__(self, *exc: object) -> None:
        _core.set_detect_anomaly(*self._previous.pop())

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on on this thread."""
    return _core.anomaly_state()[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks gradients for NaN on this thread."""
    return _core.anomaly_state()[1]


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turns anomaly detection on or off on this thread (``torch.set_anomaly_enabled``)."""
    _core.set_detect_anomaly(bool(enabled), bool(check_nan))


class enable_grad(set_grad_enabled):
    """Re-enables gradient recording inside a ``no_grad`` block or a decorated function; it
    decorates with or without parentheses (``@enable_grad()`` or ``@enable_grad``)."""

    def __new__(cls, orig_func: Optional[Callable[..., Any]] = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return _bare_decorator(cls, orig_func)

    def __init__(self, orig_func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(True)


def is_grad_enabled() -> bool:
    """Whether ops currently record the autograd tape on this thread."""
    return _core.is_grad_enabled()


def grad(outputs: Union[Tensor, Sequence[Tensor]], inputs: Union[Tensor, Sequence[Tensor]],
         grad_outputs: Union[Tensor, Sequence[Optional[Tensor]], None] = None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: Optional[bool] = None) -> tuple[Optional[Tensor], ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, one per input, as ``torch.autograd.grad``.

    Unlike ``backward()``, no ``.grad`` field is written, so model parameters keep their
    gradients: this is what attacks and saliency maps use to get input gradients. A one-element
    output needs no ``grad_outputs``; otherwise ``grad_outputs`` gives, per output, the tensor of
    its shape that the vector-Jacobian product starts from. The gradients of several outputs add
    up. An input the outputs do not depend on raises unless ``allow_unused=True``, which gives None
    for it. ``retain_graph`` changes nothing (the graph is always kept). With ``create_graph=True``
    the backward pass is recorded: the returned gradients can be differentiated again (a gradient
    penalty, an input-gradient alignment term, a Hessian-vector product), and so can
    ``grad_outputs``. Ops whose backward pass is not recorded yet raise NotImplementedError, naming
    the op, when their gradients are differentiated.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not outs or not ins:
        raise ValueError(f"grad: arguments `outputs` and `inputs` expected at least one tensor each, got {len(outs)} "
                         f"and {len(ins)}")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: argument `inputs` expected tensors that require grad, got one that does not "
                               f"(input {i})")
    seed = _vector_jacobian_seed(outs, grad_outputs, keep_graph=create_graph)
    grads = tuple(_core.grad(seed, ins, create_graph=create_graph))
    unused = [i for i, g in enumerate(grads) if g is None]
    if unused and not allow_unused:
        raise RuntimeError(f"grad: input {unused[0]} was not used to compute the outputs; pass allow_unused=True "
                           "to get None for it")
    return grads


_core_backward = Tensor.backward


def backward(self: Tensor, gradient: Optional[Tensor] = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False, inputs: Union[Tensor, Sequence[Tensor], None] = None) -> None:
    """Accumulates the gradient of this tensor into ``.grad`` of the leaves it depends on, as
    ``torch.Tensor.backward``; with ``inputs``, only into those tensors' ``.grad`` (other leaves
    keep theirs). ``gradient`` seeds a non-scalar tensor; ``create_graph=True`` records the pass."""
    if inputs is None:
        _core_backward(self, gradient, retain_graph, create_graph)
        return
    targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not targets:
        raise RuntimeError("backward: argument `inputs` expected a non-empty sequence of tensors, got an empty one")
    for i, t in enumerate(targets):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: argument `inputs` expected tensors, got {type(t).__name__} (input {i})")
    grads = grad(self, targets, gradient, retain_graph, create_graph, allow_unused=True)
    for t, g in zip(targets, grads):
        if g is None:
            continue
        g = g if create_graph else g.detach()
        t.grad = g if t.grad is None else t.grad + g


def install() -> None:
    """Replaces ``Tensor.backward`` by the form that also takes ``inputs``."""
    Tensor.backward = backward  # type: ignore[method-assign]


def _vector_jacobian_seed(outs: list[Tensor], grad_outputs: Union[Tensor, Sequence[Optional[Tensor]], None],
                          keep_graph: bool = False) -> Tensor:
    """The one-element tensor whose gradient is the sum of the outputs' vector-Jacobian products.

    With ``keep_graph`` the vectors stay in the graph (a recorded backward pass differentiates
    through them too)."""
    vectors = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or [None] * len(outs))
    if len(vectors) != len(outs):
        raise ValueError(f"grad: argument `grad_outputs` expected {len(outs)} entries (one per output), "
                         f"got {len(vectors)}")
    terms = []
    for i, (out, vector) in enumerate(zip(outs, vectors)):
        if vector is None and out.numel() != 1:
            raise RuntimeError(f"grad: argument `grad_outputs` expected a tensor for output {i} of shape "
                               f"{list(out.shape)} (only a one-element output has an implicit gradient), got None")
        if vector is not None and list(vector.shape) != list(out.shape):
            raise ValueError(f"grad: argument `grad_outputs` expected shape {list(out.shape)} for output {i}, "
                             f"got {list(vector.shape)}")
        if vector is not None and not keep_graph:
            vector = vector.detach()
        terms.append(out if vector is None else (out * vector).sum())
    if len(terms) == 1:
        return terms[0]
    total = terms[0].sum()
    for term in terms[1:]:
        total = total + term.sum()
    return total


# ``ferrograd.autograd.functional`` (vjp, jvp, jacobian, hessian, hvp, vhp), imported last: it uses
# the names above. Registered under that dotted name too, so ``import ferrograd.autograd.functional``
# works although ``autograd`` is a module, not a package.
import sys as _sys  # noqa: E402

from . import autograd_functional as functional  # noqa: E402

_sys.modules.setdefault(__name__ + ".functional", functional)

# ``ferrograd.autograd.Function``: custom operations with a Python backward.
from .autograd_function import Function, FunctionCtx, once_differentiable  # noqa: E402,F401


from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
