"""``fg.set_printoptions`` / ``fg.get_printoptions``: precision, summary threshold and edge items,
line width, scientific or fixed notation and the three profiles change ``repr`` and ``str`` of
tensors (exact strings), the defaults keep ferrograd's established repr, numpy's own print options
no longer leak in, and bad options raise naming the argument without changing anything."""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import pytest

import ferrograd as fg


@pytest.fixture(autouse=True)
def default_options() -> Iterator[None]:
    fg.set_printoptions(profile="default")
    yield
    fg.set_printoptions(profile="default")


def test_defaults_and_the_established_repr() -> None:
    assert fg.get_printoptions() == {"precision": 8, "threshold": 1000, "edgeitems": 3, "linewidth": 76,
                                     "sci_mode": None}
    x = fg.tensor([1.5, -2.25, 3.0])
    assert repr(x) == "tensor([ 1.5 , -2.25,  3.  ], shape=[3], dtype=float32)" == str(x)
    assert repr(fg.tensor([1e-5, 2e9])) == "tensor([1.e-05, 2.e+09], shape=[2], dtype=float32)"
    assert repr(fg.tensor([[1.0, 2.0]], requires_grad=True) * 2) == \
        "tensor([[2., 4.]], shape=[1, 2], dtype=float32, grad_fn=mul)"
    assert repr(fg.tensor(3.0)) == "tensor(3., shape=[], dtype=float32)"


def test_precision() -> None:
    fg.set_printoptions(precision=2)
    assert repr(fg.tensor([1.123456, 2.0])) == "tensor([1.12, 2.  ], shape=[2], dtype=float32)"
    assert fg.get_printoptions()["precision"] == 2
    # Integers are unaffected.
    assert repr(fg.arange(3)) == "tensor([0, 1, 2], shape=[3], dtype=int64)"


def test_threshold_and_edgeitems_summarise() -> None:
    fg.set_printoptions(threshold=5, edgeitems=2)
    assert repr(fg.arange(10)) == "tensor([0, 1, ..., 8, 9], shape=[10], dtype=int64)"
    assert repr(fg.arange(5)) == "tensor([0, 1, 2, 3, 4], shape=[5], dtype=int64)"
    fg.set_printoptions(profile="default")
    # A summarised tensor names its shape once (numpy's own "shape=(...)" is left out).
    assert repr(fg.arange(2000).float()) == ("tensor([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n"
                                             "        1.999e+03], shape=[2000], dtype=float32)")
    assert repr(fg.zeros(2, 0)) == "tensor([], shape=[2, 0], dtype=float32)"


def test_linewidth_bounds_every_line_of_values() -> None:
    fg.set_printoptions(linewidth=20)
    assert repr(fg.arange(12)) == ("tensor([ 0,  1,  2,\n"
                                   "         3,  4,  5,\n"
                                   "         6,  7,  8,\n"
                                   "         9, 10, 11], shape=[12], dtype=int64)")
    for width in (30, 50, 76):
        fg.set_printoptions(linewidth=width)
        lines = repr(fg.arange(300).reshape(3, 100)).split("\n")
        assert max(len(line) for line in lines[:-1]) <= width < max(len(line) for line in lines[:-1]) + 5


def test_sci_mode() -> None:
    z = fg.tensor([0.001, 12.5, -300.0])
    fg.set_printoptions(sci_mode=True, precision=2)
    assert repr(z) == "tensor([ 1.00e-03,  1.25e+01, -3.00e+02], shape=[3], dtype=float32)"
    assert repr(z.bfloat16()) == "tensor([ 9.99e-04,  1.25e+01, -3.00e+02], shape=[3], dtype=bfloat16)"
    assert repr(fg.tensor([1.0, math.nan, -math.inf])) == \
        "tensor([1.00e+00,      nan,     -inf], shape=[3], dtype=float32)"
    assert repr(fg.tensor(3.0)) == "tensor(3.00e+00, shape=[], dtype=float32)"
    fg.set_printoptions(sci_mode=False, precision=3)
    assert repr(fg.tensor([1e-5, 2e9])) == "tensor([         0.000, 2000000000.000], shape=[2], dtype=float32)"
    assert repr(fg.tensor([1.0, -2.5])) == "tensor([ 1.000, -2.500], shape=[2], dtype=float32)"
    # As in PyTorch, a call without sci_mode sets it back to automatic.
    fg.set_printoptions(precision=3)
    assert fg.get_printoptions()["sci_mode"] is None
    assert repr(fg.tensor([1e-5, 2e9])) == "tensor([1.e-05, 2.e+09], shape=[2], dtype=float32)"


