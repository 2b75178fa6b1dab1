"""``ferrograd.nn.utils.rnn``: batching sequences of different lengths by padding them, as
``torch.nn.utils.rnn.pad_sequence`` / ``unpad_sequence`` (a collate step for text and other
sequences). Both are differentiable: the padding joins filler blocks on and the unpadding slices."""

from __future__ import annotations

from typing import Sequence

from ..._core import Tensor, cat, stack

__all__ = ["pad_sequence", "unpad_sequence"]


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stacks tensors ``[L_i, *]`` into ``[L_max, B, *]`` (``[B, L_max, *]`` with
    ``batch_first``), filling the missing steps of the shorter ones with ``padding_value`` after
    them (``padding_side="right"``) or before them (``"left"``)."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: argument `sequences` expected at least one tensor, got an empty sequence")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: argument `padding_side` expected 'right' or 'left', got {padding_side!r}")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor) or s.ndim == 0:
            got = "a 0-d tensor" if isinstance(s, Tensor) else type(s).__name__
            raise ValueError(f"pad_sequence: argument `sequences` expected tensors of at least 1 dimension, got {got} "
                             f"at position {i}")
        if tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]) or s.dtype != seqs[0].dtype:
            raise ValueError(f"pad_sequence: argument `sequences` expected one trailing shape and dtype, got "
                             f"{list(seqs[0].shape)} {seqs[0].dtype} at position 0 and {list(s.shape)} {s.dtype} at "
                             f"position {i}")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        missing = longest - s.shape[0]
        if missing:
            # A filler block joined on (any dtype: token ids are int64), so gradients slice back.
            filler = s.new_full((missing, *s.shape[1:]), padding_value)
            s = cat([s, filler] if padding_side == "right" else [filler, s], 0)
        padded.append(s)
    batch = stack(padded, 0)
    return batch if batch_first else batch.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Sequence[int] | Tensor, batch_first: bool = False) -> list[Tensor]:
    """The inverse of right-padded :func:`pad_sequence`: the first ``lengths[i]`` steps of each
    sequence of the batch, as a list of tensors ``[L_i, *]``."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    counts = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if len(counts) != batch.shape[0] or any(not 0 <= n <= batch.shape[1] for n in counts):
        raise ValueError(f"unpad_sequence: argument `lengths` expected {batch.shape[0]} lengths in [0, "
                         f"{batch.shape[1]}], got {counts}")
    return [batch[i, :n] for i, n in enumerate(counts)]
