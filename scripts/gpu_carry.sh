#!/usr/bin/env bash
# Prepares what a GPU check carries to the device machine (which has no Rust toolchain and no
# ../shared): the release abi3 wheel of this checkout and the MNIST files, in the ignored .gpu/.
# Then run there, with carry [".gpu"]: bash scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data="${FERROGRAD_DATA:-../shared/data}"
rm -rf .gpu && mkdir -p .gpu/data/mnist
python3 -m maturin build --release --quiet -o .gpu
cp "$data"/mnist/*-ubyte.gz .gpu/data/mnist/
du -sh .gpu
