"""BERT-family encoders with Hugging Face's parameter names, so ``config.json`` +
``model.safetensors`` folders (BERT, MiniLM, ...) load as they are, plus the sequence- and
token-classification heads and mean pooling for sentence embeddings."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping, Optional, Union

from .. import functional as F
from .. import nn
from .._core import Tensor
from ..io import load_safetensors

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class BertConfig:
    """The fields of a Hugging Face BERT ``config.json`` that shape the model."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "BertConfig":
        """The known fields of ``values`` (others, such as ``architectures``, are ignored)."""
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size={config.hidden_size} expected a multiple of "
                             f"num_attention_heads={config.num_attention_heads}")
        if config.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertConfig: hidden_act expected one of {sorted(_ACTIVATIONS)}, got {config.hidden_act!r}")
        return config

    @classmethod
    def from_json(cls, path: PathLike) -> "BertConfig":
        """Reads a ``config.json``."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain dict (the fields of ``config.json``)."""
        return asdict(self)


_ACTIVATIONS = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
}


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Optional[Tensor] = None) -> Tensor:
        length = input_ids.shape[1]
        if length > self.position_embeddings.num_embeddings:
            raise ValueError(f"BertEmbeddings: sequences of {length} tokens exceed max_position_embeddings="
                             f"{self.position_embeddings.num_embeddings}")
        x = self.word_embeddings(input_ids) + self.position_embeddings.weight[:length]
        if token_type_ids is None:
            x = x + self.token_type_embeddings.weight[0]
        else:
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention with separate query/key/value projections."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def _heads(self, x: Tensor) -> Tensor:
        b, n, width = x.shape
        return x.reshape(b, n, self.num_heads, width // self.num_heads).permute(0, 2, 1, 3)

    def forward(self, hidden: Tensor, bias: Optional[Tensor]) -> Tensor:
        b, n, width = hidden.shape
        context = F.scaled_dot_product_attention(self._heads(self.query(hidden)), self._heads(self.key(hidden)),
                                                 self._heads(self.value(hidden)), bias, self.dropout_p, self.training)
        return context.permute(0, 2, 1, 3).reshape(b, n, width)


class BertSelfOutput(nn.Module):
    """Projection back to the residual stream, dropout, residual add and LayerNorm."""

    def __init__(self, config: BertConfig, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(inner, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, hidden: Tensor, bias: Optional[Tensor]) -> Tensor:
        return self.output(self.self(hidden, bias), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = _ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    """One post-norm Transformer encoder layer in BERT's layout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertSelfOutput(config, config.intermediate_size)

    def forward(self, hidden: Tensor, bias: Optional[Tensor]) -> Tensor:
        attended = self.attention(hidden, bias)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden: Tensor, bias: Optional[Tensor]) -> Tensor:
        for layer in self.layer:
            hidden = layer(hidden, bias)
        return hidden


class BertPooler(nn.Module):
    """tanh(dense(hidden state of the first token))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: Tensor) -> Tensor:
        return F.tanh(self.dense(hidden[:, 0]))


def mean_pooling(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """The mean of the hidden states ``[B, L, H]`` over the tokens where ``attention_mask`` is 1
    (sentence-transformers' pooling): ``[B, H]``."""
    mask = attention_mask.to("float32").unsqueeze(-1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(1e-9, None)


def _pretrained_state(folder: PathLike, op: str) -> tuple[BertConfig, "dict[str, Tensor]"]:
    folder = os.fspath(folder)
    config_path, weights_path = os.path.join(folder, "config.json"), os.path.join(folder, "model.safetensors")
    for path in (config_path, weights_path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{op}: argument `folder` expected a Hugging Face model folder, missing {path}")
    state = dict(load_safetensors(weights_path))
    # Hugging Face stores the position ids as a buffer; positions are computed here instead.
    state = {k: v for k, v in state.items() if not k.endswith("position_ids")}
    return BertConfig.from_json(config_path), state


class _BertBase(nn.Module):
    """Shared by the encoder and its heads: the attention mask defaults to the non-padding
    tokens, so models trained with ``fit`` on batches of token ids need nothing else."""

    config: BertConfig

    def _mask(self, input_ids: Tensor, attention_mask: Optional[Tensor]) -> Tensor:
        if input_ids.dtype != "int64" or input_ids.ndim != 2:
            raise TypeError(f"{type(self).__name__}: argument `input_ids` expected int64 [batch, length], got "
                            f"{input_ids.dtype} of shape {tuple(input_ids.shape)}")
        if attention_mask is None:
            return input_ids != self.config.pad_token_id
        if tuple(attention_mask.shape) != tuple(input_ids.shape):
            raise ValueError(f"{type(self).__name__}: argument `attention_mask` expected shape {tuple(input_ids.shape)}, "
                             f"got {tuple(attention_mask.shape)}")
        return attention_mask != 0

    def _add_head(self, config: BertConfig, num_labels: int, classifier_dropout: Optional[float], pooler: bool) -> None:
        """The encoder (``bert``), ``dropout`` and a ``classifier`` for ``num_labels`` classes."""
        if not isinstance(num_labels, int) or num_labels < 1:
            raise ValueError(f"{type(self).__name__}: argument `num_labels` expected a positive int, got {num_labels!r}")
        self.config, self.num_labels = config, num_labels
        self.bert = BertModel(config, add_pooling_layer=pooler)
        self.dropout = nn.Dropout(config.hidden_dropout_prob if classifier_dropout is None else classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, num_labels)


class BertModel(_BertBase):
    """The BERT encoder: ``forward`` returns the last hidden states ``[B, L, H]``."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None,
                token_type_ids: Optional[Tensor] = None) -> Tensor:
        keep = self._mask(input_ids, attention_mask)
        bias = F.attention_bias(keep.unsqueeze(1).unsqueeze(1))
        return self.encoder(self.embeddings(input_ids, token_type_ids), bias)

    def embed(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None, normalize: bool = True) -> Tensor:
        """Sentence embeddings ``[B, H]``: mean pooling over the tokens, L2-normalised by default
        (what sentence-transformers computes for all-MiniLM-L6-v2)."""
        keep = self._mask(input_ids, attention_mask)
        pooled = mean_pooling(self.forward(input_ids, keep), keep)
        if not normalize:
            return pooled
        return pooled / (pooled * pooled).sum(-1, keepdim=True).sqrt().clamp(1e-12, None)

    @classmethod
    def from_pretrained(cls, folder: PathLike, add_pooling_layer: bool = True) -> "BertModel":
        """Loads ``config.json`` and ``model.safetensors`` from a Hugging Face model folder."""
        config, state = _pretrained_state(folder, "BertModel.from_pretrained")
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        model = cls(config, add_pooling_layer)
        if not add_pooling_layer:
            state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
        model.load_state_dict({k: v for k, v in state.items() if k in model.state_dict()}, strict=False)
        missing = [k for k in model.state_dict() if k not in state]
        if missing:
            raise KeyError(f"BertModel.from_pretrained: the checkpoint lacks {missing}")
        model.eval()
        return model


class BertForSequenceClassification(_BertBase):
    """BERT with a linear classifier over a pooled sequence representation.

    ``pooling``: ``"pooler"`` (Hugging Face's: tanh dense of the first token), ``"cls"`` (the first
    token's hidden state) or ``"mean"`` (mean over the tokens, as sentence encoders are trained).
    """

    def __init__(self, config: BertConfig, num_labels: int = 2, pooling: str = "pooler",
                 classifier_dropout: Optional[float] = None) -> None:
        super().__init__()
        if pooling not in ("pooler", "cls", "mean"):
            raise ValueError(f"BertForSequenceClassification: argument `pooling` expected 'pooler', 'cls' or 'mean', "
                             f"got {pooling!r}")
        self.pooling = pooling
        self._add_head(config, num_labels, classifier_dropout, pooling == "pooler")

    def forward(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None,
                token_type_ids: Optional[Tensor] = None) -> Tensor:
        keep = self._mask(input_ids, attention_mask)
        hidden = self.bert(input_ids, keep, token_type_ids)
        if self.pooling == "mean":
            pooled = mean_pooling(hidden, keep)
        elif self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            assert self.bert.pooler is not None
            pooled = self.bert.pooler(hidden)
        return self.classifier(self.dropout(pooled))

    @classmethod
    def from_pretrained(cls, folder: PathLike, num_labels: int = 2, pooling: str = "pooler",
                        classifier_dropout: Optional[float] = None) -> "BertForSequenceClassification":
        """The pretrained encoder of ``folder`` with a new classifier (or the checkpoint's own,
        when it holds one of the right size). The model is returned in training mode."""
        op = "BertForSequenceClassification.from_pretrained"
        config, state = _pretrained_state(folder, op)
        model = cls(config, num_labels, pooling, classifier_dropout)
        _load_encoder(model, state, op)
        return model


class BertForTokenClassification(_BertBase):
    """BERT with a linear classifier on every token: ``[B, L, num_labels]`` logits."""

    def __init__(self, config: BertConfig, num_labels: int, classifier_dropout: Optional[float] = None) -> None:
        super().__init__()
        self._add_head(config, num_labels, classifier_dropout, False)

    def forward(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None,
                token_type_ids: Optional[Tensor] = None) -> Tensor:
        keep = self._mask(input_ids, attention_mask)
        return self.classifier(self.dropout(self.bert(input_ids, keep, token_type_ids)))

    @classmethod
    def from_pretrained(cls, folder: PathLike, num_labels: int,
                        classifier_dropout: Optional[float] = None) -> "BertForTokenClassification":
        """The pretrained encoder of ``folder`` with a new token classifier (training mode)."""
        op = "BertForTokenClassification.from_pretrained"
        config, state = _pretrained_state(folder, op)
        model = cls(config, num_labels, classifier_dropout)
        _load_encoder(model, state, op)
        return model


def _load_encoder(model: nn.Module, state: Mapping[str, Tensor], op: str) -> None:
    """Loads an encoder checkpoint (names with or without ``bert.``) under ``model.bert``; a head
    stored in the checkpoint is loaded when its shapes fit, else the new head keeps its init."""
    own = model.state_dict()
    named = {(k if k.startswith("bert.") or k.startswith("classifier.") else "bert." + k): v for k, v in state.items()}
    usable = {k: v for k, v in named.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    missing = [k for k in own if k not in usable and not k.startswith("classifier.")]
    if missing:
        raise KeyError(f"{op}: the checkpoint lacks {missing}")
    model.load_state_dict(usable, strict=False)
