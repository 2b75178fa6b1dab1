"""Runs every benchmark against PyTorch in the same process and rewrites the table in
BENCHMARKS.md. Usage: ``python benches/run.py [--threads N]`` (data from ``FERROGRAD_DATA``,
by default ``../shared/data``)."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402

import attacks  # noqa: E402
import fit_epoch  # noqa: E402
import minilm  # noqa: E402
import train_step  # noqa: E402
from common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both libraries")
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    rows = (train_step.run(args.threads) + fit_epoch.run(args.threads) + attacks.run(args.threads)
            + minilm.run(args.threads))
    lines = [
        f"Machine: {machine()}; {args.threads} threads for both; PyTorch {torch.__version__}; "
        f"{datetime.date.today().isoformat()}. Command: `python benches/run.py --threads {args.threads}`.",
        "",
        "| workload | ferrograd (ms) | PyTorch (ms) | ratio (lower is better) | target |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['workload']} | {r['ferrograd_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f}× | ≤ {r['target']}× |")
    table = "\n".join(lines)
    print(table)
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
