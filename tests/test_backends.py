"""``fg.backends``: PyTorch's backend switches. The cuDNN ones keep PyTorch's defaults, accept
bools only and read back what was set (``flags`` restores them); ``cuda.matmul.allow_tf32`` is
``fg.cuda.set_allow_tf32`` seen from both sides; the deterministic-algorithms mode is recorded;
and the docstrings say which settings have no effect."""

from __future__ import annotations

import inspect
import types
from typing import Iterator

import pytest

import ferrograd as fg
from ferrograd.backends import cudnn

SWITCHES = {"benchmark": False, "deterministic": False, "enabled": True, "allow_tf32": True}


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    saved = {name: getattr(cudnn, name) for name in SWITCHES}
    tf32, mode = fg.backends.cuda.matmul.allow_tf32, fg.are_deterministic_algorithms_enabled()
    yield
    for name, value in saved.items():
        setattr(cudnn, name, value)
    fg.backends.cuda.matmul.allow_tf32 = tf32
    fg.use_deterministic_algorithms(mode)


def test_cudnn_switches_default_set_and_read_back() -> None:
    assert fg.backends.cudnn is cudnn and isinstance(cudnn, types.ModuleType)
    assert {name: getattr(cudnn, name) for name in SWITCHES} == SWITCHES
    assert cudnn.is_available() is False and cudnn.version() is None
    for name, default in SWITCHES.items():
        setattr(fg.backends.cudnn, name, not default)
        assert getattr(cudnn, name) is (not default)
        setattr(cudnn, name, default)
        assert getattr(fg.backends.cudnn, name) is default


def test_cudnn_switches_take_bools_only() -> None:
    for name in SWITCHES:
        with pytest.raises(TypeError, match=rf"backends.cudnn.{name}: expected a bool, got 'yes' \(str\)"):
            setattr(cudnn, name, "yes")
        with pytest.raises(TypeError, match=rf"backends.cudnn.{name}: expected a bool, got 1 \(int\)"):
            setattr(cudnn, name, 1)
    assert {name: getattr(cudnn, name) for name in SWITCHES} == SWITCHES


def test_flags_sets_and_restores() -> None:
    cudnn.benchmark = True
    with cudnn.flags(enabled=False, benchmark=False, deterministic=True):
        assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (False, False, True, True)
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, True, False)
    with pytest.raises(RuntimeError):
        with cudnn.flags(deterministic=True):
            raise RuntimeError("inside")
    assert cudnn.deterministic is False
    with pytest.raises(TypeError, match=r"backends.cudnn.benchmark: expected a bool, got None"):
        with cudnn.flags(benchmark=None):  # type: ignore[arg-type]
            pass


def test_matmul_allow_tf32_is_the_cuda_switch() -> None:
    matmul = fg.backends.cuda.matmul
    assert matmul.allow_tf32 is False
    matmul.allow_tf32 = True
    assert matmul.allow_tf32 is True and fg.cuda._allow_tf32 is True
    fg.cuda.set_allow_tf32(False)
    assert matmul.allow_tf32 is False
    with pytest.raises(TypeError, match=r"backends.cuda.matmul.allow_tf32: expected a bool, got 'on' \(str\)"):
        matmul.allow_tf32 = "on"  # type: ignore[assignment]
    assert repr(matmul) == "ferrograd.backends.cuda.matmul(allow_tf32=False)"


def test_deterministic_algorithms_mode_is_recorded() -> None:
    assert fg.are_deterministic_algorithms_enabled() is False
    assert fg.backends.is_deterministic_algorithms_warn_only_enabled() is False
    fg.use_deterministic_algorithms(True, warn_only=True)
    assert fg.are_deterministic_algorithms_enabled() is True
    assert fg.backends.is_deterministic_algorithms_warn_only_enabled() is True
    fg.use_deterministic_algorithms(False)
    assert fg.are_deterministic_algorithms_enabled() is False
    with pytest.raises(TypeError, match=r"use_deterministic_algorithms: argument `mode` expected a bool, got 'on'"):
        fg.use_deterministic_algorithms("on")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"argument `warn_only` expected a bool, got 1 \(int\)"):
        fg.use_deterministic_algorithms(True, warn_only=1)  # type: ignore[arg-type]
    assert fg.are_deterministic_algorithms_enabled() is False


def test_results_do_not_depend_on_the_cudnn_switches() -> None:
    fg.manual_seed(0)
    x, w = fg.randn(2, 3, 8, 8), fg.randn(4, 3, 3, 3)
    plain = fg.functional.conv2d(x, w).numpy()
    for name, default in SWITCHES.items():
        setattr(cudnn, name, not default)
    fg.use_deterministic_algorithms(True)
    assert (fg.functional.conv2d(x, w).numpy() == plain).all()


def test_docstrings_say_what_each_setting_does() -> None:
    for name in SWITCHES:
        doc = inspect.getdoc(getattr(type(cudnn), name))
        assert doc is not None and doc.startswith("No effect in ferrograd")
    assert "no effect" in (inspect.getdoc(fg.use_deterministic_algorithms) or "")
    assert "atomicAdd" in (inspect.getdoc(fg.use_deterministic_algorithms) or "")
    tf32_doc = inspect.getdoc(type(fg.backends.cuda.matmul).allow_tf32) or ""
    assert "TF32" in tf32_doc and "set_allow_tf32" in tf32_doc
