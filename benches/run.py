"""Runs every benchmark against PyTorch in the same process and rewrites the table in
BENCHMARKS.md. Usage: ``python benches/run.py [--gpu] [--threads N] [--only SUITE ...]`` (data from
``FERROGRAD_DATA``, by default ``../shared/data``)."""

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
import gpu  # noqa: E402
import minilm  # noqa: E402
import train_step  # noqa: E402
from common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CPU_SUITES = {"train_step": train_step.run, "fit_epoch": fit_epoch.run, "attacks": attacks.run, "minilm": minilm.run}
SUITES = {**CPU_SUITES, "gpu": gpu.run}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def require_cuda_backend(parser: argparse.ArgumentParser) -> None:
    """Stops with a clear message when this build of ferrograd cannot place a tensor on a GPU."""
    import ferrograd as fg

    try:
        fg.zeros(1).to("cuda")
    except Exception as e:  # the build's own error says why (no backend, no device, no driver)
        parser.error(f"--gpu: ferrograd cannot use a GPU here: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both libraries")
    parser.add_argument("--only", choices=sorted(SUITES), action="append",
                        help="run these suites only; the table keeps the other rows of its last run")
    parser.add_argument("--gpu", action="store_true", help="add the GPU suite (needs a GPU; `--only gpu` runs it alone)")
    args = parser.parse_args()
    names = args.only or [*CPU_SUITES, *(["gpu"] if args.gpu else [])]
    if "gpu" in names:
        require_cuda_backend(parser)
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    rows = [r for name in names for r in SUITES[name](args.threads)]
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    lines = [
        f"Machine: {machine()}; {args.threads} threads for both; PyTorch {torch.__version__}; "
        f"{datetime.date.today().isoformat()}. Command: `python benches/run.py --threads {args.threads}"
        + (" --gpu" if args.gpu else "") + "".join(f" --only {o}" for o in args.only or []) + "`.",
        "",
        "| workload | ferrograd (ms) | PyTorch (ms) | ratio (lower is better) | target |",
        "|---|---|---|---|---|",
    ]
    fresh = {r["workload"]: f"| {r['workload']} | {r['ferrograd_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f}× "
                            f"| ≤ {r['target']}× |" for r in rows}
    if args.only:
        # Keep the previous rows of the suites not rerun, in their order; rerun rows replace theirs.
        for line in old.splitlines():
            if line.startswith("| ") and not line.startswith("| workload"):
                name = line[2:].split(" | ", 1)[0]
                lines.append(fresh.pop(name, line))
    lines += fresh.values()
    table = "\n".join(lines)
    print(table)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
