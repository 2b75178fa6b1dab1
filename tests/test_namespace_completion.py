"""More of PyTorch's namespace: the older factorization spellings and LAPACK's Householder
interface (against numpy / scipy), spectral and nuclear matrix norms, the ``*_copy`` view forms
and ``as_strided`` (against numpy's stride tricks), dtype promotion (PyTorch's table), eager
``compile`` / ``cond`` / ``while_loop``, flat ``put``, ``asarray`` / ``frombuffer``, binomial
draws, settings, Tensor properties, the ``*_with_indices`` pools, ``linear_cross_entropy`` and
the modules ``LinearCrossEntropyLoss``, ``DataParallel``, ``NLLLoss2d``, ``RNNBase``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


# -- factorizations ---------------------------------------------------------------------------


def test_geqrf_orgqr_ormqr(rng: np.random.Generator) -> None:
    A = rng.standard_normal((2, 5, 3)).astype(np.float32)
    a, tau = fg.geqrf(fg.tensor(A))
    for matrix, packed, factors in zip(A.astype(np.float64), a.numpy(), tau.numpy()):
        h, t = np.linalg.qr(matrix, mode="raw")  # LAPACK's geqrf, transposed
        np.testing.assert_allclose(packed, h.T, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(factors, t, rtol=1e-5, atol=1e-6)
    Q = fg.orgqr(a, tau).numpy()
    np.testing.assert_allclose(Q @ np.triu(a.numpy()[:, :3]), A, atol=1e-5)
    # The full m x m Q of the same reflectors: numpy's complete QR (LAPACK's geqrf then orgqr).
    full = np.linalg.qr(A.astype(np.float64), mode="complete")[0]
    other = rng.standard_normal((2, 5, 4)).astype(np.float32)
    product = fg.ormqr(a, tau, fg.tensor(other)).numpy()
    np.testing.assert_allclose(product, full @ other, atol=2e-5)
    np.testing.assert_allclose(fg.ormqr(a, tau, fg.tensor(product), transpose=True).numpy(), other, atol=2e-5)
    right = rng.standard_normal((2, 4, 5)).astype(np.float32)
    back = fg.ormqr(a, tau, fg.ormqr(a, tau, fg.tensor(right), left=False), left=False, transpose=True).numpy()
    np.testing.assert_allclose(back, right, atol=2e-5)
    # Q's first three columns act as orgqr's.
    np.testing.assert_allclose(fg.ormqr(a, tau, fg.tensor(np.eye(5, 3, dtype=np.float32))).numpy(), Q, atol=1e-6)
    assert fg.tensor(A).geqrf().tau.shape == (2, 3)


def test_lu_spellings_and_triangular_solve(rng: np.random.Generator) -> None:
    A = rng.standard_normal((3, 4, 4)).astype(np.float32)
    LU, pivots = fg.lu(fg.tensor(A))
    LU2, pivots2, infos = fg.tensor(A).lu(get_infos=True)
    np.testing.assert_array_equal(LU.numpy(), LU2.numpy())
    assert infos.numpy().tolist() == [0, 0, 0]
    P, L, U = fg.lu_unpack(LU, pivots)
    np.testing.assert_allclose((P @ L @ U).numpy(), A, atol=1e-5)
    empty_p, L_only, _ = fg.lu_unpack(LU, pivots, unpack_pivots=False)
    assert empty_p.numel() == 0 and L_only.shape == (3, 4, 4)
    b = rng.standard_normal((3, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(fg.lu_solve(fg.tensor(b), LU, pivots).numpy(), np.linalg.solve(A, b), rtol=1e-3, atol=1e-4)
    T = np.triu(A) + 4 * np.eye(4, dtype=np.float32)
    for upper, transpose in ((True, False), (True, True), (False, False), (False, True)):
        coefficients = T if upper else np.swapaxes(T, -1, -2).copy()
        x, copy = fg.triangular_solve(fg.tensor(b), fg.tensor(coefficients), upper=upper, transpose=transpose)
        system = np.swapaxes(coefficients, -1, -2) if transpose else coefficients
        np.testing.assert_allclose(x.numpy(), np.linalg.solve(system, b), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(copy.numpy(), coefficients)
    q, r = fg.qr(fg.tensor(A[0]), some=False)
    np.testing.assert_allclose((q @ r).numpy(), A[0], atol=1e-5)


def test_spectral_and_nuclear_norms(rng: np.random.Generator) -> None:
    A = rng.standard_normal((3, 4, 5)).astype(np.float32)
    for ord in ("nuc", 2, -2):
        np.testing.assert_allclose(fg.linalg.matrix_norm(fg.tensor(A), ord).numpy(),
                                   np.linalg.norm(A.astype(np.float64), ord, axis=(-2, -1)), rtol=1e-5)
    # Other dimensions, kept.
    got = fg.linalg.matrix_norm(fg.tensor(A), 2, dim=(0, 2), keepdim=True).numpy()
    np.testing.assert_allclose(got, np.linalg.norm(A.astype(np.float64), 2, axis=(0, 2), keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(fg.nuclear_norm(fg.tensor(A)).numpy(), np.linalg.norm(A, "nuc", axis=(-2, -1)), rtol=1e-5)
    np.testing.assert_allclose(fg.frobenius_norm(fg.tensor(A)).numpy(), np.linalg.norm(A, "fro", axis=(-2, -1)), rtol=1e-6)
    # The nuclear norm's gradient is U V^T.
    t = fg.tensor(A[0], requires_grad=True)
    fg.linalg.matrix_norm(t, "nuc").backward()
    u, _, vt = np.linalg.svd(A[0].astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(t.grad.numpy(), u @ vt, atol=1e-5)


# -- view copies and as_strided -------------------------------------------------------------------


def test_copy_forms_equal_the_views_in_fresh_storage(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    cases = [(fg.view_copy(x, 6, 4), x.view(6, 4)), (fg.permute_copy(x, (2, 0, 1)), x.permute(2, 0, 1)),
             (fg.transpose_copy(x, 0, 2), x.transpose(0, 2)), (fg.t_copy(x[0]), x[0].t()),
             (fg.unsqueeze_copy(x, 1), x.unsqueeze(1)), (fg.squeeze_copy(x[:1]), x[:1].squeeze()),
             (fg.select_copy(x, 1, 2), x.select(1, 2)), (fg.slice_copy(x, 2, 1, 4, 2), x[:, :, 1:4:2]),
             (fg.diagonal_copy(x, 0, 1, 2), x.diagonal(0, 1, 2)), (fg.expand_copy(x[:, :1], (2, 5, 4)), x[:, :1].expand(2, 5, 4)),
             (fg.unfold_copy(x, 2, 2, 1), x.unfold(2, 2, 1)), (fg.detach_copy(x), x), (fg.alias_copy(x), x)]
    for copy, view in cases:
        np.testing.assert_array_equal(copy.numpy(), view.numpy())
    for pieces, views in ((fg.unbind_copy(x, 1), x.unbind(1)), (fg.split_copy(x, 2, 2), x.split(2, 2)),
                          (fg.split_with_sizes_copy(x, [1, 3], 2), x.split([1, 3], 2))):
        assert len(pieces) == len(views)
        for piece, view in zip(pieces, views):
            np.testing.assert_array_equal(piece.numpy(), view.numpy())
    copy = fg.view_copy(x, 24)
    copy[0] = 100.0
    assert x.numpy().ravel()[0] != 100.0
    assert [p.shape[0] for p in fg.split_with_sizes(x, [1, 1])] == [1, 1]
    assert [p.shape[1] for p in fg.unsafe_chunk(x, 3, 1)] == [1, 1, 1] and len(fg.unsafe_split(x, 3, 2)) == 2
    with pytest.raises(ValueError, match="split_with_sizes: argument `split_sizes` expected sizes adding up to 2"):
        fg.split_with_sizes(x, [1, 2])


def test_as_strided_reads_what_numpy_stride_tricks_read(rng: np.random.Generator) -> None:
    base = rng.standard_normal(20).astype(np.float32)
    for size, stride, offset in (((4, 5), (5, 1), 0), ((8, 3), (2, 1), 1), ((3, 3), (0, 1), 4), ((2, 2, 2), (6, 1, 3), 2)):
        want = np.lib.stride_tricks.as_strided(base[offset:], size, tuple(4 * s for s in stride))
        got = fg.as_strided(fg.tensor(base), size, stride, offset)
        np.testing.assert_array_equal(got.numpy(), want)
        np.testing.assert_array_equal(fg.tensor(base).as_strided(size, stride, offset).numpy(), want)
    # Overlapping windows: each element's gradient counts the windows that read it.
    t = fg.tensor(base, requires_grad=True)
    fg.as_strided(t, (9, 4), (2, 1)).sum().backward()
    counts = np.zeros(20)
    for start in range(0, 18, 2):
        counts[start:start + 4] += 1
    np.testing.assert_array_equal(t.grad.numpy(), counts)
    scattered = fg.as_strided_scatter(fg.zeros(6), fg.tensor([1.0, 2.0, 3.0]), (3,), (2,), 1).numpy()
    np.testing.assert_array_equal(scattered, [0, 1, 0, 2, 0, 3])
    # An explicit offset counts from the viewed storage's start.
    tail = fg.tensor(base)[5:]
    np.testing.assert_array_equal(fg.as_strided(tail, (2,), (1,), 7).numpy(), base[7:9])
    with pytest.raises(ValueError, match="as_strided: the geometry .* outside the input's 20 elements"):
        fg.as_strided(fg.tensor(base), (5, 5), (5, 1))
    with pytest.raises(ValueError, match="as_strided: argument `input` expected a contiguous tensor"):
        fg.as_strided(fg.tensor(base).reshape(4, 5).t(), (2,), (1,))
    assert fg.empty_strided((2, 3), (3, 1)).shape == (2, 3)


# -- dtypes ------------------------------------------------------------------------------------------


def test_dtype_promotion_follows_pytorch() -> None:
    # PyTorch's answers (checked against torch 2.15 over every pair, in tests where it is installed too).
    assert fg.promote_types("uint8", "int8") == "int16"
    assert fg.promote_types("int32", "float16") == "float16"
    assert fg.promote_types("bfloat16", "float16") == "float32"
    assert fg.promote_types("bool", "uint8") == "uint8" and fg.promote_types("int64", "int32") == "int64"
    ints, floats = fg.tensor([1, 2]), fg.tensor([1.0, 2.0])
    assert fg.result_type(ints, 2.5) == "float32" and fg.result_type(ints, 3) == "int64"
    assert fg.result_type(floats.half(), 2.5) == "float16"
    assert fg.result_type(fg.tensor([1, 2], dtype=fg.int32), fg.tensor(5)) == "int32"
    assert fg.result_type(fg.tensor([1, 2], dtype=fg.int32), fg.tensor(5.0)) == "float32"
    assert not fg.can_cast("float32", "int64") and not fg.can_cast("int32", "bool") and fg.can_cast("int64", "float16")
    assert fg.is_signed(ints) and not fg.is_signed(ints > 0)
    assert fg.typename(floats) == "ferrograd.FloatTensor" and fg.typename(ints) == "ferrograd.LongTensor"
    assert fg.typename(3) == "int"
    fg.set_default_dtype(fg.float32)
    with pytest.raises(ValueError, match="set_default_dtype: argument `d` expected float32"):
        fg.set_default_dtype("float16")


def test_dtype_promotion_equals_torch_where_installed() -> None:
    torch = pytest.importorskip("torch")
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32"]
    for a in names:
        for b in names:
            want = str(torch.promote_types(getattr(torch, a), getattr(torch, b))).replace("torch.", "")
            assert fg.promote_types(a, b) == want, (a, b)
            assert fg.can_cast(a, b) == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


# -- eager control flow ------------------------------------------------------------------------------


def test_compile_cond_while_loop() -> None:
    model = nn.Linear(2, 2)
    assert fg.compile(model) is model and fg.compile(mode="max-autotune")(model) is model
    x = fg.tensor([1.0, 2.0])
    assert fg.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (x,)).numpy().tolist() == [2.0, 4.0]
    assert fg.cond(False, lambda t: t * 2, lambda t: t - 1, (x,)).numpy().tolist() == [0.0, 1.0]
    i, total = fg.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (fg.tensor(0), fg.tensor(0)))
    assert (i.item(), total.item()) == (4, 6)
    with pytest.raises(ValueError, match="cond: expected a predicate with one element"):
        fg.cond(x > 0, lambda t: t, lambda t: t, (x,))
    with pytest.raises(ValueError, match="while_loop: `body_fn` expected to return 2 values"):
        fg.while_loop(lambda i, s: i < 1, lambda i, s: (i + 1,), (0, 0))
    assert fg.vmap is fg.func.vmap


# -- put, asarray, frombuffer, binomial, settings, properties ----------------------------------------


def test_put_writes_flat_positions() -> None:
    x = fg.arange(6.0).reshape(2, 3)
    out = fg.put(x, fg.tensor([0, -1, 4]), fg.tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(out.numpy(), [[10, 1, 2], [3, 30, 20]])
    summed = x.put(fg.tensor([1, 1]), fg.tensor([1.0, 2.0]), accumulate=True)
    assert summed.numpy()[0, 1] == 4.0
    source = fg.tensor([5.0, 6.0], requires_grad=True)
    base = fg.arange(6.0).reshape(2, 3).requires_grad_()
    fg.put(base, fg.tensor([2, 3]), source).sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), [[1, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(source.grad.numpy(), [1, 1])
    y = fg.zeros(2, 2)
    assert y.put_(fg.tensor([3]), fg.tensor([7.0])) is y and y.numpy()[1, 1] == 7.0
    assert fg.put(fg.zeros(0), fg.tensor([], dtype=fg.int64), fg.zeros(0)).shape == (0,)
    with pytest.raises(IndexError, match=r"put: argument `index` expected positions in \[-6, 6\), got 0..6"):
        fg.put(x, fg.tensor([0, 6]), fg.tensor([1.0, 2.0]))


def test_asarray_and_frombuffer() -> None:
    t = fg.tensor([1.0, 2.0])
    assert fg.asarray(t) is t and fg.asarray(t, copy=True) is not t
    assert fg.asarray(t, dtype=fg.int64).dtype == "int64"
    assert fg.asarray(np.array([[1, 2]])).shape == (1, 2) and fg.asarray([1.5], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="asarray: copy=False, but converting"):
        fg.asarray(t, dtype=fg.int64, copy=False)
    buffer = bytearray(np.arange(5, dtype=np.float32).tobytes())
    np.testing.assert_array_equal(fg.frombuffer(buffer, dtype=fg.float32, count=2, offset=8).numpy(), [2.0, 3.0])
    with pytest.raises(ValueError, match="frombuffer: argument `dtype` expected one of"):
        fg.frombuffer(buffer, dtype="complex64")


def test_binomial_draws() -> None:
    fg.manual_seed(0)
    counts = fg.full((20_000,), 12.0)
    draws = fg.binomial(counts, fg.full((20_000,), 0.25)).numpy()
    assert abs(draws.mean() - 3.0) < 0.05 and abs(draws.var() - 2.25) < 0.1 and draws.max() <= 12
    generator = fg.Generator().manual_seed(7)
    first = fg.binomial(counts[:10], fg.full((10,), 0.5), generator=generator)
    state = fg.get_rng_state()
    generator.manual_seed(7)
    again = fg.binomial(counts[:10], fg.full((10,), 0.5), generator=generator)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert fg.get_rng_state() == state  # the global stream was left alone


def test_settings_and_tensor_properties() -> None:
    fg.set_float32_matmul_precision("high")
    assert fg.backends.cuda.matmul.allow_tf32 and fg.get_float32_matmul_precision() == "high"
    fg.set_float32_matmul_precision("highest")
    assert not fg.backends.cuda.matmul.allow_tf32 and fg.get_float32_matmul_precision() == "highest"
    with pytest.raises(ValueError, match="set_float32_matmul_precision: argument `precision` expected"):
        fg.set_float32_matmul_precision("low")
    assert fg.get_num_interop_threads() == 1
    fg.set_num_interop_threads(1)
    with pytest.raises(ValueError, match="set_num_interop_threads: argument `num` expected 1"):
        fg.set_num_interop_threads(4)
    x = fg.tensor([[-1.0, 0.2], [0.7, 3.0]])
    assert x.layout == fg.strided and not x.is_sparse and not x.is_quantized and not x.is_meta and not x.is_inference()
    assert x.new(2, 5).shape == (2, 5) and x.new([1.0, 2.0]).numpy().tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(x.hardshrink(0.5).numpy(), np.float32([[-1.0, 0.0], [0.7, 3.0]]))
    np.testing.assert_allclose(x.prelu(fg.tensor([0.1])).numpy(), [[-0.1, 0.2], [0.7, 3.0]], rtol=1e-6)


def test_in_place_function_forms() -> None:
    x = fg.tensor([-1.0, 2.0])
    assert fg.celu_(x) is x and x.numpy()[0] == pytest.approx(np.expm1(-1.0))
    y = fg.tensor([1.0, 2.0])
    assert fg.dropout_(y, 0.5, False) is y and y.numpy().tolist() == [1.0, 2.0]
    z = fg.zeros(3)
    fg.index_put_(z, (fg.tensor([1]),), fg.tensor([5.0]))
    assert z.numpy().tolist() == [0.0, 5.0, 0.0]
    w = fg.tensor([0.5, 2.0])
    fg.threshold_(w, 1.0, -1.0)
    assert w.numpy().tolist() == [-1.0, 2.0]


# -- functional and modules ------------------------------------------------------------------------


def test_with_indices_pools(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32))
    for pair, plain in ((F.adaptive_max_pool2d_with_indices(x, 3), F.adaptive_max_pool2d(x, 3, return_indices=True)),
                        (F.adaptive_max_pool1d_with_indices(x[0], 2), F.adaptive_max_pool1d(x[0], 2, return_indices=True)),
                        (F.adaptive_max_pool3d_with_indices(x, 2), F.adaptive_max_pool3d(x, 2, return_indices=True))):
        np.testing.assert_array_equal(pair[0].numpy(), plain[0].numpy())
        np.testing.assert_array_equal(pair[1].numpy(), plain[1].numpy())
    samples = fg.tensor(np.full((1, 2, 2), 0.5, dtype=np.float32))
    out, indices = F.fractional_max_pool2d_with_indices(x, 2, output_size=3, _random_samples=samples)
    assert out.shape == indices.shape == (1, 2, 3, 3)


def test_linear_cross_entropy(rng: np.random.Generator) -> None:
    x = rng.standard_normal((6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 2, 5)).astype(np.float32)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    target = rng.integers(0, 4, (6, 2))
    target[0, 0] = 2
    got = F.linear_cross_entropy(fg.tensor(x), fg.tensor(w), fg.tensor(target), linear_bias=fg.tensor(b))
    logits = (x @ w.reshape(8, 5).T + b.reshape(8)).reshape(6, 4, 2).astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    want = -np.take_along_axis(log_probs, target[:, None, :], 1).mean()
    assert got.item() == pytest.approx(want, rel=1e-5)
    ignored = F.linear_cross_entropy(fg.tensor(x), fg.tensor(w[:, 0]), fg.tensor(target[:, 0]), ignore_index=2,
                                     reduction="sum")
    keep = target[:, 0] != 2
    flat = (x @ w[:, 0].T).astype(np.float64)
    flat_log = flat - np.log(np.exp(flat).sum(1, keepdims=True))
    assert ignored.item() == pytest.approx(-flat_log[keep, target[keep, 0]].sum(), rel=1e-5)
    with pytest.raises(ValueError, match="linear_cross_entropy: argument `input` expected 1 or 2 dimensions"):
        F.linear_cross_entropy(fg.tensor(x[None]), fg.tensor(w[:, 0]), fg.tensor(target[:, 0]))
    loss = nn.LinearCrossEntropyLoss(5, 4, out_features=(2,), bias=True)
    loss(fg.tensor(x), fg.tensor(target)).backward()
    assert loss.linear.weight.shape == (8, 5) and loss.linear.weight.grad is not None
    manual = F.linear_cross_entropy(fg.tensor(x), loss.linear.weight.detach().reshape(4, 2, 5), fg.tensor(target),
                                    linear_bias=loss.linear.bias.detach().reshape(4, 2))
    assert loss(fg.tensor(x), fg.tensor(target)).item() == pytest.approx(manual.item(), rel=1e-6)


def test_data_parallel_nll_loss_2d_and_recurrent_bases() -> None:
    inner = nn.Linear(3, 2)
    wrapped = nn.DataParallel(inner)
    x = fg.randn(4, 3)
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), inner(x).detach().numpy())
    assert sorted(wrapped.state_dict()) == ["module.bias", "module.weight"]
    with pytest.raises(ValueError, match="DataParallel: argument `device_ids` expected at most one device"):
        nn.DataParallel(inner, device_ids=[0, 1])
    assert nn.NLLLoss2d is nn.NLLLoss
    assert isinstance(nn.LSTM(3, 4), nn.RNNBase) and isinstance(nn.GRUCell(3, 4), nn.RNNCellBase)


# -- histogramdd and the randomized low-rank factorizations ------------------------------------------


def test_histogramdd_matches_numpy(rng: np.random.Generator) -> None:
    points = rng.standard_normal((2, 50, 3)).astype(np.float32)
    weights = rng.uniform(0, 1, (2, 50)).astype(np.float32)
    result = fg.histogramdd(fg.tensor(points), [3, 4, 2], weight=fg.tensor(weights), density=True)
    want, edges = np.histogramdd(points.reshape(-1, 3), [3, 4, 2], weights=weights.reshape(-1), density=True)
    np.testing.assert_allclose(result.hist.numpy(), want, rtol=1e-5)
    for got_edges, want_edges in zip(result.bin_edges, edges):
        np.testing.assert_allclose(got_edges.numpy(), want_edges, rtol=1e-6)
    ranged = fg.histogramdd(fg.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), [2, 2], range=[0.0, 1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ranged.hist.numpy(), [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="histogramdd: argument `range` expected 4 numbers"):
        fg.histogramdd(fg.tensor([[0.0, 0.0]]), 2, range=[0.0, 1.0])


def test_svd_lowrank_and_pca_lowrank(rng: np.random.Generator) -> None:
    fg.manual_seed(0)
    low_rank = (rng.standard_normal((30, 3)) @ rng.standard_normal((3, 12))).astype(np.float32)
    U, S, V = fg.svd_lowrank(fg.tensor(low_rank), q=5)
    assert U.shape == (30, 5) and S.shape == (5,) and V.shape == (12, 5)
    np.testing.assert_allclose(S.numpy()[:3], np.linalg.svd(low_rank, compute_uv=False)[:3], rtol=1e-5)
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), low_rank, atol=1e-4)
    np.testing.assert_allclose((U.mT @ U).numpy(), np.eye(5), atol=1e-5)
    # The mean argument: the factorization of A - M.
    M = rng.standard_normal((1, 12)).astype(np.float32)
    U, S, V = fg.svd_lowrank(fg.tensor(low_rank + M), q=4, M=fg.tensor(M))
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), low_rank, atol=1e-4)
    # PCA: the centred data's top singular values and directions (up to sign).
    data = (rng.standard_normal((200, 2)) @ np.array([[3.0, 0, 0, 0], [0, 1.0, 0, 0]]) + 5).astype(np.float32)
    data += 0.01 * rng.standard_normal(data.shape).astype(np.float32)
    _, S, V = fg.pca_lowrank(fg.tensor(data), q=2)
    centred = data.astype(np.float64) - data.mean(0)
    _, want_s, want_vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(S.numpy(), want_s[:2], rtol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(V.numpy() * want_vt[:2].T, axis=0)), [1.0, 1.0], atol=1e-4)
    # Differentiable: the singular values' gradient of a rank-q matrix is U V^T.
    A = fg.tensor(low_rank, requires_grad=True)
    U, S, V = fg.svd_lowrank(A, q=3)
    S.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), (U @ V.mT).detach().numpy(), atol=1e-4)
    with pytest.raises(ValueError, match=r"pca_lowrank: argument `q` expected a value in \[1, 4\]"):
        fg.pca_lowrank(fg.tensor(data), q=7)


def test_more_in_place_forms_and_tensor_members() -> None:
    x = fg.tensor([1.0, 2.0])
    assert x.addmv_(fg.tensor([[1.0, 2.0], [3.0, 4.0]]), fg.tensor([1.0, 1.0])) is x
    np.testing.assert_array_equal(x.numpy(), [4, 9])
    y = fg.tensor([4, 6], dtype=fg.int64)
    fg.gcd_(y, fg.tensor([6, 4], dtype=fg.int64))
    assert y.numpy().tolist() == [2, 2]
    z = fg.tensor([1.0, 2.0])
    assert z.apply_(lambda v: v * 10 + 1) is z and z.numpy().tolist() == [11.0, 21.0]
    z.map_(fg.tensor([1.0, 2.0]), lambda a, b: a - b)
    assert z.numpy().tolist() == [10.0, 19.0]
    z.map2_(fg.tensor([1.0]), fg.tensor([2.0, 3.0]), lambda s, a, b: s * a + b)
    assert z.numpy().tolist() == [12.0, 22.0]
    with pytest.raises(TypeError, match="apply_: argument `callable` expected a function"):
        z.apply_(3)
    assert not z.is_pinned() and z.pin_memory() is z and not z.is_conj() and not z.is_neg() and not z.is_nested
    assert z.new_empty_strided((2, 3), (3, 1)).shape == (2, 3)
    assert not fg.is_conj(z) and not fg.is_neg(z) and not fg.is_inference(z) and fg.get_device(z) == -1
    assert fg.get_default_device() == "cpu"
    padded = fg.nonzero_static(fg.tensor([0.0, 3.0, 0.0, 4.0]), size=3)
    assert padded.numpy().tolist() == [[1], [3], [-1]]
    assert fg.tensor([1.0, 1.0, 1.0]).nonzero_static(size=2).numpy().tolist() == [[0], [1]]
    assert not fg.is_inference_mode_enabled()
    with fg.inference_mode():
        assert fg.is_inference_mode_enabled() and not fg.is_grad_enabled()
        with fg.inference_mode(False):
            assert not fg.is_inference_mode_enabled()
        assert fg.is_inference_mode_enabled()
    assert not fg.is_inference_mode_enabled()

    @fg.inference_mode()
    def inside() -> bool:
        return fg.is_inference_mode_enabled()

    assert inside() and not fg.is_inference_mode_enabled()
