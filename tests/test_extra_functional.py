"""Parity of the extra activations and losses (``ferrograd._extra_functional``) with JAX
references of PyTorch's formulas, forward and backward (float32). Tolerances: 1e-5 on values and
1e-4 on gradients unless stated. Inputs are kept away from the kinks of the piecewise functions.
Also: the nn modules over them, ``Embedding.from_pretrained`` and ``WeightedRandomSampler``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd.utils.data import DataLoader, TensorDataset, WeightedRandomSampler
from reference import check_op

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def away_from(x: np.ndarray, points: tuple[float, ...], gap: float = 0.05) -> np.ndarray:
    """``x`` with entries within ``gap`` of any of ``points`` pushed ``2 * gap`` up."""
    x = x.copy()
    for p in points:
        x[np.abs(x - p) < gap] += 2 * gap
    return x


def reduce_jnp(loss, reduction):
    return {"none": lambda v: v, "mean": jnp.mean, "sum": jnp.sum}[reduction](loss)


# ---------------------------------------------------------------- activations


def test_selu_celu(rng):
    x = away_from((rng.standard_normal((4, 5)) * 3).astype(np.float32), (0.0,))
    check_op(F.selu, lambda v: SELU_SCALE * jnp.where(v > 0, v, SELU_ALPHA * jnp.expm1(v)), [x], 1e-5, 1e-5, 1e-4, 1e-4)
    for alpha in (1.0, 0.7, 2.5):
        check_op(lambda t: F.celu(t, alpha), lambda v: jnp.where(v > 0, v, alpha * jnp.expm1(v / alpha)), [x],
                 1e-5, 1e-5, 1e-4, 1e-4)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu(dim, rng):
    x = rng.standard_normal((4, 6, 2)).astype(np.float32)

    def ref(v):
        a, b = jnp.split(v, 2, axis=dim)
        return a * jax.nn.sigmoid(b)

    check_op(lambda t: F.glu(t, dim), ref, [x], 1e-5, 1e-6, 1e-4, 1e-5)


def test_softmin(rng):
    x = (rng.standard_normal((3, 4, 5)) * 2).astype(np.float32)
    for dim in (0, 1, -1):
        check_op(lambda t: F.softmin(t, dim), lambda v: jax.nn.softmax(-v, axis=dim), [x], 1e-5, 1e-6, 1e-4, 1e-5)
    # dim=None: PyTorch's legacy axis (0 for a 3-d input, 1 for a 2-d one).
    check_op(F.softmin, lambda v: jax.nn.softmax(-v, axis=0), [x], 1e-5, 1e-6, 1e-4, 1e-5)
    check_op(F.softmin, lambda v: jax.nn.softmax(-v, axis=1), [x[0]], 1e-5, 1e-6, 1e-4, 1e-5)


def test_shrinks_and_threshold(rng):
    x = (rng.standard_normal((5, 6)) * 2).astype(np.float32)
    for lambd in (0.5, 1.2):
        xs = away_from(x, (-lambd, lambd))
        check_op(lambda t: F.hardshrink(t, lambd), lambda v: jnp.where(jnp.abs(v) > lambd, v, 0.0), [xs])
        check_op(lambda t: F.softshrink(t, lambd),
                 lambda v: jnp.where(v > lambd, v - lambd, jnp.where(v < -lambd, v + lambd, 0.0)), [xs])
    check_op(F.tanhshrink, lambda v: v - jnp.tanh(v), [x], 1e-5, 1e-5, 1e-4, 1e-4)
    xt = away_from(x, (0.3,))
    check_op(lambda t: F.threshold(t, 0.3, -2.0), lambda v: jnp.where(v > 0.3, v, -2.0), [xt])


def test_rrelu_eval_uses_the_mean_slope(rng):
    x = away_from(rng.standard_normal((4, 5)).astype(np.float32), (0.0,))
    slope = (0.1 + 0.3) / 2
    check_op(lambda t: F.rrelu(t, 0.1, 0.3), lambda v: jnp.where(v > 0, v, slope * v), [x])
    check_op(F.rrelu, lambda v: jnp.where(v > 0, v, (1 / 8 + 1 / 3) / 2 * v), [x])


def test_rrelu_training_draws_slopes_from_the_generator(rng):
    x = away_from(rng.standard_normal((6, 7)).astype(np.float32), (0.0,))
    t = fg.tensor(x, requires_grad=True)
    y = F.rrelu(t, 0.1, 0.3, training=True, generator=fg.Generator().manual_seed(5))
    y.sum().backward()
    u = fg.rand(6, 7, generator=fg.Generator().manual_seed(5)).numpy()
    slopes = np.float32(0.1) + np.float32(0.3 - 0.1) * u
    np.testing.assert_allclose(y.detach().numpy(), np.where(x > 0, x, x * slopes), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t.grad.numpy(), np.where(x > 0, 1.0, slopes), rtol=1e-6, atol=1e-6)
    assert ((slopes >= 0.1) & (slopes < 0.3)).all()
    fg.manual_seed(11)
    a = F.rrelu(fg.tensor(x), training=True).numpy()
    fg.manual_seed(11)
    b = F.rrelu(fg.tensor(x), training=True).numpy()
    np.testing.assert_array_equal(a, b)


def _gumbel_reference(logits: np.ndarray, u: np.ndarray, tau: float, dim: int):
    g = -np.log(-np.log(np.maximum(u, np.float32(1.1754944e-38))))
    return jax.nn.softmax((jnp.asarray(logits) + g) / tau, axis=dim)


@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_matches_the_formula_with_the_same_noise(dim, rng):
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    y = F.gumbel_softmax(fg.tensor(logits), tau=0.7, dim=dim, generator=fg.Generator().manual_seed(3))
    u = fg.rand(4, 5, generator=fg.Generator().manual_seed(3)).numpy()
    np.testing.assert_allclose(y.numpy(), _gumbel_reference(logits, u, 0.7, dim), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.numpy().sum(dim), 1.0, rtol=1e-5)


def test_gumbel_softmax_seeds_hard_and_straight_through(rng):
    logits = rng.standard_normal((8, 6)).astype(np.float32)
    fg.manual_seed(42)
    a = F.gumbel_softmax(fg.tensor(logits), tau=0.5).numpy()
    fg.manual_seed(42)
    b = F.gumbel_softmax(fg.tensor(logits), tau=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
    assert (a >= 0).all()

    w = fg.tensor(rng.standard_normal((8, 6)).astype(np.float32))
    soft_in = fg.tensor(logits, requires_grad=True)
    fg.manual_seed(9)
    soft = F.gumbel_softmax(soft_in, tau=0.5)
    (soft * w).sum().backward()
    hard_in = fg.tensor(logits, requires_grad=True)
    fg.manual_seed(9)
    hard = F.gumbel_softmax(hard_in, tau=0.5, hard=True)
    (hard * w).sum().backward()
    h = hard.detach().numpy()
    np.testing.assert_allclose(h.sum(-1), 1.0, atol=1e-6)
    assert set(np.unique(np.round(h, 5))) <= {0.0, 1.0}
    np.testing.assert_array_equal(h.argmax(-1), soft.detach().numpy().argmax(-1))
    np.testing.assert_allclose(hard_in.grad.numpy(), soft_in.grad.numpy(), rtol=1e-6, atol=1e-7)
    # The soft gradient itself is the softmax VJP at the same noise.
    u = fg.rand(8, 6, generator=fg.Generator().manual_seed(9)).numpy()
    _, vjp = jax.vjp(lambda v: _gumbel_reference(v, u, 0.5, -1), jnp.asarray(logits))
    np.testing.assert_allclose(soft_in.grad.numpy(), np.asarray(vjp(jnp.asarray(w.numpy()))[0]), rtol=1e-4,
                               atol=1e-5)


# ---------------------------------------------------------------- losses

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(reduction, rng):
    x1, x2 = rng.standard_normal((2, 10)).astype(np.float32)
    y = np.sign(rng.standard_normal(10)).astype(np.float32)
    x1 = x1 + 0.2 * y * (np.abs(-y * (x1 - x2) + 0.3) < 0.05)  # away from the hinge
    check_op(lambda a, b, t: F.margin_ranking_loss(a, b, t, 0.3, reduction),
             lambda a, b, t: reduce_jnp(jnp.maximum(0.0, -t * (a - b) + 0.3), reduction), [x1, x2, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(reduction, rng):
    x = away_from((rng.standard_normal((4, 5)) * 2).astype(np.float32), (1.5,))
    y = np.sign(rng.standard_normal((4, 5))).astype(np.float32)

    def ref(v, t):
        return reduce_jnp(jnp.where(t == 1, v, 0.0) + jnp.where(t == -1, jnp.maximum(0.0, 1.5 - v), 0.0), reduction)

    check_op(lambda a, t: F.hinge_embedding_loss(a, t, 1.5, reduction), ref, [x, y], differentiable=[True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,)])
def test_cosine_embedding_loss(reduction, shape, rng):
    x1, x2 = rng.standard_normal((2, *shape)).astype(np.float32)
    y = np.sign(rng.standard_normal(shape[:-1])).astype(np.float32)

    def ref(a, b, t):
        cos = (a * b).sum(-1) / jnp.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
        per = jnp.where(t == 1, 1.0 - cos, 0.0) + jnp.where(t == -1, jnp.maximum(0.0, cos + 0.1), 0.0)
        return reduce_jnp(per, reduction)

    check_op(lambda a, b, t: F.cosine_embedding_loss(a, b, t, -0.1, reduction), ref, [x1, x2, y],
             1e-5, 1e-5, 1e-4, 1e-4, differentiable=[True, True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction, rng):
    x = (rng.standard_normal((5, 3)) * 3).astype(np.float32)
    y = np.sign(rng.standard_normal((5, 3))).astype(np.float32)
    check_op(lambda a, t: F.soft_margin_loss(a, t, reduction),
             lambda a, t: reduce_jnp(jnp.log1p(jnp.exp(-t * a)), reduction), [x, y], 1e-5, 1e-5, 1e-4, 1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(reduction, weighted, rng):
    x = (rng.standard_normal((5, 4)) * 2).astype(np.float32)
    y = (rng.random((5, 4)) > 0.5).astype(np.float32)
    w = rng.random(4).astype(np.float32) + 0.5

    def ref(a, t):
        per = -(t * jax.nn.log_sigmoid(a) + (1 - t) * jax.nn.log_sigmoid(-a)) * (w if weighted else 1.0)
        return reduce_jnp(per.mean(-1), reduction)

    check_op(lambda a, t: F.multilabel_soft_margin_loss(a, t, fg.tensor(w) if weighted else None, reduction), ref,
             [x, y], 1e-5, 1e-5, 1e-4, 1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(reduction, p, weighted, rng):
    x = rng.standard_normal((6, 5)).astype(np.float32)
    y = rng.integers(0, 5, 6).astype(np.int64)
    w = (rng.random(5) + 0.5).astype(np.float32)
    margin = 0.8
    xy = np.take_along_axis(x, y[:, None], 1)
    x = x + 0.1 * (np.abs(margin - xy + x) < 0.02)  # away from the hinge

    def ref(a):
        z = jnp.maximum(0.0, margin - jnp.take_along_axis(a, jnp.asarray(y)[:, None], 1) + a) ** p
        z = z * (w[y][:, None] if weighted else 1.0)
        z = jnp.where(jax.nn.one_hot(y, 5) > 0, 0.0, z)
        return reduce_jnp(z.sum(1) / 5, reduction)

    check_op(lambda a: F.multi_margin_loss(a, fg.tensor(y), p, margin, fg.tensor(w) if weighted else None, reduction),
             ref, [x], 1e-5, 1e-5, 1e-4, 1e-4)
    # A single sample [C] with a 0-d target.
    weight = fg.tensor(w) if weighted else None
    one = F.multi_margin_loss(fg.tensor(x[0]), fg.tensor(y[0]), p, margin, weight, reduction)
    assert one.shape == ()
    row = F.multi_margin_loss(fg.tensor(x), fg.tensor(y), p, margin, weight, "none").numpy()[0]
    np.testing.assert_allclose(one.numpy(), row, rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(reduction, p, swap, rng):
    a, pos, neg = rng.standard_normal((3, 7, 4)).astype(np.float32)

    def dist(u, v):
        return jnp.sum(jnp.abs(u - v + 1e-6) ** p, -1) ** (1.0 / p)

    def ref(u, v, w):
        dn = dist(u, w)
        if swap:
            dn = jnp.minimum(dn, dist(v, w))
        return reduce_jnp(jnp.maximum(0.0, 1.0 + dist(u, v) - dn), reduction)

    check_op(lambda u, v, w: F.triplet_margin_loss(u, v, w, 1.0, p, 1e-6, swap, reduction), ref, [a, pos, neg],
             1e-5, 1e-5, 1e-4, 1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss(reduction, log_input, full, rng):
    x = (rng.random((4, 5)) * 2 + (0.1 if not log_input else -1.0)).astype(np.float32)
    y = rng.integers(0, 6, (4, 5)).astype(np.float32)

    def ref(a, t):
        per = jnp.exp(a) - t * a if log_input else a - t * jnp.log(a + 1e-8)
        if full:
            safe = jnp.maximum(t, 1.0)
            per = per + jnp.where(t > 1, safe * jnp.log(safe) - safe + 0.5 * jnp.log(2 * jnp.pi * safe), 0.0)
        return reduce_jnp(per, reduction)

    check_op(lambda a, t: F.poisson_nll_loss(a, t, log_input, full, 1e-8, reduction), ref, [x, y],
             1e-5, 1e-5, 1e-4, 1e-4, differentiable=[True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(5, 3), (5,), (5, 1)])
def test_gaussian_nll_loss(reduction, full, var_shape, rng):
    x, t = rng.standard_normal((2, 5, 3)).astype(np.float32)
    var = (rng.random(var_shape) + 0.2).astype(np.float32)

    def ref(a, b, v):
        v = v if v.shape == a.shape or v.shape[-1:] == (1,) else v[..., None]
        per = 0.5 * (jnp.log(v) + (a - b) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
        return reduce_jnp(per, reduction)

    check_op(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full, 1e-6, reduction), ref, [x, t, var],
             1e-5, 1e-5, 1e-4, 1e-4)


def test_gaussian_nll_loss_clamps_var_values_not_gradients():
    x, t = fg.tensor([1.0, 2.0]), fg.tensor([0.0, 0.0])
    var = fg.tensor([1e-9, 1.0], requires_grad=True)
    loss = F.gaussian_nll_loss(x, t, var, eps=1e-3, reduction="sum")
    loss.backward()
    v = np.array([1e-3, 1.0])
    np.testing.assert_allclose(loss.item(), np.sum(0.5 * (np.log(v) + np.array([1.0, 4.0]) / v)), rtol=1e-5)
    # d/dvar at the clamped value, passed through to the unclamped entry (PyTorch's no_grad clamp).
    np.testing.assert_allclose(var.grad.numpy(), 0.5 * (1 / v - np.array([1.0, 4.0]) / v ** 2), rtol=1e-4)
    scalar = F.gaussian_nll_loss(x, t, 2.0)
    np.testing.assert_allclose(scalar.item(), np.mean(0.5 * (np.log(2.0) + np.array([1.0, 4.0]) / 2.0)), rtol=1e-6)


def test_huber_loss_is_delegated_and_present():
    a, b = fg.tensor([0.0, 3.0]), fg.tensor([0.5, 0.0])
    np.testing.assert_allclose(F.huber_loss(a, b, delta=2.0).item(), (0.5 * 0.25 + 2.0 * (3.0 - 1.0)) / 2, rtol=1e-6)


# ---------------------------------------------------------------- nn modules


def _nn_cases(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    y = np.sign(rng.standard_normal((4, 6))).astype(np.float32)
    labels = rng.integers(0, 6, 4).astype(np.int64)
    nn = fg.nn
    return [
        (nn.SELU(), F.selu, [x]),
        (nn.CELU(0.5), lambda t: F.celu(t, 0.5), [x]),
        (nn.GLU(0), lambda t: F.glu(t, 0), [x]),
        (nn.Softmin(1), lambda t: F.softmin(t, 1), [x]),
        (nn.Hardshrink(0.3), lambda t: F.hardshrink(t, 0.3), [x]),
        (nn.Softshrink(0.3), lambda t: F.softshrink(t, 0.3), [x]),
        (nn.Tanhshrink(), F.tanhshrink, [x]),
        (nn.Threshold(0.1, 20.0), lambda t: F.threshold(t, 0.1, 20.0), [x]),
        (nn.RReLU(0.1, 0.2).eval(), lambda t: F.rrelu(t, 0.1, 0.2), [x]),
        (nn.MarginRankingLoss(0.2, "sum"), lambda a, b, t: F.margin_ranking_loss(a, b, t, 0.2, "sum"), [x, x[::-1], y]),
        (nn.HingeEmbeddingLoss(0.5), lambda a, t: F.hinge_embedding_loss(a, t, 0.5), [x, y]),
        (nn.CosineEmbeddingLoss(0.1, "none"), lambda a, b, t: F.cosine_embedding_loss(a, b, t, 0.1, "none"),
         [x, x[::-1], y[:, 0]]),
        (nn.SoftMarginLoss(), F.soft_margin_loss, [x, y]),
        (nn.MultiLabelSoftMarginLoss(reduction="sum"), lambda a, t: F.multilabel_soft_margin_loss(a, t, None, "sum"),
         [x, (y > 0).astype(np.float32)]),
        (nn.MultiMarginLoss(p=2, margin=0.5), lambda a, t: F.multi_margin_loss(a, t, 2, 0.5), [x, labels]),
        (nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True),
         lambda a, b, c: F.triplet_margin_loss(a, b, c, 0.5, 1.0, swap=True), [x, x[::-1], x * 2]),
        (nn.PoissonNLLLoss(full=True), lambda a, t: F.poisson_nll_loss(a, t, full=True), [x, np.abs(y) * 3]),
        (nn.GaussianNLLLoss(full=True), lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True),
         [x, y, np.abs(x) + 0.1]),
    ]


def test_each_module_equals_its_functional(rng):
    for module, functional, inputs in _nn_cases(rng):
        tensors = [fg.tensor(np.ascontiguousarray(v)) for v in inputs]
        np.testing.assert_allclose(module(*tensors).numpy(), functional(*tensors).numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=type(module).__name__)


def test_rrelu_module_trains_with_random_slopes(rng):
    x = -np.abs(rng.standard_normal((3, 50)).astype(np.float32)) - 0.1
    m = fg.nn.RReLU(0.1, 0.3)
    slopes = m(fg.tensor(x)).numpy() / x
    assert ((slopes >= 0.1 - 1e-6) & (slopes < 0.3 + 1e-6)).all() and slopes.std() > 0.01
    m.eval()
    np.testing.assert_allclose(m(fg.tensor(x)).numpy() / x, 0.2, rtol=1e-5)


# ---------------------------------------------------------------- Embedding.from_pretrained


def test_embedding_from_pretrained(rng):
    table = rng.standard_normal((5, 3)).astype(np.float32)
    ids = fg.tensor(np.array([[0, 2], [4, 2]]))
    frozen = fg.nn.Embedding.from_pretrained(fg.tensor(table))
    np.testing.assert_array_equal(frozen(ids).numpy(), table[[[0, 2], [4, 2]]])
    assert not frozen.weight.requires_grad
    assert list(frozen.state_dict()) == ["weight"] and (frozen.num_embeddings, frozen.embedding_dim) == (5, 3)

    trained = fg.nn.Embedding.from_pretrained(fg.tensor(table), freeze=False, padding_idx=2)
    assert trained.weight.requires_grad and len(list(trained.parameters())) == 1
    out = trained(ids)
    np.testing.assert_array_equal(out.detach().numpy(), table[[[0, 2], [4, 2]]])  # the padding row keeps its values
    out.sum().backward()
    expected = np.zeros((5, 3), np.float32)
    expected[[0, 4]] = 1.0
    np.testing.assert_array_equal(trained.weight.grad.numpy(), expected)


def test_embedding_padding_row_still_starts_at_zero():
    emb = fg.nn.Embedding(4, 2, padding_idx=1)
    out = emb(fg.tensor(np.array([1, 3])))
    np.testing.assert_array_equal(out.detach().numpy()[0], [0.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[1], [0.0, 0.0])


# ---------------------------------------------------------------- WeightedRandomSampler


def test_weighted_random_sampler_frequencies_and_seeds():
    weights = [0.0, 1.0, 3.0, 0.0, 4.0]
    s = WeightedRandomSampler(weights, 20000, generator=fg.Generator().manual_seed(1))
    drawn = np.array(list(s))
    assert len(s) == 20000 and drawn.shape == (20000,)
    counts = np.bincount(drawn, minlength=5) / 20000
    np.testing.assert_allclose(counts, np.array(weights) / 8, atol=0.015)
    again = WeightedRandomSampler(weights, 50, generator=fg.Generator().manual_seed(7))
    same = WeightedRandomSampler(weights, 50, generator=fg.Generator().manual_seed(7))
    assert list(again) == list(same)
    unique = list(WeightedRandomSampler(weights, 3, replacement=False))
    assert sorted(unique) == [1, 2, 4]


def test_dataloader_takes_a_sampler():
    ds = TensorDataset(fg.arange(10).float(), fg.arange(10))
    fg.manual_seed(3)
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler([0.0] * 5 + [1.0] * 5, 9))
    assert len(loader) == 3
    labels = np.concatenate([b[1].numpy() for b in loader])
    assert labels.shape == (9,) and (labels >= 5).all()
    listed = DataLoader(ds, batch_size=2, sampler=[9, 0, 4])
    assert [b[1].tolist() for b in listed] == [[9, 0], [4]]
    # fit's Rust loop draws its own order, so a loader with a sampler is refused with a clear message.
    from ferrograd.training.inputs import make_loader

    with pytest.raises(TypeError, match=r"fit: argument `train` expected a DataLoader without a sampler"):
        make_loader(DataLoader(ds, batch_size=2, sampler=[0, 1]), "train", "fit", 2, False, None, [])


# ---------------------------------------------------------------- errors


def test_bad_arguments_raise_clear_errors():
    x = fg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"glu: argument `input` expected an even size along dim -1, got shape \[2, 3\]"):
        F.glu(x)
    with pytest.raises(ValueError, match=r"softshrink: argument `lambd` expected a value >= 0, got -0.5"):
        F.softshrink(x, -0.5)
    with pytest.raises(ValueError, match=r"celu: argument `alpha` expected a nonzero value"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match=r"rrelu: arguments `lower` and `upper` expected lower <= upper, got 0.5 and 0.1"):
        F.rrelu(x, 0.5, 0.1)
    with pytest.raises(ValueError, match=r"gumbel_softmax: argument `tau` expected a value > 0, got 0"):
        F.gumbel_softmax(x, tau=0)
    with pytest.raises(IndexError, match=r"softmin: argument `dim` expected a value in \[-2, 1\], got 2"):
        F.softmin(x, 2)
    with pytest.raises(ValueError, match=r"soft_margin_loss: argument `reduction` expected one of 'none', 'mean', "
                                         r"'sum', got 'avg'"):
        F.soft_margin_loss(x, x, "avg")
    with pytest.raises(ValueError, match=r"multi_margin_loss: argument `p` expected 1 or 2, got 3"):
        F.multi_margin_loss(x, fg.tensor(np.array([0, 1])), p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: argument `target` expected class indices in \[0, 3\), "
                                         r"got values in \[0, 3\]"):
        F.multi_margin_loss(x, fg.tensor(np.array([0, 3])))
    with pytest.raises(TypeError, match=r"multi_margin_loss: argument `target` expected int64 class indices, got "
                                        r"float32"):
        F.multi_margin_loss(x, fg.zeros(2))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: argument `var` expected shape \[2, 3\], \[2\] or "
                                         r"\[2, 1\], got \[3\]"):
        F.gaussian_nll_loss(x, x, fg.ones(3))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: argument `var` expected non-negative entries"):
        F.gaussian_nll_loss(x, x, -fg.ones(2, 3))
    with pytest.raises(ValueError, match=r"margin_ranking_loss: arguments `input1`, `input2` and `target` expected the "
                                         r"same number of dimensions"):
        F.margin_ranking_loss(x, x, fg.zeros(2))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: argument `target` expected a 1-d tensor, got shape "
                                         r"\[2, 3\]"):
        F.cosine_embedding_loss(x, x, x)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: argument `p` expected 1 or 2, got 0"):
        fg.nn.MultiMarginLoss(p=0)
    with pytest.raises(ValueError, match=r"TripletMarginLoss: argument `reduction` expected one of"):
        fg.nn.TripletMarginLoss(reduction="batchmean")
    with pytest.raises(ValueError, match=r"Embedding.from_pretrained: argument `embeddings` expected a 2-d tensor, got "
                                         r"\[3\]"):
        fg.nn.Embedding.from_pretrained(fg.zeros(3))
    with pytest.raises(ValueError, match=r"WeightedRandomSampler: argument `num_samples` expected a positive int, got 0"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match=r"WeightedRandomSampler: argument `weights` expected finite, non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match=r"WeightedRandomSampler: argument `num_samples` expected at most 1"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match=r"DataLoader: argument `sampler` expected None with shuffle=True"):
        DataLoader(TensorDataset(fg.zeros(3)), shuffle=True, sampler=[0, 1])
