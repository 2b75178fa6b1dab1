"""grid_sample, affine_grid, fold and bicubic interpolate against references written from
PyTorch's formulas (numpy for values, JAX for gradients)."""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn
from reference import check_op

MODES = ["bilinear", "nearest"]
PADDINGS = ["zeros", "border", "reflection"]


def reference_grid_sample(xp, x, grid, mode: str, padding_mode: str, align_corners: bool):
    """PyTorch's grid_sampler_2d (grid_sampler_compute_source_index, reflect_coordinates,
    clip_coordinates, bilinear / nearbyint sampling) vectorised over ``xp`` (numpy or jax.numpy)."""
    n, c, h, w = x.shape

    def source(coord, size):
        pix = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
        if padding_mode == "reflection":
            twice_low, twice_high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
            if twice_low == twice_high:
                pix = pix * 0
            else:
                low, span = twice_low / 2, (twice_high - twice_low) / 2
                d = xp.abs(pix - low)
                extra, flips = xp.fmod(d, span), xp.floor(d / span)
                pix = xp.where(flips % 2 == 0, extra + low, span - extra + low)
        if padding_mode != "zeros":
            pix = xp.clip(pix, 0, size - 1)
        return pix

    ix, iy = source(grid[..., 0], w), source(grid[..., 1], h)

    def corner(xs, ys):
        inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
        cols, rows = xp.clip(xs, 0, w - 1).astype(np.int32), xp.clip(ys, 0, h - 1).astype(np.int32)
        values = x[xp.arange(n)[:, None, None], :, rows, cols]  # [N, H_out, W_out, C]
        return xp.moveaxis(xp.where(inside[..., None], values, 0), -1, 1)

    if mode == "nearest":
        return corner(xp.round(ix), xp.round(iy))  # round half to even, as nearbyint
    x0, y0 = xp.floor(ix), xp.floor(iy)
    x1, y1 = x0 + 1, y0 + 1
    out = (corner(x0, y0) * ((x1 - ix) * (y1 - iy))[:, None] + corner(x1, y0) * ((ix - x0) * (y1 - iy))[:, None]
           + corner(x0, y1) * ((x1 - ix) * (iy - y0))[:, None] + corner(x1, y1) * ((ix - x0) * (iy - y0))[:, None])
    return out


def special_grid(h: int, w: int, align_corners: bool) -> np.ndarray:
    """Grid points on pixel centres, pixel edges, the corners +-1, and far outside (several
    reflections), as [1, P, 1, 2] (x, y) pairs."""
    if align_corners:
        xs, ys = np.linspace(-1, 1, w), np.linspace(-1, 1, h)
    else:
        xs, ys = (np.arange(w) * 2 + 1) / w - 1, (np.arange(h) * 2 + 1) / h - 1
    edges_x, edges_y = np.arange(w + 1) * 2 / w - 1, np.arange(h + 1) * 2 / h - 1
    others = np.array([-1.0, 1.0, -3.7, 2.9, 5.3, -1.01, 1.2])
    px = np.concatenate([xs, edges_x, others, xs[:3], others])
    py = np.concatenate([np.resize(ys, len(xs)), np.resize(edges_y, len(edges_x)), others[::-1],
                         np.full(3, 7.25), np.resize(ys, len(others))])
    return np.stack([px, py], -1).astype(np.float32)[None, :, None, :]


