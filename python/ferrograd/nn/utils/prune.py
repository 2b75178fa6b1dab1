"""Pruning (``torch.nn.utils.prune``): zeroing a module's weights by a mask, as PyTorch does it.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, registers the 0/1 mask as the
buffer ``weight_mask`` and recomputes ``module.weight = weight_orig * weight_mask`` in a forward
pre-hook, so the optimizer keeps training ``weight_orig`` while the pruned entries stay zero and
receive zero gradient (a module with hooks runs its Python forward in the training loops too).
Pruning the same tensor again narrows the mask: the new method chooses only among the entries
(unstructured) or channels (structured) still kept, with ``amount`` counted on those.
``remove`` makes the pruning permanent: ``weight`` becomes a plain parameter holding the masked
values. State dicts carry PyTorch's names (``weight_orig``, ``weight_mask``)."""

from __future__ import annotations

from typing import Any, Iterable, Optional, Union

import numpy as np

from ..._core import Tensor
from ...autograd import no_grad
from ..module import Module

__all__ = ["BasePruningMethod", "Identity", "RandomUnstructured", "L1Unstructured", "RandomStructured",
           "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
           "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]

Amount = Union[int, float]


def _count(amount: Amount, total: int, what: str) -> int:
    """How many of ``total`` units ``amount`` prunes: an int as such, a float in [0, 1] as a
    fraction (rounded, as PyTorch)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise TypeError(f"prune: argument `amount` expected an int or a float, got {amount!r}")
    if isinstance(amount, float):
        if not 0.0 <= amount <= 1.0:
            raise ValueError(f"prune: argument `amount` expected a fraction in [0, 1], got {amount}")
        return int(round(amount * total))
    if not 0 <= amount <= total:
        raise ValueError(f"prune: argument `amount` expected at most the {total} {what} to prune, got {amount}")
    return amount


def _smallest(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``scores`` (the earlier position first among ties)."""
    return np.argsort(scores, kind="stable")[:k]


class BasePruningMethod:
    """A way of choosing what to prune. Subclasses set ``PRUNING_TYPE`` (``"unstructured"``,
    ``"structured"`` with a ``dim``, or ``"global"``) and compute a 0/1 mask from a tensor's
    importance scores with ``compute_mask(scores, default_mask)`` (numpy arrays)."""

    PRUNING_TYPE = "unstructured"
    dim = -1

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """The new mask: ``default_mask`` with the chosen entries set to 0."""
        raise NotImplementedError

    def _narrowed_mask(self, scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``compute_mask`` restricted to what ``mask`` still keeps, placed back into it."""
        if self.PRUNING_TYPE == "unstructured":
            kept = mask.reshape(-1) == 1
            out = mask.reshape(-1).copy()
            out[kept] = self.compute_mask(scores.reshape(-1)[kept], np.ones(int(kept.sum()), np.float32))
            return out.reshape(mask.shape)
        axis = self.dim % scores.ndim
        others = tuple(a for a in range(scores.ndim) if a != axis)
        channels = np.flatnonzero(mask.sum(axis=others) != 0)
        partial = self.compute_mask(np.take(scores, channels, axis), np.take(mask, channels, axis))
        out = mask.copy()
        index: list[Any] = [slice(None)] * mask.ndim
        index[axis] = channels
        out[tuple(index)] = partial
        return out

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Optional[Tensor] = None,
              **kwargs: Any) -> "BasePruningMethod":
        """Prunes ``module.<name>`` with a new ``cls(*args, **kwargs)``: its mask is computed from
        ``importance_scores`` (the tensor's own values by default) over what is still kept."""
        method = cls(*args, **kwargs)
        tensor = getattr(module, name, None)
        if not isinstance(tensor, Tensor):
            raise ValueError(f"prune: {type(module).__name__} has no tensor {name!r} to prune")
        scores = tensor if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(tensor.shape):
            raise ValueError(f"prune: argument `importance_scores` expected shape {list(tensor.shape)}, got "
                             f"{list(scores.shape)}")
        values = scores.detach().numpy().astype(np.float64)
        if is_pruned_tensor(module, name):
            mask = getattr(module, f"{name}_mask").numpy()
            new_mask = method._narrowed_mask(values, mask)
            _set_mask(module, name, new_mask)
        else:
            new_mask = method.compute_mask(values, np.ones(values.shape, np.float32))
            _start_pruning(module, name, new_mask)
        return method


def is_pruned_tensor(module: Module, name: str) -> bool:
    """Whether ``module.<name>`` is pruned (has ``<name>_orig`` and ``<name>_mask``)."""
    return f"{name}_orig" in module._parameters or f"{name}_orig" in module.__dict__.get("_buffers", {})


class _Recompute:
    """The forward pre-hook that sets ``module.<name> = <name>_orig * <name>_mask``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, module: Module, inputs: Any) -> None:
        _recompute(module, self.name)


def _recompute(module: Module, name: str) -> None:
    masked = getattr(module, f"{name}_orig") * getattr(module, f"{name}_mask")
    object.__setattr__(module, name, masked)


def _start_pruning(module: Module, name: str, mask: np.ndarray) -> None:
    original = getattr(module, name)
    module._parameters.pop(name, None)
    module.__dict__.pop(name, None)
    setattr(module, f"{name}_orig", original)
    module.register_buffer(f"{name}_mask", Tensor.from_numpy(mask.astype(np.float32)).to(original.device))
    handle = module.register_forward_pre_hook(_Recompute(name))
    module.__dict__.setdefault("_pruning_hooks", {})[name] = handle
    _recompute(module, name)


def _set_mask(module: Module, name: str, mask: np.ndarray) -> None:
    current = getattr(module, f"{name}_mask")
    with no_grad():
        current.copy_(Tensor.from_numpy(mask.astype(np.float32)).to(current.device))
    _recompute(module, name)


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones), so that a tensor can be handled like a pruned one."""

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """``default_mask`` unchanged."""
        return default_mask.copy()


def _zero_lowest(default_mask: np.ndarray, ranking: np.ndarray, amount: Amount) -> np.ndarray:
    """``default_mask`` with the ``amount`` entries of lowest ``ranking`` (flat) zeroed."""
    k = _count(amount, ranking.size, "entries")
    mask = default_mask.reshape(-1).copy()
    mask[_smallest(ranking, k)] = 0.0
    return mask.reshape(default_mask.shape)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen uniformly at random (from the global generator)."""

    def __init__(self, amount: Amount) -> None:
        self.amount = amount

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """``default_mask`` with ``amount`` random entries zeroed."""
        from ... import rand

        return _zero_lowest(default_mask, rand(max(scores.size, 1)).numpy()[: scores.size], self.amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude."""

    def __init__(self, amount: Amount) -> None:
        self.amount = amount

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """``default_mask`` with the ``amount`` smallest-magnitude entries zeroed."""
        return _zero_lowest(default_mask, np.abs(scores).reshape(-1), self.amount)


class _Structured(BasePruningMethod):
    PRUNING_TYPE = "structured"

    def __init__(self, amount: Amount, dim: int = -1) -> None:
        self.amount, self.dim = amount, dim

    def _channel_scores(self, scores: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """``default_mask`` with the ``amount`` lowest-scoring slices along ``dim`` zeroed."""
        if not -scores.ndim <= self.dim < scores.ndim:
            raise ValueError(f"prune: argument `dim` expected an axis of a {scores.ndim}-d tensor, got {self.dim}")
        axis = self.dim % scores.ndim
        k = _count(self.amount, scores.shape[axis], "channels")
        mask = default_mask.copy()
        index: list[Any] = [slice(None)] * mask.ndim
        index[axis] = _smallest(self._channel_scores(np.moveaxis(scores, axis, 0)), k)
        mask[tuple(index)] = 0.0
        return mask


class RandomStructured(_Structured):
    """Prunes ``amount`` whole slices along ``dim`` (e.g. output channels) chosen at random."""

    def _channel_scores(self, scores: np.ndarray) -> np.ndarray:
        from ... import rand

        return rand(scores.shape[0]).numpy()


class LnStructured(_Structured):
    """Prunes the ``amount`` slices along ``dim`` with the smallest L``n`` norm (``n`` a number,
    ``inf``, ``-inf`` or ``"fro"``)."""

    def __init__(self, amount: Amount, n: Union[int, float, str], dim: int = -1) -> None:
        super().__init__(amount, dim)
        self.n = n

    def _channel_scores(self, scores: np.ndarray) -> np.ndarray:
        order = 2.0 if self.n == "fro" else float(self.n)
        return np.linalg.norm(scores.reshape(scores.shape[0], -1), ord=order, axis=1)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given 0/1 ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, scores: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        """``default_mask`` times the given mask."""
        given = self.mask.detach().numpy().astype(np.float32)
        if given.shape != default_mask.shape:
            raise ValueError(f"prune: argument `mask` expected shape {list(default_mask.shape)}, got {list(given.shape)}")
        return default_mask * given

    def _narrowed_mask(self, scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.compute_mask(scores, mask)


def identity(module: Module, name: str) -> Module:
    """Marks ``module.<name>`` as pruned with a mask of ones; returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: Amount) -> Module:
    """Prunes ``amount`` random entries of ``module.<name>``; returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: Amount, importance_scores: Optional[Tensor] = None) -> Module:
    """Prunes the ``amount`` entries of ``module.<name>`` with the smallest magnitude (of
    ``importance_scores`` when given); returns ``module``."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: Amount, dim: int) -> Module:
    """Prunes ``amount`` random slices of ``module.<name>`` along ``dim``; returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: Amount, n: Union[int, float, str], dim: int,
                  importance_scores: Optional[Tensor] = None) -> Module:
    """Prunes the ``amount`` slices of ``module.<name>`` along ``dim`` with the smallest L``n``
    norm; returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prunes ``module.<name>`` where ``mask`` is 0; returns ``module``."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable[tuple[Module, str]], pruning_method: type, importance_scores:
                        Optional[dict[tuple[Module, str], Tensor]] = None, **kwargs: Any) -> None:
    """Prunes the given ``(module, name)`` tensors together: ``pruning_method`` (an unstructured
    method class, e.g. :class:`L1Unstructured` with ``amount=``) ranks all their entries still
    kept in one pool, so layers lose different shares."""
    pairs = list(parameters)
    if getattr(pruning_method, "PRUNING_TYPE", None) != "unstructured":
        raise TypeError(f"global_unstructured: argument `pruning_method` expected an unstructured method, got "
                        f"{getattr(pruning_method, '__name__', pruning_method)!r}")
    scores, masks = [], []
    for module, name in pairs:
        given = (importance_scores or {}).get((module, name))
        tensor = getattr(module, name)
        scores.append((tensor if given is None else given).detach().numpy().astype(np.float64).reshape(-1))
        masks.append(getattr(module, f"{name}_mask").numpy().reshape(-1) if is_pruned_tensor(module, name)
                     else np.ones(tensor.numel(), np.float32))
    method = pruning_method(**kwargs)
    combined = method._narrowed_mask(np.concatenate(scores), np.concatenate(masks))
    start = 0
    for (module, name), s in zip(pairs, scores):
        tensor = getattr(module, name)
        part = combined[start: start + s.size].reshape(tuple(tensor.shape))
        start += s.size
        CustomFromMask.apply(module, name, Tensor.from_numpy(part.astype(np.float32)))


def remove(module: Module, name: str) -> Module:
    """Makes the pruning of ``module.<name>`` permanent: ``<name>`` becomes a plain parameter
    holding ``<name>_orig * <name>_mask``, and the original, the mask and the hook go."""
    if not is_pruned_tensor(module, name):
        raise ValueError(f"prune.remove: {type(module).__name__}.{name} is not pruned")
    original = getattr(module, f"{name}_orig")
    with no_grad():
        original.copy_(original * getattr(module, f"{name}_mask"))
    module.__dict__["_pruning_hooks"].pop(name).remove()
    for key in (f"{name}_orig", f"{name}_mask"):
        module._parameters.pop(key, None)
        module._buffers.pop(key, None)
        module.__dict__.pop(key, None)
    module.__dict__.get("_buffer_names", set()).discard(f"{name}_mask")
    module.__dict__.pop(name, None)
    setattr(module, name, original)
    return module


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any module inside it has a pruned tensor."""
    return any(m.__dict__.get("_pruning_hooks") for m in module.modules())