def test_profiles() -> None:
    fg.set_printoptions(profile="short")
    assert fg.get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 76,
                                     "sci_mode": None}
    assert repr(fg.tensor([3.14159, 2.71828])) == "tensor([3.14, 2.72], shape=[2], dtype=float32)"
    assert repr(fg.arange(2000)) == "tensor([   0,    1, ..., 1998, 1999], shape=[2000], dtype=int64)"
    fg.set_printoptions(profile="full")
    assert fg.get_printoptions()["threshold"] == math.inf
    full = repr(fg.arange(2000))
    assert "..." not in full and full.count(",") == 1999 + 2
    # Arguments given with a profile override it.
    fg.set_printoptions(profile="short", precision=5)
    assert fg.get_printoptions()["precision"] == 5 and fg.get_printoptions()["edgeitems"] == 2
    fg.set_printoptions(profile="default")
    assert repr(fg.tensor([3.14159, 2.71828])) == "tensor([3.14159, 2.71828], shape=[2], dtype=float32)"


def test_numpy_print_options_do_not_leak_and_are_left_alone() -> None:
    before = np.get_printoptions()
    with np.printoptions(precision=1, threshold=3, sign="+"):
        assert repr(fg.tensor([1.23456, 2.0, 3.0, 4.0])) == \
            "tensor([1.23456, 2.     , 3.     , 4.     ], shape=[4], dtype=float32)"
    fg.set_printoptions(precision=2, linewidth=30)
    repr(fg.tensor([1.23456]))
    assert np.get_printoptions() == before
    assert repr(np.array([1.23456])) == "array([1.23456])"


def test_get_printoptions_returns_a_copy() -> None:
    options = fg.get_printoptions()
    options["precision"] = 1
    assert fg.get_printoptions()["precision"] == 8


def test_bad_options_raise_naming_the_argument_and_change_nothing() -> None:
    fg.set_printoptions(precision=3)
    with pytest.raises(ValueError, match=r"set_printoptions: argument `profile` expected one of \['default', 'full', "
                                         r"'short'\], got 'huge'"):
        fg.set_printoptions(profile="huge")
    with pytest.raises(ValueError, match=r"argument `precision` expected an int >= 0, got -1"):
        fg.set_printoptions(precision=-1)
    with pytest.raises(ValueError, match=r"argument `precision` expected an int >= 0, got '3'"):
        fg.set_printoptions(precision="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"argument `threshold` expected an int >= 0, got 2.5"):
        fg.set_printoptions(threshold=2.5)
    with pytest.raises(ValueError, match=r"argument `edgeitems` expected an int >= 1, got 0"):
        fg.set_printoptions(edgeitems=0)
    with pytest.raises(ValueError, match=r"argument `linewidth` expected an int >= 2, got 1"):
        fg.set_printoptions(linewidth=1)
    with pytest.raises(ValueError, match=r"argument `sci_mode` expected True, False or None, got 'yes'"):
        fg.set_printoptions(sci_mode="yes")  # type: ignore[arg-type]
    # A bad argument beside good ones changes nothing.
    with pytest.raises(ValueError, match="linewidth"):
        fg.set_printoptions(precision=6, linewidth=0)
    assert fg.get_printoptions()["precision"] == 3
