"""Higher-level autograd on functions, as ``torch.autograd.functional``: vector-Jacobian and
Jacobian-vector products, full Jacobians and Hessians, and Hessian-vector products.

Reach it as ``ferrograd.autograd.functional`` (``from ferrograd.autograd import functional``).
Every function takes a Python function ``func`` and its ``inputs`` (a Tensor or a tuple of
Tensors), calls ``func`` on detached copies of the inputs that require grad, and differentiates
it with :func:`ferrograd.autograd.grad`. A tuple in gives tuples out; a single Tensor gives a
Tensor. Results are detached unless ``create_graph=True``, which keeps their graph (back to the
original inputs when those require grad) so that they can be differentiated again. Parts of the
result that do not depend on an input are zeros, or raise a RuntimeError with ``strict=True``.
Forward-mode products (``jvp``, ``hvp``) use the double-backward trick, so they need the ops'
backward passes to be recorded (see :func:`ferrograd.autograd.grad`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from . import _core
from ._core import Tensor
from .autograd import enable_grad, grad

TensorOrTensors = Union[Tensor, tuple[Tensor, ...]]

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGIES = ("reverse-mode", "forward-mode")


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_func(func: Any, fn_name: str) -> None:
    if not callable(func):
        raise TypeError(f"{fn_name}: argument `func` expected a callable, got {_type_name(func)}")


def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """``(was_a_tuple, value as a tuple of Tensors)``; anything else than a Tensor or a tuple of
    Tensors raises a TypeError naming ``arg_name``."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    if is_tuple and not items:
        raise ValueError(f"{fn_name}: {arg_name} expected a Tensor or a non-empty tuple of Tensors, got an empty tuple")
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f" at index {i}" if is_tuple else ""
            raise TypeError(f"{fn_name}: {arg_name} expected a Tensor or a tuple of Tensors, got {_type_name(item)}"
                            f"{where}")
    return is_tuple, items


def _check_float(tensors: tuple[Tensor, ...], arg_name: str, fn_name: str) -> None:
    for i, t in enumerate(tensors):
        if not t.is_floating_point():
            where = f" (entry {i})" if len(tensors) > 1 else ""
            raise TypeError(f"{fn_name}: {arg_name} expected floating-point tensors, got dtype {t.dtype}{where}")


def _grad_preprocess(tensors: tuple[Tensor, ...], create_graph: bool, need_graph: bool) -> tuple[Tensor, ...]:
    """Copies of ``tensors`` to differentiate with respect to. With ``create_graph`` a tensor that
    requires grad stays linked to its graph (a view of it), so the results can be differentiated
    with respect to the caller's tensors; otherwise it is detached (and requires grad when
    ``need_graph``)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in tensors)


def _grad_postprocess(tensors: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """Detaches the results (nested tuples too) unless ``create_graph``."""
    if create_graph:
        return tensors
    return tuple(t.detach() if isinstance(t, Tensor) else _grad_postprocess(t, create_graph) for t in tensors)


def _tuple_postprocess(res: tuple[Any, ...], to_unpack: Union[bool, tuple[bool, bool]]) -> Any:
    """Unwraps one-element tuples where the user passed (or ``func`` returned) a plain Tensor."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if to_unpack else res[0]


def _validate_v(v: tuple[Tensor, ...], other: tuple[Tensor, ...], is_other_tuple: bool, what: str,
                fn_name: str) -> None:
    """Checks that ``v`` matches ``other`` (the outputs or the inputs) in count, shape and device."""
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"{fn_name}: argument `v` expected a tuple of {len(other)} tensors (one per {what}), "
                               f"got {len(v)}")
        raise RuntimeError(f"{fn_name}: argument `v` expected a single Tensor (the {what} is a single Tensor), "
                           f"got a tuple of {len(v)}")
    _check_float(v, "argument `v`", fn_name)
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        entry = f" for {what} {i}" if is_other_tuple else ""
        if list(el_v.shape) != list(el_other.shape):
            raise RuntimeError(f"{fn_name}: argument `v` expected shape {list(el_other.shape)}{entry}, "
                               f"got {list(el_v.shape)}")
        if el_v.device != el_other.device:
            raise RuntimeError(f"{fn_name}: argument `v` expected device {el_other.device}{entry}, got {el_v.device}")


