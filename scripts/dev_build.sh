#!/usr/bin/env bash
# Builds the extension in the dev profile and drops it into python/ferrograd, so that
# `PYTHONPATH=python pytest` runs the working tree without installing it.
# Usage: scripts/dev_build.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
flags=()
if [ "${1:-}" = "--release" ]; then profile=release; flags=(--release); fi
target="${CARGO_TARGET_DIR:-target}"
# The lock keeps two worktrees sharing one target dir from copying each other's library.
mkdir -p "$target"
exec 9>"$target/.dev_build.lock"
flock 9
cargo build -p ferrograd-py "${flags[@]}"
# Copy, then rename: a running interpreter keeps the library it mapped instead of crashing.
cp "$target/$profile/lib_core.so" python/ferrograd/_core.abi3.so.tmp
mv -f python/ferrograd/_core.abi3.so.tmp python/ferrograd/_core.abi3.so
