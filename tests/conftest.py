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
