"""The README's demo runs and learns."""

from __future__ import annotations

import subprocess
import sys

from ferrograd.demo import run


def test_demo_learns_digits(capsys):
    acc = run(epochs=3)
    assert acc >= 0.9
    assert "final test accuracy" in capsys.readouterr().out


def test_command_line_rejects_unknown_command():
    proc = subprocess.run([sys.executable, "-m", "ferrograd", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
