"""Random sampling under PyTorch's names: the in-place fills ``uniform_``, ``normal_``,
``bernoulli_``, ``exponential_``, ``geometric_``, ``log_normal_``, ``cauchy_`` and ``random_``
(Tensor methods, written in place only where no gradient depends on them, as in
``tensor_in_place``), and ``normal``, ``bernoulli``, ``poisson`` and ``multinomial``.

Every draw comes from the generator that :func:`ferrograd.manual_seed` seeds (the uniform and
normal draws of ``rand`` / ``randn``), or from the :class:`ferrograd.Generator` passed as
``generator=``, so a seed repeats the results. Samples carry no gradient:
PyTorch's gradients with respect to ``mean``, ``std`` and probabilities are zeros.
``install()`` attaches the methods to :class:`Tensor`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np

from ._core import Tensor
from ._generator import Generator, normal as _normal_draws, uniform as _uniform_draws
from ._poisson_draws import draw_poisson
from .dtypes import FLOATING_DTYPES
from .creation import _shape
from .tensor_in_place import _in_place
from .tensor_methods import _host


def _fill(self: Tensor, op: str, draw: Callable[[], Tensor]) -> Tensor:
    if self.dtype not in FLOATING_DTYPES:
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {self.dtype}")
    return _in_place(self, op, None, lambda: draw().to(self.dtype) if self.dtype != "float32" else draw())


def _check_probabilities(op: str, p: Union[Tensor, float]) -> None:
    values = _host(p) if isinstance(p, Tensor) else np.asarray(p)
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueError(f"{op}: argument `p` expected probabilities in [0, 1], got values from {values.min()} to "
                         f"{values.max()}")


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with values uniform in [a, b) (from ``generator`` when given)."""
    return _fill(self, "uniform_",
                 lambda: _uniform_draws("uniform_", generator, self.shape, float(a), float(b), device=self.device))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with normal values of mean ``mean`` and standard deviation ``std``
    (from ``generator`` when given)."""
    if std < 0:
        raise ValueError(f"normal_: argument `std` expected a value >= 0, got {std}")
    return _fill(self, "normal_",
                 lambda: _normal_draws("normal_", generator, self.shape, float(mean), float(std), device=self.device))


def bernoulli_(self: Tensor, p: Union[Tensor, float] = 0.5, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with 1 (probability ``p``, a number or a tensor broadcast to
    ``self``'s shape) or 0, from ``generator`` when given; integer and bool tensors too."""
    _check_probabilities("bernoulli_", p)
    return _in_place(self, "bernoulli_", None,
                     lambda: (_uniform_draws("bernoulli_", generator, self.shape, device=self.device) < p)
                     .to(self.dtype))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with exponential values of rate ``lambd``: ``-log(1 - u) / lambd``
    for uniform ``u`` in [0, 1)."""
    if not lambd > 0:
        raise ValueError(f"exponential_: argument `lambd` expected a value > 0, got {lambd}")
    return _fill(self, "exponential_", lambda: -(1 - _uniform_draws("exponential_", generator, self.shape,
                                                                    device=self.device)).log() / float(lambd))


def geometric_(self: Tensor, p: float, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with the number of Bernoulli(``p``) trials up to and including the
    first success (1, 2, ...): ``ceil(log(1 - u) / log(1 - p))``, at least 1."""
    if not 0 < p <= 1:
        raise ValueError(f"geometric_: argument `p` expected a probability in (0, 1], got {p}")

    def draw() -> Tensor:
        u = _uniform_draws("geometric_", generator, self.shape, device=self.device)
        if p == 1:
            return u * 0 + 1
        return ((1 - u).log() / float(np.log1p(-p))).ceil().clamp_min(1.0)
    return _in_place(self, "geometric_", None, lambda: draw().to(self.dtype))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with ``exp(N(mean, std^2))`` values (``mean`` and ``std`` are those
    of the underlying normal)."""
    if not std > 0:
        raise ValueError(f"log_normal_: argument `std` expected a value > 0, got {std}")
    return _fill(self, "log_normal_", lambda: _normal_draws("log_normal_", generator, self.shape, float(mean),
                                                            float(std), device=self.device).exp())


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with Cauchy values: ``median + sigma * tan(pi (u - 1/2))``."""
    if not sigma > 0:
        raise ValueError(f"cauchy_: argument `sigma` expected a value > 0, got {sigma}")
    return _fill(self, "cauchy_", lambda: (_uniform_draws("cauchy_", generator, self.shape, device=self.device)
                                           - 0.5).mul(float(np.pi)).tan() * float(sigma) + float(median))


