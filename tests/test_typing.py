"""The public API type-checks: mypy runs on the installed package (its `_core.pyi` stubs included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ferrograd


def test_mypy_accepts_the_package():
    pytest.importorskip("mypy")
    package_parent = Path(ferrograd.__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "ferrograd", "--ignore-missing-imports", "--no-incremental"],
        capture_output=True, text=True, cwd=package_parent, env={"MYPYPATH": str(package_parent), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
