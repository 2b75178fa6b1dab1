"""Parametrizations (``torch.nn.utils.parametrize``): a module's tensor (``weight``) becomes a
function of the tensors it is computed from, recomputed at every access, so training updates
those instead (spectral or weight normalisation, constraints).

After ``register_parametrization(module, "weight", p)`` the module's class is a subclass whose
``weight`` is a property returning ``p(original)``; the original tensor lives in
``module.parametrizations.weight.original`` (``original0``, ``original1``, ... when ``p`` has a
``right_inverse`` returning several), which is what the state dict and the optimizer see, under
PyTorch's names. Training, evaluation and attack loops run a parametrized module's Python call,
so the property is recomputed at each step there too."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Sequence, cast

from ..._core import Tensor
from ...autograd import no_grad
from ..container import ModuleDict, ModuleList
from ..module import Module

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached", "ParametrizationList"]

_cache: Optional[dict[tuple[int, str], Tensor]] = None


@contextmanager
def cached() -> Iterator[None]:
    """Within this block each parametrized tensor is computed once and reused (e.g. a weight
    read several times per forward)."""
    global _cache
    outer = _cache
    _cache = {} if outer is None else outer
    try:
        yield
    finally:
        _cache = outer


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original tensor(s) they are
    computed from (``original``, or ``original0``, ``original1``, ... as ``right_inverse``
    returned)."""

    def __init__(self, modules: Sequence[Module], original: Tensor) -> None:
        super().__init__(modules)
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        if isinstance(new, Tensor):
            self.is_tensor = True
            if new is not original:
                with no_grad():
                    original.copy_(new)
            self.original = original
        else:
            self.is_tensor = False
            self.ntensors = len(new)
            for i, value in enumerate(new):
                tensor = value.detach()
                tensor.requires_grad = original.requires_grad
                setattr(self, f"original{i}", tensor)

    def _originals(self) -> list[Tensor]:
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def forward(self) -> Tensor:
        modules = list(self)
        x = modules[0](*self._originals())
        for module in modules[1:]:
            x = module(x)
        return x

    def right_inverse(self, value: Any) -> None:
        """Sets the originals so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
            values = [value] if self.is_tensor else list(value)
            for original, new in zip(self._originals(), values):
                original.copy_(new)


def _plist(module: Module, tensor_name: str) -> ParametrizationList:
    """The parametrizations of ``module.<tensor_name>``."""
    plist = cast(ModuleDict, module.__dict__["parametrizations"])[tensor_name]
    return cast(ParametrizationList, plist)


def _parametrized_class(module: Module) -> type:
    """The subclass of ``module``'s class that parametrized tensors are properties of (made once
    per module, as PyTorch does, so other instances keep their plain attributes)."""
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls
    new = type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True})
    module.__class__ = new
    return new


def _property(name: str) -> property:
    def get(self: Module) -> Tensor:
        key = (id(self), name)
        if _cache is not None and key in _cache:
            return _cache[key]
        value = _plist(self, name)()
        if _cache is not None:
            _cache[key] = value
        return value

    def set_(self: Module, value: Tensor) -> None:
        _plist(self, name).right_inverse(value)

    return property(get, set_, doc=f"``{name}``, computed by its parametrizations")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False) -> Module:
    """Makes ``module.<tensor_name>`` the output of ``parametrization`` (a Module whose forward
    takes the original tensor, or several with a ``right_inverse`` returning several); a second
    registration on the same name chains after the first. Unless ``unsafe``, the parametrized
    tensor must keep the original's shape and dtype. Returns ``module``."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: argument `parametrization` expected a Module, "
                        f"got {type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = _plist(module, tensor_name)
        before = getattr(module, tensor_name)
        plist.append(parametrization)
        if not unsafe:
            _keep_shape(module, tensor_name, before, lambda: _drop_last(plist))
        return module
    original = getattr(module, tensor_name, None)
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: argument `tensor_name` expected a tensor attribute of "
                         f"{type(module).__name__}, got {tensor_name!r}")
    for registry in (module._parameters, module._buffers):
        registry.pop(tensor_name, None)
    module.__dict__.pop(tensor_name, None)
    if not is_parametrized(module):
        setattr(module, "parametrizations", ModuleDict())
    cast(ModuleDict, module.__dict__["parametrizations"])[tensor_name] = ParametrizationList([parametrization], original)
    cls = _parametrized_class(module)
    setattr(cls, tensor_name, _property(tensor_name))
    if not unsafe:
        _keep_shape(module, tensor_name, original,
                    lambda: remove_parametrizations(module, tensor_name, leave_parametrized=False))
    return module


def _keep_shape(module: Module, tensor_name: str, before: Tensor, undo: Callable[[], Any]) -> None:
    """Undoes the registration and raises unless the parametrized tensor has ``before``'s shape
    and dtype."""
    value = getattr(module, tensor_name)
    if tuple(value.shape) != tuple(before.shape) or value.dtype != before.dtype:
        undo()
        raise ValueError(f"register_parametrization: the parametrization must keep {tensor_name}'s shape "
                         f"{list(before.shape)} and dtype {before.dtype}, got {list(value.shape)} and {value.dtype} "
                         f"(pass unsafe=True to allow it)")


def _drop_last(plist: ParametrizationList) -> None:
    key = next(reversed(plist._modules))
    del plist._modules[key]
    plist.__dict__.pop(key, None)


def is_parametrized(module: Module, tensor_name: Optional[str] = None) -> bool:
    """Whether ``module`` has any parametrized tensor, or the one named ``tensor_name``."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Makes ``module.<tensor_name>`` a plain tensor again: its current parametrized value
    (``leave_parametrized``) or its original, as a parameter if the original was one. Returns
    ``module``; its class goes back to the plain one with its last parametrization."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no parametrization on {tensor_name!r}")
    plist = _plist(module, tensor_name)
    originals = plist._originals()
    trainable = originals[0].requires_grad
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name).detach()
        if plist.is_tensor and tuple(value.shape) == tuple(originals[0].shape):
            with no_grad():
                originals[0].copy_(value)
            value = originals[0]
    elif plist.is_tensor:
        value = originals[0]
    else:
        raise ValueError(f"remove_parametrizations: {tensor_name!r} is computed from several tensors; only "
                         f"leave_parametrized=True can give it one value")
    parametrizations = cast(ModuleDict, module.__dict__["parametrizations"])
    del parametrizations[tensor_name]
    parametrizations.__dict__.pop(tensor_name, None)
    delattr(type(module), tensor_name)
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        module.__dict__.pop("parametrizations", None)
        module.__class__ = type(module).__bases__[0]
    if value.requires_grad != trainable or not value.is_leaf:
        value = value.detach()
        value.requires_grad = trainable
    setattr(module, tensor_name, value)
    return module
