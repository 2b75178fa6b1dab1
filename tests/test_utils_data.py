"""``ferrograd.utils.data``: PyTorch's datasets and loader. Batches cover every sample once in the
seeded order, collation matches PyTorch's rules, splits follow PyTorch's sizes, ``fit`` reads a
TensorDataset exactly as the native dataset of the same arrays, and a Python training loop over
the loader learns MNIST."""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterator

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.utils.data import (ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, TensorDataset,
                                  default_collate, random_split)


def test_tensor_dataset_rows_and_checks() -> None:
    ds = TensorDataset(fg.arange(12).reshape(6, 2), np.arange(6, dtype=np.float32))
    assert len(ds) == 6
    row, value = ds[4]
    assert row.tolist() == [8, 9] and value.item() == 4.0
    with pytest.raises(ValueError, match=r"same first dimension, got shapes \[\[3\], \[4\]\]"):
        TensorDataset(fg.zeros(3), fg.zeros(4))
    with pytest.raises(TypeError, match="TensorDataset: argument 1 expected a Tensor or a numpy array, got list"):
        TensorDataset(fg.zeros(3), [1, 2, 3])


def test_loader_batches_cover_every_sample_once_in_the_seeded_order() -> None:
    ds = TensorDataset(fg.arange(10), fg.arange(10) * 10)
    plain = [b[0].tolist() for b in DataLoader(ds, batch_size=4)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert (len(DataLoader(ds, batch_size=4)), len(DataLoader(ds, batch_size=4, drop_last=True))) == (3, 2)
    loader = DataLoader(ds, batch_size=3, shuffle=True)
    fg.manual_seed(7)
    first = [x.tolist() for x, _ in loader]
    second = [x.tolist() for x, _ in loader]
    fg.manual_seed(7)
    assert [x.tolist() for x, _ in loader] == first
    assert sorted(sum(first, [])) == list(range(10)) and first != second
    for x, y in loader:
        assert (y == x * 10).all().item()
    singles = list(DataLoader(ds, batch_size=None))
    assert len(singles) == 10 and singles[3][1].item() == 30


def test_default_collate_follows_pytorch_rules() -> None:
    ints_and_floats = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(ints_and_floats, list)
    assert ints_and_floats[0].dtype == "int64" and ints_and_floats[0].tolist() == [1, 3]
    assert ints_and_floats[1].dtype == "float32" and ints_and_floats[1].tolist() == [2.0, 4.0]
    batch = default_collate([{"a": np.zeros(2), "b": "x"}, {"a": np.ones(2), "b": "y"}])
    assert batch["b"] == ["x", "y"] and batch["a"].shape == (2, 2) and batch["a"].tolist() == [[0, 0], [1, 1]]
    Pair = namedtuple("Pair", "image label")
    pair = default_collate([Pair(fg.ones(2), 0), Pair(fg.zeros(2), 1)])
    assert isinstance(pair, Pair) and pair.image.shape == (2, 2) and pair.label.tolist() == [0, 1]
    with pytest.raises(ValueError, match="same number of fields, got \\[1, 2\\]"):
        default_collate([(1,), (1, 2)])
    with pytest.raises(TypeError, match="default_collate: samples expected tensors.*got object"):
        default_collate([object()])


def test_random_split_sizes_and_seeds() -> None:
    sizes = [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34])]
    assert sizes == [4, 3, 3]
    assert [len(s) for s in random_split(range(11), [0.5, 0.5])] == [6, 5]
    a, b = random_split(range(20), [15, 5], seed=1)
    assert sorted(a.indices + b.indices) == list(range(20))
    assert random_split(range(20), [15, 5], seed=1)[0].indices == a.indices
    fg.manual_seed(0)
    state = fg.get_rng_state()
    random_split(range(20), [10, 10], seed=5)
    assert fg.get_rng_state() == state
    with pytest.raises(ValueError, match=r"counts summing to the dataset's length 10 or fractions summing to 1, got "
                                         r"\[3, 3\]"):
        random_split(range(10), [3, 3])


