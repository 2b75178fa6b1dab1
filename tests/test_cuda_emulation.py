"""CUDA kernels run on the host (``tests/cuda_emulation``): each program compiles a kernel file as
C++ with ``emulate.h`` standing in for the CUDA runtime (a thread per CUDA thread, a barrier for
``__syncthreads``) and checks its results against a float64 reference, so the kernels' indexing,
tiling and arithmetic are tested on machines without a GPU."""

import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

PROGRAMS = Path(__file__).parent / "cuda_emulation"
COMPILER = shutil.which("g++") or shutil.which("clang++")
fg_Tensor = Any  # ferrograd.Tensor, imported inside the tests that build references


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


def _gradient(fn: Callable[[fg_Tensor], fg_Tensor], x: np.ndarray) -> np.ndarray:
    import ferrograd as fg

    t = fg.tensor(x, requires_grad=True)
    fn(t).backward(fg.ones(*x.shape))
    return t.grad.numpy()


def _pointwise_references() -> tuple[dict[str, Any], dict[str, Any]]:
    """For each UnaryOp / BinaryOp name of cuda/elementwise.rs: its kernel parameters and the CPU
    backend's (or, for ops only backward passes reach, numpy's) values."""
    import ferrograd as fg
    from ferrograd import functional as F

    def on_cpu(fn: Callable[..., fg_Tensor]) -> Callable[..., np.ndarray]:
        return lambda *arrays: fn(*(fg.tensor(a) for a in arrays)).numpy()

    def through(fn: Callable[[fg_Tensor], fg_Tensor]) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: _gradient(fn, x)

    unary: dict[str, Any] = {
        "Neg": ((), on_cpu(lambda t: -t)), "Exp": ((), on_cpu(fg.exp)), "Log": ((), on_cpu(fg.log)),
        "Sqrt": ((), on_cpu(fg.sqrt)), "Abs": ((), on_cpu(fg.abs)), "Sign": ((), on_cpu(lambda t: t.sign())),
        "Recip": ((), on_cpu(lambda t: t.reciprocal())), "Square": ((), on_cpu(lambda t: t.square())),
        "Relu": ((), on_cpu(F.relu)), "Step": ((), lambda x: np.where(x <= 0, 0.0, 1.0).astype(np.float32)),
        "LeakyRelu": ((0.2,), on_cpu(lambda t: F.leaky_relu(t, 0.2))),
        "LeakyReluGrad": ((0.2,), through(lambda t: F.leaky_relu(t, 0.2))),
        "Sigmoid": ((), on_cpu(fg.sigmoid)), "Tanh": ((), on_cpu(fg.tanh)), "GeluErf": ((), on_cpu(F.gelu)),
        "GeluErfGrad": ((), through(F.gelu)), "GeluTanh": ((), on_cpu(lambda t: F.gelu(t, approximate="tanh"))),
        "GeluTanhGrad": ((), through(lambda t: F.gelu(t, approximate="tanh"))), "Silu": ((), on_cpu(F.silu)),
        "SiluGrad": ((), through(F.silu)),
        "Softplus": ((2.0, 5.0), on_cpu(lambda t: F.softplus(t, beta=2.0, threshold=5.0))),
        "Powf": ((1.7,), on_cpu(lambda t: t ** 1.7)), "Clamp": ((-0.5, 0.7), on_cpu(lambda t: t.clamp(-0.5, 0.7))),
        "InRange": ((-0.5, 0.7), through(lambda t: t.clamp(-0.5, 0.7))),
        "Affine": ((3.0, 1.0), lambda x: np.float32(3.0) * x + np.float32(1.0)),
        "RoundBf16": ((), lambda x: (_bf16_bits_reference(x).astype(np.uint32) << 16).view(np.float32)),
        "Sin": ((), on_cpu(fg.sin)), "Cos": ((), on_cpu(fg.cos)), "Floor": ((), on_cpu(fg.floor)),
        "Ceil": ((), on_cpu(fg.ceil)), "Round": ((), on_cpu(fg.round)), "Log1p": ((), on_cpu(fg.log1p)),
        "Expm1": ((), on_cpu(fg.expm1)), "Erf": ((), on_cpu(fg.erf)), "Erfc": ((), on_cpu(fg.erfc)),
        "Tan": ((), on_cpu(fg.tan)), "Asin": ((), on_cpu(fg.asin)), "Acos": ((), on_cpu(fg.acos)),
        "Atan": ((), on_cpu(fg.atan)), "Sinh": ((), on_cpu(fg.sinh)), "Cosh": ((), on_cpu(fg.cosh)),
        "Asinh": ((), on_cpu(fg.asinh)), "Acosh": ((), on_cpu(fg.acosh)), "Atanh": ((), on_cpu(fg.atanh)),
        "Log2": ((), on_cpu(fg.log2)), "Log10": ((), on_cpu(fg.log10)), "Lgamma": ((), on_cpu(fg.lgamma)),
        "Digamma": ((), on_cpu(fg.digamma)), "Polygamma": ((2.0,), on_cpu(lambda t: fg.polygamma(2, t))),
        "Erfinv": ((), on_cpu(fg.erfinv)), "BesselI0": ((), on_cpu(fg.special.i0)),
        "BesselI0e": ((), on_cpu(fg.special.i0e)), "BesselI1": ((), on_cpu(fg.special.i1)),
        "BesselI1e": ((), on_cpu(fg.special.i1e)), "Erfcx": ((), on_cpu(fg.special.erfcx)),
        "LogNdtr": ((), on_cpu(fg.special.log_ndtr)), "Ndtri": ((), on_cpu(fg.special.ndtri)),
        "BesselJ0": ((), on_cpu(fg.special.bessel_j0)), "BesselJ1": ((), on_cpu(fg.special.bessel_j1)),
        "BesselY0": ((), on_cpu(fg.special.bessel_y0)), "BesselY1": ((), on_cpu(fg.special.bessel_y1)),
        "BesselK0": ((), on_cpu(fg.special.modified_bessel_k0)), "BesselK1": ((), on_cpu(fg.special.modified_bessel_k1)),
        "BesselK0e": ((), on_cpu(fg.special.scaled_modified_bessel_k0)),
        "BesselK1e": ((), on_cpu(fg.special.scaled_modified_bessel_k1)), "AiryAi": ((), on_cpu(fg.special.airy_ai)),
        "AiryAiPrime": ((), through(fg.special.airy_ai)),
    }
    binary: dict[str, Any] = {
        "Add": on_cpu(lambda a, b: a + b), "Sub": on_cpu(lambda a, b: a - b), "Mul": on_cpu(lambda a, b: a * b),
        "Div": on_cpu(lambda a, b: a / b), "Pow": on_cpu(lambda a, b: a ** b), "Maximum": on_cpu(fg.maximum),
        "Minimum": on_cpu(fg.minimum), "Atan2": on_cpu(fg.atan2), "FloorDivide": on_cpu(lambda a, b: a // b),
        "Remainder": on_cpu(lambda a, b: a % b), "Fmod": on_cpu(lambda a, b: a.fmod(b)),
        "StandardGammaGrad": on_cpu(lambda a, b: a._standard_gamma_grad(b)),
        "Igamma": on_cpu(lambda a, b: a.igamma(b)), "Igammac": on_cpu(lambda a, b: a.igammac(b)),
        "Zeta": on_cpu(fg.special.zeta),
    }
    return unary, binary


def _kernel_codes(function: str) -> dict[str, int]:
    """Op name -> code, from the match arms of `function` in cuda/elementwise.rs."""
    import re

    source = (Path(__file__).parents[1] / "rust/ferrograd-core/src/cuda/elementwise.rs").read_text()
    body = source.split(f"fn {function}(")[1].split("\n}\n")[0]
    return {name: int(code) for name, code in re.findall(r"\w+Op::(\w+)\b[^=]*=> \(?(\d+)", body)}


@pytest.mark.skipif(COMPILER is None, reason="needs a C++20 compiler (g++ or clang++)")
def test_emulated_pointwise_codes_match_the_cpu_backend(tmp_path: Path, rng: np.random.Generator) -> None:
    """Every unary and binary op code that cuda/elementwise.rs sends to elementwise.cu, run
    through the kernel's own switch on the host, gives the CPU backend's values (to the device
    math library's rounding), so a code that selects the wrong formula fails without a GPU."""
    assert COMPILER is not None
    binary_path = tmp_path / "elementwise"
    build = subprocess.run([COMPILER, "-O1", "-std=c++20", "-pthread", "-w", str(PROGRAMS / "elementwise.cpp"), "-o",
                            str(binary_path)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    unary, binary = _pointwise_references()
    unary_codes, binary_codes = _kernel_codes("unary_code"), _kernel_codes("binary_code")
    assert set(unary_codes) == set(unary) and set(binary_codes) == set(binary)
    # The tail values reach the far-field branches of the Bessel, Airy and normal functions.
    a = np.concatenate([rng.uniform(-3, 3, 400), [0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -2.5],
                        [12.5, -12.5, 16.0, 30.0, -9.0, -20.0, 45.0]]).astype(np.float32)
    b = np.concatenate([rng.uniform(-3, 3, 400), [1.0, 2.0, -0.5, 3.0, 0.25, 1.5, -2.0],
                        [1.0, 2.0, 0.5, 3.0, 1.5, 2.5, 4.0]]).astype(np.float32)
    (tmp_path / "a.bin").write_bytes(a.tobytes())
    (tmp_path / "b.bin").write_bytes(b.tobytes())
    requests = [("unary", name, code, unary[name][0]) for name, code in unary_codes.items()]
    requests += [("binary", name, code, ()) for name, code in binary_codes.items()]
    lines = [f"{kind} {code} " + " ".join(str(p) for p in (tuple(params) + (0.0, 0.0))[:2])
             for kind, _, code, params in requests]
    (tmp_path / "requests.txt").write_text("\n".join(lines) + "\n")
    run = subprocess.run([str(binary_path)] + [str(tmp_path / f) for f in ("requests.txt", "a.bin", "b.bin", "out.bin")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    results = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype=np.float32).reshape(len(requests), a.size)
    for (kind, name, _, _), emulated in zip(requests, results):
        want = unary[name][1](a) if kind == "unary" else binary[name](a, b)
        np.testing.assert_array_equal(np.isnan(emulated), np.isnan(want), err_msg=name)
        finite = ~np.isnan(want)
        np.testing.assert_allclose(emulated[finite], want[finite], rtol=4e-6, atol=1e-6, err_msg=name)
