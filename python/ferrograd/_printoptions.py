"""``set_printoptions`` / ``get_printoptions``: how ``repr(tensor)`` and ``str(tensor)`` print
values, as in PyTorch.

The compiled ``Tensor.__repr__`` formats the values with numpy's array printing and appends the
shape, dtype, device and autograd suffix. The wrapper installed here runs it under
``np.printoptions`` built from these options, so the options apply to tensors only, and numpy
settings a user made for arrays no longer leak into tensor reprs.

The defaults are the look ferrograd's repr always had (numpy's defaults: up to 8 digits, a summary
beyond 1000 entries with 3 at each edge, 76 characters a line), not PyTorch's 4 digits and 80
characters.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, Optional, Union

import numpy as np

from ._core import Tensor

_DEFAULTS: dict[str, Any] = {"precision": 8, "threshold": 1000, "edgeitems": 3, "linewidth": 76, "sci_mode": None}
# PyTorch's profiles, on ferrograd's defaults: "short" as PyTorch's (2 digits, 2 edge items),
# "full" never summarises.
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "short": {"precision": 2, "edgeitems": 2},
    "full": {"threshold": math.inf},
}
_options: dict[str, Any] = dict(_DEFAULTS)


def _count(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"set_printoptions: argument `{name}` expected an int >= {least}, got {value!r}")
    return int(value)


def set_printoptions(precision: Optional[int] = None, threshold: Optional[Union[int, float]] = None,
                     edgeitems: Optional[int] = None, linewidth: Optional[int] = None,
                     profile: Optional[str] = None, sci_mode: Optional[bool] = None) -> None:
    """Sets how tensors print, as ``torch.set_printoptions``; arguments left None keep their value.

    - ``precision``: digits after the decimal point (floating values print with at most this many,
      trailing zeros dropped, as numpy prints; default 8).
    - ``threshold``: a tensor with more entries than this prints as a summary (default 1000;
      ``math.inf`` never summarises).
    - ``edgeitems``: entries shown at each end of every summarised axis (default 3).
    - ``linewidth``: characters per line of values before wrapping (default 76; the shape and
      dtype suffix follows the last line).
    - ``profile``: ``"default"`` restores the defaults, ``"short"`` sets precision 2 and 2 edge
      items, ``"full"`` never summarises; given arguments then override it.
    - ``sci_mode``: True prints floating values in scientific notation, False in fixed point,
      None (the default) lets the values decide. As in PyTorch, every call sets it.
    """
    if profile is not None and profile not in _PROFILES:
        raise ValueError(f"set_printoptions: argument `profile` expected one of {sorted(_PROFILES)}, got {profile!r}")
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise ValueError(f"set_printoptions: argument `sci_mode` expected True, False or None, got {sci_mode!r}")
    updates: dict[str, Any] = {}
    if profile is not None:
        updates.update(_DEFAULTS, **_PROFILES[profile])
    if precision is not None:
        updates["precision"] = _count("precision", precision, 0)
    if threshold is not None:
        if threshold == math.inf:
            updates["threshold"] = math.inf
        else:
            updates["threshold"] = _count("threshold", threshold, 0)
    if edgeitems is not None:
        updates["edgeitems"] = _count("edgeitems", edgeitems, 1)
    if linewidth is not None:
        # Two characters: the narrowest line still holds "[" and one digit.
        updates["linewidth"] = _count("linewidth", linewidth, 2)
    updates["sci_mode"] = sci_mode
    # Every argument is checked before any option changes.
    _options.update(updates)


def get_printoptions() -> dict[str, Any]:
    """The current print options: ``precision``, ``threshold``, ``edgeitems``, ``linewidth`` and
    ``sci_mode`` (a copy; change them with :func:`set_printoptions`)."""
    return dict(_options)


def _float_formatter(values: np.ndarray, scientific: bool, precision: int) -> Callable[[Any], str]:
    """A formatter that prints every floating entry in one notation, right-aligned to the widest."""
    def fmt(x: Any) -> str:
        if scientific:
            return np.format_float_scientific(x, precision=precision, unique=False, exp_digits=2)
        return np.format_float_positional(x, precision=precision, unique=False)

    finite = values[np.isfinite(values)]
    # The widest entry is the largest or the most negative (sign and digit count grow with |x|);
    # "-inf" is the widest non-finite one.
    extremes = [fmt(finite.max()), fmt(finite.min())] if finite.size else []
    if finite.size < values.size:
        extremes.append("-inf" if np.isneginf(values).any() else "nan")
    width = max(map(len, extremes), default=0)
    return lambda x: fmt(x).rjust(width)


# The compiled class's own repr, which the version below wraps.
_REPR = Tensor.__repr__
# numpy 2.2 and later add ", shape=(...)" to a summarised array's repr, which the core would keep
# beside its own "shape=[...]"; "2.1" is the legacy mode without it (and otherwise current).
_LEGACY: Any = "2.1" if np.lib.NumpyVersion(np.__version__) >= "2.2.0" else False


def _repr(self: Tensor) -> str:
    """The tensor's values, shape, dtype, device and autograd state, printed with the options of
    :func:`ferrograd.set_printoptions`."""
    options = _options
    threshold = options["threshold"]
    numpy_options: dict[str, Any] = {
        "precision": options["precision"],
        "threshold": sys.maxsize if threshold == math.inf else threshold,
        "edgeitems": options["edgeitems"],
        # The core widens numpy's "array(" to "tensor(" by one character on every wrapped line.
        "linewidth": options["linewidth"] - 1,
        "suppress": False, "floatmode": "maxprec", "sign": "-", "nanstr": "nan", "infstr": "inf",
        "legacy": _LEGACY, "formatter": None,
    }
    if options["sci_mode"] is not None and self.dtype in ("float32", "float16", "bfloat16") and self.numel():
        host = self.detach()
        values = (host.float() if host.dtype == "bfloat16" else host).numpy()
        numpy_options["formatter"] = {
            "float_kind": _float_formatter(values, options["sci_mode"], options["precision"])}
    with np.printoptions(**numpy_options):
        out = _REPR(self)
    if not self.numel():
        # numpy writes "shape=(2, 0)" into an empty array's repr beside the core's "shape=[2, 0]".
        out = out.replace(f", shape={tuple(self.shape)!r}", "", 1)
    return out


def install() -> None:
    """Makes ``repr(tensor)`` and ``str(tensor)`` follow the print options."""
    _repr.__name__ = "__repr__"
    setattr(Tensor, "__repr__", _repr)