def test_subset_concat_and_python_datasets() -> None:
    class Squares(Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int) -> Any:
            return {"x": np.float32(i), "y": i * i}

    joined = Squares() + Subset(Squares(), [4, 0])
    assert isinstance(joined, ConcatDataset) and len(joined) == 7 and joined[5]["y"] == 16 and joined[-1]["y"] == 0
    batches = list(DataLoader(joined, batch_size=4))
    assert batches[0]["y"].tolist() == [0, 1, 4, 9] and batches[1]["x"].tolist() == [4.0, 16.0 ** 0.5, 0.0]
    summed = list(DataLoader(Squares(), batch_size=2, collate_fn=lambda items: sum(d["y"] for d in items)))
    assert summed == [1, 13, 16]
    with pytest.raises(IndexError, match=r"Subset: argument `indices` expected positions in \[-5, 4\], got 5"):
        Subset(Squares(), [5])

    class Stream(IterableDataset):
        def __iter__(self) -> Iterator[Any]:
            return iter([(i, float(i)) for i in range(5)])

    assert [b[0].tolist() for b in DataLoader(Stream(), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert len(list(DataLoader(Stream(), batch_size=2, drop_last=True))) == 2
    with pytest.raises(ValueError, match="argument `shuffle` expected False for an IterableDataset"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError, match="has no length"):
        len(DataLoader(Stream()))
    with pytest.raises(ValueError, match="argument `batch_size` expected a positive int or None, got 0"):
        DataLoader(Squares(), batch_size=0)


def test_loader_over_a_native_dataset_yields_tensors() -> None:
    images = np.arange(4 * 2 * 2, dtype=np.uint8).reshape(4, 1, 2, 2)
    native = fg.data.from_numpy(images, np.array([0, 1, 1, 0]))
    x, y = next(iter(DataLoader(native, batch_size=4)))
    np.testing.assert_allclose(x.numpy(), images / 255.0, rtol=1e-6)
    assert y.tolist() == [0, 1, 1, 0]


def _mlp() -> fg.nn.Module:
    fg.manual_seed(0)
    return fg.nn.Sequential(fg.nn.Flatten(), fg.nn.Linear(784, 64), fg.nn.ReLU(), fg.nn.Linear(64, 10))


def test_fit_reads_a_tensor_dataset_as_the_native_dataset(mnist: dict[str, np.ndarray]) -> None:
    x, y = mnist["x_train"][:2000], mnist["y_train"][:2000]
    histories = []
    for data in (TensorDataset(fg.tensor(x), fg.tensor(y)), fg.data.from_numpy(x, y)):
        model = _mlp()
        histories.append(model.fit(data, epochs=2, batch_size=64, optimizer=fg.optim.Adam(model.parameters(), 1e-3),
                                   seed=0, verbose=False))
    assert histories[0]["loss"] == histories[1]["loss"] and histories[0]["accuracy"] == histories[1]["accuracy"]
    half = Subset(TensorDataset(fg.tensor(x), fg.tensor(y)), range(1000))
    model = _mlp()
    report = model.evaluate(DataLoader(half, batch_size=100))
    native_report = model.evaluate(fg.data.from_numpy(x[:1000], y[:1000]), batch_size=100)
    assert int(report.support.sum()) == 1000
    assert (report.loss, report.accuracy) == (native_report.loss, native_report.accuracy)
    with pytest.raises(TypeError, match="fit: argument `train` expected a DataLoader over a dataset the Rust loop can "
                                        "read"):
        model.fit(DataLoader(half, batch_size=10, collate_fn=default_collate), epochs=1, verbose=False)


def test_python_loop_over_the_loader_learns_mnist(mnist: dict[str, np.ndarray]) -> None:
    train = TensorDataset(fg.tensor(mnist["x_train"][:6000]), fg.tensor(mnist["y_train"][:6000]))
    train_part, _ = random_split(train, [0.9, 0.1], seed=0)
    loader = DataLoader(train_part, batch_size=64, shuffle=True)
    model = _mlp()
    opt = fg.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            fg.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    with fg.no_grad():
        pred = model(fg.tensor(mnist["x_test"][:2000])).argmax(1).numpy()
    assert (pred == mnist["y_test"][:2000]).mean() >= 0.88
