"""CUDA kernels run on the host (``tests/cuda_emulation``): each program compiles a kernel file as
C++ with ``emulate.h`` standing in for the CUDA runtime (a thread per CUDA thread, a barrier for
``__syncthreads``) and checks its results against a float64 reference, so the kernels' indexing,
tiling and arithmetic are tested on machines without a GPU."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "cuda_emulation"
COMPILER = shutil.which("g++") or shutil.which("clang++")


@pytest.mark.skipif(COMPILER is None, reason="needs a C++20 compiler (g++ or clang++)")
@pytest.mark.parametrize("program", ["conv.cpp", "flash_attention.cpp", "pool.cpp"])
def test_emulated_kernel_matches_its_float64_reference(program: str, tmp_path: Path) -> None:
    assert COMPILER is not None
    binary = tmp_path / "emulated"
    build = subprocess.run([COMPILER, "-O1", "-std=c++20", "-pthread", "-w", str(PROGRAMS / program), "-o",
                            str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "all cases passed" in run.stdout, run.stdout + run.stderr
