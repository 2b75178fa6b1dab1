"""``nn.utils.rnn``: ``pad_sequence`` / ``unpad_sequence`` against numpy, with gradients through
the padding back to each sequence; packing (``PackedSequence``) against PyTorch's layout written
out by hand, and the recurrent layers on a packed batch against each sequence run alone."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                    pad_sequence, unpack_sequence, unpad_sequence)


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


def test_packing_follows_pytorchs_layout_and_round_trips(rng):
    """Lengths [2, 4, 1, 4]: sorted (stably) by decreasing length the batch is [1, 3, 0, 2], and
    ``data`` holds step 0 of all four, step 1 of the three that have it, then steps 2 and 3 of
    the two longest."""
    lengths = [2, 4, 1, 4]
    x = rng.standard_normal((4, 4, 3)).astype(np.float32)
    packed = pack_padded_sequence(fg.tensor(x, requires_grad=True), lengths, batch_first=True, enforce_sorted=False)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [4, 3, 2, 2] and packed.batch_sizes.dtype == "int64"
    assert packed.sorted_indices.tolist() == [1, 3, 0, 2] and packed.unsorted_indices.tolist() == [2, 0, 3, 1]
    order = [1, 3, 0, 2]
    want = np.concatenate([x[[i for i in order if lengths[i] > t], t] for t in range(4)])
    np.testing.assert_array_equal(packed.data.detach().numpy(), want)
    padded, got_lengths = pad_packed_sequence(packed, batch_first=True, padding_value=9.0, total_length=5)
    expected = np.full((4, 5, 3), 9.0, np.float32)
    for i, n in enumerate(lengths):
        expected[i, :n] = x[i, :n]
    np.testing.assert_array_equal(padded.detach().numpy(), expected)
    assert got_lengths.tolist() == lengths
    seqs = [fg.tensor(x[i, :n]) for i, n in enumerate(lengths)]
    for a, b in zip(unpack_sequence(pack_sequence(seqs, enforce_sorted=False)), seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_bad_packing_arguments_are_named(rng):
    x = fg.tensor(rng.standard_normal((3, 2, 1)).astype(np.float32))
    with pytest.raises(ValueError, match=r"expected decreasing lengths with enforce_sorted=True, got \[1, 3\]"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(ValueError, match=r"argument `lengths` expected 2 lengths of at most 3"):
        pack_padded_sequence(x, [4, 1])
    with pytest.raises(ValueError, match=r"argument `lengths` expected positive lengths, got \[2, 0\]"):
        pack_padded_sequence(x, [2, 0])
    with pytest.raises(ValueError, match=r"argument `total_length` expected at least 3"):
        pad_packed_sequence(pack_padded_sequence(x, [3, 1]), total_length=2)
    with pytest.raises(ValueError, match=r"LSTM: packed input expected data of shape \[steps, 2\]"):
        fg.nn.LSTM(2, 3)(pack_padded_sequence(x, [3, 1]))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_on_a_packed_batch_equal_each_sequence_run_alone(rng, kind):
    """Two bidirectional layers over sequences of lengths [3, 6, 1, 6] (unsorted) with given
    initial states: each sequence's outputs and final states, and the gradients that reach its
    inputs and the weights, are those of the sequence run by itself."""
    fg.manual_seed(3)
    layer = getattr(fg.nn, kind)(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    lengths = [3, 6, 1, 6]
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    h0 = rng.standard_normal((4, 4, 5)).astype(np.float32)
    c0 = rng.standard_normal((4, 4, 5)).astype(np.float32)
    initial = (fg.tensor(h0), fg.tensor(c0)) if kind == "LSTM" else fg.tensor(h0)
    xs = fg.tensor(x, requires_grad=True)
    out, state = layer(pack_padded_sequence(xs, lengths, batch_first=True, enforce_sorted=False), initial)
    padded, _ = pad_packed_sequence(out, batch_first=True)
    finals = list(state) if kind == "LSTM" else [state]
    (padded.square().sum() + sum(f.sum() for f in finals)).backward()
    packed_grads = [p.grad.numpy().copy() for p in layer.parameters()]
    layer.zero_grad()
    alone_grad_x = np.zeros_like(x)
    for i, n in enumerate(lengths):
        xi = fg.tensor(x[i, :n], requires_grad=True)
        init_i = (fg.tensor(h0[:, i]), fg.tensor(c0[:, i])) if kind == "LSTM" else fg.tensor(h0[:, i])
        out_i, state_i = layer(xi, init_i)  # unbatched: [n, 10]
        finals_i = list(state_i) if kind == "LSTM" else [state_i]
        np.testing.assert_allclose(padded[i, :n].detach().numpy(), out_i.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert np.all(padded[i, n:].detach().numpy() == 0)
        for f, f_i in zip(finals, finals_i):
            np.testing.assert_allclose(f[:, i].detach().numpy(), f_i.detach().numpy(), rtol=1e-5, atol=1e-6)
        (out_i.square().sum() + sum(f.sum() for f in finals_i)).backward()
        alone_grad_x[i, :n] = xi.grad.numpy()
    np.testing.assert_allclose(xs.grad.numpy(), alone_grad_x, rtol=1e-4, atol=1e-5)
    for got, p in zip(packed_grads, layer.parameters()):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-4, atol=1e-4)
