"""AdaptiveLogSoftmaxWithLoss (Grave et al., 2017): a softmax over many classes that spends its
compute on the frequent ones, as ``torch.nn.AdaptiveLogSoftmaxWithLoss``."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .. import _core
from .. import functional as F
from .._core import Tensor
from ..tensor_layout_forms import index_add as _index_add
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module


class AdaptiveSoftmaxOutput(NamedTuple):
    """``output``: each sample's log-probability of its target; ``loss``: their negative mean."""

    output: Tensor
    loss: Tensor


class AdaptiveLogSoftmaxWithLoss(Module):
    """Classes below ``cutoffs[0]`` (the frequent ones, sorted by frequency) share a head softmax
    with one entry per tail cluster; the classes in ``[cutoffs[i], cutoffs[i + 1])`` get a cluster
    of their own, reached through a projection to ``in_features // div_value^(i + 1)`` features.
    A class's log-probability is its head entry's, or its cluster's head entry plus its log-
    probability within the cluster. ``forward(input, target)`` evaluates each cluster only on the
    samples whose target is in it. Parameter names follow PyTorch (``head``, ``tail.i.0``,
    ``tail.i.1``), so state dicts load."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False) -> None:
        super().__init__()
        cuts = list(cutoffs)
        if (not cuts or cuts != sorted(set(cuts)) or min(cuts) <= 0 or max(cuts) > n_classes - 1
                or any(not isinstance(c, int) for c in cuts)):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: argument `cutoffs` expected a sorted list of unique "
                             f"positive ints below n_classes - 1 = {n_classes - 1}, got {list(cutoffs)}")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = cuts + [n_classes]
        self.shortlist_size, self.n_clusters = self.cutoffs[0], len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias)
        self.tail = ModuleList([
            Sequential(Linear(in_features, int(in_features // (div_value ** (i + 1))), bias=False),
                       Linear(int(in_features // (div_value ** (i + 1))), self.cutoffs[i + 1] - self.cutoffs[i],
                              bias=False))
            for i in range(self.n_clusters)])

    def _batched(self, x: Tensor, what: str) -> tuple[Tensor, bool]:
        if x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: argument `{what}` expected shape [N, {self.in_features}] "
                             f"or [{self.in_features}], got {list(x.shape)}")
        return (x.unsqueeze(0), True) if x.ndim == 1 else (x, False)

    def forward(self, input: Tensor, target: Tensor) -> AdaptiveSoftmaxOutput:
        """Each sample's log-probability of ``target`` (int64, one class per sample) and the loss."""
        x, single = self._batched(input, "input")
        labels = np.asarray(target.numpy(), dtype=np.int64).reshape(-1)
        if labels.shape[0] != x.shape[0] or (labels.size and (labels.min() < 0 or labels.max() >= self.n_classes)):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: argument `target` expected {x.shape[0]} classes in "
                             f"[0, {self.n_classes}), got {labels.tolist()[:10]}")
        head = F.log_softmax(self.head(x), 1)
        # The head entry of each sample: its class in the shortlist, else its cluster's column.
        cluster = np.searchsorted(self.cutoffs, labels, side="right")  # 0: shortlist
        column = np.where(cluster == 0, labels, self.shortlist_size + cluster - 1)
        output = head.gather(1, Tensor.from_numpy(column.reshape(-1, 1)).to(x.device)).reshape(-1)
        for i in range(self.n_clusters):
            rows = np.flatnonzero(cluster == i + 1)
            if not len(rows):
                continue
            at = Tensor.from_numpy(rows).to(x.device)
            within = F.log_softmax(self.tail[i](x.index_select(0, at)), 1)
            relative = Tensor.from_numpy((labels[rows] - self.cutoffs[i]).reshape(-1, 1)).to(x.device)
            output = _index_add(output, 0, at, within.gather(1, relative).reshape(-1))
        loss = -output.mean()
        return AdaptiveSoftmaxOutput(output.squeeze(0) if single else output, loss)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probabilities of every class, [N, n_classes] (or [n_classes])."""
        x, single = self._batched(input, "input")
        head = F.log_softmax(self.head(x), 1)
        parts = [head[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            column = head[:, self.shortlist_size + i: self.shortlist_size + i + 1]
            parts.append(F.log_softmax(self.tail[i](x), 1) + column)
        out = _core.cat(parts, 1)
        return out.squeeze(0) if single else out

    # PyTorch's method of this name (not Module.predict's dataset loop).
    def predict(self, input: Tensor) -> Tensor:  # type: ignore[override]
        """The most likely class of each sample (int64)."""
        return self.log_prob(input).argmax(-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, cutoffs={self.cutoffs[:-1]}, "
                f"div_value={self.div_value}, head_bias={self.head_bias}")
