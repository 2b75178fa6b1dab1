"""An encoder-only Transformer text classifier trained from scratch on token ids."""

from __future__ import annotations

import math

from .. import nn
from .._core import Tensor


class TransformerClassifier(nn.Module):
    """Token embedding (scaled by sqrt(d_model)), sinusoidal or learned positions, a
    Transformer encoder (pre-norm by default) with a padding mask, mean pooling over the real
    tokens and a linear classifier. ``forward(input_ids)`` takes int64 ``[B, L]`` ids padded with
    ``pad_id``."""

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 256, dropout: float = 0.1, max_len: int = 512, positions: str = "sinusoidal",
                 norm_first: bool = True, pad_id: int = 0) -> None:
        super().__init__()
        if positions not in ("sinusoidal", "learned"):
            raise ValueError(f"TransformerClassifier: argument `positions` expected 'sinusoidal' or 'learned', got {positions!r}")
        self.d_model, self.pad_id = d_model, pad_id
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, 0.0, d_model ** -0.5)
        self.positions: nn.Module = (nn.SinusoidalPositionalEncoding(d_model, max_len, dropout) if positions == "sinusoidal"
                                     else nn.LearnedPositionalEmbedding(max_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model) if norm_first else None)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, input_ids: Tensor) -> Tensor:
        if input_ids.dtype != "int64" or input_ids.ndim != 2:
            raise TypeError(f"TransformerClassifier: argument `input_ids` expected int64 [batch, length], got "
                            f"{input_ids.dtype} of shape {tuple(input_ids.shape)}")
        padding = input_ids == self.pad_id
        x = self.positions(self.embedding(input_ids) * math.sqrt(self.d_model))
        x = self.encoder(x, src_key_padding_mask=padding)
        keep = (input_ids != self.pad_id).to("float32").unsqueeze(-1)
        pooled = (x * keep).sum(1) / keep.sum(1).clamp(1.0, None)
        return self.classifier(pooled)
