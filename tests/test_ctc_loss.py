"""F.ctc_loss and nn.CTCLoss against a float64 numpy transcription of the CTC forward recursion
(every path through the blank-extended targets summed explicitly in log space), gradients
against central differences of that reference, PyTorch's reductions and infeasible-target
rules, both target layouts, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import functional as F


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _reference_nll(log_probs: np.ndarray, target: list[int], frames: int, blank: int = 0) -> float:
    """-log P(target | log_probs[:frames]) by the alpha recursion, in float64."""
    extended = [blank]
    for label in target:
        extended += [label, blank]
    states = len(extended)
    alpha = np.full(states, -np.inf)
    if frames == 0:
        return np.inf
    alpha[0] = log_probs[0, extended[0]]
    if states > 1:
        alpha[1] = log_probs[0, extended[1]]
    for t in range(1, frames):
        new = np.full(states, -np.inf)
        for s in range(states):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and extended[s] != blank and extended[s] != extended[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + log_probs[t, extended[s]]
        alpha = new
    ends = [alpha[-1]] + ([alpha[-2]] if states > 1 else [])
    return -float(np.logaddexp.reduce(ends))


def _reference_losses(logits: np.ndarray, targets: list[list[int]], input_lengths: list[int], blank: int = 0) -> np.ndarray:
    log_probs = _log_softmax(logits.astype(np.float64))
    return np.array([_reference_nll(log_probs[:, n], targets[n], input_lengths[n], blank)
                     for n in range(len(targets))])


TARGETS = [[1, 2, 2, 3], [3, 1], [2], [1, 3, 3, 1, 2]]
INPUT_LENGTHS = [12, 7, 12, 9]


def _padded(targets: list[list[int]]) -> np.ndarray:
    out = np.zeros((len(targets), max(len(t) for t in targets)), dtype=np.int64)
    for n, t in enumerate(targets):
        out[n, :len(t)] = t
    return out


@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_losses_equal_the_float64_recursion(layout: str, rng: np.random.Generator) -> None:
    logits = rng.normal(0, 2, (12, 4, 5)).astype(np.float32)
    lengths = [len(t) for t in TARGETS]
    targets = fg.tensor(_padded(TARGETS)) if layout == "padded" else fg.tensor(np.concatenate(TARGETS))
    got = F.ctc_loss(F.log_softmax(fg.tensor(logits), -1), targets, INPUT_LENGTHS, lengths, reduction="none")
    want = _reference_losses(logits, TARGETS, INPUT_LENGTHS)
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-6)
    mean = F.ctc_loss(F.log_softmax(fg.tensor(logits), -1), targets, fg.tensor(INPUT_LENGTHS), fg.tensor(lengths))
    assert mean.item() == pytest.approx(float(np.mean(want / np.array(lengths))), rel=2e-6)
    total = fg.nn.CTCLoss(reduction="sum")(F.log_softmax(fg.tensor(logits), -1), targets, INPUT_LENGTHS, lengths)
    assert total.item() == pytest.approx(float(want.sum()), rel=2e-6)


def test_gradients_equal_central_differences_of_the_reference(rng: np.random.Generator) -> None:
    logits = rng.normal(0, 1, (6, 2, 4))
    targets, input_lengths = [[1, 2, 2], [3]], [6, 4]
    x = fg.tensor(logits.astype(np.float32), requires_grad=True)
    F.ctc_loss(F.log_softmax(x, -1), fg.tensor(_padded(targets)), input_lengths, [3, 1], reduction="sum").backward()
    numeric = np.zeros_like(logits)
    step = 1e-6
    for index in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (_reference_losses(up, targets, input_lengths).sum()
                          - _reference_losses(down, targets, input_lengths).sum()) / (2 * step)
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-4, atol=2e-6)
    # Frames past a sequence's input length get no gradient.
    np.testing.assert_array_equal(x.grad.numpy()[4:, 1], 0.0)


def test_infeasible_targets_and_zero_infinity(rng: np.random.Generator) -> None:
    """A target needing more frames than it has (repeats need a blank between them) is
    infinite, or 0 with zero_infinity, and passes no gradient."""
    logits = rng.normal(0, 1, (4, 2, 3)).astype(np.float32)
    targets = fg.tensor(np.array([[1, 1, 1], [1, 2, 0]]))
    x = fg.tensor(logits, requires_grad=True)
    losses = F.ctc_loss(F.log_softmax(x, -1), targets, [4, 4], [3, 2], reduction="none")
    values = losses.detach().numpy()
    assert np.isinf(values[0]) and np.isfinite(values[1])
    zeroed = F.ctc_loss(F.log_softmax(x, -1), targets, [4, 4], [3, 2], reduction="none", zero_infinity=True)
    assert zeroed.detach().numpy()[0] == 0.0 and zeroed.detach().numpy()[1] == pytest.approx(values[1])
    zeroed.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], 0.0)
    assert np.abs(x.grad.numpy()[:, 1]).sum() > 0


def test_unbatched_input_and_a_custom_blank(rng: np.random.Generator) -> None:
    logits = rng.normal(0, 1, (8, 5)).astype(np.float32)
    got = F.ctc_loss(F.log_softmax(fg.tensor(logits), -1), fg.tensor(np.array([0, 2, 2])), [8], [3], blank=4,
                     reduction="none")
    want = _reference_nll(_log_softmax(logits.astype(np.float64)), [0, 2, 2], 8, blank=4)
    assert got.shape == () and got.item() == pytest.approx(want, rel=2e-6)


def test_bad_arguments_raise_naming_them() -> None:
    log_probs = F.log_softmax(fg.randn(5, 2, 4), -1)
    targets = fg.tensor(np.array([[1, 2], [3, 0]]))
    with pytest.raises(ValueError, match=r"ctc_loss: argument `log_probs` expected shape \[T, N, C\] or \[T, C\]"):
        F.ctc_loss(fg.randn(5), targets, [5, 5], [2, 1])
    with pytest.raises(ValueError, match=r"ctc_loss: argument `blank` expected a class index in \[0, 4\), got 4"):
        F.ctc_loss(log_probs, targets, [5, 5], [2, 1], blank=4)
    with pytest.raises(ValueError, match=r"ctc_loss: argument `input_lengths` expected values in \[0, 5\]"):
        F.ctc_loss(log_probs, targets, [6, 5], [2, 1])
    with pytest.raises(ValueError, match="ctc_loss: argument `target_lengths` expected 2 lengths"):
        F.ctc_loss(log_probs, targets, [5, 5], [2])
    with pytest.raises(ValueError, match=r"ctc_loss: argument `targets` expected class indices in \[0, 4\) other than "
                                         "the blank 0"):
        F.ctc_loss(log_probs, fg.tensor(np.array([[1, 0], [3, 0]])), [5, 5], [2, 1])
    with pytest.raises(ValueError, match="ctc_loss: argument `targets` expected a padded"):
        F.ctc_loss(log_probs, fg.tensor(np.array([1, 2, 3, 1])), [5, 5], [2, 1])
    with pytest.raises(ValueError, match="CTCLoss: argument `reduction` expected one of"):
        fg.nn.CTCLoss(reduction="avg")
