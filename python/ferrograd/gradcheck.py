"""``autograd.gradcheck`` and ``gradgradcheck``: gradients from autograd against central finite
differences. ferrograd computes in float32, not the float64 PyTorch's checks expect, so the
defaults are float32's (step 1e-3, tolerances ``atol=1e-3``, ``rtol=1e-2``); each input entry is
perturbed in turn, so keep the inputs small."""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ._core import Tensor


class GradcheckError(RuntimeError):
    """Autograd's gradient disagreed with the finite-difference one."""


def _host(t: Tensor) -> np.ndarray:
    """``t``'s values on the host (imported late: ``autograd`` loads this module early)."""
    from .tensor_methods import _host as host

    return host(t)


def _outputs(func: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = func(*inputs)
    return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, Tensor)]


def _flat(outputs: list[Tensor]) -> np.ndarray:
    return np.concatenate([_host(o).ravel().astype(np.float64) for o in outputs]) if outputs \
        else np.zeros(0)


def _numerical(func: Callable[..., Any], inputs: list[Any], index: int, eps: float) -> np.ndarray:
    """``[outputs, entries]``: the central difference of every output entry in each entry of
    ``inputs[index]``."""
    base = _host(inputs[index]).astype(np.float32)
    columns = []
    for position in range(base.size):
        shifted = []
        for step in (eps, -eps):
            values = base.copy().ravel()
            values[position] += step
            trial = list(inputs)
            trial[index] = Tensor.from_numpy(values.reshape(base.shape)).to(inputs[index].device)
            shifted.append(_flat(_outputs(func, trial)))
        columns.append((shifted[0] - shifted[1]) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _analytical(func: Callable[..., Any], inputs: list[Any], differentiable: list[int]) -> list[np.ndarray]:
    """One ``[outputs, entries]`` Jacobian per differentiable input, a backward pass per output
    entry."""
    from .autograd import grad

    leaves = list(inputs)
    for i in differentiable:
        leaves[i] = inputs[i].detach().requires_grad_(True)
    outputs = _outputs(func, leaves)
    rows: list[list[np.ndarray]] = [[] for _ in differentiable]
    for out in outputs:
        for position in range(out.numel()):
            seed = np.zeros(out.numel(), dtype=np.float32)
            seed[position] = 1.0
            grads = grad([out], [leaves[i] for i in differentiable],
                         grad_outputs=[Tensor.from_numpy(seed.reshape(tuple(out.shape))).to(out.device)],
                         retain_graph=True, allow_unused=True)
            for k, (i, g) in enumerate(zip(differentiable, grads)):
                rows[k].append(np.zeros(inputs[i].numel()) if g is None else _host(g).ravel().astype(np.float64))
    return [np.stack(r) if r else np.zeros((0, inputs[i].numel())) for r, i in zip(rows, differentiable)]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-3, atol: float = 1e-3, rtol: float = 1e-2,
              raise_exception: bool = True, **_: Any) -> bool:
    """Whether autograd's gradients of ``func`` at ``inputs`` (a tensor or a tuple; the floating
    ones that require grad are checked) match central differences of step ``eps`` within
    ``atol + rtol * |numerical|``; a mismatch raises :class:`GradcheckError` naming the input and
    the largest difference, unless ``raise_exception=False``."""
    listed = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    differentiable = [i for i, t in enumerate(listed)
                      if isinstance(t, Tensor) and t.requires_grad and t.is_floating_point()]
    if not differentiable:
        raise ValueError("gradcheck: expected at least one input tensor that requires grad")
    analytical = _analytical(func, listed, differentiable)
    for i, jacobian in zip(differentiable, analytical):
        numerical = _numerical(func, listed, i, eps)
        if numerical.shape != jacobian.shape:
            numerical = numerical.reshape(jacobian.shape)
        difference = np.abs(jacobian - numerical)
        if (difference > atol + rtol * np.abs(numerical)).any():
            if not raise_exception:
                return False
            row, column = np.unravel_index(int(np.argmax(difference)), difference.shape)
            raise GradcheckError(f"gradcheck: the gradient of output entry {row} with respect to input {i}, entry "
                                 f"{column}, is {jacobian[row, column]:.6g} by autograd and {numerical[row, column]:.6g} "
                                 f"by finite differences")
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Optional[Any] = None, *, eps: float = 1e-3,
                  atol: float = 1e-3, rtol: float = 1e-2, raise_exception: bool = True, seed: int = 0,
                  **_: Any) -> bool:
    """:func:`gradcheck` of the gradient itself: the vector-Jacobian product of ``func`` with
    ``grad_outputs`` (random normal ones, seeded, when not given), recorded with
    ``create_graph=True``, is checked against finite differences in ``inputs`` and
    ``grad_outputs``."""
    from .autograd import grad

    listed = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    outputs = _outputs(func, listed)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor.from_numpy(rng.standard_normal(tuple(o.shape)).astype(np.float32)).to(o.device)
                        .requires_grad_(True) for o in outputs]
    seeds = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
    count = len(listed)
    wanted = [i for i, t in enumerate(listed) if isinstance(t, Tensor) and t.requires_grad]

    def vjp(*values: Any) -> tuple[Tensor, ...]:
        args, cotangents = list(values[:count]), list(values[count:])
        # Finite differences pass fresh copies: they are made leaves again here.
        for i in wanted:
            if not args[i].requires_grad:
                args[i] = args[i].requires_grad_(True)
        grads = grad(_outputs(func, args), [args[i] for i in wanted], grad_outputs=cotangents, create_graph=True,
                     allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, (*listed, *seeds), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
