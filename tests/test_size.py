"""``fg.Size``: ``Tensor.shape`` and ``Tensor.size()`` return a tuple subclass as ``torch.Size``,
equal to plain tuples, with ``numel()``, a ``fg.Size([...])`` repr, Size-preserving slicing and
concatenation, and accepted wherever a shape is."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ferrograd as fg


def test_shape_and_size_are_sizes_equal_to_tuples() -> None:
    t = fg.zeros(2, 3, 4)
    for shape in (t.shape, t.size()):
        assert type(shape) is fg.Size and isinstance(shape, tuple)
        assert shape == (2, 3, 4) and (2, 3, 4) == shape and shape != (2, 3) and shape != [2, 3, 4]
        assert hash(shape) == hash((2, 3, 4)) and {shape: 1}[(2, 3, 4)] == 1
    assert t.size(1) == 3 and t.size(-1) == 4 and type(t.size(0)) is int
    assert type(t.shape[0]) is int and t.shape[-1] == 4
    assert fg.tensor(5.0).shape == () and fg.tensor(5.0).shape.numel() == 1
    a, b, c = t.shape
    assert (a, b, c) == (2, 3, 4)


def test_numel_repr_slicing_and_arithmetic() -> None:
    s = fg.Size([2, 3, 4])
    assert s.numel() == 24 and fg.Size([]).numel() == 1 and fg.Size([5, 0]).numel() == 0
    assert repr(s) == "fg.Size([2, 3, 4])" and str(s) == "fg.Size([2, 3, 4])" and repr(fg.Size()) == "fg.Size([])"
    assert type(s[1:]) is fg.Size and s[1:] == (3, 4) and repr(s[::-1]) == "fg.Size([4, 3, 2])"
    for joined in (s + (5,), (1,) + s, s + fg.Size([6]), s * 2, 2 * s):
        assert type(joined) is fg.Size
    assert s + (5,) == (2, 3, 4, 5) and (1,) + s == (1, 2, 3, 4) and s * 2 == (2, 3, 4, 2, 3, 4)
    assert fg.Size(np.array([2, 3])) == (2, 3) and type(fg.Size(np.array([2, 3]))[0]) is int
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is fg.Size
    with pytest.raises(TypeError):
        s + [5]  # type: ignore[operator]


def test_bad_sizes_raise_naming_the_argument() -> None:
    with pytest.raises(TypeError, match=r"Size: argument `sizes` expected ints, got 2.5 \(float\) in \[1, 2.5\]"):
        fg.Size([1, 2.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"Size: argument `sizes` expected an iterable of ints, got '23'"):
        fg.Size("23")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Size: argument `sizes` expected an iterable of ints, got 3"):
        fg.Size(3)  # type: ignore[arg-type]


def test_a_size_is_accepted_wherever_a_shape_is() -> None:
    t = fg.arange(6).reshape(2, 3).float()
    other = fg.zeros(4, 2, 3)
    assert fg.zeros(t.shape).shape == (2, 3) and fg.ones(fg.Size([3])).tolist() == [1, 1, 1]
    assert fg.full(t.shape, 2.0).tolist() == [[2, 2, 2], [2, 2, 2]]
    assert fg.rand(t.shape).shape == (2, 3) and fg.randn(fg.Size([2, 2])).shape == (2, 2)
    assert t.reshape(t.shape).tolist() == t.tolist()
    assert t.view(fg.Size([6])).tolist() == [0, 1, 2, 3, 4, 5]
    assert t.view(fg.Size([3, 2])).shape == (3, 2) and t.reshape(fg.Size([-1])).shape == (6,)
    assert t.expand(other.shape).shape == (4, 2, 3) and t.expand(other.shape)[3].tolist() == t.tolist()
    assert fg.zeros(*t.shape).shape == (2, 3) and np.zeros(t.shape).shape == (2, 3)
    assert fg.randint(0, 5, t.shape).shape == (2, 3) and fg.empty(t.shape).shape == (2, 3)
    assert fg.zeros_like(t).shape == t.shape and t.new_zeros(t.shape).shape == (2, 3)


def test_shape_getter_stays_fast() -> None:
    import timeit

    t = fg.zeros(2, 3)
    per_call = min(timeit.repeat(lambda: t.shape, number=20000, repeat=5)) / 20000
    # About 0.3 µs on a loaded 2-core machine; 5 µs would mean a regression such as validating
    # every size in Python.
    assert per_call < 5e-6
