"""``fg.save`` / ``fg.load``: checkpoint dicts round-trip exactly (values, dtypes, structure,
requires_grad), a run resumed from a saved model and optimizer continues bit for bit like the
uninterrupted one, foreign safetensors files load as dicts, and bad input raises naming the
problem without touching an existing file."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg


def test_structures_and_dtypes_round_trip(tmp_path: Path) -> None:
    weights = fg.tensor([[1.5, -2.0], [0.25, 3.0]], requires_grad=True)
    shared = fg.arange(5)
    checkpoint = {
        "weights": weights,
        "bf16": fg.tensor([1.0, 2.5, -3.0]).bfloat16(),
        "half": fg.tensor([0.1, 7.0]).half(),
        "mask": fg.tensor([True, False, True]),
        "shared": shared,
        "again": [shared, (3, 2.5, "text", None, True)],
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        (2, "pair"): {7: float("inf")},
        "array64": np.linspace(0, 1, 7).reshape(7, 1),
        "big_endian": np.arange(4, dtype=">i4"),
        "empty": np.zeros((0, 3), dtype=np.int16),
        "scalar": np.float32(0.5),
    }
    path = tmp_path / "checkpoint.pt"
    fg.save(checkpoint, path)
    loaded = fg.load(path)
    assert list(loaded) == list(checkpoint)
    assert loaded["weights"].requires_grad and loaded["weights"].is_leaf
    np.testing.assert_array_equal(loaded["weights"].detach().numpy(), weights.detach().numpy())
    assert loaded["bf16"].dtype == "bfloat16" and loaded["bf16"].float().tolist() == [1.0, 2.5, -3.0]
    assert loaded["half"].dtype == "float16"
    np.testing.assert_array_equal(loaded["half"].numpy(), np.array([0.1, 7.0], dtype=np.float16))
    assert loaded["mask"].dtype == "bool" and loaded["mask"].tolist() == [True, False, True]
    assert loaded["shared"].dtype == "int64" and loaded["again"][0].tolist() == [0, 1, 2, 3, 4]
    assert loaded["again"][1] == (3, 2.5, "text", None, True) and isinstance(loaded["again"], list)
    assert isinstance(loaded["ordered"], OrderedDict) and list(loaded["ordered"].items()) == [("b", 1), ("a", 2)]
    assert loaded[(2, "pair")] == {7: float("inf")}
    np.testing.assert_array_equal(loaded["array64"], checkpoint["array64"])
    assert loaded["array64"].dtype == np.float64
    assert loaded["big_endian"].tolist() == [0, 1, 2, 3] and loaded["big_endian"].dtype == np.int32
    assert loaded["empty"].shape == (0, 3) and loaded["empty"].dtype == np.int16
    assert loaded["scalar"] == 0.5
    # The shared tensor is one entry in the file; the structure names it twice.
    assert len(fg.load_safetensors(path)) == 8


def _model() -> fg.nn.Module:
    fg.manual_seed(3)
    return fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3))


def _step(model: fg.nn.Module, opt: fg.optim.Optimizer, x: fg.Tensor, y: fg.Tensor) -> float:
    opt.zero_grad()
    loss = fg.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def test_resuming_from_a_saved_checkpoint_continues_exactly(tmp_path: Path, rng: np.random.Generator) -> None:
    x = fg.tensor(rng.normal(size=(16, 6)).astype(np.float32))
    y = fg.tensor(rng.integers(0, 3, 16))
    model = _model()
    opt = fg.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(3):
        _step(model, opt, x, y)
    fg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "ck.pt")
    uninterrupted = [_step(model, opt, x, y) for _ in range(3)]

    resumed_model = fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3))
    resumed_opt = fg.optim.AdamW(resumed_model.parameters(), lr=0.5)
    checkpoint = fg.load(tmp_path / "ck.pt", map_location="cpu")
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 3
    assert [_step(resumed_model, resumed_opt, x, y) for _ in range(3)] == uninterrupted
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_foreign_safetensors_load_as_an_ordered_dict(tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    fg.save_safetensors({"b": fg.ones(2), "a": fg.zeros(1, dtype="int64")}, path)
    loaded = fg.load(path)
    assert isinstance(loaded, OrderedDict) and sorted(loaded) == ["a", "b"]
    assert loaded["b"].tolist() == [1.0, 1.0] and loaded["a"].dtype == "int64"


def test_bad_input_raises_and_keeps_the_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.pt"
    fg.save({"x": fg.ones(2)}, path)
    with pytest.raises(TypeError, match=r"save: obj\['layers'\]\[1\] has type object, which ferrograd does not save"):
        fg.save({"layers": [1, object()]}, path)
    with pytest.raises(TypeError, match="save: obj has type Linear.*state_dict"):
        fg.save(fg.nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match=r"save: a key of obj is a list"):
        fg.save(_ListKey(), path)
    with pytest.raises(TypeError, match="save: argument `f` expected a file path, got BytesIO"):
        import io

        fg.save({}, io.BytesIO())  # type: ignore[arg-type]
    assert fg.load(path)["x"].tolist() == [1.0, 1.0]
    with pytest.raises(FileNotFoundError):
        fg.load(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    fg.save_safetensors({"0": fg.ones(1)}, corrupt, {"ferrograd.save": "{not json"})
    with pytest.raises(ValueError, match="corrupt structure header"):
        fg.load(corrupt)
    dangling = tmp_path / "dangling.pt"
    fg.save_safetensors({"0": fg.ones(1)}, dangling, {"ferrograd.save": '{"tensor": "9"}'})
    with pytest.raises(ValueError, match="names a tensor '9' that the file does not hold"):
        fg.load(dangling)


class _ListKey(dict):
    """A mapping whose items() yields a list as a key, which a dict literal cannot hold."""

    def items(self):  # type: ignore[override]
        return [([1, 2], "value")]