@pytest.mark.parametrize("mode,padding_mode,align_corners", list(itertools.product(MODES, PADDINGS, [False, True])))
def test_grid_sample_values_match_pytorch_formulas(rng, mode, padding_mode, align_corners) -> None:
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    grid = np.concatenate([rng.uniform(-1.4, 1.4, (2, 5, 6, 2)).astype(np.float32).reshape(2, 30, 1, 2),
                           np.repeat(special_grid(3, 4, align_corners), 2, axis=0)[:, :30]], axis=1)
    got = F.grid_sample(fg.tensor(x), fg.tensor(grid), mode, padding_mode, align_corners).numpy()
    # Coordinates in float32 as ferrograd (and PyTorch) compute them, values in float64: 1e-5.
    expected = reference_grid_sample(np, x.astype(np.float64), grid, mode, padding_mode, align_corners)
    assert got.shape == (2, 3, grid.shape[1], 1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_grid_sample_known_values() -> None:
    x = fg.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32))
    grid = fg.tensor(np.array([[[[0.0, 0.0], [-1.0, -1.0], [0.5, -0.5]]]], dtype=np.float32))
    # The centre averages all four; (-1, -1) is the outer corner without align_corners, so zero padding
    # leaves a quarter of pixel (0, 0); with align_corners it is that pixel's centre.
    # (0.5, -0.5) is the centre of pixel (row 0, column 1) without align_corners.
    np.testing.assert_allclose(F.grid_sample(x, grid).numpy().ravel(), [2.5, 0.25, 2.0], rtol=1e-6)
    np.testing.assert_allclose(F.grid_sample(x, grid, padding_mode="border").numpy().ravel()[:2], [2.5, 1.0])
    np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=True).numpy().ravel(), [2.5, 1.0, 2.25],
                               rtol=1e-6)
    # Nearest ties round to even: x = 0 is pixel column 0.5 without align_corners -> column 0.
    np.testing.assert_allclose(F.grid_sample(x, grid[:, :, :1], mode="nearest").numpy().ravel(), [1.0])


@pytest.mark.parametrize("align_corners", [False, True])
def test_identity_affine_grid_sample_returns_the_input(rng, align_corners) -> None:
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    theta = fg.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    grid = F.affine_grid(theta, (2, 3, 5, 7), align_corners=align_corners)
    for mode in MODES:
        out = F.grid_sample(fg.tensor(x), grid, mode=mode, align_corners=align_corners)
        np.testing.assert_allclose(out.numpy(), x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,padding_mode,align_corners", list(itertools.product(MODES, PADDINGS, [False, True])))
def test_grid_sample_gradients_match_jax(rng, mode, padding_mode, align_corners) -> None:
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    # Random points (never on the kinks at integer pixel positions or the clipping bounds), some
    # outside [-1, 1] and some reflected several times.
    grid = rng.uniform(-3.0, 3.0, (2, 4, 6, 2)).astype(np.float32)

    def reference(v, g):
        return reference_grid_sample(jnp, v, g, mode, padding_mode, align_corners)

    # float32 on both sides; gradients are sums of a few products: 1e-4.
    check_op(lambda v, g: F.grid_sample(v, g, mode, padding_mode, align_corners), reference, [x, grid],
             rtol=1e-5, atol=1e-5, grad_rtol=1e-4, grad_atol=1e-4, differentiable=[True, mode == "bilinear"])


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
def test_clipped_coordinates_pass_no_gradient_at_the_bounds(rng, padding_mode) -> None:
    # PyTorch's clip_coordinates_set_grad: zero gradient where the coordinate is <= 0 or >= size - 1.
    x = fg.tensor(rng.standard_normal((1, 2, 3, 4)).astype(np.float32))
    grid = fg.tensor(np.array([[[[1.0, 0.3], [-1.0, -0.2], [0.5, 1.0]]]], dtype=np.float32), requires_grad=True)
    (F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=True) * 3.0).sum().backward()
    assert grid.grad is not None
    got = grid.grad.numpy()[0, 0]
    assert got[0, 0] == 0.0 and got[1, 0] == 0.0 and got[2, 1] == 0.0
    assert np.all(np.abs([got[0, 1], got[1, 1], got[2, 0]]) > 1e-6)


def test_nearest_grid_sample_gives_the_grid_a_zero_gradient(rng) -> None:
    x = fg.tensor(rng.standard_normal((1, 2, 3, 3)).astype(np.float32), requires_grad=True)
    grid_values = rng.uniform(-1, 1, (1, 2, 2, 2)).astype(np.float32)
    grid = fg.tensor(grid_values, requires_grad=True)
    out = F.grid_sample(x, grid, mode="nearest")
    np.testing.assert_array_equal(out.detach().numpy(), F.grid_sample(x, fg.tensor(grid_values), mode="nearest").detach().numpy())
    out.sum().backward()
    assert grid.grad is not None and np.all(grid.grad.numpy() == 0) and grid.grad.shape == grid.shape
    assert x.grad is not None and float(x.grad.sum().item()) == pytest.approx(8.0)