def _check_requires_grad(tensors: tuple[Optional[Tensor], ...], kind: str, strict: bool, fn_name: str) -> None:
    """With ``strict``, raises when one of ``tensors`` does not depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"{fn_name}: the output of the user-provided function is independent of input {i}; "
                               "this is not allowed with strict=True")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(f"{fn_name}: the Hessian of the user-provided function with respect to input {i} is "
                               "independent of the input; this is not allowed with strict=True (the function must be "
                               "thrice differentiable and its Hessian must depend on the inputs)")
        if kind == "jacobian":
            raise RuntimeError(f"{fn_name}: the Jacobian of the user-provided function with respect to input {i} is "
                               "independent of the input; this is not allowed with strict=True (the function must be "
                               "twice differentiable and its Jacobian must depend on the inputs, which a linear "
                               "function violates)")
        if kind == "grad_inputs":
            raise RuntimeError(f"{fn_name}: the gradient with respect to input {i} is independent of the inputs of "
                               "the user-provided function; this is not allowed with strict=True")
        raise RuntimeError(f"{fn_name}: output {i} of the user-provided function does not require gradients; with "
                           "strict=True the outputs must be computed in a differentiable manner from the inputs")


def _autograd_grad(outputs: Sequence[Optional[Tensor]], inputs: tuple[Tensor, ...],
                   grad_outputs: Optional[Sequence[Optional[Tensor]]] = None,
                   create_graph: bool = False) -> tuple[Optional[Tensor], ...]:
    """:func:`ferrograd.autograd.grad` over the outputs that require grad (None for every input
    when none does), with None for an input the outputs do not depend on."""
    vectors: Sequence[Optional[Tensor]] = grad_outputs if grad_outputs is not None else [None] * len(outputs)
    kept = [(out, vec) for out, vec in zip(outputs, vectors) if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return grad([out for out, _ in kept], list(inputs), grad_outputs=[vec for _, vec in kept],
                 create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "the output of the user-provided function is independent of input {i}",
    "back_trick": "the gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients",
    "double_back": "the Jacobian of the user-provided function is independent of input {i}",
    "double_back_trick": "the second order gradient with respect to the input is independent of entry {i} in the "
                         "grad_outputs when using the double backward trick to compute forward mode gradients",
}


def _zeros_like(ref: Tensor) -> Tensor:
    return _core.full(list(ref.shape), 0.0, ref.dtype, ref.device, False)


def _fill_in_zeros(grads: tuple[Optional[Tensor], ...], refs: tuple[Tensor, ...], strict: bool, create_graph: bool,
                   stage: str, fn_name: str) -> tuple[Tensor, ...]:
    """Zeros (shaped as ``refs``) for the missing gradients; with ``strict`` a missing gradient,
    or one without graph when ``create_graph``, raises."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn_name}: {_INDEPENDENT[stage].format(i=i)}; this is not allowed with "
                                   "strict=True")
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "Hessian" if "double" in stage else "Jacobian"
            raise RuntimeError(f"{fn_name}: the {what} of the user-provided function is independent of input {i}; "
                               "this is not allowed with strict=True and create_graph=True")
        filled.append(g)
    return tuple(filled)


