"""Embedding lookup tables."""

from __future__ import annotations

from typing import Optional

from .. import _core
from .._core import Tensor
from .. import functional as F
from ..autograd import no_grad
from . import init
from ._param import empty_parameter
from .module import Module, Parameter


class Embedding(Module):
    """A [num_embeddings, embedding_dim] table initialised N(0, 1); the ``padding_idx`` row starts
    at zero and receives no gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = None) -> None:
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: argument `padding_idx` expected in [-{num_embeddings}, {num_embeddings}), got {padding_idx}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx % num_embeddings if padding_idx is not None else None
        self.weight = init.normal_(empty_parameter((num_embeddings, embedding_dim)))
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: Optional[int] = None) -> "Embedding":
        """An Embedding whose table is ``embeddings`` [num_embeddings, embedding_dim] (shared, not
        copied, as in PyTorch); ``freeze=True`` keeps it out of training (``requires_grad=False``,
        still a registered parameter). A ``padding_idx`` row keeps its given values and receives no
        gradient."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            got = list(embeddings.shape) if isinstance(embeddings, Tensor) else type(embeddings).__name__
            raise ValueError(f"Embedding.from_pretrained: argument `embeddings` expected a 2-d tensor, got {got}")
        rows, cols = int(embeddings.shape[0]), int(embeddings.shape[1])
        if padding_idx is not None and not -rows <= padding_idx < rows:
            raise ValueError(f"Embedding.from_pretrained: argument `padding_idx` expected in [-{rows}, {rows}), got "
                             f"{padding_idx}")
        module = cls(rows, cols, padding_idx)
        module.weight = Parameter(embeddings)
        module.weight.requires_grad = not freeze
        return module

    def forward(self, ids: Tensor) -> Tensor:
        if self.padding_idx is None:
            return F.embedding(ids, self.weight)
        # Rows looked up through the padding index keep their values but are cut from the graph, so
        # that row gets no gradient.
        rows = F.embedding(ids, self.weight)
        return _core.where_((ids != self.padding_idx).unsqueeze(-1), rows, rows.detach())

    def _to_layer(self) -> _core.Layer:
        if self.padding_idx is not None:
            return super()._to_layer()
        return _core.Layer.embedding(self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embedding rows (``torch.nn.EmbeddingBag``): a
    [num_embeddings, embedding_dim] table initialised N(0, 1), the ``padding_idx`` row zero and
    left out of every bag. ``forward(input, offsets=None, per_sample_weights=None)`` takes a 2-D
    input (one bag per row) or a 1-D input cut into bags at ``offsets``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Optional[float] = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Optional[Tensor] = None, include_last_offset: bool = False,
                 padding_idx: Optional[int] = None) -> None:
        super().__init__()
        if max_norm is not None or scale_grad_by_freq:
            raise NotImplementedError("EmbeddingBag: max_norm and scale_grad_by_freq are not supported")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: argument `mode` expected 'sum', 'mean' or 'max', got {mode!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"EmbeddingBag: argument `padding_idx` expected in [-{num_embeddings}, {num_embeddings}), "
                             f"got {padding_idx}")
        self.num_embeddings, self.embedding_dim, self.mode = num_embeddings, embedding_dim, mode
        self.include_last_offset, self.sparse = include_last_offset, sparse
        self.padding_idx = padding_idx % num_embeddings if padding_idx is not None else None
        self.weight = Parameter(_weight) if _weight is not None else init.normal_(empty_parameter((num_embeddings, embedding_dim)))
        if self.padding_idx is not None and _weight is None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input: Tensor, offsets: Optional[Tensor] = None,
                per_sample_weights: Optional[Tensor] = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.mode, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
