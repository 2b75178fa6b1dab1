"""``nn.utils.rnn.pad_sequence`` / ``unpad_sequence`` against numpy, with gradients through the
padding back to each sequence."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.nn.utils.rnn import pad_sequence, unpad_sequence


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_numpy_and_passes_gradients(rng, batch_first, padding_side):
    lengths = [3, 5, 1]
    arrays = [rng.standard_normal((n, 2, 3)).astype(np.float32) for n in lengths]
    want = np.full((3, 5, 2, 3), -1.5, np.float32)
    for i, a in enumerate(arrays):
        if padding_side == "right":
            want[i, :len(a)] = a
        else:
            want[i, 5 - len(a):] = a
    if not batch_first:
        want = want.transpose(1, 0, 2, 3)
    seqs = [fg.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    np.testing.assert_array_equal(out.detach().numpy(), want)
    weights = rng.standard_normal(want.shape).astype(np.float32)
    (out * fg.tensor(weights)).sum().backward()
    w = weights if batch_first else weights.transpose(1, 0, 2, 3)
    for i, (s, n) in enumerate(zip(seqs, lengths)):
        rows = slice(0, n) if padding_side == "right" else slice(5 - n, 5)
        np.testing.assert_array_equal(s.grad.numpy(), w[i, rows])


def test_unpad_sequence_inverts_right_padding(rng):
    arrays = [rng.integers(0, 100, n).astype(np.int64) for n in (4, 2, 6)]
    batch = pad_sequence([fg.tensor(a) for a in arrays])
    assert batch.shape == (6, 3) and batch.dtype == "int64"
    back = unpad_sequence(batch, fg.tensor([4, 2, 6]))
    for got, a in zip(back, arrays):
        np.testing.assert_array_equal(got.numpy(), a)


def test_bad_sequences_name_the_argument():
    with pytest.raises(ValueError, match="pad_sequence: argument `sequences` expected at least one tensor"):
        pad_sequence([])
    with pytest.raises(ValueError, match=r"expected one trailing shape and dtype, got \[2, 3\] float32 at position 0 "
                                         r"and \[1, 4\] float32 at position 1"):
        pad_sequence([fg.zeros(2, 3), fg.zeros(1, 4)])
    with pytest.raises(ValueError, match="argument `padding_side` expected 'right' or 'left', got 'middle'"):
        pad_sequence([fg.zeros(2)], padding_side="middle")
    with pytest.raises(ValueError, match=r"unpad_sequence: argument `lengths` expected 2 lengths in \[0, 3\], got \[1, 4\]"):
        unpad_sequence(fg.zeros(3, 2), [1, 4])