def random_(self: Tensor, from_: int = 0, to: Optional[int] = None, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``self`` in place with integers uniform in ``[from_, to - 1]`` (``random_(to)`` alone
    means ``[0, to - 1]``). Without ``to`` the range ends at the dtype's largest integer, or at
    2^24 (every integer float32 holds exactly) for floating tensors."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        to = {"int64": 2 ** 63 - 1, "int32": 2 ** 31 - 1, "int8": 127, "uint8": 255}.get(self.dtype, 2 ** 24) + 1
    if to <= from_:
        raise ValueError(f"random_: expected from < to, got from={from_} and to={to}")

    def draw() -> Tensor:
        u = _uniform_draws("random_", generator, self.shape, device="cpu").numpy().astype(np.float64)
        values = np.minimum(np.floor(from_ + u * (to - from_)), to - 1)
        host = values.astype(np.int64) if self.dtype not in FLOATING_DTYPES else values.astype(np.float32)
        return Tensor.from_numpy(np.ascontiguousarray(host)).to(self.device).to(self.dtype)
    return _in_place(self, "random_", None, draw)


def bernoulli(input: Tensor, *, generator: Optional[Generator] = None) -> Tensor:
    """1 with probability ``input`` (entry by entry, each in [0, 1]) else 0, in ``input``'s
    floating dtype; drawn from ``generator`` when given."""
    if input.dtype not in FLOATING_DTYPES:
        raise TypeError(f"bernoulli: argument `input` expected a floating-point tensor, got dtype {input.dtype}")
    _check_probabilities("bernoulli", input)
    draws = _uniform_draws("bernoulli", generator, input.shape, device=input.device)
    return (draws < input.detach()).to(input.dtype)


def normal(mean: Union[Tensor, float], std: Union[Tensor, float] = 1.0, size: Any = None,
           device: Optional[str] = None, *, generator: Optional[Generator] = None) -> Tensor:
    """Normal samples with mean ``mean`` and standard deviation ``std``, each a number or a
    tensor (broadcast together; the result takes the first tensor's dtype and device); with two
    numbers, ``size`` gives the shape and ``device`` the device (default cpu). Drawn from
    ``generator`` when given."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors and (size is not None or device is not None):
        raise ValueError("normal: arguments `size` and `device` expected None when `mean` or `std` is a tensor, got "
                         f"{size} and {device}")
    if not tensors and size is None:
        raise ValueError("normal: argument `size` expected a shape when `mean` and `std` are numbers, got None")
    if any(t.dtype not in FLOATING_DTYPES for t in tensors):
        raise TypeError(f"normal: expected floating-point `mean` and `std`, got dtypes {[t.dtype for t in tensors]}")
    spread = _host(std) if isinstance(std, Tensor) else np.asarray(std)
    if spread.size and not (spread >= 0).all():
        raise ValueError(f"normal: argument `std` expected values >= 0, got a smallest value of {spread.min()}")
    shape = list(np.broadcast_shapes(*(t.shape for t in tensors))) if tensors else list(_shape((size,)))
    draws = _normal_draws("normal", generator, shape, device=tensors[0].device if tensors else device or "cpu")
    scale, shift = (v.detach().to("float32") if isinstance(v, Tensor) else float(v) for v in (std, mean))
    out = draws * scale + shift
    return out.to(tensors[0].dtype) if tensors and tensors[0].dtype != "float32" else out


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Optional[Generator] = None) -> Tensor:
    """``num_samples`` category indices (int64) drawn with probabilities proportional to the
    non-negative weights ``input`` (1-D, or 2-D with one independent distribution per row).
    With ``replacement`` each draw inverts the cumulative distribution at a uniform draw; without,
    categories are ordered by exponential races (draw / weight), the same law as drawing one at a
    time and removing it, and once the positive weights run out the zero-weight categories follow
    in order, as in PyTorch. The uniform draws come from ``generator`` when given."""
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: argument `input` expected a 1-D or 2-D tensor, got shape {list(input.shape)}")
    weights = _host(input).astype(np.float64).reshape(-1, input.shape[-1])
    if not (np.isfinite(weights) & (weights >= 0)).all() or (weights.sum(1) <= 0).any():
        raise ValueError("multinomial: argument `input` expected finite, non-negative weights with a positive sum in "
                         "each row")
    if num_samples <= 0 or (not replacement and num_samples > weights.shape[1]):
        bound = "" if replacement else f" and at most {weights.shape[1]} (the categories) without replacement"
        raise ValueError(f"multinomial: argument `num_samples` expected a count > 0{bound}, got {num_samples}")
    rows = weights.shape[0]
    if replacement:
        cdf = np.cumsum(weights, 1)
        cdf /= cdf[:, -1:]
        draws = _uniform_draws("multinomial", generator, [rows, num_samples]).numpy()
        picked = np.stack([np.searchsorted(cdf[r], draws[r], side="right") for r in range(rows)])
    else:
        uniforms = _uniform_draws("multinomial", generator, [rows, weights.shape[1]]).numpy()
        races = -np.log1p(-uniforms.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = np.where(weights > 0, races / weights, np.inf)
        picked = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = picked.astype(np.int64).reshape(list(input.shape[:-1]) + [num_samples])
    return Tensor.from_numpy(np.ascontiguousarray(out)).to(input.device)


def poisson(input: Tensor, generator: Optional[Generator] = None) -> Tensor:
    """Poisson counts with the non-negative rates ``input`` (entry by entry), in ``input``'s
    floating dtype; drawn from ``generator`` when given."""
    if input.dtype not in FLOATING_DTYPES:
        raise TypeError(f"poisson: argument `input` expected a floating-point tensor, got dtype {input.dtype}")
    rates = _host(input)
    if rates.size and not (rates >= 0).all():
        raise ValueError(f"poisson: argument `input` expected non-negative rates, got a smallest value of "
                         f"{rates.min()}")
    counts = draw_poisson("poisson", input, generator)
    return counts.to(input.dtype) if input.dtype != "float32" else counts


METHODS = (uniform_, normal_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_, random_, bernoulli,
           multinomial)


def install() -> None:
    """Attaches the in-place random fills, ``bernoulli`` and ``multinomial`` to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
