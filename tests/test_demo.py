"""The README's demo runs and learns."""

from __future__ import annotations

import subprocess
import sys

from ferrograd.demo import run


def test_demo_learns_digits_and_reports_robustness(capsys):
    acc = run(epochs=3, verbose=False)
    assert acc >= 0.9
    out = capsys.readouterr().out
    assert "final test accuracy" in out and "precision    recall  f1-score   support" in out
    assert "Robust accuracy after adversarial training" in out and out.count("worst case") == 2


def test_command_line_rejects_unknown_command():
    proc = subprocess.run([sys.executable, "-m", "ferrograd", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
