"""Turns what users pass to fit / evaluate / predict (datasets, loaders, arrays, loss names,
loss modules, callables) into the Rust objects the loops take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

import numpy as np

from .. import _core
from .._core import DataLoader, Dataset, Tensor

if TYPE_CHECKING:
    from ..utils import data as utils_data

DataLike = Union[Dataset, DataLoader, "utils_data.Dataset", "utils_data.DataLoader", "tuple[np.ndarray, np.ndarray]",
                 np.ndarray]
LossLike = Union[str, Callable[[Tensor, Tensor], Tensor], Any]


def as_dataset(data: Any, arg: str, op: str) -> Dataset:
    """A Dataset from a Dataset, a ``TensorDataset(X, y)`` (or a ``Subset`` of one), an ``(X, y)``
    pair of arrays, or a bare ``X`` (labels zero)."""
    from ..data import from_numpy
    from ..utils.data import Dataset as PythonDataset
    from ..utils.data.native import native_dataset

    native = native_dataset(data)
    if native is not None:
        return native
    if isinstance(data, PythonDataset):
        raise TypeError(f"{op}: argument `{arg}` expected a dataset the Rust loop can read (a ferrograd Dataset, or "
                        f"a TensorDataset of float inputs and integer labels, or a Subset of one), got "
                        f"{type(data).__name__}; build one with ferrograd.data.from_numpy")
    if isinstance(data, tuple) and len(data) == 2:
        return from_numpy(np.asarray(data[0]), np.asarray(data[1]))
    if isinstance(data, np.ndarray):
        return from_numpy(data, np.zeros(len(data), dtype=np.int64), classes=["0"])
    raise TypeError(f"{op}: argument `{arg}` expected a ferrograd Dataset, a TensorDataset, a DataLoader, an (X, y) "
                    f"pair of arrays or an array, got {type(data).__name__}")


def make_loader(data: DataLike, arg: str, op: str, batch_size: int, shuffle: bool, seed: int | None,
                transforms: Sequence[Any]) -> DataLoader:
    """A DataLoader over ``data`` (a DataLoader is used as it is; a ``ferrograd.utils.data``
    loader over a dataset with a native form becomes the native loader with its batching)."""
    from ..utils.data import DataLoader as PythonDataLoader
    from ..utils.data.native import native_loader

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, PythonDataLoader):
        native = native_loader(data)
        chooser = next((name for name in ("sampler", "batch_sampler") if getattr(data, name, None) is not None), None)
        if native is None and chooser is not None:
            raise TypeError(f"{op}: argument `{arg}` expected a DataLoader without a {chooser} (the Rust loop draws "
                            f"its own order), got one with {chooser}={type(getattr(data, chooser)).__name__}")
        if native is None:
            raise TypeError(f"{op}: argument `{arg}` expected a DataLoader over a dataset the Rust loop can read (a "
                            f"ferrograd Dataset, a TensorDataset of float inputs and integer labels, or a Subset of "
                            f"one) with the default collation, got one over {type(data.dataset).__name__}")
        return native
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{op}: argument `batch_size` expected a positive int, got {batch_size!r}")
    ds = as_dataset(data, arg, op)
    return DataLoader(ds, batch_size, shuffle=shuffle, drop_last=False, seed=seed, transforms=list(transforms))


def make_objective(loss: LossLike, op: str) -> _core.Objective:
    """The Rust objective for a loss name, a loss module with a native form, or any callable."""
    if isinstance(loss, _core.Objective):
        return loss
    if isinstance(loss, str):
        if loss == "cross_entropy":
            return _core.Objective.cross_entropy()
        if loss == "nll":
            return _core.Objective.nll()
        raise ValueError(f"{op}: argument `loss` expected 'cross_entropy', 'nll', a loss module or a callable, got {loss!r}")
    native = getattr(loss, "_to_objective", None)
    if native is not None:
        return native()
    if callable(loss):
        return _core.Objective.python(loss)
    raise TypeError(f"{op}: argument `loss` expected a loss name, a loss module or a callable, got {type(loss).__name__}")


def model_device(model: Any) -> str:
    """Where the model's parameters live (``"cpu"`` for a model without parameters)."""
    for p in model.parameters():
        return str(p.device)
    return "cpu"


def check_device(device: Optional[str], op: str, model: Any = None) -> str:
    """Normalises ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``; None: where ``model`` lives) to
    ``"cpu"`` or ``"cuda:N"``, checking that a requested GPU is available."""
    if device is None:
        return model_device(model) if model is not None else "cpu"
    if device == "cpu":
        return "cpu"
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        index = device[5:] if device.startswith("cuda:") else "0"
        if not index.isdigit():
            raise ValueError(f"{op}: argument `device` expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        from .. import cuda

        if not cuda.is_available():
            raise _core.DeviceError(f"{op}: device={device!r} requested, but CUDA is not available here "
                                    f"(libraries found: {cuda.libraries()}, devices: {cuda.device_count()})")
        return f"cuda:{index}"
    raise ValueError(f"{op}: argument `device` expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")