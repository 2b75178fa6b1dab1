"""``ferrograd.nn.utils.rnn``: batching sequences of different lengths, as
``torch.nn.utils.rnn``: padding them (``pad_sequence`` / ``unpad_sequence``, a collate step for
text and other sequences) and packing them (``PackedSequence``, which the recurrent layers run
with each sequence stopping at its own length). Everything is differentiable: padding joins
filler blocks on, packing and unpadding slice."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np

from ..._core import Tensor, cat, stack

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence"]


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


class PackedSequence(NamedTuple):
    """A batch of sequences of different lengths packed time step by time step, as
    ``torch.nn.utils.rnn.PackedSequence``: ``data`` ``[sum of lengths, *]`` holds step 0 of every
    sequence, then step 1 of those that have it, and so on (longest first); ``batch_sizes[t]`` is
    how many sequences have a step ``t``. ``sorted_indices`` orders the original batch by
    decreasing length (None when it already was) and ``unsorted_indices`` undoes that.

    The recurrent layers take one in place of a padded batch: each sequence then stops at its own
    length, and their final states are each sequence's last real step."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor] = None
    unsorted_indices: Optional[Tensor] = None

    def steps(self) -> list[tuple[int, int]]:
        """Each time step's (first row in ``data``, number of rows)."""
        out, offset = [], 0
        for size in self.batch_sizes.tolist():
            out.append((offset, int(size)))
            offset += int(size)
        return out

    def with_data(self, data: Tensor) -> PackedSequence:
        """The same packing around new ``data`` (a layer's output, say)."""
        return PackedSequence(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)


def _int64(values: Sequence[int] | np.ndarray) -> Tensor:
    return Tensor.from_numpy(np.asarray(values, dtype=np.int64))


def _lengths_list(lengths: Sequence[int] | Tensor, name: str) -> list[int]:
    counts = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if not counts or any(n <= 0 for n in counts):
        raise ValueError(f"{name}: argument `lengths` expected positive lengths, got {counts}")
    return counts


def pack_padded_sequence(input: Tensor, lengths: Sequence[int] | Tensor, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch ``[T, B, *]`` (``[B, T, *]`` with ``batch_first``) whose sequence
    ``i`` has ``lengths[i]`` real steps. With ``enforce_sorted`` the lengths must already
    decrease; otherwise the batch is sorted here and the packing remembers the order.
    Differentiable with respect to ``input``."""
    counts = _lengths_list(lengths, "pack_padded_sequence")
    steps = input if not batch_first else input.transpose(0, 1)
    if steps.ndim < 2 or len(counts) != steps.shape[1] or max(counts) > steps.shape[0]:
        raise ValueError(f"pack_padded_sequence: argument `lengths` expected {steps.shape[1] if steps.ndim >= 2 else '?'} "
                         f"lengths of at most {steps.shape[0]} (the input's batch and time sizes), got {counts}")
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(counts, counts[1:])):
            raise ValueError(f"pack_padded_sequence: argument `lengths` expected decreasing lengths with "
                             f"enforce_sorted=True, got {counts}")
    else:
        order = np.argsort(-np.asarray(counts), kind="stable")
        sorted_indices, unsorted_indices = _int64(order), _int64(np.argsort(order))
        steps = steps.index_select(1, sorted_indices.to(steps.device))
        counts = [counts[i] for i in order]
    batch_sizes = [sum(1 for n in counts if n > t) for t in range(counts[0])]
    data = cat([steps[t, :size] for t, size in enumerate(batch_sizes)], 0)
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: Optional[int] = None) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: the padded batch ``[T, B, *]`` (``[B, T, *]``
    with ``batch_first``; ``T`` is the longest length, or ``total_length``) in the original batch
    order, and the lengths as an int64 tensor."""
    steps = sequence.steps()
    batch, longest = steps[0][1], len(steps)
    length = longest if total_length is None else int(total_length)
    if length < longest:
        raise ValueError(f"pad_packed_sequence: argument `total_length` expected at least {longest} (the longest "
                         f"sequence), got {total_length}")
    data = sequence.data
    rows = []
    for offset, size in steps:
        block = data[offset:offset + size]
        if size < batch:
            block = cat([block, data.new_full((batch - size, *data.shape[1:]), padding_value)], 0)
        rows.append(block)
    rows += [data.new_full((batch, *data.shape[1:]), padding_value)] * (length - longest)
    padded = stack(rows, 0)
    sizes = sequence.batch_sizes.tolist()
    lengths = [sum(1 for s in sizes if s > i) for i in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices.to(padded.device))
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    return (padded.transpose(0, 1) if batch_first else padded), _int64(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of tensors ``[L_i, *]`` (:func:`pad_sequence` then :func:`pack_padded_sequence`)."""
    seqs = list(sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs], enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of :func:`pack_sequence`: the list of tensors ``[L_i, *]`` in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