def reference_affine_grid(theta: np.ndarray, h: int, w: int, align_corners: bool) -> np.ndarray:
    def base(steps):
        if steps == 1:
            return np.zeros(1)  # PyTorch's linspace_from_neg_one gives 0 for a single step.
        return np.linspace(-1, 1, steps) if align_corners else (np.arange(steps) * 2 + 1) / steps - 1

    xs, ys = np.meshgrid(base(w), base(h))
    points = np.stack([xs, ys, np.ones_like(xs)], -1)  # [H, W, 3]
    return np.einsum("hwk,nik->nhwi", points, theta)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("h,w", [(3, 4), (1, 5), (4, 1)])
def test_affine_grid_values_and_gradient(rng, align_corners, h, w) -> None:
    theta = rng.standard_normal((2, 2, 3)).astype(np.float32)
    got = F.affine_grid(fg.tensor(theta), (2, 5, h, w), align_corners=align_corners)
    assert got.shape == (2, h, w, 2)
    np.testing.assert_allclose(got.numpy(), reference_affine_grid(theta.astype(np.float64), h, w, align_corners),
                               rtol=1e-5, atol=1e-6)  # float32 against float64

    def jax_affine_grid(t):
        return jnp.einsum("hwk,nik->nhwi", _points(h, w, align_corners), t)

    check_op(lambda t: F.affine_grid(t, (2, 5, h, w), align_corners=align_corners), jax_affine_grid, [theta],
             rtol=1e-5, atol=1e-6)


def _points(h: int, w: int, align_corners: bool) -> np.ndarray:
    """The [H, W, 3] homogeneous base points, from the identity transform."""
    base = reference_affine_grid(np.eye(2, 3)[None], h, w, align_corners)[0]
    return np.concatenate([base, np.ones((h, w, 1))], -1).astype(np.float32)


def test_affine_grid_feeds_grid_sample_gradients_to_theta(rng) -> None:
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    theta = np.array([[[0.9, 0.2, 0.1], [-0.15, 1.1, 0.05]]], dtype=np.float32)

    def reference(v, t):
        grid = jnp.einsum("hwk,nik->nhwi", _points(4, 6, False), t)
        return reference_grid_sample(jnp, v, grid, "bilinear", "zeros", False)

    check_op(lambda v, t: F.grid_sample(v, F.affine_grid(t, (1, 2, 4, 6))), reference, [x, theta],
             rtol=1e-5, atol=1e-5, grad_rtol=1e-4, grad_atol=1e-4)


def test_affine_grid_and_grid_sample_reject_bad_arguments() -> None:
    theta = fg.zeros(2, 2, 3)
    with pytest.raises(ValueError, match=r"affine_grid: argument `theta` expected shape \[3, 2, 3\].*got \[2, 2, 3\]"):
        F.affine_grid(theta, (3, 1, 4, 4))
    with pytest.raises(ValueError, match=r"affine_grid: argument `size` expected \(N, C, H, W\).*got \(2, 4, 4\)"):
        F.affine_grid(theta, (2, 4, 4))
    with pytest.raises(NotImplementedError, match="affine_grid: volumetric grids"):
        F.affine_grid(fg.zeros(2, 3, 4), (2, 1, 4, 4, 4))
    x, grid = fg.zeros(2, 1, 4, 4), fg.zeros(2, 3, 3, 2)
    with pytest.raises(ValueError, match="grid_sample: argument `mode` expected one of .*got 'bicubic'"):
        F.grid_sample(x, grid, mode="bicubic")
    with pytest.raises(ValueError, match="grid_sample: argument `padding_mode` expected one of .*got 'wrap'"):
        F.grid_sample(x, grid, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"grid_sample: argument `input` expected shape \[N, C, H, W\].*got \[1, 4, 4\]"):
        F.grid_sample(fg.zeros(1, 4, 4), grid)
    with pytest.raises(ValueError, match=r"grid_sample: argument `grid` expected shape \[2, H_out, W_out, 2\], got "
                                         r"\[2, 3, 3, 3\]"):
        F.grid_sample(x, fg.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"grid_sample: argument `grid` expected shape \[2, .*got \[1, 3, 3, 2\]"):
        F.grid_sample(x, fg.zeros(1, 3, 3, 2))


