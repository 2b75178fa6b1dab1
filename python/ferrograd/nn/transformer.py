"""Attention and Transformers with PyTorch's names and semantics (``torch.nn.MultiheadAttention``,
``TransformerEncoderLayer``, ``TransformerEncoder``, ``TransformerDecoderLayer``,
``TransformerDecoder``, ``Transformer``), plus sinusoidal and learned position encodings."""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from .. import functional as F
from .._core import Tensor
from . import init
from ._param import empty_parameter
from .activation import Dropout
from .container import ModuleList
from .linear import Linear
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding
from .._multi_head_attention import multi_head_attention_forward


def generate_square_subsequent_mask(size: int, device: str = "cpu") -> Tensor:
    """The causal mask of ``torch.nn.Transformer.generate_square_subsequent_mask``: a float
    ``[size, size]`` tensor, 0 on and below the diagonal and ``-inf`` above it (position ``i``
    attends to positions ``0..i``)."""
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"generate_square_subsequent_mask: argument `size` expected an int >= 0, got {size!r}")
    return Tensor.from_numpy(np.triu(np.full((size, size), -np.inf, np.float32), k=1)).to(device)


class MultiheadAttention(Module):
    """Multi-head attention as ``torch.nn.MultiheadAttention``: ``in_proj_weight`` ``[3E, E]`` (or
    ``q_proj_weight``, ``k_proj_weight`` ``[E, kdim]`` and ``v_proj_weight`` ``[E, vdim]`` when keys
    or values have other widths), ``in_proj_bias``, ``out_proj``, and with ``add_bias_kv`` the
    learned rows ``bias_k`` / ``bias_v`` appended to keys and values; ``add_zero_attn`` appends a
    zero key and value. ``forward(query, key, value, key_padding_mask, need_weights, attn_mask)``
    returns ``(output, weights averaged over heads or None)``; inputs are sequence-first unless
    ``batch_first``, or unbatched ``[L, E]``. Masks follow PyTorch: bool True marks positions that
    may not be attended (padding), float masks are added."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: Optional[int] = None,
                 vdim: Optional[int] = None, batch_first: bool = False) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} expected a multiple of num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.add_zero_attn = add_zero_attn
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.in_proj_weight: Optional[Tensor] = None
        self.q_proj_weight: Optional[Tensor] = None
        self.k_proj_weight: Optional[Tensor] = None
        self.v_proj_weight: Optional[Tensor] = None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = init.xavier_uniform_(empty_parameter((3 * embed_dim, embed_dim)))
        else:
            self.q_proj_weight = init.xavier_uniform_(empty_parameter((embed_dim, embed_dim)))
            self.k_proj_weight = init.xavier_uniform_(empty_parameter((embed_dim, self.kdim)))
            self.v_proj_weight = init.xavier_uniform_(empty_parameter((embed_dim, self.vdim)))
        self.in_proj_bias = init.zeros_(empty_parameter((3 * embed_dim,))) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        if self.out_proj.bias is not None:
            init.zeros_(self.out_proj.bias)
        self.bias_k: Optional[Tensor] = None
        self.bias_v: Optional[Tensor] = None
        if add_bias_kv:
            self.bias_k = init.xavier_normal_(empty_parameter((1, 1, embed_dim)))
            self.bias_v = init.xavier_normal_(empty_parameter((1, 1, embed_dim)))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Optional[Tensor] = None,
                need_weights: bool = True, attn_mask: Optional[Tensor] = None,
                average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Optional[Tensor]]:
        """Attention of ``query`` over ``key`` / ``value``; ``is_causal`` lets query ``i`` attend
        to keys ``0..i`` only (on top of ``attn_mask`` and ``key_padding_mask`` when given)."""
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: query expected 3-D (or unbatched 2-D) input ending in "
                             f"embed_dim={self.embed_dim}, got {tuple(query.shape)}")
        if self.batch_first and query.ndim == 3:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias, self.training,
            key_padding_mask, need_weights, attn_mask, not self._qkv_same_embed_dim, self.q_proj_weight,
            self.k_proj_weight, self.v_proj_weight, average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class _TransformerLayer(Module):
    """What encoder and decoder layers share, registered in PyTorch's order: the attention blocks
    named in ``attentions``, the feed-forward block (``linear1``, ``dropout``, ``linear2``), then
    ``norm1``.. and ``dropout1``.. for each of the ``len(attentions) + 1`` residual blocks."""

    _attentions: tuple[str, ...] = ("self_attn",)
    self_attn: MultiheadAttention
    norm1: LayerNorm
    norm2: LayerNorm
    dropout1: Dropout
    dropout2: Dropout

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{type(self).__name__}: argument `activation` expected 'relu' or 'gelu', got {activation!r}")
        self._args: dict[str, Any] = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout,
                                          activation=activation, layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                                          norm_first=norm_first, bias=bias)
        for name in self._attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        blocks = len(self._attentions) + 1
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _ACTIVATIONS[activation]

    def _attend(self, x: Tensor, mask: Optional[Tensor], padding: Optional[Tensor], is_causal: bool) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, key_padding_mask=padding, attn_mask=mask, need_weights=False,
                                            is_causal=is_causal)[0])

    def _feed_forward(self, x: Tensor) -> Tensor:
        last = getattr(self, f"dropout{len(self._attentions) + 1}")
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def clone(self) -> Any:
        """A new layer with the same settings and a copy of the parameters."""
        twin = type(self)(**self._args)
        twin.load_state_dict({k: v.detach().clone() for k, v in self.state_dict().items()})
        return twin


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward block, each with dropout, a residual connection and
    LayerNorm: after the block (``norm_first=False``, the original layout) or before it
    (pre-norm). Names and defaults follow ``torch.nn.TransformerEncoderLayer``."""

    def forward(self, src: Tensor, src_mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None, is_causal: bool = False) -> Tensor:
        """One layer over ``src``; ``is_causal`` lets position ``i`` attend to ``0..i`` only."""
        x = src
        if self.norm_first:
            x = x + self._attend(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._attend(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...) and an
    optional final ``norm``, as ``torch.nn.TransformerEncoder``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Optional[Module] = None) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: argument `num_layers` expected a positive int, got {num_layers!r}")
        self.layers = ModuleList([encoder_layer.clone() for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None,
                is_causal: bool = False) -> Tensor:
        """Every layer in turn over ``src``, then ``norm``; ``is_causal`` makes each layer causal."""
        for layer in self.layers:
            src = layer(src, mask, src_key_padding_mask, is_causal)
        return self.norm(src) if self.norm is not None else src


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention over the target, attention over the encoder's ``memory`` and a feed-forward
    block, each with dropout, a residual connection and LayerNorm, after the block
    (``norm_first=False``) or before it. Names and defaults follow
    ``torch.nn.TransformerDecoderLayer``."""

    _attentions = ("self_attn", "multihead_attn")
    multihead_attn: MultiheadAttention
    norm3: LayerNorm
    dropout3: Dropout

    def _attend_memory(self, x: Tensor, memory: Tensor, mask: Optional[Tensor], padding: Optional[Tensor],
                       is_causal: bool) -> Tensor:
        return self.dropout2(self.multihead_attn(x, memory, memory, key_padding_mask=padding, attn_mask=mask,
                                                 need_weights=False, is_causal=is_causal)[0])

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None, tgt_key_padding_mask: Optional[Tensor] = None,
                memory_key_padding_mask: Optional[Tensor] = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """One layer over ``tgt`` attending to ``memory``; ``tgt_is_causal`` lets target position
        ``i`` attend to target positions ``0..i`` only."""
        x = tgt
        if self.norm_first:
            x = x + self._attend(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._attend_memory(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._feed_forward(self.norm3(x))
        x = self.norm1(x + self._attend(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._attend_memory(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._feed_forward(x))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (``layers.0``, ...) and an optional final
    ``norm``, as ``torch.nn.TransformerDecoder``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Optional[Module] = None) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerDecoder: argument `num_layers` expected a positive int, got {num_layers!r}")
        self.layers = ModuleList([decoder_layer.clone() for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None, tgt_key_padding_mask: Optional[Tensor] = None,
                memory_key_padding_mask: Optional[Tensor] = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """Every layer in turn over ``tgt`` (each attending to ``memory``), then ``norm``."""
        for layer in self.layers:
            tgt = layer(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                        tgt_is_causal, memory_is_causal)
        return self.norm(tgt) if self.norm is not None else tgt


class Transformer(Module):
    """The encoder-decoder Transformer of ``torch.nn.Transformer``: ``encoder`` (a
    :class:`TransformerEncoder` with a final LayerNorm) over ``src`` and ``decoder`` (a
    :class:`TransformerDecoder` with a final LayerNorm) over ``tgt`` attending to the encoder's
    output; every weight matrix starts Xavier-uniform, as PyTorch's."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: str = "relu",
                 custom_encoder: Optional[Module] = None, custom_decoder: Optional[Module] = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True) -> None:
        super().__init__()
        settings: dict[str, Any] = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                                        layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first,
                                        bias=bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **settings), num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **settings), num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Optional[Tensor] = None, tgt_mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None,
                tgt_key_padding_mask: Optional[Tensor] = None, memory_key_padding_mask: Optional[Tensor] = None,
                src_is_causal: bool = False, tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """Encodes ``src`` and decodes ``tgt`` against it; the masks are the layers' (PyTorch's)."""
        batch_axis = 0 if self.batch_first else 1
        if src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ValueError(f"Transformer: src and tgt expected the same batch size, got shapes {tuple(src.shape)} "
                             f"and {tuple(tgt.shape)}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: src and tgt expected feature size d_model={self.d_model}, got shapes "
                             f"{tuple(src.shape)} and {tuple(tgt.shape)}")
        memory = self.encoder(src, src_mask, src_key_padding_mask, src_is_causal)
        return self.decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                            tgt_is_causal, memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(size: int, device: str = "cpu") -> Tensor:
        """The causal mask: 0 on and below the diagonal, ``-inf`` above it."""
        return generate_square_subsequent_mask(size, device)


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """The ``[max_len, d_model]`` sine/cosine position table of "Attention Is All You Need"."""
    position = np.arange(max_len)[:, None]
    rates = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = np.zeros((max_len, d_model), np.float32)
    table[:, 0::2] = np.sin(position * rates)
    table[:, 1::2] = np.cos(position * rates)[:, : d_model // 2]
    return table


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sine/cosine table to ``[B, L, d_model]`` inputs (``batch_first``) or
    ``[L, B, d_model]``, then dropout."""

    pe: Tensor

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.register_buffer("pe", Tensor.from_numpy(sinusoidal_table(max_len, d_model), False))
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[1] if self.batch_first else x.shape[0]
        if length > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: {length} positions exceed max_len={self.max_len}")
        table = self.pe[:length]
        return self.dropout(x + (table if self.batch_first else table.unsqueeze(1)))


class LearnedPositionalEmbedding(Module):
    """Adds a trained ``[max_len, d_model]`` position table (``weight``) to ``[B, L, d_model]``
    inputs, as BERT and GPT-2 do."""

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.embedding = Embedding(max_len, d_model)
        init.normal_(self.embedding.weight, 0.0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[1]
        if length > self.embedding.num_embeddings:
            raise ValueError(f"LearnedPositionalEmbedding: {length} positions exceed max_len={self.embedding.num_embeddings}")
        return x + self.embedding.weight[:length]