def _prepare_inputs(func: Any, inputs: Any, create_graph: bool, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    _check_func(func, fn_name)
    is_tuple, tensors = _as_tuple(inputs, "argument `inputs`", fn_name)
    _check_float(tensors, "argument `inputs`", fn_name)
    return is_tuple, _grad_preprocess(tensors, create_graph=create_graph, need_graph=True)


def _prepare_v(v: Any, create_graph: bool, fn_name: str) -> tuple[Tensor, ...]:
    _, vs = _as_tuple(v, "argument `v`", fn_name)
    return _grad_preprocess(vs, create_graph=create_graph, need_graph=False)


def _call(func: Callable[..., Any], inputs: tuple[Tensor, ...], fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    return _as_tuple(func(*inputs), "the user-provided function's output", fn_name)


def _single_scalar_output(outputs: tuple[Tensor, ...], is_tuple: bool, fn_name: str) -> None:
    if is_tuple:
        raise RuntimeError(f"{fn_name}: the user-provided function expected to return a single Tensor, "
                           f"got a tuple of {len(outputs)}")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"{fn_name}: the user-provided function expected to return a single-element Tensor, "
                           f"got shape {list(outputs[0].shape)}")


def vjp(func: Callable[..., Any], inputs: TensorOrTensors, v: Optional[TensorOrTensors] = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """The vector-Jacobian product of ``func`` at ``inputs`` with ``v``, as
    ``torch.autograd.functional.vjp``.

    Returns ``(func_output, vjp)``: ``func``'s output (as it returned it) and ``v^T J``, shaped
    like ``inputs`` (a Tensor or a tuple of Tensors, as given). ``v`` has the shape of the outputs
    (a tuple when ``func`` returns one); it may be None only when ``func`` returns a single
    one-element Tensor. With ``create_graph=True`` both results keep their graph and can be
    differentiated again; ``strict=True`` raises a RuntimeError when an output does not depend on
    an input instead of giving zeros for it.
    """
    with enable_grad():
        is_inputs_tuple, ins = _prepare_inputs(func, inputs, create_graph, "vjp")
        is_outputs_tuple, outputs = _call(func, ins, "vjp")
        _check_requires_grad(outputs, "outputs", strict, "vjp")
        vs: Optional[tuple[Tensor, ...]] = None
        if v is not None:
            vs = _prepare_v(v, create_graph, "vjp")
            _validate_v(vs, outputs, is_outputs_tuple, "output", "vjp")
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            shapes = [list(o.shape) for o in outputs]
            raise RuntimeError("vjp: argument `v` expected a tensor shaped as the outputs (it may be None only when "
                               f"the function returns a single one-element Tensor), got None for outputs of shapes "
                               f"{shapes}")
        grads = _autograd_grad(outputs, ins, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, ins, strict, create_graph, "back", "vjp")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))


