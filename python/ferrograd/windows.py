"""Window functions for spectral analysis, as ``torch.hann_window`` and its siblings: ``periodic``
windows (the default) are the symmetric window of ``window_length + 1`` points without its last,
so that they tile with the period ``window_length`` (what ``stft`` wants)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ._core import Tensor


def _window(name: str, window_length: int, periodic: bool, profile: Callable[[np.ndarray, int], np.ndarray],
            dtype: Optional[str], requires_grad: bool, device: Any) -> Tensor:
    if not isinstance(window_length, (int, np.integer)) or isinstance(window_length, bool) or window_length < 0:
        raise ValueError(f"{name}: argument `window_length` expected an integer >= 0, got {window_length!r}")
    if dtype not in (None, "float32"):
        raise TypeError(f"{name}: argument `dtype` expected float32, got {dtype!r}")
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        points = window_length + 1 if periodic else window_length
        values = profile(np.arange(points, dtype=np.float64), points)[:window_length]
    out = Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    if device is not None:
        out = out.to(device)
    out.requires_grad_(requires_grad)
    return out


def _cosine_sum(*coefficients: float) -> Callable[[np.ndarray, int], np.ndarray]:
    """``sum_k (-1)^k a_k cos(2 pi k n / (N - 1))``."""
    def profile(n: np.ndarray, points: int) -> np.ndarray:
        phase = 2 * np.pi * n / (points - 1)
        return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return profile


def hann_window(window_length: int, periodic: bool = True, *, dtype: Optional[str] = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``."""
    return _window("hann_window", window_length, periodic, _cosine_sum(0.5, 0.5), dtype, requires_grad, device)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Optional[str] = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hamming window ``alpha - beta cos(2 pi n / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, _cosine_sum(alpha, beta), dtype, requires_grad, device)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Optional[str] = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, _cosine_sum(0.42, 0.5, 0.08), dtype, requires_grad,
                   device)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Optional[str] = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """The Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``."""
    def profile(n: np.ndarray, points: int) -> np.ndarray:
        return 1 - np.abs(2 * n / (points - 1) - 1)
    return _window("bartlett_window", window_length, periodic, profile, dtype, requires_grad, device)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Optional[str] = None,
                  device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``."""
    def profile(n: np.ndarray, points: int) -> np.ndarray:
        ratio = 2 * n / (points - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, profile, dtype, requires_grad, device)
