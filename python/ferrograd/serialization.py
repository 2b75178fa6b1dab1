"""``save`` / ``load``: PyTorch's ``torch.save`` / ``torch.load`` for state dicts and checkpoint
dicts, without pickle.

The file is a safetensors file: every tensor and numpy array is a named entry (arrays as their
raw bytes), and the structure around them (dicts, lists, tuples, numbers, strings) is JSON in the
file's metadata. Loading therefore never runs code from the file, which a pickle can. Arbitrary
Python objects (a whole module, a custom class) are refused with a TypeError naming the path to
them; save ``model.state_dict()`` instead.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Any, Optional, Union

import numpy as np

from . import _core
from ._core import Tensor
from .io import load_safetensors, save_safetensors

_STRUCTURE_KEY = "ferrograd.save"
PathLike = Union[str, "os.PathLike[str]"]
# JSON kinds of plain values; bool before int, which it subclasses.
_SCALARS: tuple[tuple[str, Any], ...] = (("none", type(None)), ("bool", bool), ("int", int), ("float", float),
                                         ("str", str))


class _Writer:
    """Walks an object into a JSON tree, collecting its tensors and arrays as named entries."""

    def __init__(self) -> None:
        self.entries: dict[str, Tensor] = {}
        # id -> (name, the tensor itself): holding the tensor keeps its id from being reused.
        self.names: dict[int, tuple[str, Tensor]] = {}

    def _entry(self, value: Tensor) -> str:
        known = self.names.get(id(value))
        if known is not None:
            return known[0]
        name = str(len(self.entries))
        self.names[id(value)] = (name, value)
        self.entries[name] = value.detach()
        return name

    def encode(self, obj: Any, where: str) -> Any:
        if isinstance(obj, Tensor):
            return {"tensor": self._entry(obj), "device": str(obj.device), "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError(f"save: {where} is a numpy array of Python objects, which has no byte form")
            little = obj.astype(obj.dtype.newbyteorder("<"), copy=False)
            raw = np.frombuffer(np.ascontiguousarray(little).tobytes(), dtype=np.uint8)
            return {"ndarray": self._entry(Tensor.from_numpy(raw.copy())), "dtype": little.dtype.str,
                    "shape": list(obj.shape)}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), where)
        for kind, python_type in _SCALARS:
            if isinstance(obj, python_type):
                return {kind: python_type(obj) if obj is not None else None}
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {kind: [[self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
            return {type(obj).__name__: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(f"save: {where} has type {type(obj).__name__}, which ferrograd does not save (it writes "
                        "tensors, numpy arrays, numbers, strings, None, and lists, tuples and dicts of them); save "
                        "a module's or optimizer's state_dict() rather than the object")

    def encode_key(self, key: Any, where: str) -> Any:
        if isinstance(key, (Tensor, np.ndarray, dict, list)):
            raise TypeError(f"save: a key of {where} is a {type(key).__name__}; keys must be numbers, strings, "
                            "None or tuples of them")
        return self.encode(key, where)


class _Reader:
    def __init__(self, entries: "OrderedDict[str, Tensor]", path: str, device: Optional[str]) -> None:
        self.entries, self.path, self.device = entries, path, device

    def _entry(self, name: str) -> Tensor:
        if name not in self.entries:
            raise ValueError(f"load: {self.path} names a tensor {name!r} that the file does not hold")
        return self.entries[name]

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"load: {self.path} has a malformed structure entry {node!r}")
        if "tensor" in node:
            t = self._entry(node["tensor"])
            target = self.device or node.get("device", "cpu")
            t = t.to(target) if target != "cpu" else t
            return t.requires_grad_(True) if node.get("requires_grad") else t
        if "ndarray" in node:
            raw = self._entry(node["ndarray"]).numpy()
            array = np.frombuffer(raw.tobytes(), dtype=np.dtype(node["dtype"])).reshape(node["shape"])
            return array.astype(array.dtype.newbyteorder("="))
        ((kind, value),) = node.items()
        if kind in dict(_SCALARS):
            return value
        if kind == "list":
            return [self.decode(v) for v in value]
        if kind == "tuple":
            return tuple(self.decode(v) for v in value)
        if kind in ("dict", "odict"):
            pairs = [(self.decode(k), self.decode(v)) for k, v in value]
            return OrderedDict(pairs) if kind == "odict" else dict(pairs)
        raise ValueError(f"load: {self.path} has an unknown structure entry of kind {kind!r}")


def save(obj: Any, f: PathLike) -> None:
    """Writes ``obj`` to the file ``f``: a tensor, a numpy array, a number, a string, None, or
    lists, tuples and dicts of them, such as a ``state_dict()`` or a checkpoint dict holding a
    model's and an optimizer's state. The write is atomic (a temporary file renamed into place).
    A tensor that appears twice is stored once; tensors that are views of each other are stored
    separately."""
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: argument `f` expected a file path, got {type(f).__name__}")
    writer = _Writer()
    structure = writer.encode(obj, "obj")
    save_safetensors(writer.entries, f, {_STRUCTURE_KEY: json.dumps(structure)})


def load(f: PathLike, map_location: Optional[str] = None, weights_only: Optional[bool] = None) -> Any:
    """Reads an object written by :func:`save`. Tensors return to the device they were saved
    from, or to ``map_location`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``). A safetensors file from
    elsewhere (Hugging Face or PyTorch weights) loads as an ordered dict of its tensors.
    ``weights_only`` is accepted for PyTorch code; the format holds data only, so loading is
    always safe."""
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"load: argument `f` expected a file path, got {type(f).__name__}")
    if map_location is not None and not isinstance(map_location, str):
        raise TypeError(f"load: argument `map_location` expected a device name or None, got "
                        f"{type(map_location).__name__}")
    path = os.fspath(f)
    entries = load_safetensors(path)
    raw = _core.read_safetensors_metadata(path).get(_STRUCTURE_KEY)
    if raw is None:
        return OrderedDict((k, v.to(map_location) if map_location else v) for k, v in entries.items())
    try:
        structure = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"load: {path} has a corrupt structure header ({e})") from None
    return _Reader(entries, path, map_location).decode(structure)
