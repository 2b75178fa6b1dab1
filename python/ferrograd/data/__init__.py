"""Datasets held in Rust memory, per-batch transforms and a prefetching DataLoader.

Loaders decode files once into a :class:`Dataset`: uint8 images ``[C, H, W]`` (or float32
samples, e.g. table rows ``[F]``) with int64 labels and class names, never Python lists.
:class:`DataLoader` yields ``(x float32 [B, ...], y int64 [B])`` numpy batches (or Tensors with
``as_tensors=True``), shuffled per epoch from its seed and transformed on Rust threads while the
previous batch is in use.

Missing files raise ``FileNotFoundError`` naming the path; corrupt ones raise ``ValueError``
naming the path and the problem.
"""

from __future__ import annotations

import os
from typing import Sequence, Union

import numpy as np

from .. import _core
from .._core import DataLoader, Dataset
from . import transforms

__all__ = [
    "Dataset",
    "DataLoader",
    "transforms",
    "mnist",
    "cifar10",
    "cifar100",
    "image_folder",
    "from_csv",
    "from_numpy",
]

PathLike = Union[str, "os.PathLike[str]"]
Column = Union[int, str]


def _paths(files: Sequence[PathLike] | None) -> list[str] | None:
    return None if files is None else [os.fspath(f) for f in files]


def mnist(root: PathLike, fashion: bool = False) -> tuple[Dataset, Dataset]:
    """MNIST (or Fashion-MNIST with ``fashion=True``) as ``(train, test)``.

    ``root`` holds the standard IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each gzipped (``.gz``) or raw.
    Images are uint8 ``[1, 28, 28]``.
    """
    return _core.mnist(os.fspath(root), fashion)


def cifar10(
    root: PathLike,
    train_files: Sequence[PathLike] | None = None,
    test_files: Sequence[PathLike] | None = None,
) -> tuple[Dataset, Dataset]:
    """CIFAR-10 as ``(train, test)`` with uint8 images ``[3, 32, 32]``.

    File rule: by default the training batches are the files of ``root`` named ``data_batch_*``
    and the test batches those named ``test_batch*`` that either have no extension (the python
    version's pickles) or end in ``.bin`` (the binary version's records), in name order. This finds
    ``data_batch_1`` .. ``data_batch_5`` / ``test_batch``, their ``.bin`` twins, and subsets such
    as ``data_batch_1_first4000.bin``. ``train_files`` / ``test_files`` (paths relative to
    ``root`` or absolute) replace either list; a file ending in ``.bin`` is read as binary records,
    any other as a pickle. Class names come from ``batches.meta.txt`` or ``batches.meta``.
    """
    return _core.cifar10(os.fspath(root), _paths(train_files), _paths(test_files))


def cifar100(
    root: PathLike,
    coarse: bool = False,
    train_files: Sequence[PathLike] | None = None,
    test_files: Sequence[PathLike] | None = None,
) -> tuple[Dataset, Dataset]:
    """CIFAR-100 as ``(train, test)``: the 100 fine labels, or the 20 coarse ones with ``coarse=True``.

    By default the batches are ``train.bin`` / ``test.bin`` (binary version) or ``train`` /
    ``test`` (python version) in ``root``; names come from ``fine_label_names.txt`` /
    ``coarse_label_names.txt`` or the pickled ``meta``. ``train_files`` / ``test_files`` work as in
    :func:`cifar10`.
    """
    return _core.cifar100(os.fspath(root), coarse, _paths(train_files), _paths(test_files))


def image_folder(root: PathLike, size: int) -> Dataset:
    """Images from ``root/<class>/<file>``: one sub-folder per class (classes sorted by name).

    ``.png``, ``.jpg`` and ``.jpeg`` files are decoded in parallel to RGB, resized so that the
    shorter side is ``size`` (bilinear) and center-cropped: uint8 ``[3, size, size]``.
    """
    return _core.image_folder(os.fspath(root), int(size))


def from_csv(
    path: PathLike,
    label: Column,
    features: Sequence[Column] | None = None,
    sep: str | None = None,
    header: bool = True,
    missing: str = "error",
) -> Dataset:
    """A table as float32 feature rows ``[F]`` with labels from the column ``label``.

    Columns are header names or 0-based positions (positions only when ``header=False``).
    ``features`` defaults to every other column, all of which must be numeric. ``sep`` defaults to a
    tab for ``.tsv`` files, else the most frequent of ``,``, tab and ``;`` in the first line; fields
    are trimmed. Missing values (empty or ``?``) raise ``ValueError`` with ``missing="error"`` or
    drop their row with ``missing="drop"``. ``classes`` are the sorted distinct label values
    (numerically sorted when all are numbers) and labels are their positions.
    """
    cols = None if features is None else list(features)
    return _core.from_csv(os.fspath(path), label, cols, sep, header, missing)


def from_numpy(X: np.ndarray, y: np.ndarray, classes: Sequence[str] | None = None) -> Dataset:
    """A dataset copied from arrays: ``X`` of shape ``[N, F]`` (table), ``[N, H, W]`` (grey images,
    given a channel axis) or ``[N, C, H, W]``, uint8 (scaled to [0, 1] when batched) or float
    (stored as float32, batched as is); ``y`` integer labels ``[N]`` in ``0..len(classes)``.
    ``classes`` defaults to ``["0", ..., str(max(y))]``.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim not in (2, 3, 4):
        raise ValueError(f"from_numpy: argument `X` expected shape [N, F], [N, H, W] or [N, C, H, W], got {X.shape}")
    if X.dtype != np.uint8 and X.dtype.kind != "f":
        raise TypeError(f"from_numpy: argument `X` expected a uint8 or float array, got dtype {X.dtype}")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise TypeError(f"from_numpy: argument `y` expected a 1-D integer array, got dtype {y.dtype} and shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(f"from_numpy: X has {len(X)} samples but y has {len(y)} labels")
    if X.ndim == 3:
        X = X[:, None]
    if X.dtype != np.uint8:
        X = X.astype(np.float32)
    if classes is None:
        classes = [str(k) for k in range(int(y.max()) + 1)] if len(y) else []
    return _core.dataset_from_numpy(np.ascontiguousarray(X), y.astype(np.int64), list(classes))
