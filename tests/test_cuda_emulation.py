"""CUDA kernels run on the host (``tests/cuda_emulation``): each program compiles a kernel file as
C++ with ``emulate.h`` standing in for the CUDA runtime (a thread per CUDA thread, a barrier for
``__syncthreads``) and checks its results against a float64 reference, so the kernels' indexing,
tiling and arithmetic are tested on machines without a GPU."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

PROGRAMS = Path(__file__).parent / "cuda_emulation"
COMPILER = shutil.which("g++") or shutil.which("clang++")


@pytest.mark.skipif(COMPILER is None, reason="needs a C++20 compiler (g++ or clang++)")
@pytest.mark.parametrize("program", ["conv.cpp", "flash_attention.cpp", "optim.cpp", "pool.cpp"])
def test_emulated_kernel_matches_its_float64_reference(program: str, tmp_path: Path) -> None:
    assert COMPILER is not None
    binary = tmp_path / "emulated"
    build = subprocess.run([COMPILER, "-O1", "-std=c++20", "-pthread", "-w", str(PROGRAMS / program), "-o",
                            str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "all cases passed" in run.stdout, run.stdout + run.stderr


def _bf16_bits_reference(x: np.ndarray) -> np.ndarray:
    """bf16 bits of float32 values, rounded to nearest even in integer arithmetic (NaN -> 0x7fc0)."""
    u = x.view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), bits)


@pytest.mark.skipif(COMPILER is None, reason="needs a C++20 compiler (g++ or clang++)")
def test_emulated_half_conversions_match_numpy(tmp_path: Path, rng: np.random.Generator) -> None:
    """half.cuh's software f32 -> f16 / bf16 rounding and f16 -> f32 widening, bit for bit against
    numpy's float16 casts (round to nearest even) and an integer bf16 reference: every f16 value and
    the midpoints between neighbours (ties), random bit patterns, and the edges (overflow to
    infinity from 65520, subnormals, signed zeros, NaN)."""
    assert COMPILER is not None
    binary = tmp_path / "half"
    build = subprocess.run([COMPILER, "-O1", "-std=c++20", "-pthread", "-w", str(PROGRAMS / "half.cpp"), "-o",
                            str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    every_f16 = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    finite = np.sort(every_f16[np.isfinite(every_f16)])
    midpoints = ((finite[:-1].astype(np.float64) + finite[1:]) / 2).astype(np.float32)
    edges = np.array([65504, 65519.996, 65520, 65536, 1e6, 2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-14, -0.0, 0.0,
                      np.inf, -np.inf, np.nan], dtype=np.float32)
    random_bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    values = np.concatenate([every_f16, midpoints, edges, random_bits]).astype(np.float32)
    (tmp_path / "in.bin").write_bytes(values.tobytes())
    run = subprocess.run([str(binary), str(tmp_path / "in.bin"), str(tmp_path / "rounded.bin"),
                          str(tmp_path / "widened.bin")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rounded = np.frombuffer((tmp_path / "rounded.bin").read_bytes(), dtype=np.uint16).reshape(-1, 2)
    with np.errstate(over="ignore", invalid="ignore"):
        want_f16 = values.astype(np.float16)
    got_f16 = rounded[:, 0].view(np.float16)
    nan = np.isnan(values)
    assert np.isnan(got_f16[nan]).all()
    np.testing.assert_array_equal(got_f16[~nan].view(np.uint16), want_f16[~nan].view(np.uint16))
    np.testing.assert_array_equal(rounded[:, 1], _bf16_bits_reference(values))
    widened = np.frombuffer((tmp_path / "widened.bin").read_bytes(), dtype=np.float32)
    np.testing.assert_array_equal(widened.view(np.uint32), every_f16.view(np.uint32))


@pytest.mark.skipif(COMPILER is None, reason="needs a C++20 compiler (g++ or clang++)")
def test_emulated_gamma_functions_match_the_cpu_backend(tmp_path: Path, rng: np.random.Generator) -> None:
    """gamma_functions.cuh (the pointwise kernels' lgamma, digamma, polygamma, erfinv and the gamma
    sample gradient) on the host: the CPU backend's values to the last bit save where the two double libraries round
    differently (one float32 unit at most), and the poles' conventions exactly."""
    import ferrograd as fg

    assert COMPILER is not None
    binary = tmp_path / "gamma"
    build = subprocess.run([COMPILER, "-O1", "-std=c++20", "-pthread", "-w", str(PROGRAMS / "gamma_functions.cpp"),
                            "-o", str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    values = np.concatenate([rng.uniform(-30, 30, 2000), 10.0 ** rng.uniform(-6, 6, 300), rng.uniform(-1, 1, 500),
                             [0.0, -0.0, -1.0, -4.0, 1.0, 0.5, 1e-30, np.inf, -np.inf, np.nan]]).astype(np.float32)
    (tmp_path / "in.bin").write_bytes(values.tobytes())
    run = subprocess.run([str(binary), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    emulated = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype=np.float32).reshape(values.size, 8)
    x = fg.tensor(values)
    cpu = np.stack([x.lgamma().numpy(), x.digamma().numpy()] + [x.polygamma(n).numpy() for n in range(1, 5)]
                   + [x.erfinv().numpy(), x.abs()._standard_gamma_grad(x * x).numpy()], axis=1)
    np.testing.assert_array_equal(np.isnan(emulated), np.isnan(cpu))
    same = np.isnan(cpu) | (emulated == cpu)
    neighbours = np.abs(emulated.view(np.int32).astype(np.int64) - cpu.view(np.int32).astype(np.int64)) <= 1
    assert (same | (neighbours & np.isfinite(cpu))).all(), np.argwhere(~(same | neighbours))[:5]
    assert same.mean() > 0.999
