"""Fine-tuning helpers (``ferrograd.finetune``): freeze and unfreeze parameters by name pattern,
per-group learning rates, and LoRA adapters on linear layers (merge / unmerge)."""

from __future__ import annotations

import fnmatch
import math
from typing import Iterable, Mapping, Sequence, Union

from . import functional as F
from . import nn
from ._core import Tensor
from .autograd import no_grad

Patterns = Union[str, Sequence[str]]


def _patterns(patterns: Patterns) -> list[str]:
    return [patterns] if isinstance(patterns, str) else list(patterns)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    """Shell-style match of a dotted name (``"bert.encoder.layer.*"``, ``"*.bias"``)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def freeze(model: nn.Module, patterns: Patterns = "*") -> list[str]:
    """Stops gradients for the parameters whose names match ``patterns``; returns their names."""
    pats = _patterns(patterns)
    names = [n for n, p in model.named_parameters() if _matches(n, pats)]
    for n, p in model.named_parameters():
        if n in names:
            p.requires_grad = False
    return names


def unfreeze(model: nn.Module, patterns: Patterns = "*") -> list[str]:
    """Trains again the parameters whose names match ``patterns``; returns their names."""
    pats = _patterns(patterns)
    names = []
    for n, p in model.named_parameters():
        if _matches(n, pats):
            p.requires_grad = True
            names.append(n)
    return names


def trainable_parameters(model: nn.Module) -> list[Tensor]:
    """The parameters that require gradients."""
    return [p for _, p in model.named_parameters() if p.requires_grad]


def param_groups(model: nn.Module, lrs: Mapping[str, float], default_lr: float | None = None) -> list[dict]:
    """Optimizer parameter groups with their own learning rates: each trainable parameter joins
    the first pattern of ``lrs`` its name matches (others go to a group at ``default_lr``, or are
    left out when it is None). Pass the result to any ``fg.optim`` optimizer."""
    groups: dict[str, list[Tensor]] = {p: [] for p in lrs}
    rest: list[Tensor] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        target = next((pat for pat in lrs if fnmatch.fnmatchcase(name, pat)), None)
        (groups[target] if target is not None else rest).append(p)
    out = [{"params": ps, "lr": lrs[pat]} for pat, ps in groups.items() if ps]
    if rest and default_lr is not None:
        out.append({"params": rest, "lr": default_lr})
    if not out:
        raise ValueError(f"param_groups: no trainable parameter matches {list(lrs)}")
    return out


class LoRALinear(nn.Module):
    """A frozen :class:`~ferrograd.nn.Linear` plus a trained low-rank update:
    ``y = base(x) + (alpha / r) * dropout(x) @ lora_A^T @ lora_B^T``.

    ``lora_A`` ``[r, in]`` starts Kaiming-uniform and ``lora_B`` ``[out, r]`` at zero, so the layer
    starts equal to the base layer. :meth:`merge` folds the update into the base weight (no extra
    cost at inference); :meth:`unmerge` takes it out again.
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0, dropout: float = 0.0) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear: argument `base` expected a ferrograd.nn.Linear, got {type(base).__name__}")
        if not isinstance(r, int) or r < 1:
            raise ValueError(f"LoRALinear: argument `r` expected a positive int, got {r!r}")
        self.base, self.r, self.scaling, self.merged = base, r, alpha / r, False
        base.weight.requires_grad = False
        if base.bias is not None:
            base.bias.requires_grad = False
        self.lora_A = nn.Parameter(nn.init.kaiming_uniform_(Tensor.from_numpy(_zeros(r, base.in_features)), a=math.sqrt(5)))
        self.lora_B = nn.Parameter(Tensor.from_numpy(_zeros(base.out_features, r)))
        self.lora_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        y = self.base(x)
        if self.merged:
            return y
        return y + F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B) * self.scaling

    def delta_weight(self) -> Tensor:
        """``(alpha / r) * lora_B @ lora_A``, the update added to the base weight."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def merge(self) -> None:
        """Adds the update to the base weight; forward then costs one matrix product."""
        if not self.merged:
            with no_grad():
                self.base.weight.copy_(self.base.weight + self.delta_weight())
            self.merged = True

    def unmerge(self) -> None:
        """Subtracts the update again (after :meth:`merge`)."""
        if self.merged:
            with no_grad():
                self.base.weight.copy_(self.base.weight - self.delta_weight())
            self.merged = False

    def extra_repr(self) -> str:
        return f"r={self.r}, scaling={self.scaling}, merged={self.merged}"


def _zeros(*shape: int):  # noqa: ANN202 - numpy array
    import numpy as np

    return np.zeros(shape, np.float32)


def apply_lora(model: nn.Module, target_modules: Patterns, r: int = 8, alpha: float = 16.0, dropout: float = 0.0,
               trainable: Patterns = ()) -> list[str]:
    """Wraps every :class:`~ferrograd.nn.Linear` whose module name matches ``target_modules``
    (``"*query"``, ``"*.value"``) in a :class:`LoRALinear`, freezes every other parameter except
    those matching ``trainable`` (e.g. a new head, ``"classifier.*"``), and returns the wrapped
    module names."""
    pats = _patterns(target_modules)
    targets = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear) and name and _matches(name, pats)]
    if not targets:
        raise ValueError(f"apply_lora: no Linear module matches {pats}")
    freeze(model)
    for name, linear in targets:
        model.set_submodule(name, LoRALinear(linear, r, alpha, dropout))
    if trainable:
        unfreeze(model, trainable)
    return [name for name, _ in targets]


def lora_layers(model: nn.Module) -> list[LoRALinear]:
    """Every :class:`LoRALinear` inside ``model``, in module order."""
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def merge_lora(model: nn.Module) -> None:
    """Folds every LoRA update into its base weight."""
    for m in lora_layers(model):
        m.merge()


def unmerge_lora(model: nn.Module) -> None:
    """Takes every merged LoRA update out of its base weight."""
    for m in lora_layers(model):
        m.unmerge()