def jvp(func: Callable[..., Any], inputs: TensorOrTensors, v: Optional[TensorOrTensors] = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """The Jacobian-vector product of ``func`` at ``inputs`` with ``v``, as
    ``torch.autograd.functional.jvp``.

    Returns ``(func_output, jvp)``: ``func``'s output and ``J v``, shaped like the outputs. ``v``
    has the shape of ``inputs`` (a tuple when they are one); it may be None only when the input is
    a single one-element Tensor. Computed with the double-backward trick (the vector-Jacobian
    product with a dummy vector ``u``, differentiated with respect to ``u``), so the ops of
    ``func`` need a recorded backward pass. ``create_graph`` and ``strict`` work as in :func:`vjp`.
    """
    with enable_grad():
        is_inputs_tuple, ins = _prepare_inputs(func, inputs, create_graph, "jvp")
        vs: Optional[tuple[Tensor, ...]] = None
        if v is not None:
            vs = _prepare_v(v, create_graph, "jvp")
            _validate_v(vs, ins, is_inputs_tuple, "input", "jvp")
        elif len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("jvp: argument `v` expected a tensor shaped as the inputs (it may be None only when "
                               "the input is a single one-element Tensor), got None for inputs of shapes "
                               f"{[list(t.shape) for t in ins]}")
        is_outputs_tuple, outputs = _call(func, ins, "jvp")
        _check_requires_grad(outputs, "outputs", strict, "jvp")
        # The vector-Jacobian product is linear in the dummy vector, so its value does not matter.
        dummies = tuple(_zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, ins, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict, "jvp")
        grads = _autograd_grad(grad_inputs, dummies, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick", "jvp")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_outputs_tuple))


def _check_strategy(strategy: str, vectorize: bool, strict: bool, create_graph: bool, fn_name: str,
                    arg_name: str) -> None:
    if strategy not in _STRATEGIES:
        raise ValueError(f"{fn_name}: argument `{arg_name}` expected one of {list(_STRATEGIES)}, got {strategy!r}")
    if strict and vectorize:
        raise RuntimeError(f"{fn_name}: arguments `strict=True` and `vectorize=True` are not supported together; "
                           "set strict=False or vectorize=False")
    if strategy == "forward-mode" and not vectorize:
        raise RuntimeError(f"{fn_name}: argument `{arg_name}` expected 'reverse-mode' unless vectorize=True, "
                           "got 'forward-mode'")
    if strategy == "forward-mode" and create_graph:
        raise RuntimeError(f"{fn_name}: argument `{arg_name}='forward-mode'` is not supported with "
                           "create_graph=True; set create_graph=False or use 'reverse-mode'")


def _jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool, strict: bool,
              fn_name: str) -> tuple[bool, bool, tuple[tuple[Tensor, ...], ...]]:
    """The Jacobian blocks ``[output][input]``, each of shape ``output.shape + input.shape``, row by
    row: one reverse pass per output element."""
    with enable_grad():
        is_inputs_tuple, ins = _prepare_inputs(func, inputs, create_graph, fn_name)
        is_outputs_tuple, outputs = _call(func, ins, fn_name)
        _check_requires_grad(outputs, "outputs", strict, fn_name)
        blocks: list[tuple[Tensor, ...]] = []
        for i, out in enumerate(outputs):
            rows: list[list[Tensor]] = [[] for _ in ins]
            flat = out.reshape(-1)
            for j in range(out.numel()):
                row = _autograd_grad((flat[j],), ins, create_graph=create_graph)
                for k, (g, inp) in enumerate(zip(row, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"{fn_name}: output {i} of the user-provided function is independent "
                                               f"of input {k}; this is not allowed with strict=True")
                        g = _zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"{fn_name}: the Jacobian of the user-provided function is independent "
                                           f"of input {k}; this is not allowed with strict=True and "
                                           "create_graph=True")
                    rows[k].append(g)
            block = []
            for k, inp in enumerate(ins):
                shape = list(out.shape) + list(inp.shape)
                if not rows[k]:
                    block.append(_core.full(shape, 0.0, inp.dtype, inp.device, False))
                else:
                    block.append(_core.stack(rows[k], 0).reshape(shape))
            blocks.append(tuple(block))
    return is_outputs_tuple, is_inputs_tuple, _grad_postprocess(tuple(blocks), create_graph)


def jacobian(func: Callable[..., Any], inputs: TensorOrTensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``, as ``torch.autograd.functional.jacobian``.

    For an output of shape ``O`` and an input of shape ``I`` the block has shape ``O + I``. A
    single Tensor in and out gives a Tensor; a tuple of inputs gives a tuple per output; a tuple
    of outputs gives a tuple over outputs (of tuples over inputs when the inputs are a tuple:
    ``result[i][j]`` is d output i / d input j). Computed row by row with one reverse pass per
    output element; ``vectorize=True`` and ``strategy="forward-mode"`` (which needs
    ``vectorize=True``, as in PyTorch) compute the same result the same way. ``create_graph`` and
    ``strict`` work as in :func:`vjp` (``strict`` cannot be combined with ``vectorize``).
    """
    _check_strategy(strategy, vectorize, strict, create_graph, "jacobian", "strategy")
    is_outputs_tuple, is_inputs_tuple, blocks = _jacobian(func, inputs, create_graph, strict, "jacobian")
    return _tuple_postprocess(blocks, (is_outputs_tuple, is_inputs_tuple))


def hessian(func: Callable[..., Any], inputs: TensorOrTensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs``, as
    ``torch.autograd.functional.hessian``.

    ``func`` must return a single one-element Tensor. For a single input of shape ``I`` the result
    has shape ``I + I``; for a tuple of inputs it is a tuple of tuples, ``result[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape`` (the second derivative with respect to inputs i and j).
    Computed as the Jacobian of the gradient (recorded with ``create_graph=True``).
    ``create_graph``, ``strict``, ``vectorize`` and ``outer_jacobian_strategy`` work as in
    :func:`jacobian`; with ``strict=True`` a gradient that does not depend on the inputs (a linear
    function) raises too.
    """
    _check_func(func, "hessian")
    _check_strategy(outer_jacobian_strategy, vectorize, strict, create_graph, "hessian", "outer_jacobian_strategy")
    is_inputs_tuple, ins = _as_tuple(inputs, "argument `inputs`", "hessian")

    def scalar_output(*args: Tensor) -> Tensor:
        is_tuple, outputs = _call(func, args, "hessian")
        _check_requires_grad(outputs, "outputs", strict, "hessian")
        _single_scalar_output(outputs, is_tuple, "hessian")
        return outputs[0].reshape([])

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        _, _, blocks = _jacobian(scalar_output, args, True, False, "hessian")
        jac = blocks[0]
        _check_requires_grad(jac, "jacobian", strict, "hessian")
        return jac

    _, _, blocks = _jacobian(gradient, ins, create_graph, strict, "hessian")
    return _tuple_postprocess(blocks, (is_inputs_tuple, is_inputs_tuple))


def vhp(func: Callable[..., Any], inputs: TensorOrTensors, v: Optional[TensorOrTensors] = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """The vector-Hessian product of the scalar function ``func`` at ``inputs`` with ``v``, as
    ``torch.autograd.functional.vhp``.

    Returns ``(func_output, vhp)``: ``func``'s output and ``v^T H``, shaped like ``inputs``.
    ``func`` must return a single one-element Tensor; ``v`` has the shape of ``inputs`` and may
    be None only when the input is a single one-element Tensor. Two reverse passes (the second
    through the recorded first), so it is cheaper than :func:`hvp`; the two agree for
    twice-differentiable functions. ``create_graph`` and ``strict`` work as in :func:`vjp`.
    """
    with enable_grad():
        is_inputs_tuple, ins = _prepare_inputs(func, inputs, create_graph, "vhp")
        vs = _second_order_v(v, ins, is_inputs_tuple, create_graph, "vhp")
        is_outputs_tuple, outputs = _call(func, ins, "vhp")
        _check_requires_grad(outputs, "outputs", strict, "vhp")
        _single_scalar_output(outputs, is_outputs_tuple, "vhp")
        jac = _autograd_grad(outputs, ins, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict, "vhp")
        grads = _autograd_grad(jac, ins, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, ins, strict, create_graph, "double_back", "vhp")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))


def hvp(func: Callable[..., Any], inputs: TensorOrTensors, v: Optional[TensorOrTensors] = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """The Hessian-vector product of the scalar function ``func`` at ``inputs`` with ``v``, as
    ``torch.autograd.functional.hvp``.

    Returns ``(func_output, hvp)``: ``func``'s output and ``H v``, shaped like ``inputs``.
    ``func`` must return a single one-element Tensor; ``v`` has the shape of ``inputs`` and may
    be None only when the input is a single one-element Tensor. Computed with the double-backward
    trick (three reverse passes, so ``func``'s ops must be differentiable three times in reverse
    mode); :func:`vhp` gives the same result for twice-differentiable functions, faster.
    ``create_graph`` and ``strict`` work as in :func:`vjp`.
    """
    with enable_grad():
        is_inputs_tuple, ins = _prepare_inputs(func, inputs, create_graph, "hvp")
        vs = _second_order_v(v, ins, is_inputs_tuple, create_graph, "hvp")
        is_outputs_tuple, outputs = _call(func, ins, "hvp")
        _check_requires_grad(outputs, "outputs", strict, "hvp")
        _single_scalar_output(outputs, is_outputs_tuple, "hvp")
        jac = _autograd_grad(outputs, ins, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict, "hvp")
        dummies = tuple(_zeros_like(t).requires_grad_(True) for t in ins)
        double_back = _autograd_grad(jac, ins, dummies, create_graph=True)
        grads = _autograd_grad(double_back, dummies, vs, create_graph=create_graph)
        result = _fill_in_zeros(grads, ins, strict, create_graph, "double_back_trick", "hvp")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))


def _second_order_v(v: Optional[TensorOrTensors], ins: tuple[Tensor, ...], is_inputs_tuple: bool,
                    create_graph: bool, fn_name: str) -> Optional[tuple[Tensor, ...]]:
    if v is not None:
        vs = _prepare_v(v, create_graph, fn_name)
        _validate_v(vs, ins, is_inputs_tuple, "input", fn_name)
        return vs
    if len(ins) != 1 or ins[0].numel() != 1:
        raise RuntimeError(f"{fn_name}: argument `v` expected a tensor shaped as the inputs (it may be None only "
                           "when the input is a single one-element Tensor), got None for inputs of shapes "
                           f"{[list(t.shape) for t in ins]}")
    return None