FOLD_CASES = [
    dict(output_size=(5, 6), kernel_size=(2, 3)),
    dict(output_size=(7, 5), kernel_size=3, dilation=(2, 1), padding=(1, 2), stride=(2, 1)),
    dict(output_size=4, kernel_size=2, stride=2),
]


def reference_fold(cols: np.ndarray, output_size, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """torch.nn.functional.fold by loops: column l, row (c, i, j) adds to padded pixel
    (bh * sh + i * dh, bw * sw + j * dw), then the padding is cropped."""
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(pair, (output_size, kernel_size, dilation, padding, stride))
    n, rows, length = cols.shape
    blocks_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, rows // (kh * kw), h + 2 * ph, w + 2 * pw), dtype=np.float64)
    for row in range(rows):
        c, i, j = row // (kh * kw), row // kw % kh, row % kw
        for block in range(length):
            bh, bw = divmod(block, blocks_w)
            out[:, c, bh * sh + i * dh, bw * sw + j * dw] += cols[:, row, block]
    return out[:, :, ph:ph + h, pw:pw + w]


@pytest.mark.parametrize("case", FOLD_CASES)
def test_fold_matches_loops_and_inverts_unfold_up_to_overlap_counts(rng, case) -> None:
    h, w = (case["output_size"],) * 2 if isinstance(case["output_size"], int) else case["output_size"]
    unfold_args = {k: v for k, v in case.items() if k != "output_size"}
    x = rng.standard_normal((2, 3, h, w)).astype(np.float32)
    cols = F.unfold(fg.tensor(x), **unfold_args)
    folded = F.fold(cols, **case).numpy()
    np.testing.assert_allclose(folded, reference_fold(cols.numpy().astype(np.float64), **case), rtol=1e-5, atol=1e-5)
    counts = reference_fold(F.unfold(fg.ones(1, 1, h, w), **unfold_args).numpy(), **case)
    np.testing.assert_allclose(folded, x * counts, rtol=1e-5, atol=1e-5)
    random_cols = rng.standard_normal(cols.shape).astype(np.float32)
    np.testing.assert_allclose(F.fold(fg.tensor(random_cols), **case).numpy(), reference_fold(random_cols, **case),
                               rtol=1e-5, atol=1e-5)
    # Unbatched input: [C * kH * kW, L] -> [C, H, W].
    np.testing.assert_allclose(F.fold(fg.tensor(random_cols[0]), **case).numpy(), reference_fold(random_cols, **case)[0],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", FOLD_CASES)
def test_fold_gradient_is_unfold_of_the_upstream_gradient(rng, case) -> None:
    h, w = (case["output_size"],) * 2 if isinstance(case["output_size"], int) else case["output_size"]
    unfold_args = {k: v for k, v in case.items() if k != "output_size"}
    length = F.unfold(fg.zeros(1, 1, h, w), **unfold_args).shape[2]
    kh, kw = (case["kernel_size"],) * 2 if isinstance(case["kernel_size"], int) else case["kernel_size"]
    cols = fg.tensor(rng.standard_normal((2, 3 * kh * kw, length)).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal((2, 3, h, w)).astype(np.float32)
    (F.fold(cols, **case) * fg.tensor(upstream)).sum().backward()
    assert cols.grad is not None
    np.testing.assert_allclose(cols.grad.numpy(), F.unfold(fg.tensor(upstream), **unfold_args).numpy(), rtol=1e-6,
                               atol=1e-6)


def test_fold_layer_and_errors() -> None:
    cols = fg.ones(1, 2 * 4, 9)
    layer = nn.Fold((4, 4), 2, stride=1)
    np.testing.assert_allclose(layer(cols).numpy()[0, 0], reference_fold(np.ones((1, 8, 9)), (4, 4), 2)[0, 0])
    assert "output_size=(4, 4)" in repr(layer)
    np.testing.assert_allclose(nn.Unfold(2)(fg.ones(1, 2, 4, 4)).numpy(), F.unfold(fg.ones(1, 2, 4, 4), 2).numpy())
    with pytest.raises(ValueError, match=r"fold: argument `input` expected 9 blocks along dim -1 .*got 8"):
        F.fold(fg.ones(1, 8, 8), (4, 4), 2)
    with pytest.raises(ValueError, match=r"fold: argument `input` expected a size along dim -2 divisible by kH \* kW = "
                                         r"4, got 6"):
        F.fold(fg.ones(1, 6, 9), (4, 4), 2)
    with pytest.raises(ValueError, match=r"fold: argument `input` expected shape \[N, C \* kH \* kW, L\]"):
        F.fold(fg.ones(1, 1, 8, 9), (4, 4), 2)
    with pytest.raises(ValueError, match=r"fold: argument `stride` expected values >= 1, got \(0, 1\)"):
        F.fold(cols, (4, 4), 2, stride=(0, 1))
    with pytest.raises(ValueError, match="argument `kernel_size` expected an int or a pair of ints"):
        F.fold(cols, (4, 4), (2, 2, 2))


def cubic_matrix(n_in: int, n_out: int, align_corners: bool, factor: float | None) -> np.ndarray:
    """[n_out, n_in] weights of PyTorch's upsample_bicubic2d along one axis: source position from
    area_pixel_compute_source_index (cubic: no clamp at 0), four taps at floor - 1 .. floor + 2
    clamped to the border, weights of the cubic convolution with A = -0.75."""
    a = -0.75
    near = lambda t: ((a + 2) * t - (a + 3)) * t * t + 1  # noqa: E731
    far = lambda t: ((a * t - 5 * a) * t + 8 * a) * t - 4 * a  # noqa: E731
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        scale = 1 / factor if factor is not None else n_in / n_out
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        src = scale * o if align_corners else scale * (o + 0.5) - 0.5
        base = int(np.floor(src))
        t = src - base
        for offset, weight in zip(range(-1, 3), [far(t + 1), near(t), near(1 - t), far(2 - t)]):
            m[o, min(max(base + offset, 0), n_in - 1)] += weight
    return m


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size,scale_factor,expected", [((9, 11), None, (9, 11)), ((3, 2), None, (3, 2)),
                                                        (None, 1.7, (8, 10)), (None, (0.6, 2.0), (3, 12))])
def test_bicubic_matches_pytorch_cubic_convolution(rng, align_corners, size, scale_factor, expected) -> None:
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    factors = (scale_factor, scale_factor) if not isinstance(scale_factor, tuple) else scale_factor
    rows = cubic_matrix(5, expected[0], align_corners, factors[0])
    cols = cubic_matrix(6, expected[1], align_corners, factors[1])
    # Linear in x, so the gradient of sum(out * w) is rows^T w cols; float32 against float64: 1e-5.
    check_op(lambda v: F.interpolate(v, size=size, scale_factor=scale_factor, mode="bicubic",
                                     align_corners=align_corners),
             lambda v: jnp.einsum("oh,nchw,pw->ncop", rows, v, cols), [x], rtol=1e-5, atol=1e-5)


def test_bicubic_keeps_a_same_size_input_and_upsample_accepts_it(rng) -> None:
    x = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(F.interpolate(fg.tensor(x), size=(4, 5), mode="bicubic").numpy(), x, rtol=1e-6)
    up = nn.Upsample(scale_factor=2, mode="bicubic", align_corners=True)(fg.tensor(x))
    np.testing.assert_allclose(up.numpy()[..., ::7, ::9], x[..., ::3, ::4], rtol=1e-5, atol=1e-6)  # corners kept
    with pytest.raises(ValueError, match="interpolate: mode 'bicubic' expects 2 spatial axes"):
        F.interpolate(fg.tensor(x[:, :, 0]), scale_factor=2, mode="bicubic")
