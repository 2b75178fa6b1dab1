"""The public API type-checks: mypy runs on a copy of the installed package (`_core.pyi` included)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ferrograd


def test_mypy_accepts_the_package(tmp_path):
    pytest.importorskip("mypy")
    source = Path(ferrograd.__file__).resolve().parent
    # mypy refuses search paths inside site-packages, so check a copy of the sources.
    shutil.copytree(source, tmp_path / "ferrograd", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "ferrograd", "--ignore-missing-imports", "--no-incremental"],
        capture_output=True, text=True, cwd=tmp_path, env={"MYPYPATH": str(tmp_path), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
