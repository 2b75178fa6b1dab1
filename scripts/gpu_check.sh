#!/usr/bin/env bash
# The GPU check, in one command on the device machine (prepared by scripts/gpu_carry.sh): installs
# the carried wheel, runs the CUDA tests and the GPU benchmarks, and leaves the logs and the
# updated BENCHMARKS.md and the per-kernel speeds in $OUT (or .gpu/out).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.gpu/out}"
mkdir -p "$out"
python3 -m pip install -q --no-deps --no-index --target /tmp/site .gpu/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 FERROGRAD_DATA="$PWD/.gpu/data" FERROGRAD_CACHE_DIR=/tmp/fg-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -c "import ferrograd as fg; print(fg.cuda.libraries(), fg.cuda.get_device_name(), fg.cuda.get_arch())" \
    | tee -a "$out/gpu.txt"
timeout "${FG_TEST_LIMIT:-270}" python3 -m pytest tests/test_cuda.py -q -rs --tb=short --timeout=60 --durations=12 \
    -p no:cacheprovider --junitxml="$out/junit.xml" ${FG_TESTS:-} 2>&1 | tee "$out/test_cuda.log"
timeout "${FG_BENCH_LIMIT:-180}" python3 benches/run.py --only gpu 2>&1 | tee "$out/bench_gpu.log"
timeout 90 python3 benches/gpu_kernels.py 2>&1 | tee "$out/kernels.md"
timeout 90 python3 benches/gpu_profile.py > "$out/profile.txt" 2>&1
cp BENCHMARKS.md "$out/"
