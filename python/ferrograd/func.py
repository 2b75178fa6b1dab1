"""Function transforms (``ferrograd.func``), as ``torch.func``: calling a module with other
parameters, gradients as functions, and mapping a function over a batch axis.

- :func:`functional_call` runs a module with the tensors of a dict in place of its own
  parameters and buffers (restored afterwards), so gradients flow to those tensors;
- :func:`grad` / :func:`grad_and_value` turn a function returning a scalar into one returning its
  gradient with respect to the chosen arguments (by :func:`ferrograd.autograd.grad`);
- :func:`vmap` maps a function over an axis of its arguments. It calls the function once per
  example and stacks the results: the semantics of ``torch.func.vmap`` (per-sample gradients
  with ``vmap(grad(loss))``, for instance), at a Python loop's speed rather than a batched op's;
- :func:`jacrev`, :func:`hessian`, :func:`vjp` and :func:`jvp` wrap ``autograd.functional``."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from ._core import Tensor, stack
from .autograd import enable_grad
from .autograd import grad as _autograd_grad
from .autograd_functional import hessian as _hessian
from .autograd_functional import jacobian as _jacobian
from .autograd_functional import jvp, vjp

__all__ = ["functional_call", "grad", "grad_and_value", "vmap", "jacrev", "hessian", "vjp", "jvp", "jacfwd", "linearize",
           "functionalize", "stack_module_state"]

ArgNums = Union[int, tuple[int, ...]]


def _owner(module: Any, path: str) -> tuple[Any, str]:
    """The submodule holding ``path`` (``"layer.0.weight"``) and the attribute's own name."""
    *parents, leaf = path.split(".")
    owner = module
    for part in parents:
        child = owner._modules.get(part) if hasattr(owner, "_modules") else None
        if child is None:
            raise KeyError(f"functional_call: {type(module).__name__} has no submodule {part!r} (in {path!r})")
        owner = child
    return owner, leaf


@contextmanager
def _swapped(module: Any, tensors: Mapping[str, Tensor], strict: bool) -> Iterator[None]:
    names = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
    unknown = sorted(set(tensors) - names)
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameters or buffers {unknown}")
    if strict and set(tensors) != names:
        raise KeyError(f"functional_call: strict=True expected every parameter and buffer, missing "
                       f"{sorted(names - set(tensors))}")
    saved = []
    try:
        for path, value in tensors.items():
            owner, leaf = _owner(module, path)
            registry = owner._parameters if leaf in owner._parameters else owner._buffers
            saved.append((owner, leaf, registry, registry[leaf]))
            registry[leaf] = value
            object.__setattr__(owner, leaf, value)
        yield
    finally:
        for owner, leaf, registry, original in reversed(saved):
            registry[leaf] = original
            object.__setattr__(owner, leaf, original)


def functional_call(module: Any, parameter_and_buffer_dicts: Union[Mapping[str, Tensor], Sequence[Mapping[str, Tensor]]],
                    args: Any = (), kwargs: Optional[dict[str, Any]] = None, *, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named tensors (by their ``state_dict`` names; several
    dicts are merged) in place of the module's parameters and buffers, which are restored after
    the call. ``strict=True`` requires a tensor for every parameter and buffer."""
    dicts = [parameter_and_buffer_dicts] if isinstance(parameter_and_buffer_dicts, Mapping) else list(parameter_and_buffer_dicts)
    merged: dict[str, Tensor] = {}
    for d in dicts:
        overlap = set(merged) & set(d)
        if overlap:
            raise ValueError(f"functional_call: the dicts name {sorted(overlap)} more than once")
        merged.update(d)
    positional = args if isinstance(args, tuple) else (args,)
    with _swapped(module, merged, strict):
        return module(*positional, **(kwargs or {}))


def _argnum_tuple(argnums: ArgNums, count: int, fn: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or any(not -count <= n < count for n in nums):
        raise ValueError(f"{fn}: argument `argnums` expected positions of the {count} arguments, got {argnums!r}")
    return tuple(n % count for n in nums)


def _leaves(value: Any) -> list[Tensor]:
    """The tensors of a nest of dicts, lists and tuples, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _leaves(v)]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _leaves(v)]
    raise TypeError(f"grad: expected tensors (or dicts, lists, tuples of them) to differentiate, got "
                    f"{type(value).__name__}")


def _rebuilt(value: Any, leaves: Iterator[Tensor]) -> Any:
    """``value``'s nest with its tensors replaced, in order, by ``leaves``."""
    if isinstance(value, Tensor):
        return next(leaves)
    if isinstance(value, dict):
        return {k: _rebuilt(v, leaves) for k, v in value.items()}
    return type(value)(_rebuilt(v, leaves) for v in value)


