"""Module hooks (PyTorch's ``register_forward_hook``, ``register_forward_pre_hook``,
``register_full_backward_hook`` and ``register_full_backward_pre_hook``) and the layer-by-layer
summary built on the forward ones.

Backward hooks wrap a call as PyTorch's do: the positional Tensor inputs pass through one identity
:class:`~ferrograd.autograd.Function` and the Tensor outputs through another. In the backward
pass the outputs' identity sees ``grad_output`` first (the pre-hooks may replace it), the
gradients flow through the module, and the inputs' identity receives ``grad_input`` and calls the
hooks with both (a hook may replace ``grad_input``)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any, Callable, NamedTuple, Optional

from .. import _core
from .._core import Tensor
from ..autograd_function import Function, FunctionCtx

_next_id = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*`` methods: ``remove()`` (or leaving a ``with`` block)
    unregisters the hook."""

    def __init__(self, registry: "OrderedDict[int, Callable[..., Any]]", hook: Callable[..., Any]) -> None:
        self.id = next(_next_id)
        self._registry = registry
        registry[self.id] = hook

    def remove(self) -> None:
        """Unregisters the hook (a second call does nothing)."""
        self._registry.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def call_with_hooks(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module.forward(*args, **kwargs)`` between its pre-hooks (which may replace the positional
    inputs) and its hooks (which may replace the output), in registration order; with backward
    hooks, inputs and outputs pass through the identities that call them."""
    for pre in list(module._forward_pre_hooks.values()):
        replaced = pre(module, args)
        if replaced is not None:
            args = replaced if isinstance(replaced, tuple) else (replaced,)
    backward = _BackwardHooks(module, args) if module._backward_hooks or module._backward_pre_hooks else None
    if backward is not None:
        args = backward.wrap_inputs(args)
    out = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        replaced = hook(module, args, out)
        if replaced is not None:
            out = replaced
    return backward.wrap_outputs(out) if backward is not None else out


class _BackwardHooks:
    """One call's backward hooks: which positional inputs carry gradients, and the output gradient
    once known."""

    def __init__(self, module: Any, args: tuple[Any, ...]) -> None:
        self.module = module
        self.arity = len(args)
        self.tracked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        # Tensor inputs without grad get zeros beside tracked ones (PyTorch materialises them).
        self.untracked = {i: a for i, a in enumerate(args) if isinstance(a, Tensor) and not a.requires_grad}
        self.grad_output: tuple[Optional[Tensor], ...] = ()

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.tracked:
            return args
        passed = _HookIdentity.apply(self.input_gradients, *(args[i] for i in self.tracked))
        passed = passed if isinstance(passed, tuple) else (passed,)
        replaced = list(args)
        for i, t in zip(self.tracked, passed):
            replaced[i] = t
        return tuple(replaced)

    def wrap_outputs(self, out: Any) -> Any:
        outputs = out if isinstance(out, tuple) else (out,)
        positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return out
        passed = _HookIdentity.apply(self.output_gradients, *(outputs[i] for i in positions))
        passed = passed if isinstance(passed, tuple) else (passed,)
        replaced = list(outputs)
        for i, t in zip(positions, passed):
            replaced[i] = t
        return tuple(replaced) if isinstance(out, tuple) else replaced[0]

    def output_gradients(self, grads: tuple[Optional[Tensor], ...]) -> tuple[Optional[Tensor], ...]:
        """Runs the pre-hooks on the outputs' gradients and keeps them for the hooks; without
        tracked inputs the hooks run here, as in PyTorch."""
        for pre in list(self.module._backward_pre_hooks.values()):
            replaced = pre(self.module, grads)
            if replaced is not None:
                grads = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
        self.grad_output = grads
        if not self.tracked:
            self.input_gradients(())
        return grads

    def input_gradients(self, grads: tuple[Optional[Tensor], ...]) -> tuple[Optional[Tensor], ...]:
        """Calls the hooks with one gradient per positional input (None for non-tensors; for
        tensors that do not require grad, zeros, or None when no input requires grad); returns the
        tracked inputs' gradients, as the hooks left them."""
        by_position: dict[int, Optional[Tensor]] = dict(zip(self.tracked, grads))
        if self.tracked:
            by_position.update({i: _core.full(list(a.shape), 0.0, a.dtype, str(a.device), False)
                                for i, a in self.untracked.items()})
        grad_input = tuple(by_position.get(i) for i in range(self.arity))
        for hook in list(self.module._backward_hooks.values()):
            replaced = hook(self.module, grad_input, self.grad_output)
            if replaced is not None:
                grad_input = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
        return tuple(grad_input[i] for i in self.tracked)


class _HookIdentity(Function):
    """The identity on some tensors of a call (its tracked inputs, or its outputs); its backward
    hands their gradients to ``on_backward`` (``_BackwardHooks.input_gradients`` or
    ``output_gradients``) and passes on what that returns."""

    @staticmethod
    def forward(ctx: FunctionCtx, on_backward: Callable[..., Any], *tensors: Tensor) -> Any:  # type: ignore[override]
        ctx.on_backward = on_backward  # type: ignore[attr-defined]
        out = tuple(t.detach() for t in tensors)
        return out if len(out) > 1 else out[0]

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> tuple[Optional[Tensor], ...]:  # type: ignore[override]
        return (None, *ctx.on_backward(grads))  # type: ignore[attr-defined]


class SummaryRow(NamedTuple):
    """One module of a :class:`ModelSummary`."""

    name: str
    kind: str
    output_shape: Any
    parameters: int


class ModelSummary:
    """A model's modules in call order with their output shapes and parameter counts (Keras's
    ``model.summary()``); ``str()`` gives the table and notebooks show it as HTML."""

    def __init__(self, rows: list[SummaryRow], total: int, trainable: int) -> None:
        self.rows, self.total_parameters, self.trainable_parameters = rows, total, trainable

    def __str__(self) -> str:
        table = [("Layer (type)", "Output shape", "Param #")]
        table += [(f"{r.name} ({r.kind})", str(r.output_shape), f"{r.parameters:,}") for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        rule = "-" * len(max(lines, key=len))
        return "\n".join([lines[0], rule, *lines[1:], rule, f"Total params: {self.total_parameters:,}",
                          f"Trainable params: {self.trainable_parameters:,}",
                          f"Non-trainable params: {self.total_parameters - self.trainable_parameters:,}"])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        body = "".join(f"<tr><td>{html.escape(r.name)} ({html.escape(r.kind)})</td><td>{html.escape(str(r.output_shape))}"
                       f"</td><td>{r.parameters:,}</td></tr>" for r in self.rows)
        return (f"<table><tr><th>Layer (type)</th><th>Output shape</th><th>Param #</th></tr>{body}</table>"
                f"<p>Total params: {self.total_parameters:,} &middot; trainable: {self.trainable_parameters:,}</p>")


def _shape_of(out: Any) -> Any:
    if hasattr(out, "shape") and not isinstance(out, type):
        return list(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    return type(out).__name__


def summarize(model: Any, *inputs: Any) -> ModelSummary:
    """Runs ``model(*inputs)`` in eval mode without gradients (the mode is restored afterwards)
    and records each module's output shape; without inputs only the parameter counts are listed."""
    from ..autograd import no_grad

    recorded: "OrderedDict[str, SummaryRow | None]" = OrderedDict()
    modules = [(name, m) for name, m in model.named_modules() if name]

    def own_parameters(m: Any) -> int:
        return sum(p.numel() for _, p in m._own_parameters())

    if inputs:
        handles = []
        for name, m in modules:
            # The pre-hook fixes the row's place when the call starts (a container before its
            # children); the hook fills it in when the call returns.
            def start(mod: Any, args: Any, name: str = name) -> None:
                recorded.setdefault(name, None)

            def record(mod: Any, args: Any, out: Any, name: str = name) -> None:
                recorded[name] = SummaryRow(name, type(mod).__name__, _shape_of(out), own_parameters(mod))
            handles += [m.register_forward_pre_hook(start), m.register_forward_hook(record)]
        was_training = model.training
        try:
            model.eval()
            with no_grad():
                model(*inputs)
        finally:
            for h in handles:
                h.remove()
            model.train(was_training)
    # Modules the forward pass did not call (or all of them, without inputs) keep their place.
    rows = [r for r in recorded.values() if r is not None]
    rows += [SummaryRow(n, type(m).__name__, "-", own_parameters(m)) for n, m in modules if recorded.get(n) is None]
    params = [p for _, p in model.named_parameters()]
    # Float buffers (running statistics) count as non-trainable parameters, as in Keras.
    buffers = sum(b.numel() for b in model.buffers() if b.dtype in ("float32", "float16", "bfloat16"))
    return ModelSummary(rows, sum(p.numel() for p in params) + buffers,
                        sum(p.numel() for p in params if p.requires_grad))
