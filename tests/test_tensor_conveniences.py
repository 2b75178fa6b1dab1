"""PyTorch spellings a notebook meets first: dtype and device names, ``max``/``min`` results with
``values``/``indices``, ``unique``, ``bincount``, ``repeat_interleave``, masked assignment,
``as_tensor``, ``F.normalize`` / ``F.cosine_similarity``, ``nn.ModuleDict``, ``nn.Dropout2d``,
``nn.Unflatten`` and ``nn.utils.clip_grad_norm_``; values against numpy, gradients against analytic
values or float64 central differences."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F


def test_dtype_and_device_names() -> None:
    assert (fg.float32, fg.float, fg.half, fg.bfloat16) == ("float32", "float32", "float16", "bfloat16")
    assert (fg.int64, fg.long, fg.int, fg.int32, fg.uint8, fg.bool) == ("int64", "int64", "int32", "int32", "uint8",
                                                                          "bool")
    assert fg.zeros(3, dtype=fg.int64).dtype == fg.int64
    x = fg.ones(2, 3)
    assert x.dtype == fg.float32 and x.to(fg.float16).dtype == fg.half
    with pytest.raises(AttributeError, match="no attribute 'float64'"):
        fg.float64  # noqa: B018
    d = fg.device("cuda:1")
    assert (d.type, d.index, d == "cuda:1", repr(d)) == ("cuda", 1, True, "device(type='cuda', index=1)")
    assert fg.device("cuda").index is None and fg.device("cuda", 0) == "cuda:0"
    with pytest.raises(ValueError, match="argument `name` expected 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        fg.device("gpu")
    assert x.device == "cpu" and x.device.type == "cpu" and isinstance(x.device, fg.device)
    assert not x.is_cuda and x.to(fg.device("cpu")).device == "cpu"
    w = fg.tensor(np.arange(3.0, dtype=np.float32), requires_grad=True)
    assert not w.data.requires_grad and w.data.tolist() == [0.0, 1.0, 2.0]


def test_max_and_min_along_a_dim_name_their_values_and_indices() -> None:
    a = np.array([[3.0, 7.0, 7.0], [-1.0, -5.0, 2.0]], dtype=np.float32)
    x = fg.tensor(a)
    best = x.max(dim=1)
    assert best.values.tolist() == a.max(1).tolist() and best.indices.tolist() == [1, 2]
    values, indices = x.min(0, keepdim=True)
    assert values.tolist() == a.min(0, keepdims=True).tolist() and indices.tolist() == [[1, 1, 1]]
    assert x.max().item() == 7.0 and fg.max(x, 1).indices.tolist() == [1, 2]


def test_unique_bincount_and_repeat_interleave_match_numpy() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 6, (4, 5))
    t = fg.tensor(a)
    distinct, inverse, counts = t.unique(return_inverse=True, return_counts=True)
    want = np.unique(a, return_inverse=True, return_counts=True)
    assert distinct.tolist() == want[0].tolist() and counts.tolist() == want[2].tolist()
    assert inverse.shape == (4, 5) and inverse.tolist() == want[1].reshape(4, 5).tolist()
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    assert fg.tensor(rows).unique(dim=0).tolist() == [[0, 1], [1, 2]]
    labels = fg.tensor(np.array([0, 2, 2, 5]))
    assert labels.bincount().tolist() == [1, 0, 2, 0, 0, 1]
    assert labels.bincount(minlength=8).tolist() == np.bincount([0, 2, 2, 5], minlength=8).tolist()
    weighted = labels.bincount(fg.tensor(np.array([0.5, 1.0, 2.0, 4.0], np.float32)))
    assert weighted.dtype == "float32" and weighted.tolist() == [0.5, 0.0, 3.0, 0.0, 0.0, 4.0]
    with pytest.raises(ValueError, match="bincount: expected non-negative integers, got -1"):
        fg.tensor(np.array([1, -1])).bincount()
    with pytest.raises(ValueError, match="bincount: expected a 1-D tensor of non-negative integers"):
        fg.ones(3).bincount()
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = fg.tensor(b, requires_grad=True)
    flat = x.repeat_interleave(2)
    assert flat.tolist() == np.repeat(b, 2).tolist()
    per_column = x.repeat_interleave(fg.tensor(np.array([1, 0, 3])), dim=1)
    assert per_column.tolist() == np.repeat(b, [1, 0, 3], axis=1).tolist()
    per_column.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 3.0]] * 2  # each entry gets one gradient per copy
    with pytest.raises(ValueError, match="argument `repeats` expected a non-negative integer or 3 of them"):
        x.repeat_interleave(fg.tensor(np.array([1, 2])), dim=1)


def test_masked_assignment_writes_where_the_mask_holds() -> None:
    a = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    x = fg.tensor(a)
    x[x < 0] = 0.0
    assert x.tolist() == np.where(a < 0, 0, a).tolist()
    labels = fg.tensor(np.array([0, 3, 0, 1]))
    labels[labels == 0] = 7
    assert labels.dtype == "int64" and labels.tolist() == [7, 3, 7, 1]
    y = fg.tensor(a.copy())
    y[fg.tensor(np.array([True, False]))] = fg.tensor(np.array([10.0, 20.0], np.float32))  # rows, broadcast
    assert y.tolist() == [[10.0, 20.0], [3.0, -4.0]]
    with pytest.raises(ValueError, match="broadcast to one selected entry's shape \\[2\\], got shape \\[1, 2\\]"):
        y[fg.tensor(np.array([True, False]))] = fg.ones(1, 2)
    with pytest.raises(IndexError, match="mask shape \\[3\\] for a tensor of shape \\[2, 2\\]"):
        y[fg.tensor(np.array([True, False, True]))] = 1.0
    w = fg.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad cannot be modified in place"):
        w[w < 0] = 0.0
    with fg.no_grad():
        w[w < 0] = 0.0
    assert w.tolist() == np.where(a < 0, 0, a).tolist()


def test_as_tensor_keeps_tensors_and_converts_the_rest() -> None:
    x = fg.ones(3)
    assert fg.as_tensor(x) is x and fg.as_tensor(x, dtype=fg.float32) is x
    assert fg.as_tensor(x, dtype=fg.int64).dtype == "int64"
    assert fg.as_tensor([1, 2]).dtype == "int64" and fg.as_tensor(np.ones(2), device="cpu").dtype == "float32"


def _central_difference(f, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def test_normalize_and_cosine_similarity_match_their_formulas() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 4))
    a[1] = 0.0  # a zero vector stays zero rather than NaN
    weights = rng.standard_normal((3, 4))
    x = fg.tensor(a.astype(np.float32), requires_grad=True)
    out = F.normalize(x, dim=1)
    want = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-6, atol=1e-7)
    (out * fg.tensor(weights.astype(np.float32))).sum().backward()

    def normalised(v: np.ndarray) -> float:
        return float((v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) * weights)[[0, 2]].sum())

    np.testing.assert_allclose(x.grad.numpy()[[0, 2]], _central_difference(normalised, a)[[0, 2]], rtol=1e-4,
                               atol=1e-5)
    b = rng.standard_normal((3, 4))
    u, v = fg.tensor(a.astype(np.float32), requires_grad=True), fg.tensor(b.astype(np.float32))
    cos = F.cosine_similarity(u, v)
    dots, norms = (a * b).sum(1), np.sqrt(np.maximum((a * a).sum(1) * (b * b).sum(1), 1e-16))
    np.testing.assert_allclose(cos.detach().numpy(), dots / norms, rtol=1e-6, atol=1e-7)
    cos.sum().backward()

    def cosines(p: np.ndarray) -> float:
        return float(((p * b).sum(1) / np.sqrt(np.maximum((p * p).sum(1) * (b * b).sum(1), 1e-16))).sum())

    # Rows 0 and 2 (at the zero row the clamp makes the slope b / eps, far from any difference).
    np.testing.assert_allclose(u.grad.numpy()[[0, 2]], _central_difference(cosines, a)[[0, 2]], rtol=1e-4, atol=1e-5)


def test_module_dict_registers_its_modules_under_their_keys() -> None:
    heads = fg.nn.ModuleDict({"cls": fg.nn.Linear(4, 3), "box": fg.nn.Linear(4, 2, bias=False)})
    heads["aux"] = fg.nn.Linear(4, 1)
    assert list(heads) == ["cls", "box", "aux"] and "box" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "box.weight", "aux.weight", "aux.bias"]
    assert sum(p.numel() for p in heads.parameters()) == 12 + 3 + 8 + 4 + 1
    assert heads["box"](fg.ones(2, 4)).shape == (2, 2)
    del heads["aux"]
    assert list(heads.keys()) == ["cls", "box"]
    with pytest.raises(KeyError, match="without '.'"):
        heads["a.b"] = fg.nn.Linear(1, 1)
    with pytest.raises(TypeError, match="values must be Modules, got int"):
        heads["c"] = 3  # type: ignore[assignment]


def test_dropout2d_zeroes_whole_planes_and_unflatten_inverts_flatten() -> None:
    fg.manual_seed(0)
    x = fg.ones(64, 16, 3, 3)
    drop = fg.nn.Dropout2d(0.25)
    y = drop(x).numpy()
    per_plane = y.reshape(64, 16, 9)
    assert ((per_plane == 0).all(2) | (per_plane == np.float32(1 / 0.75)).all(2)).all()  # whole planes
    dropped = (per_plane == 0).all(2).mean()
    assert 0.18 < dropped < 0.32, dropped  # 1,024 planes at p = 0.25
    fg.manual_seed(0)
    np.testing.assert_array_equal(drop(x).numpy(), y)
    assert drop.eval()(x) is x
    with pytest.raises(ValueError, match="Dropout2d: expected a \\[N, C, H, W\\] or \\[C, H, W\\] input"):
        drop.train()(fg.ones(2, 3))
    z = fg.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    flat = fg.nn.Flatten()(z)
    assert fg.nn.Unflatten(1, (3, 4))(flat).tolist() == z.tolist()
    assert fg.nn.Unflatten(-1, (2, 2))(z).shape == (2, 3, 2, 2)
    assert fg.nn.utils.clip_grad_norm_ is fg.optim.clip_grad_norm_


def test_median_adaptive_max_pooling_and_pixel_shuffle_match_numpy() -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 6)).astype(np.float32)
    x = fg.tensor(a, requires_grad=True)
    lower = np.sort(a, 1)[:, 2]  # entry (6 - 1) // 2 of each sorted row
    values, indices = x.median(1)
    assert values.tolist() == lower.tolist() and a[np.arange(3), indices.numpy()].tolist() == lower.tolist()
    values.sum().backward()
    assert x.grad.numpy().sum() == 3.0 and (x.grad.numpy()[np.arange(3), indices.numpy()] == 1.0).all()
    assert fg.tensor(a).median().item() == np.sort(a.ravel())[(a.size - 1) // 2]
    assert x.median(0, keepdim=True).values.shape == (1, 6)
    images = rng.standard_normal((2, 3, 7, 10)).astype(np.float32)
    t = fg.tensor(images)
    for out in [(3, 4), (1, 1), (7, 5), (2, None)]:
        oh, ow = out[0], out[1] if out[1] is not None else 10
        want = np.empty((2, 3, oh, ow), np.float32)
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * 7 // oh, -(-(i + 1) * 7 // oh))
                cols = slice(j * 10 // ow, -(-(j + 1) * 10 // ow))
                want[:, :, i, j] = images[:, :, rows, cols].max(axis=(2, 3))
        np.testing.assert_array_equal(fg.nn.AdaptiveMaxPool2d(out)(t).numpy(), want)
    shuffled = fg.nn.PixelShuffle(2)(fg.tensor(np.arange(32, dtype=np.float32).reshape(1, 8, 2, 2)))
    source = np.arange(32).reshape(1, 8, 2, 2)
    block = np.empty((1, 2, 4, 4), np.int64)  # out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]
    for c, h, w, i, j in np.ndindex(2, 2, 2, 2, 2):
        block[0, c, h * 2 + i, w * 2 + j] = source[0, c * 4 + i * 2 + j, h, w]
    assert shuffled.shape == (1, 2, 4, 4) and shuffled.tolist() == block.tolist()
    assert fg.nn.PixelUnshuffle(2)(shuffled).tolist() == np.arange(32).reshape(1, 8, 2, 2).tolist()
    with pytest.raises(ValueError, match="pixel_shuffle: expected a \\[\\*, C \\* 2\\^2, H, W\\] input"):
        F.pixel_shuffle(fg.ones(1, 3, 2, 2), 2)


def test_list_indices_pick_positions_or_mask() -> None:
    v = fg.arange(12.0).reshape(3, 4)
    expected = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(v[[2, 0, -1]].numpy(), expected[[2, 0, -1]])
    np.testing.assert_array_equal(v[[True, False, True]].numpy(), expected[[True, False, True]])
    np.testing.assert_array_equal(v[:, [3, 0]].numpy(), expected[:, [3, 0]])
    assert v[[]].shape == (0, 4)
    labels = fg.tensor([4, 7, 9])
    assert labels[[2, 0]].tolist() == [9, 4]
    w = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w[[0, 0, 2]].sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 1.0]
    with pytest.raises(IndexError, match="a list index must hold only integers or only bools"):
        v[[0, "a"]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        v[[3]]


def test_backward_keeps_the_graph_and_records_it_with_create_graph() -> None:
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad = None
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.tolist() == [3.0, 12.0]
    (second,) = fg.autograd.grad(x.grad.sum(), x)
    assert second.tolist() == [6.0, 12.0]