def grad_and_value(func: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ``(gradient, value)`` of ``func`` (which returns a one-element
    tensor, or ``(tensor, aux)`` with ``has_aux``) with respect to the arguments at ``argnums``
    (a tuple of gradients for a tuple of positions); an argument may be a dict, list or tuple of
    tensors, and its gradient has the same structure. The value is detached."""

    def run(*args: Any, **kwargs: Any) -> Any:
        nums = _argnum_tuple(argnums, len(args), "grad")
        full = list(args)
        fresh: list[list[Tensor]] = []
        for n in nums:
            leaves = [t.detach() for t in _leaves(args[n])]
            for t in leaves:
                t.requires_grad = True
            fresh.append(leaves)
            full[n] = _rebuilt(args[n], iter(leaves))
        with enable_grad():
            out = func(*full, **kwargs)
        value, aux = (out[0], out[1]) if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"grad: the function must return a one-element tensor, got "
                             f"{list(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
        flat = [t for leaves in fresh for t in leaves]
        grads = _autograd_grad(value, flat, allow_unused=True)
        filled = iter([g if g is not None else t.detach() * 0.0 for g, t in zip(grads, flat)])
        structured = tuple(_rebuilt(args[n], filled) for n in nums)
        result = structured[0] if isinstance(argnums, int) else structured
        return (result, (value.detach(), aux)) if has_aux else (result, value.detach())

    return run


def grad(func: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of ``func`` with respect to the arguments at
    ``argnums`` (with ``has_aux``, ``(gradient, aux)``)."""
    both = grad_and_value(func, argnums, has_aux)

    def run(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return run


def _select(value: Any, dim: Optional[int], i: int) -> Any:
    """Example ``i`` of ``value`` along ``dim`` (nested tuples, lists and dicts followed)."""
    if dim is None:
        return value
    if isinstance(value, Tensor):
        return value.narrow(dim, i, 1).squeeze(dim)
    if isinstance(value, (tuple, list)):
        return type(value)(_select(v, dim, i) for v in value)
    if isinstance(value, dict):
        return {k: _select(v, dim, i) for k, v in value.items()}
    raise TypeError(f"vmap: cannot map over a {type(value).__name__}")


def _size(value: Any, dim: Optional[int]) -> Optional[int]:
    if dim is None:
        return None
    if isinstance(value, Tensor):
        return int(value.shape[dim])
    if isinstance(value, (tuple, list)):
        sizes = {_size(v, dim) for v in value} - {None}
        return sizes.pop() if len(sizes) == 1 else None
    if isinstance(value, dict):
        return _size(list(value.values()), dim)
    return None


def _stacked(results: list[Any], out_dims: Any) -> Any:
    first = results[0]
    if isinstance(first, Tensor):
        return stack(results, int(out_dims))
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else [out_dims] * len(first)
        return type(first)(_stacked([r[k] for r in results], d) for k, d in enumerate(dims))
    if isinstance(first, dict):
        return {k: _stacked([r[k] for r in results], out_dims) for k in first}
    raise TypeError(f"vmap: the function returned a {type(first).__name__}, expected tensors")


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0) -> Callable[..., Any]:
    """``func`` mapped over axis ``in_dims`` of its arguments (an int for all, or one entry per
    argument, None for arguments shared by every example); the results are stacked along
    ``out_dims``. The function runs once per example."""

    def run(*args: Any) -> Any:
        dims = list(in_dims) if isinstance(in_dims, (tuple, list)) else [in_dims] * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: argument `in_dims` expected {len(args)} entries, got {len(dims)}")
        sizes = {size for a, d in zip(args, dims) if (size := _size(a, d)) is not None}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped arguments expected one common size along in_dims, got {sorted(sizes)}")
        count = sizes.pop()
        results = [func(*(_select(a, d, i) for a, d in zip(args, dims))) for i in range(count)]
        return _stacked(results, out_dims)

    return run


def jacrev(func: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``func``'s output with respect to the arguments at
    ``argnums`` (output shape followed by the argument's shape)."""

    def run(*args: Any) -> Any:
        nums = _argnum_tuple(argnums, len(args), "jacrev")

        def of_chosen(*chosen: Tensor) -> Any:
            full = list(args)
            for n, t in zip(nums, chosen):
                full[n] = t
            return func(*full)

        result = _jacobian(of_chosen, tuple(args[n] for n in nums))
        return result[0] if isinstance(argnums, int) else tuple(result)

    return run


def hessian(func: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the Hessian of ``func`` (a one-element output) with respect to the
    argument at ``argnums``."""
    if not isinstance(argnums, int):
        raise ValueError("hessian: argument `argnums` expected one position")

    def run(*args: Any) -> Any:
        n = _argnum_tuple(argnums, len(args), "hessian")[0]

        def of_one(t: Tensor) -> Any:
            full = list(args)
            full[n] = t
            return func(*full)

        return _hessian(of_one, args[n])

    return run


def jacfwd(func: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian function :func:`jacrev` gives (the same matrix; ferrograd differentiates in
    reverse mode only, so the Jacobian is assembled from one backward pass per output entry)."""
    if has_aux:
        raise NotImplementedError("jacfwd: has_aux=True is not supported; return the auxiliary value separately")
    return jacrev(func, argnums)


def linearize(func: Callable[..., Any], *primals: Tensor) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is the Jacobian-vector product of
    ``func`` at ``primals`` (computed with the double-vjp identity, as :func:`jvp` is)."""
    output = func(*primals)

    def jvp_fn(*tangents: Tensor) -> Any:
        if len(tangents) != len(primals):
            raise ValueError(f"linearize: jvp_fn expected {len(primals)} tangents (one per primal), got "
                             f"{len(tangents)}")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    """``func`` itself: functionalization rewrites in-place ops for graph compilers; run eagerly,
    as here, the function computes the same values."""
    return func


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of same-shaped ``models`` stacked along a new first dimension,
    keyed by name (for :func:`vmap` over :func:`functional_call`); the stacked parameters are new
    leaves that require grad where the originals did."""
    if not models:
        raise ValueError("stack_module_state: argument `models` expected at least one module, got none")
    names = [name for name, _ in models[0].named_parameters()]
    params = {}
    for name in names:
        members = [dict(m.named_parameters())[name] for m in models]
        stacked = stack([p.detach() for p in members])
        params[name] = stacked.requires_grad_(True) if members[0].requires_grad else stacked
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers
