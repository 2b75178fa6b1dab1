"""Command line: ``python -m ferrograd demo``."""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ferrograd", description="ferrograd command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train and evaluate a small CNN on data that needs no download")
    demo.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    if args.command == "demo":
        from .demo import run

        run(epochs=args.epochs)


if __name__ == "__main__":
    main()
