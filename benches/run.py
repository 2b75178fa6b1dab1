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
import double_backward  # noqa: E402
import fit_epoch  # noqa: E402
import gpu  # noqa: E402
import minilm  # noqa: E402
import optim_step  # noqa: E402
import train_step  # noqa: E402
from common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CPU_SUITES = {"train_step": train_step.run, "fit_epoch": fit_epoch.run, "attacks": attacks.run, "minilm": minilm.run,
              "double_backward": double_backward.run, "optim_step": optim_step.run}
SUITES = {**CPU_SUITES, "gpu": gpu.run}
# Each table of BENCHMARKS.md sits between its markers, with its own machine line: the CPU suites'
# and the GPU suite's run on different machines.
TABLES = {"cpu": ("<!-- results:begin -->", "<!-- results:end -->"), "gpu": ("<!-- gpu-results:begin -->", "<!-- gpu-results:end -->")}


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
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for table, suites in (("cpu", [n for n in names if n in CPU_SUITES]), ("gpu", [n for n in names if n == "gpu"])):
        if suites:
            results = {name: SUITES[name](args.threads) for name in suites}
            rows = [r for name in suites for r in results[name]]
            # A suite that skipped (a missing optional dependency) keeps its rows of the last run.
            skipped = any(not results[name] for name in suites)
            text = rewrite_table(text, TABLES[table], rows, args, partial=(bool(args.only) or skipped) and table == "cpu")
    path.write_text(text)


def rewrite_table(text: str, markers: tuple[str, str], rows: list[dict], args: argparse.Namespace, partial: bool) -> str:
    """`text` with the table between `markers` rewritten from `rows` (appended when absent); a
    partial run keeps the rows of the suites it did not rerun."""
    begin, end = markers
    if begin not in text:
        text = f"{text.rstrip()}\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    old, tail = rest.split(end, 1)
    where = machine()
    if markers == TABLES["gpu"]:
        import ferrograd as fg

        where = f"{fg.cuda.get_device_name()}, host {where}"
    lines = [
        f"Machine: {where}; {args.threads} threads for both; PyTorch {torch.__version__}; "
        f"{datetime.date.today().isoformat()}. Command: `python benches/run.py --threads {args.threads}"
        + (" --gpu" if args.gpu else "") + "".join(f" --only {o}" for o in args.only or []) + "`.",
        "",
        "| workload | ferrograd (ms) | PyTorch (ms) | ratio (lower is better) | target |",
        "|---|---|---|---|---|",
    ]
    fresh = {r["workload"]: f"| {r['workload']} | {r['ferrograd_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f}× "
                            f"| ≤ {r['target']}× |" for r in rows}
    if partial:
        # Keep the previous rows of the suites not rerun, in their order; rerun rows replace theirs.
        for line in old.splitlines():
            if line.startswith("| ") and not line.startswith("| workload"):
                name = line[2:].split(" | ", 1)[0]
                lines.append(fresh.pop(name, line))
    lines += fresh.values()
    table = "\n".join(lines)
    print(table)
    return f"{head}{begin}\n{table}\n{end}{tail}"


if __name__ == "__main__":
    main()
