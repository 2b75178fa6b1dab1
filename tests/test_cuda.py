"""The CUDA backend.

Without a GPU (CI): every kernel file compiles with NVRTC (pip's nvidia-cuda-nvrtc, a test
dependency) and its PTX assembles with ptxas (pip's nvidia-cuda-nvcc), and asking for a CUDA tensor
raises DeviceError. With a GPU (tests marked `gpu`):
every CUDA op, forward and backward, matches the CPU backend.

Tolerances against the CPU backend: elementwise ops rtol 2e-6 / atol 1e-6 (the device's expf,
erff, tanhf are within 2 ulp of the host's); sums and softmax rtol 1e-5 / atol 1e-6 (tree versus
blocked summation order); matmul rtol 1e-5 / atol 1e-5 with TF32 off; optimizer steps rtol 1e-6.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd.training.callbacks import Callback

HAS_GPU = fg.cuda.is_available()


def gpu(test: Callable) -> Callable:
    """Marks a test `gpu` and skips it without a CUDA device."""
    return pytest.mark.gpu(pytest.mark.skipif(not HAS_GPU, reason="needs a CUDA device")(test))


# -- without a GPU ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def compiled_kernels(arch: str) -> dict[str, str]:
    """Every kernel file's PTX for `arch`, compiled by NVRTC once for the tests that read it."""
    return fg.cuda.compile_kernels(arch)


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_every_kernel_file_compiles_with_nvrtc(arch: str) -> None:
    assert fg.cuda.libraries()["nvrtc"], (
        "NVRTC not found: the test extras install nvidia-cuda-nvrtc, which this check needs"
    )
    files = compiled_kernels(arch)
    assert {"attention.cu", "attention_mma.cu", "conv.cu", "copy.cu", "elementwise.cu", "reduce.cu", "softmax.cu", "optim.cu"} <= set(files)
    assert all(".entry" in ptx for ptx in files.values())


def _ptxas() -> Path | None:
    """ptxas from pip's nvidia-cuda-nvcc (a test dependency on Linux), if installed."""
    for base in map(Path, sys.path):
        candidate = base / "nvidia" / "cu13" / "bin" / "ptxas"
        if candidate.is_file():
            return candidate
    return None


@pytest.mark.skipif(_ptxas() is None, reason="needs ptxas (pip install nvidia-cuda-nvcc, a test dependency on Linux)")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_every_kernel_assembles_with_ptxas(arch: str, tmp_path: Path) -> None:
    """NVRTC passes inline PTX (the tensor-core mma) through unchecked; assembling each file's PTX
    for the GPU checks it, and every kernel's registers and shared memory, without a GPU."""
    ptxas = _ptxas()
    assert ptxas is not None

    def assemble(name: str, ptx: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        source = tmp_path / f"{name}.ptx"
        source.write_text(ptx)
        return name, subprocess.run([str(ptxas), f"-arch={arch}", str(source), "-o", str(tmp_path / f"{name}.cubin")],
                                    capture_output=True, text=True)

    # One ptxas process per file, as many at once as there are cores.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        for name, run in pool.map(lambda item: assemble(*item), compiled_kernels(arch).items()):
            assert run.returncode == 0, f"{name}: {run.stderr}"


def test_compile_kernels_rejects_a_bad_arch() -> None:
    with pytest.raises(ValueError, match="arch"):
        fg.cuda.compile_kernels("hopper")


@pytest.mark.skipif(HAS_GPU, reason="checks the error raised without a GPU")
def test_cuda_without_a_gpu_raises_device_error() -> None:
    x = fg.tensor(np.ones(3, np.float32))
    with pytest.raises(fg.DeviceError, match="CUDA"):
        x.to("cuda")
    with pytest.raises(fg.DeviceError, match="CUDA"):
        x.cuda()
    with pytest.raises(fg.DeviceError):
        fg.zeros(2, 3, device="cuda")
    with pytest.raises(fg.DeviceError):
        fg.randn(2, 3, device="cuda")
    with pytest.raises(fg.DeviceError):
        fg.nn.Linear(3, 2).to("cuda")


@pytest.mark.skipif(HAS_GPU, reason="checks the error raised without a GPU")
def test_fit_on_cuda_without_a_gpu_raises_device_error() -> None:
    model = fg.nn.Linear(4, 2)
    x, y = np.zeros((8, 4), np.float32), np.zeros(8, np.int64)
    with pytest.raises(fg.DeviceError, match="not available"):
        model.fit((x, y), epochs=1, device="cuda", verbose=False)
    with pytest.raises(ValueError, match="device"):
        model.fit((x, y), epochs=1, device="gpu", verbose=False)


# -- with a GPU -----------------------------------------------------------------------------


def leaf(a: np.ndarray, device: str) -> fg.Tensor:
    """A leaf on `device` that requires grad."""
    t = fg.tensor(a).to(device)
    t.requires_grad = True
    return t


def grads_match(fn: Callable[..., fg.Tensor], arrays: list[np.ndarray], rtol: float, atol: float) -> None:
    """`fn` on CPU and CUDA leaves: same output, same gradients of (out * w).sum() with a fixed w."""
    results = {}
    for device in ("cpu", "cuda"):
        xs = [leaf(a, device) for a in arrays]
        out = fn(*xs)
        w = np.linspace(-1.0, 1.0, out.numel(), dtype=np.float32).reshape(out.shape)
        (out * fg.tensor(w).to(device)).sum().backward()
        results[device] = (out.detach().cpu().numpy(), [x.grad.cpu().numpy() for x in xs])
    (y_cpu, g_cpu), (y_gpu, g_gpu) = results["cpu"], results["cuda"]
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=rtol, atol=atol)
    for a, b in zip(g_gpu, g_cpu):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@gpu
def test_device_queries() -> None:
    assert fg.cuda.device_count() >= 1
    assert isinstance(fg.cuda.get_device_name(), str) and fg.cuda.get_device_name()
    free, total = fg.cuda.mem_get_info()
    assert 0 < free <= total
    assert fg.cuda.get_arch().startswith("sm_")


@gpu
def test_an_allocation_larger_than_the_device_raises_memory_error_naming_its_size() -> None:
    free, total = fg.cuda.mem_get_info()
    n = total // 2  # float32 elements: twice the device's memory
    with pytest.raises(MemoryError, match=f"could not allocate {4 * n} bytes on cuda:0"):
        fg.zeros(n, device="cuda")
    assert fg.zeros(4, device="cuda").cpu().numpy().tolist() == [0.0] * 4


@gpu
def test_freed_memory_stays_cached_until_empty_cache() -> None:
    """A freed 1 GiB buffer stays in the device's pool (so the next allocation maps nothing) until
    `empty_cache` hands it back to the driver."""
    fg.cuda.empty_cache()
    before = fg.cuda.mem_get_info()[0]
    t = fg.zeros(1 << 28, device="cuda")
    fg.cuda.synchronize()
    del t
    fg.cuda.synchronize()
    cached = fg.cuda.mem_get_info()[0]
    fg.cuda.empty_cache()
    after = fg.cuda.mem_get_info()[0]
    assert before - cached >= 1 << 30
    assert after - cached >= 1 << 30


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.uint8, np.bool_])
def test_round_trip_keeps_values_and_dtype(dtype: type, rng: np.random.Generator) -> None:
    a = (rng.standard_normal((3, 5, 7)) * 50).astype(dtype)
    t = fg.tensor(a).to("cuda")
    assert t.device == "cuda:0"
    np.testing.assert_array_equal(t.cpu().numpy(), a)
    # Strided views copy through the strided-copy kernel.
    np.testing.assert_array_equal(t.transpose(0, 2).cpu().numpy(), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(t[1:, ::2].cpu().numpy(), a[1:, ::2])


@gpu
def test_large_uploads_through_reused_pinned_buffers_keep_every_value(rng: np.random.Generator) -> None:
    """Uploads of 64 KB and more go through pinned buffers kept per length (the oldest freed past
    four lengths); back-to-back uploads reusing one buffer must not overwrite a copy in flight."""
    sizes = (100_000, 100_000, 70_000, 80_000, 90_000, 110_000, 100_000, 100_000)
    arrays = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    on_gpu = [fg.tensor(a).cuda() for a in arrays]
    for a, t in zip(arrays, on_gpu):
        np.testing.assert_array_equal(t.cpu().numpy(), a)
    labels = rng.integers(0, 10, 50_000)
    np.testing.assert_array_equal(fg.tensor(labels).cuda().cpu().numpy(), labels)


@gpu
def test_numpy_on_a_cuda_tensor_raises_and_tolist_copies() -> None:
    t = fg.tensor(np.arange(4, dtype=np.float32)).cuda()
    with pytest.raises(TypeError, match="cpu"):
        t.numpy()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert t.sum().item() == 6.0


@gpu
def test_fill_and_dtype_casts() -> None:
    z = fg.full((2, 3), 2.5, device="cuda")
    np.testing.assert_array_equal(z.cpu().numpy(), np.full((2, 3), 2.5, np.float32))
    x = fg.tensor(np.array([-1.5, 0.0, 2.7], np.float32)).cuda()
    np.testing.assert_array_equal(x.to("int64").cpu().numpy(), np.array([-1, 0, 2]))
    np.testing.assert_array_equal(x.to("bool").cpu().numpy(), np.array([True, False, True]))


UNARY: dict[str, Callable[[fg.Tensor], fg.Tensor]] = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: (x.abs() + 0.1).log(),
    "sqrt": lambda x: (x.abs() + 0.1).sqrt(),
    "abs": lambda x: x.abs(),
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "softplus": lambda x: F.softplus(x, beta=2.0, threshold=5.0),
    "clamp": lambda x: x.clamp(-0.5, 0.7),
    "pow_scalar": lambda x: (x.abs() + 0.5).pow(1.7),
    "affine": lambda x: x * 3.0 + 1.0,
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "floor": lambda x: (x * 3.0).floor(),
    "ceil": lambda x: (x * 3.0).ceil(),
    "round": lambda x: (x * 3.0).round(),
    "log1p": lambda x: x.abs().log1p(),
    "expm1": lambda x: x.expm1(),
    "erf": lambda x: x.erf(),
    "erfc": lambda x: x.erfc(),
    "tan": lambda x: (x * 0.5).tan(),
    "asin": lambda x: (x * 0.3).tanh().asin(),
    "acos": lambda x: (x * 0.3).tanh().acos(),
    "atan": lambda x: x.atan(),
    "sinh": lambda x: x.sinh(),
    "cosh": lambda x: x.cosh(),
    "asinh": lambda x: x.asinh(),
    "acosh": lambda x: (x.abs() + 1.1).acosh(),
    "atanh": lambda x: (x * 0.3).tanh().atanh(),
    "log2": lambda x: (x.abs() + 0.1).log2(),
    "log10": lambda x: (x.abs() + 0.1).log10(),
    "lgamma": lambda x: (x * 3.0).lgamma(),
    "digamma": lambda x: (x * 3.0).digamma(),
    "polygamma": lambda x: (x * 3.0).polygamma(3),
    "erfinv": lambda x: (x * 0.5).tanh().erfinv(),
    "bessel": lambda x: (x * 10).i0e() + x.i1() + (x * 20).i1e() + x.i0(),
    "normal_functions": lambda x: fg.special.erfcx(x) + fg.special.log_ndtr(x * 4) + fg.special.ndtri(x.sigmoid()),
    "bessel_jy": lambda x: (fg.special.bessel_j0(x * 8) + fg.special.bessel_j1(x * 8) + fg.special.bessel_y0(x.abs() * 8 + 0.1)
                            + fg.special.bessel_y1(x.abs() * 8 + 0.1)),
    "bessel_k": lambda x: (fg.special.modified_bessel_k0(x.abs() * 5 + 0.1) + fg.special.modified_bessel_k1(x.abs() * 5 + 0.1)
                           + fg.special.scaled_modified_bessel_k0(x.abs() * 10 + 0.1)
                           + fg.special.scaled_modified_bessel_k1(x.abs() * 10 + 0.1)),
    "airy_ai": lambda x: fg.special.airy_ai(x * 5),
}


@gpu
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_the_cpu(name: str, rng: np.random.Generator) -> None:
    a = rng.standard_normal((4, 33)).astype(np.float32) * 2
    grads_match(UNARY[name], [a], rtol=2e-6, atol=1e-6)


@gpu
def test_gamma_sample_gradients_and_draws_on_the_gpu(rng: np.random.Generator) -> None:
    """The reparametrised gamma gradient (binary code 11) equals the CPU's to rounding, and
    seeded Gamma and Beta draws made on the GPU follow their laws (Kolmogorov-Smirnov)."""
    from scipy import stats

    alpha = (rng.uniform(0.05, 50, 500)).astype(np.float32)
    z = rng.gamma(alpha).astype(np.float32) + np.float32(1e-30)
    on_cpu = fg.tensor(alpha)._standard_gamma_grad(fg.tensor(z)).numpy()
    on_gpu = fg.tensor(alpha).to("cuda")._standard_gamma_grad(fg.tensor(z).to("cuda")).cpu().numpy()
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-6)
    fg.manual_seed(4)
    concentration = fg.tensor(np.float32([0.3, 4.0])).to("cuda").requires_grad_()
    draws = fg.distributions.Gamma(concentration, 1.0).rsample((20_000,))
    draws.sum().backward()
    assert concentration.grad.device == "cuda:0"
    values = draws.detach().cpu().numpy()
    for column, a in enumerate((0.3, 4.0)):
        assert stats.kstest(values[:, column], stats.gamma(a).cdf).pvalue > 1e-3
    beta = fg.distributions.Beta(fg.tensor(0.5).to("cuda"), 2.0).sample((20_000,)).cpu().numpy()
    assert stats.kstest(beta, stats.beta(0.5, 2.0).cdf).pvalue > 1e-3


@gpu
def test_relu_and_clamp_pass_nan_like_the_cpu() -> None:
    """NaN, -0 and infinities through relu and clamp, forward and backward, bit for bit as on the
    CPU (PyTorch's rules: NaN passes through both, relu keeps -0)."""
    x = np.array([np.nan, -0.0, 0.0, -1.5, 2.0, np.inf, -np.inf, 0.25], dtype=np.float32)
    g = np.linspace(1.0, 8.0, x.size).astype(np.float32)
    for fn in (F.relu, lambda t: t.clamp(-1.0, 1.0)):
        outs = []
        for device in ("cpu", "cuda"):
            t = fg.tensor(x).to(device).requires_grad_()
            y = fn(t)
            y.backward(fg.tensor(g).to(device))
            outs.append((y.detach().cpu().numpy(), t.grad.cpu().numpy()))
        for cpu_value, gpu_value in zip(*outs):
            np.testing.assert_array_equal(gpu_value, cpu_value)
            np.testing.assert_array_equal(np.signbit(gpu_value), np.signbit(cpu_value))


BINARY: dict[str, Callable[[fg.Tensor, fg.Tensor], fg.Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 0.5),
    "pow": lambda a, b: (a.abs() + 0.5).pow(b),
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "atan2": lambda a, b: a.atan2(b),
    "floor_divide": lambda a, b: (a * 7.0) // (b.abs() + 0.25),
    "remainder": lambda a, b: (a * 7.0) % (b + 0.01),
    "fmod": lambda a, b: (a * 7.0).fmod(b + 0.01),
}


@gpu
@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5))])
def test_binary_ops_broadcast_like_the_cpu(name: str, shapes: tuple, rng: np.random.Generator) -> None:
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    grads_match(BINARY[name], [a, b], rtol=2e-6, atol=1e-6)


@gpu
def test_cuda_namespace_reports_the_device() -> None:
    major, minor = fg.cuda.get_device_capability()
    assert fg.cuda.get_arch() == f"sm_{major}{minor}" and fg.cuda.get_arch_list() == [fg.cuda.get_arch()]
    properties = fg.cuda.get_device_properties()
    assert properties.name == fg.cuda.get_device_name() and properties.total_memory == fg.cuda.mem_get_info()[1]
    assert fg.cuda.current_device() == 0 and fg.cuda.is_bf16_supported() == (major >= 8)
    start, end = fg.cuda.Event(enable_timing=True), fg.cuda.Event(enable_timing=True)
    x = fg.randn(2048, 2048).to("cuda")
    start.record()
    for _ in range(10):
        x = x @ x * 1e-3
    end.record()
    assert start.elapsed_time(end) > 0.0


@gpu
def test_zeta_and_its_q_gradient_match_the_cpu(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.uniform(1.1, 8, (3, 40)).astype(np.float32))
    q_values = rng.uniform(0.05, 20, (3, 40)).astype(np.float32)
    results = []
    for device in ("cpu", "cuda"):
        q = fg.tensor(q_values).to(device).requires_grad_()
        value = fg.special.zeta(x.to(device), q)
        value.sum().backward()
        results.append((value.detach().cpu().numpy(), q.grad.cpu().numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=2e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=2e-6)


@gpu
def test_comparisons_and_where(rng: np.random.Generator) -> None:
    a = rng.integers(-3, 3, (4, 5)).astype(np.float32)
    b = rng.integers(-3, 3, (5,)).astype(np.float32)
    ga, gb = fg.tensor(a).cuda(), fg.tensor(b).cuda()
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        np.testing.assert_array_equal(getattr(ga, op)(gb).cpu().numpy(), getattr(a, op)(b))
    picked = fg.where(ga > gb, ga, gb * 10)
    np.testing.assert_array_equal(picked.cpu().numpy(), np.where(a > b, a, b * 10))
    labels = fg.tensor(np.array([0, 2, 1], np.int64)).cuda()
    np.testing.assert_array_equal((labels == fg.tensor(np.array([0, 1, 1], np.int64)).cuda()).cpu().numpy(),
                                  [True, False, True])


@gpu
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), -1])
def test_reductions_match_the_cpu(dim: object, rng: np.random.Generator) -> None:
    a = rng.standard_normal((6, 7, 300)).astype(np.float32)
    grads_match(lambda x: x.sum(dim), [a], rtol=1e-5, atol=1e-5)
    grads_match(lambda x: x.mean(dim, keepdim=True), [a], rtol=1e-5, atol=1e-6)
    grads_match(lambda x: x.var(dim), [a], rtol=1e-5, atol=1e-6)


@gpu
def test_few_long_rows_reduce_in_parts_like_the_cpu(rng: np.random.Generator) -> None:
    """A conv bias gradient's shape: 32 channels of 64 * 26 * 26 values, each row split over
    several blocks whose partials a second pass combines; and column sums of long columns."""
    a = rng.standard_normal((64, 32, 26, 26)).astype(np.float32)
    grads_match(lambda x: x.sum((0, 2, 3)), [a], rtol=1e-5, atol=1e-4)
    # Leading axes of a contiguous tensor reduce as columns; 26 columns of 53,248 rows split the
    # rows into parts, combined by a second pass. A column's sum of |x| is about 42,000, so
    # float32 bounds either device's error by about 2^-24 * 42,000 = 2.5e-3.
    grads_match(lambda x: x.reshape(64 * 32 * 26, 26).sum(0), [a], rtol=1e-5, atol=2.5e-3)
    grads_match(lambda x: x.reshape(64, 32 * 26 * 26).mean(0), [a], rtol=1e-5, atol=1e-6)
    rows = fg.tensor(a).cuda().permute(1, 0, 2, 3).reshape(32, 64 * 26 * 26)
    np.testing.assert_array_equal(rows.max(1)[0].cpu().numpy(), a.max((0, 2, 3)))
    np.testing.assert_array_equal(rows.min(1)[0].cpu().numpy(), a.min((0, 2, 3)))


@gpu
def test_max_min_argmax_match_the_cpu(rng: np.random.Generator) -> None:
    a = rng.standard_normal((5, 129)).astype(np.float32)
    a[2, 7] = a[2, 90] = 10.0  # a tie: the first index wins
    g = fg.tensor(a).cuda()
    np.testing.assert_array_equal(g.argmax(1).cpu().numpy(), a.argmax(1))
    np.testing.assert_array_equal(g.argmax(0).cpu().numpy(), a.argmax(0))
    assert g.argmax(1).cpu().numpy()[2] == 7
    grads_match(lambda x: x.max(1)[0], [a], rtol=0, atol=0)
    values, indices = g.max(1)
    np.testing.assert_array_equal(values.cpu().numpy(), a.max(1))
    np.testing.assert_array_equal(indices.cpu().numpy(), a.argmax(1))
    np.testing.assert_array_equal(g.min(0)[0].cpu().numpy(), a.min(0))
    grads_match(lambda x: x.max(), [a], rtol=0, atol=0)
    grads_match(lambda x: x.min(), [a], rtol=0, atol=0)


@gpu
@pytest.mark.parametrize("n", [10, 1000, 4097])
def test_softmax_and_log_softmax_match_the_cpu(n: int, rng: np.random.Generator) -> None:
    """Softmax against float64 on both devices: the two reduce in different orders, so each is
    held to the exact value rather than to the other's rounding. The bounds are float32's: with
    |x - max| up to about 40, rounding that difference alone moves y by 40 * 2^-24 = 2.4e-6
    relative, and the gradient y * (w - sum(w * y)) cancels O(1) terms, so its absolute error is a
    few times that."""
    a = (rng.standard_normal((3, n)) * 5).astype(np.float32)
    for dim in (-1, 0):
        e = np.exp(a.astype(np.float64) - a.max(dim, keepdims=True))
        y = e / e.sum(dim, keepdims=True)
        w = np.linspace(-1.0, 1.0, y.size, dtype=np.float32).reshape(y.shape)
        g = y * (w - (w * y).sum(dim, keepdims=True))
        for device in ("cpu", "cuda"):
            x = leaf(a, device)
            out = F.softmax(x, dim=dim)
            (out * fg.tensor(w).to(device)).sum().backward()
            np.testing.assert_allclose(out.detach().cpu().numpy(), y, rtol=1e-5, atol=1e-12, err_msg=device)
            np.testing.assert_allclose(x.grad.cpu().numpy(), g, rtol=1e-5, atol=4e-6, err_msg=device)
    grads_match(lambda x: F.log_softmax(x, dim=-1), [a], rtol=1e-5, atol=1e-5)


@gpu
@pytest.mark.parametrize(
    "shapes",
    [((7, 5), (5, 3)), ((4, 7, 5), (5, 3)), ((2, 4, 7, 5), (2, 4, 5, 3)), ((4, 7, 5), (1, 5, 3)), ((5,), (5, 3))],
)
def test_matmul_matches_the_cpu(shapes: tuple, rng: np.random.Generator) -> None:
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    grads_match(lambda x, y: x @ y, [a, b], rtol=1e-5, atol=1e-5)
    # Transposed operands reach cuBLAS as "T" without a copy.
    if len(shapes[0]) == 2:
        grads_match(lambda x, y: (y.transpose(0, 1) @ x.transpose(0, 1)), [a, b], rtol=1e-5, atol=1e-5)


@gpu
def test_linear_mlp_forward_and_backward_match_the_cpu(rng: np.random.Generator) -> None:
    x = rng.standard_normal((16, 20)).astype(np.float32)
    w1 = (rng.standard_normal((32, 20)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((4, 32)) * 0.2).astype(np.float32)
    b1 = rng.standard_normal(32).astype(np.float32)

    def mlp(x: fg.Tensor, w1: fg.Tensor, b1: fg.Tensor, w2: fg.Tensor) -> fg.Tensor:
        return F.log_softmax(F.linear(F.gelu(F.linear(x, w1, b1)), w2), dim=-1)

    grads_match(mlp, [x, w1, b1, w2], rtol=1e-5, atol=1e-5)


@gpu
def test_autocast_rounds_like_the_cpu_and_its_products_match(rng: np.random.Generator) -> None:
    """Rounding to bf16 is bit for bit the CPU's; under autocast, linear layers and convolutions
    multiply the same rounded operands (the convolutions on bf16 tensor cores, with one case past a
    64 x 64 tile and grouped), so they agree as float32 products do."""
    x = (rng.standard_normal(20000) * 10.0 ** rng.integers(-40, 38, 20000)).astype(np.float32)
    x[:4] = [np.inf, -np.inf, np.finfo(np.float32).max, -0.0]
    np.testing.assert_array_equal(fg.tensor(x).to("cuda").round_to_bf16().cpu().numpy().view(np.uint32),
                                  fg.tensor(x).round_to_bf16().numpy().view(np.uint32))
    features = rng.standard_normal((16, 20)).astype(np.float32)
    w1, b1 = (rng.standard_normal((32, 20)) * 0.2).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    images = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    kernel = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    with fg.autocast():
        grads_match(lambda x, w, b: F.relu(F.linear(x, w, b)), [features, w1, b1], rtol=1e-5, atol=1e-5)
        grads_match(lambda x, w: F.conv2d(x, w, padding=1), [images, kernel], rtol=1e-5, atol=1e-5)
        grads_match(lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
                    [rng.standard_normal((6, 8, 13, 11)).astype(np.float32),
                     (rng.standard_normal((70, 4, 3, 3)) * 0.3).astype(np.float32)], rtol=1e-4, atol=1e-4)


@gpu
def test_causal_attention_matches_the_cpu(rng: np.random.Generator) -> None:
    """Causal flash attention on the device against the CPU's fused kernel, wide and tall."""
    for lq, lk in ((5, 7), (7, 5)):
        arrays = [rng.standard_normal((2, 3, n, 8)).astype(np.float32) for n in (lq, lk, lk)]
        grads_match(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), arrays,
                    rtol=1e-5, atol=1e-5)


def flash_case(head: int, masking: str, lq: int,
               rng: np.random.Generator) -> tuple[list[np.ndarray], Callable[..., fg.Tensor]]:
    """Operands and an attention over them for the flash kernels' tests: queries permuted out of a
    [B, L, H, d] projection (strided rows), values broadcast over the batch, and a boolean padding
    mask [B, 1, 1, Lk] hiding the second sequence's tail keys, or a causal mask."""
    b, h, lk = 2, 3, 70
    q = rng.standard_normal((b, lq, h, head)).astype(np.float32)
    k = rng.standard_normal((b, h, lk, head)).astype(np.float32)
    v = rng.standard_normal((1, h, lk, head // 2 + 8)).astype(np.float32)
    keep = np.arange(lk)[None, None, None, :] < np.array([lk, 51])[:, None, None, None]

    def attend(q: fg.Tensor, k: fg.Tensor, v: fg.Tensor) -> fg.Tensor:
        heads = q.permute(0, 2, 1, 3)
        if masking == "causal":
            return F.scaled_dot_product_attention(heads, k, v, is_causal=True)
        return F.scaled_dot_product_attention(heads, k, v, attn_mask=fg.tensor(keep).to(q.device))

    return [q, k, v], attend


@gpu
@pytest.mark.parametrize("head", [32, 64, 128])
@pytest.mark.parametrize("masking", ["padding", "causal"])
def test_flash_attention_matches_the_cpu(head: int, masking: str, rng: np.random.Generator) -> None:
    """Flash attention against the CPU's fused kernel, values and the three gradients (see
    `flash_case`), lengths off the kernels' 32- and 16-row tiles."""
    arrays, attend = flash_case(head, masking, 45, rng)
    grads_match(attend, arrays, rtol=1e-4, atol=1e-5)


@gpu
@pytest.mark.parametrize("head", [24, 64, 128])
@pytest.mark.parametrize("masking", ["padding", "causal"])
def test_bf16_flash_attention_matches_the_cpu_within_bf16_rounding(head: int, masking: str,
                                                                   rng: np.random.Generator) -> None:
    """Inside autocast the flash kernels run on bf16 tensor cores (head dims padded to 32, 64 or
    128; lengths off every tile) and round the probabilities and score gradients to bf16 for their
    products, where the CPU keeps them f32: values and gradients agree within that rounding
    (2^-9 relative per factor)."""
    arrays, attend = flash_case(head, masking, 77, rng)
    with fg.autocast():
        grads_match(attend, arrays, rtol=2e-2, atol=2e-2)


@gpu
def test_bf16_flash_attention_matches_pytorch_bf16_sdpa(rng: np.random.Generator) -> None:
    """Under autocast, flash attention and its gradients against PyTorch's bf16
    scaled_dot_product_attention on the same bf16 inputs (both round the probabilities to bf16;
    PyTorch also rounds its outputs)."""
    torch = pytest.importorskip("torch")
    shape = (2, 4, 130, 64)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    weight = np.linspace(-1.0, 1.0, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    xs = [leaf(a, "cuda") for a in arrays]
    with fg.autocast():
        out = F.scaled_dot_product_attention(*xs, is_causal=True)
        (out * fg.tensor(weight).to("cuda")).sum().backward()
    ts = [torch.tensor(a, device="cuda", dtype=torch.bfloat16, requires_grad=True) for a in arrays]
    t_out = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
    (t_out.float() * torch.tensor(weight, device="cuda")).sum().backward()
    np.testing.assert_allclose(out.cpu().numpy(), t_out.float().detach().cpu().numpy(), rtol=2e-2, atol=2e-2)
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.float().cpu().numpy(), rtol=3e-2, atol=3e-2)


@gpu
def test_16_bit_casts_on_the_device_match_the_cpu(rng: np.random.Generator) -> None:
    """f32 <-> bf16 / f16 casts (round to nearest even) and strided copies of 16-bit tensors on
    the device give the CPU's bits, as do the transfers both ways."""
    x = (rng.standard_normal((33, 47)) * 10.0 ** rng.integers(-9, 7, (33, 47))).astype(np.float32)
    x[0, :6] = [65504, 65520, 1e6, 2.0**-25, np.inf, -0.0]
    host, device = fg.tensor(x), fg.tensor(x).to("cuda")
    for dtype in ("bfloat16", "float16"):
        on_host, on_device = host.to(dtype), device.to(dtype)
        assert on_device.dtype == dtype and on_device.device.startswith("cuda")
        np.testing.assert_array_equal(on_device.cpu().float().numpy(), on_host.float().numpy())
        np.testing.assert_array_equal(on_device.T[3:, ::2].float().cpu().numpy(), on_host.T[3:, ::2].float().numpy())
        np.testing.assert_array_equal(on_host.to("cuda").cpu().float().numpy(), on_host.float().numpy())
        np.testing.assert_array_equal(fg.zeros(3, dtype=dtype, device="cuda").cpu().float().numpy(), np.zeros(3))


@gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("masking", ["padding", "causal"])
def test_16_bit_flash_attention_matches_the_cpu(dtype: str, masking: str, rng: np.random.Generator) -> None:
    """bf16 / f16 q, k, v run the flash kernels on tensor cores of their format, which round the
    probabilities and score gradients to it for their products, where the CPU keeps them f32;
    outputs and gradients (all in the inputs' dtype) agree within that rounding (2^-9 relative
    per factor for bf16, 2^-12 for f16)."""
    arrays, attend = flash_case(64, masking, 77, rng)
    tol = 2e-2 if dtype == "bfloat16" else 4e-3
    results = {}
    for device in ("cpu", "cuda"):
        xs = [fg.tensor(a, dtype=dtype).to(device).requires_grad_(True) for a in arrays]
        out = attend(*xs)
        assert out.dtype == dtype
        out.backward(fg.tensor(np.cos(np.arange(out.numel())).reshape(out.shape).astype(np.float32),
                               dtype=dtype).to(device))
        results[device] = [out.float().cpu().numpy()] + [x.grad.float().cpu().numpy() for x in xs]
        assert all(x.grad.dtype == dtype for x in xs)
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@gpu
def test_f16_flash_attention_matches_pytorch_f16_sdpa(rng: np.random.Generator) -> None:
    """f16 tensors: flash attention and its gradients against PyTorch's f16
    scaled_dot_product_attention on the same values."""
    torch = pytest.importorskip("torch")
    shape = (2, 4, 130, 64)
    arrays = [rng.standard_normal(shape).astype(np.float16) for _ in range(3)]
    xs = [fg.tensor(a).to("cuda").requires_grad_(True) for a in arrays]
    out = F.scaled_dot_product_attention(*xs, is_causal=True)
    grad = np.linspace(-1.0, 1.0, int(np.prod(shape)), dtype=np.float32).reshape(shape).astype(np.float16)
    out.backward(fg.tensor(grad).to("cuda"))
    ts = [torch.tensor(a, device="cuda", requires_grad=True) for a in arrays]
    t_out = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
    t_out.backward(torch.tensor(grad, device="cuda"))
    np.testing.assert_allclose(out.cpu().numpy().astype(np.float32), t_out.detach().cpu().float().numpy(),
                               rtol=4e-3, atol=4e-3)
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.cpu().numpy().astype(np.float32), t.grad.float().cpu().numpy(),
                                   rtol=1e-2, atol=1e-2)


@gpu
def test_attention_with_dropout_or_wide_heads_on_the_device_runs_composed(rng: np.random.Generator) -> None:
    """Past flash attention's reach (dropout; heads over 128) the composed ops run on the device:
    dropout draws the CPU's masks, so both still match the CPU."""
    arrays = [rng.standard_normal((2, 9, 160)).astype(np.float32) for _ in range(3)]
    grads_match(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), arrays, rtol=1e-4, atol=1e-5)
    small = [a[:, :, :16] for a in arrays]
    outs = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(3)
        xs = [fg.tensor(a).to(device) for a in small]
        outs[device] = F.scaled_dot_product_attention(*xs, dropout_p=0.5).cpu().numpy()
    np.testing.assert_allclose(outs["cuda"], outs["cpu"], rtol=1e-5, atol=1e-6)


def _steps_on_each_device(make: Callable, p0: np.ndarray, grads: list[np.ndarray]) -> dict[str, tuple[np.ndarray, Any]]:
    """On the CPU and on the GPU: the parameter after one optimizer step per gradient, and the
    optimizer's state for it."""
    out = {}
    for device in ("cpu", "cuda"):
        p = leaf(p0, device)
        opt = make([p])
        for g in grads:
            opt.zero_grad()
            (p * fg.tensor(g).to(device)).sum().backward()
            opt.step()
        out[device] = (p.detach().cpu().numpy(), opt.state[p])
    return out


@gpu
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: fg.optim.SGD(ps, lr=0.1),
        lambda ps: fg.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
        lambda ps: fg.optim.Adam(ps, lr=1e-2),
        lambda ps: fg.optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2),
        lambda ps: fg.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
        lambda ps: fg.optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True),
        lambda ps: fg.optim.RMSprop(ps, lr=1e-2),
        lambda ps: fg.optim.Adagrad(ps, lr=1e-1, lr_decay=0.1, weight_decay=1e-2, initial_accumulator_value=0.1),
        lambda ps: fg.optim.Adamax(ps, lr=1e-2, weight_decay=1e-2),
        lambda ps: fg.optim.ASGD(ps, lr=1e-2, lambd=0.1, t0=1, weight_decay=1e-2),
    ],
)
def test_optimizer_steps_match_the_cpu(make: Callable, rng: np.random.Generator) -> None:
    p0 = rng.standard_normal((3, 50)).astype(np.float32)
    grads = [rng.standard_normal((3, 50)).astype(np.float32) for _ in range(3)]
    final = _steps_on_each_device(make, p0, grads)
    # The list kernels round op for op as the CPU's (explicit fused multiply-adds, nothing else
    # fused, IEEE division and square root), so the bits agree.
    np.testing.assert_array_equal(final["cuda"][0], final["cpu"][0])


@gpu
def test_adafactor_steps_match_the_cpu(rng: np.random.Generator) -> None:
    """Adafactor runs as tensor ops on the parameter's device; its reductions sum in the device's
    order, so it is held to float32 rounding rather than bits."""
    p0 = rng.standard_normal((3, 50)).astype(np.float32)
    grads = [rng.standard_normal((3, 50)).astype(np.float32) for _ in range(4)]
    final = _steps_on_each_device(lambda ps: fg.optim.Adafactor(ps, lr=0.05, weight_decay=1e-2), p0, grads)
    np.testing.assert_allclose(final["cuda"][0], final["cpu"][0], rtol=1e-5, atol=1e-6)
    assert final["cuda"][1]["row_var"].shape == (3, 1)


@gpu
def test_muon_steps_match_the_cpu(rng: np.random.Generator) -> None:
    """Muon's Newton-Schulz products run in cuBLAS on the device; a bfloat16 rounding of an
    intermediate may fall the other way, so it is held to one bfloat16 step times the rate."""
    p0 = rng.standard_normal((24, 40)).astype(np.float32)
    grads = [rng.standard_normal((24, 40)).astype(np.float32) for _ in range(3)]
    final = _steps_on_each_device(lambda ps: fg.optim.Muon(ps, lr=0.02, weight_decay=0.01), p0, grads)
    np.testing.assert_allclose(final["cuda"][0], final["cpu"][0], atol=0.02 * 2.0 ** -8, rtol=0)
    np.testing.assert_allclose(final["cuda"][1]["momentum_buffer"].cpu().numpy(),
                               final["cpu"][1]["momentum_buffer"].cpu().numpy(), rtol=1e-6)


@gpu
@pytest.mark.parametrize("decoupled", [False, True])
def test_radam_steps_match_the_cpu_before_and_after_rectification(decoupled: bool, rng: np.random.Generator) -> None:
    """Eight steps with b2 = 0.9: five of plain bias-corrected momentum, three rectified."""
    p0 = rng.standard_normal((3, 50)).astype(np.float32)
    grads = [rng.standard_normal((3, 50)).astype(np.float32) for _ in range(8)]
    final = _steps_on_each_device(
        lambda ps: fg.optim.RAdam(ps, lr=1e-2, betas=(0.9, 0.9), weight_decay=1e-2, decoupled_weight_decay=decoupled),
        p0, grads)
    np.testing.assert_array_equal(final["cuda"][0], final["cpu"][0])


@gpu
@pytest.mark.parametrize("decoupled", [False, True])
def test_nadam_steps_match_the_cpu_and_keep_mu_product_on_the_host(decoupled: bool, rng: np.random.Generator) -> None:
    """Five steps; the momentum coefficients' product stays a 0-d CPU tensor, as in PyTorch."""
    p0 = rng.standard_normal((3, 50)).astype(np.float32)
    grads = [rng.standard_normal((3, 50)).astype(np.float32) for _ in range(5)]
    final = _steps_on_each_device(
        lambda ps: fg.optim.NAdam(ps, lr=1e-2, weight_decay=1e-2, momentum_decay=0.05, decoupled_weight_decay=decoupled),
        p0, grads)
    np.testing.assert_array_equal(final["cuda"][0], final["cpu"][0])
    products = {device: state["mu_product"] for device, (_, state) in final.items()}
    assert str(products["cuda"].device) == "cpu" and products["cuda"].item() == products["cpu"].item()


@gpu
@pytest.mark.parametrize("algorithm", ["sgd", "adamw", "adagrad", "adadelta", "rprop"])
def test_fused_steps_over_many_parameters_match_the_cpu(algorithm: str, rng: np.random.Generator) -> None:
    """40 parameters (two fused launches of up to 32), sizes from 1 to past one 4096-element chunk."""
    shapes = [(int(rng.integers(1, 5000)),) for _ in range(38)] + [(3, 4097), (1,)]
    p0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    final = {}
    for device in ("cpu", "cuda"):
        ps = [leaf(p, device) for p in p0]
        opt = {"sgd": lambda: fg.optim.SGD(ps, lr=0.1, momentum=0.9),
               "adamw": lambda: fg.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
               "adagrad": lambda: fg.optim.Adagrad(ps, lr=0.1, lr_decay=0.2),
               "adadelta": lambda: fg.optim.Adadelta(ps, lr=0.5, weight_decay=0.1),
               "rprop": lambda: fg.optim.Rprop(ps, lr=0.05)}[algorithm]()
        for step in grads:
            opt.zero_grad()
            for p, g in zip(ps, step):
                (p * fg.tensor(g).to(device)).sum().backward()
            opt.step()
        final[device] = [p.detach().cpu().numpy() for p in ps]
    for a, b in zip(final["cuda"], final["cpu"]):
        np.testing.assert_array_equal(a, b)


@gpu
def test_module_to_cuda_moves_parameters_and_buffers() -> None:
    model = fg.nn.Sequential(fg.nn.Linear(4, 3), fg.nn.ReLU(), fg.nn.Linear(3, 2))
    model.to("cuda")
    assert all(p.device == "cuda:0" and p.requires_grad and p.is_leaf for p in model.parameters())
    out = model(fg.tensor(np.ones((5, 4), np.float32)).cuda())
    assert out.device == "cuda:0" and out.shape == (5, 2)
    model.cpu()
    assert all(p.device == "cpu" for p in model.parameters())


@gpu
def test_mixed_devices_raise() -> None:
    x = fg.tensor(np.ones((1, 1, 5, 5), np.float32)).cuda()
    with pytest.raises(fg.DeviceError, match="same device"):
        x + fg.tensor(np.ones((1, 1, 5, 5), np.float32))


@gpu
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_the_cpu(smoothing: float, weighted: bool, reduction: str,
                                       rng: np.random.Generator) -> None:
    logits = rng.standard_normal((9, 7)).astype(np.float32) * 3
    target = rng.integers(0, 7, 9)
    target[4] = -100  # ignored
    weight = rng.uniform(0.5, 2.0, 7).astype(np.float32) if weighted else None

    def loss(x: fg.Tensor) -> fg.Tensor:
        w = fg.tensor(weight).to(x.device) if weight is not None else None
        t = fg.tensor(target).to(x.device)
        return F.cross_entropy(x, t, weight=w, label_smoothing=smoothing, reduction=reduction)

    grads_match(loss, [logits], rtol=1e-5, atol=1e-6)


@gpu
def test_cross_entropy_over_spatial_logits_and_nll_match_the_cpu(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    target = rng.integers(0, 5, (2, 3, 4))
    grads_match(lambda x: F.cross_entropy(x, fg.tensor(target).to(x.device)), [logits], rtol=1e-5, atol=1e-6)
    grads_match(lambda x: F.nll_loss(F.log_softmax(x, dim=1), fg.tensor(target).to(x.device)), [logits],
                rtol=1e-5, atol=1e-6)


@gpu
def test_layer_norm_matches_the_cpu(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 6, 33)).astype(np.float32) * 2 + 1
    w = rng.standard_normal(33).astype(np.float32)
    b = rng.standard_normal(33).astype(np.float32)
    grads_match(lambda x, w, b: F.layer_norm(x, (33,), w, b), [x, w, b], rtol=1e-5, atol=1e-5)
    grads_match(lambda x: F.layer_norm(x, (6, 33)), [x], rtol=1e-5, atol=1e-5)


@gpu
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(8, 3, 5, 5), (64, 16, 32, 32), (300, 7)])
def test_batch_norm_matches_the_cpu(training: bool, shape: tuple, rng: np.random.Generator) -> None:
    """The fused kernels against the CPU's: a small batch, one whose channels are split over
    several blocks, and BatchNorm1d's [N, C]; outputs, input and weight gradients, running stats."""
    x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
    stats = {}
    for device in ("cpu", "cuda"):
        bn = (fg.nn.BatchNorm2d if len(shape) == 4 else fg.nn.BatchNorm1d)(shape[1])
        bn.to(device)
        bn.train(training)
        xs = leaf(x, device)
        y = bn(xs)
        (y * y).sum().backward()
        stats[device] = (y.detach().cpu().numpy(), xs.grad.cpu().numpy(), bn.weight.grad.cpu().numpy(),
                         bn.running_mean.cpu().numpy(), bn.running_var.cpu().numpy())
    for a, b in zip(stats["cuda"], stats["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@gpu
def test_dropout_draws_the_same_mask_as_the_cpu() -> None:
    x = np.ones((7, 301), np.float32)
    masks = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(11)
        masks[device] = F.dropout(fg.tensor(x).to(device), p=0.3, training=True).cpu().numpy()
    np.testing.assert_array_equal(masks["cuda"], masks["cpu"])
    assert 0.25 < (masks["cuda"] == 0).mean() < 0.35


@gpu
def test_index_ops_match_the_cpu(rng: np.random.Generator) -> None:
    table = rng.standard_normal((10, 6)).astype(np.float32)
    ids = np.array([[1, 3, 3], [9, 0, 1]])
    grads_match(lambda t: F.embedding(fg.tensor(ids).to(t.device), t), [table], rtol=1e-6, atol=1e-6)
    grads_match(lambda t: t.index_select(1, fg.tensor(np.array([5, 0, 5])).to(t.device)), [table],
                rtol=1e-6, atol=1e-6)
    index = rng.integers(0, 6, (10, 4))
    grads_match(lambda t: t.gather(1, fg.tensor(index).to(t.device)), [table], rtol=1e-6, atol=1e-6)
    hot = F.one_hot(fg.tensor(np.array([2, 0, 4])).cuda(), 5).cpu().numpy()
    np.testing.assert_array_equal(hot, np.eye(5, dtype=np.float32)[[2, 0, 4]])
    # A host index is checked at once; a device index by the kernel, reported when a value is read.
    with pytest.raises(ValueError, match="index"):
        fg.tensor(table).cuda().index_select(0, fg.tensor(np.array([10])))
    # A host index tensor is accepted for a CUDA tensor, as in torch.
    picked = fg.tensor(table).cuda().index_select(0, fg.tensor(np.array([4, 1])))
    assert picked.device == "cuda:0"
    np.testing.assert_array_equal(picked.cpu().numpy(), table[[4, 1]])


@gpu
def test_out_of_range_device_indices_raise_at_the_next_read(rng: np.random.Generator) -> None:
    """Kernels check device-resident indices and targets without a host wait: the first bad one is
    raised, naming the op, its bound and the value, when the host next reads a value; the check is
    then cleared."""
    table = fg.tensor(rng.standard_normal((10, 6)).astype(np.float32)).cuda()
    picked = table.index_select(0, fg.tensor(np.array([1, 12, 3])).cuda())
    with pytest.raises(ValueError, match=r"index_select.*\[0, 10\).*12"):
        picked.cpu()
    np.testing.assert_array_equal(table.index_select(0, fg.tensor(np.array([2])).cuda()).cpu().numpy(),
                                  table.cpu().numpy()[[2]])
    logits = fg.tensor(rng.standard_normal((4, 3)).astype(np.float32)).cuda()
    loss = F.cross_entropy(logits, fg.tensor(np.array([0, 1, 3, 2])).cuda())
    with pytest.raises(ValueError, match=r"cross_entropy.*target.*\[0, 3\).*3"):
        loss.item()
    with pytest.raises(ValueError, match=r"gather.*-1"):
        table.gather(1, fg.tensor(np.array([[0], [-1]] * 5)).cuda())
        fg.cuda.synchronize()
    with pytest.raises(ValueError, match=r"one_hot.*\[0, 4\)"):
        F.one_hot(fg.tensor(np.array([0, 4])).cuda(), 4).cpu()
    assert F.cross_entropy(logits, fg.tensor(np.array([0, 1, 2, 2])).cuda()).item() > 0


@gpu
def test_cat_stack_pad_match_the_cpu(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((2, 5)).astype(np.float32)
    grads_match(lambda x, y: fg.cat([x, y], dim=1), [a, b], rtol=0, atol=0)
    grads_match(lambda x: fg.stack([x, x * 2], dim=0), [a], rtol=0, atol=0)
    grads_match(lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [a], rtol=0, atol=0)


@gpu
def test_clip_grad_norm_matches_the_cpu(rng: np.random.Generator) -> None:
    grads = [rng.standard_normal((4, 5)).astype(np.float32) * 3, rng.standard_normal(7).astype(np.float32)]
    out = {}
    for device in ("cpu", "cuda"):
        ps = [leaf(np.zeros_like(g), device) for g in grads]
        for p, g in zip(ps, grads):
            (p * fg.tensor(g).to(device)).sum().backward()
        norm = fg.optim.clip_grad_norm_(ps, 1.0)
        out[device] = (float(norm), [p.grad.cpu().numpy() for p in ps])
    assert abs(out["cuda"][0] - out["cpu"][0]) < 1e-4 * out["cpu"][0]
    for a, b in zip(out["cuda"][1], out["cpu"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@gpu
def test_fit_trains_an_mlp_on_mnist_on_cuda_like_on_the_cpu(mnist: dict) -> None:
    """`fit(device="cuda")` (batches moved in the Rust loop, fused cross-entropy and Adam kernels)
    reaches the CPU run's test accuracy to within half a point after two epochs on 20,000 images."""
    x, y = mnist["x_train"][:20000].reshape(-1, 784), mnist["y_train"][:20000]
    xt, yt = mnist["x_test"][:2000].reshape(-1, 784), mnist["y_test"][:2000]
    accuracy = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(0)
        model = fg.nn.Sequential(fg.nn.Linear(784, 256), fg.nn.ReLU(), fg.nn.Linear(256, 10))
        model.fit((x, y), epochs=2, batch_size=64, device=device, seed=0, verbose=False)
        assert all(p.device == ("cpu" if device == "cpu" else "cuda:0") for p in model.parameters())
        accuracy[device] = model.evaluate((xt, yt)).accuracy
    assert accuracy["cpu"] > 0.91
    assert abs(accuracy["cuda"] - accuracy["cpu"]) < 0.005, accuracy


@gpu
@pytest.mark.parametrize(
    "case",
    [dict(x=(2, 3, 9, 8), w=(4, 3, 3, 3), stride=1, padding=1, dilation=1, groups=1),
     dict(x=(2, 4, 9, 7), w=(6, 2, 3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
     dict(x=(3, 5, 4, 4), w=(7, 5, 1, 1), stride=1, padding=0, dilation=1, groups=1),
     # Past one 64 x 64 x 16 tile of the implicit GEMM in every dimension, and a weight gradient
     # split over many blocks.
     dict(x=(16, 80, 11, 10), w=(70, 80, 3, 3), stride=1, padding=1, dilation=1, groups=1),
     dict(x=(4, 6, 12, 12), w=(6, 1, 5, 5), stride=2, padding=2, dilation=1, groups=6),
     dict(x=(2, 8, 13, 9), w=(66, 4, 3, 3), stride=3, padding=0, dilation=2, groups=2)],
)
def test_conv2d_matches_the_cpu(case: dict, rng: np.random.Generator) -> None:
    """Implicit-GEMM convolution on the GPU (forward, input and weight gradients) against the
    CPU's direct kernels."""
    x = rng.standard_normal(case["x"]).astype(np.float32)
    w = rng.standard_normal(case["w"]).astype(np.float32)
    b = rng.standard_normal(case["w"][0]).astype(np.float32)
    grads_match(lambda xv, wv, bv: F.conv2d(xv, wv, bv, case["stride"], case["padding"], case["dilation"],
                                            case["groups"]), [x, w, b], rtol=1e-4, atol=1e-4)


@gpu
def test_conv2d_with_its_fused_relu_matches_the_cpu(rng: np.random.Generator) -> None:
    """A Conv2d followed by a ReLU (as `nn.Sequential` runs it) is one op; on the GPU the ReLU is
    the implicit GEMM's epilogue and its gradient is taken from the saved output: values and all
    three gradients against the CPU's fused kernel, in f32 and on autocast's bf16 tiles."""
    x = rng.standard_normal((3, 6, 11, 10)).astype(np.float32)
    w = rng.standard_normal((70, 6, 3, 3)).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)

    def conv_relu(xv: fg.Tensor, wv: fg.Tensor, bv: fg.Tensor) -> fg.Tensor:
        return fg._core.conv2d(xv, wv, bv, (1, 1), (1, 1), (1, 1), 1, relu=True)

    grads_match(conv_relu, [x, w, b], rtol=1e-4, atol=1e-4)
    with fg.autocast():
        grads_match(conv_relu, [x, w, b], rtol=1e-4, atol=1e-4)


@gpu
@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_channels_last_convolution_reads_and_writes_nhwc_in_place(precision: str, rng: np.random.Generator) -> None:
    """A channels-last input runs the implicit GEMM on NHWC images in place: the output and the
    input gradient come back channels-last, a chain of convolutions with batch norm, ReLU and a
    residual add between them stays channels-last, and values and gradients match the CPU's;
    a sliced (strided) input is read in place too."""
    x = rng.standard_normal((4, 6, 11, 10)).astype(np.float32)
    w1 = rng.standard_normal((70, 6, 3, 3)).astype(np.float32)
    w2 = rng.standard_normal((8, 35, 3, 3)).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)

    def chain(xv: fg.Tensor, w1v: fg.Tensor, bv: fg.Tensor, w2v: fg.Tensor) -> fg.Tensor:
        h = F.conv2d(xv.contiguous(memory_format=fg.channels_last), w1v, bv, 1, 1)
        # Batch norm, a ReLU and a residual add keep the format, as in a ResNet block.
        h = F.relu(F.batch_norm(h, None, None, training=True)) + h
        if xv.device.startswith("cuda"):
            assert h.is_contiguous(memory_format=fg.channels_last) and not h.is_contiguous()
        y = fg._core.conv2d(h, w2v, None, (2, 1), (0, 1), (1, 2), 2, relu=True)
        if xv.device.startswith("cuda"):
            assert y.is_contiguous(memory_format=fg.channels_last)
        return y

    with fg.autocast(enabled=precision == "bf16"):
        grads_match(chain, [x, w1, b, w2], rtol=1e-4, atol=1e-4)
    xl = fg.tensor(x).to("cuda", memory_format=fg.channels_last)
    xl.requires_grad = True
    F.conv2d(xl, fg.tensor(w1).to("cuda"), None, 1, 1).sum().backward()
    assert xl.grad.is_contiguous(memory_format=fg.channels_last)
    grads_match(lambda xv, wv: F.conv2d(xv[:, :, 1:, ::2], wv, None, 1, 1), [x, w1], rtol=1e-4, atol=1e-4)


@gpu
def test_pooling_matches_the_cpu(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    # Overlapping windows: an input that is the maximum of several sums their gradients, in
    # another order on the GPU (one ulp apart at most).
    grads_match(lambda t: F.max_pool2d(t, 3, 2, 1), [x], rtol=2e-7, atol=0)
    grads_match(lambda t: F.max_pool2d(t, 2), [x], rtol=0, atol=0)
    # Average pooling adds in the CPU's order on both passes: the same bits.
    grads_match(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True), [x], rtol=0, atol=0)
    grads_match(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), [x], rtol=0, atol=0)
    grads_match(lambda t: F.avg_pool2d(t, 2, 4), [x], rtol=0, atol=0)
    grads_match(lambda t: F.adaptive_avg_pool2d(t[:, :, :8, :], (2, 4)), [x], rtol=0, atol=0)
    grads_match(lambda t: F.adaptive_avg_pool2d(t, (4, 3)), [x], rtol=0, atol=0)
    grads_match(lambda t: F.adaptive_avg_pool2d(t, 1), [x], rtol=0, atol=0)
    grads_match(lambda t: F.unfold(t, 3, padding=1), [x], rtol=0, atol=0)
    x[0, 1, 4, 4] = np.nan  # a NaN wins its windows, as in PyTorch
    out = {d: F.max_pool2d(fg.tensor(x).to(d), 3, 2, 1).cpu().numpy() for d in ("cpu", "cuda")}
    np.testing.assert_array_equal(out["cuda"], out["cpu"])
    assert np.isnan(out["cuda"][0, 1, 2, 2])


@gpu
@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_fit_trains_the_small_cnn_on_mnist_on_cuda_like_on_the_cpu(precision: str, mnist: dict) -> None:
    """The issue's small CNN, one epoch on 12,000 images with `fit(device="cuda")` (implicit-GEMM
    convolution), against the same run on the CPU, in f32 and in bf16 (bf16 tensor-core products in
    the convolutions' kernels and cuBLAS)."""
    x, y = mnist["x_train"][:12000], mnist["y_train"][:12000]
    xt, yt = mnist["x_test"][:2000], mnist["y_test"][:2000]
    accuracy = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(0)
        n = fg.nn
        model = n.Sequential(n.Conv2d(1, 32, 3), n.ReLU(), n.Conv2d(32, 64, 3), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
                             n.Linear(9216, 128), n.ReLU(), n.Linear(128, 10))
        model.fit((x, y), epochs=1, batch_size=64, device=device, seed=0, verbose=False, precision=precision)
        accuracy[device] = model.evaluate((xt, yt)).accuracy
    assert accuracy["cpu"] > 0.93
    assert abs(accuracy["cuda"] - accuracy["cpu"]) < 0.01, accuracy


@gpu
def test_transposed_convolution_matches_the_cpu(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 4, 5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    grads_match(lambda xv, wv, bv: F.conv_transpose2d(xv, wv, bv, stride=(1, 2), padding=(0, 1), output_padding=(0, 1),
                                                      groups=2, dilation=(2, 1)), [x, w, b], rtol=1e-4, atol=1e-4)


@gpu
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_match_the_cpu(kind: str, rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    outs = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(3)
        layer = getattr(fg.nn, kind)(4, 6, num_layers=2, batch_first=True, bidirectional=True).to(device)
        xs = leaf(x, device)
        y = layer(xs)[0]
        (y * y).sum().backward()
        outs[device] = (y.detach().cpu().numpy(), xs.grad.cpu().numpy(),
                        [p.grad.cpu().numpy() for p in layer.parameters()])
    np.testing.assert_allclose(outs["cuda"][0], outs["cpu"][0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs["cuda"][1], outs["cpu"][1], rtol=1e-4, atol=1e-5)
    for a, b in zip(outs["cuda"][2], outs["cpu"][2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@gpu
def test_rand_and_randn_draw_the_cpu_numbers() -> None:
    for draw in (fg.rand, fg.randn):
        values = {}
        for device in ("cpu", "cuda"):
            fg.manual_seed(5)
            first = draw(3, 7, device=device)
            second = draw(5, device=device)  # continues the stream where the first draw ended
            values[device] = (first.cpu().numpy(), second.cpu().numpy())
        for a, b in zip(values["cuda"], values["cpu"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@gpu
def test_state_dicts_of_a_cuda_model_round_trip(tmp_path, rng: np.random.Generator) -> None:
    """Saving and restoring a model and its optimizer on CUDA continues training exactly."""
    x = fg.tensor(rng.standard_normal((16, 6)).astype(np.float32)).cuda()
    y = fg.tensor(rng.integers(0, 3, 16)).cuda()

    def step(model: fg.nn.Module, opt: fg.optim.Optimizer) -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    fg.manual_seed(1)
    model = fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3)).cuda()
    opt = fg.optim.Adam(model.parameters(), lr=1e-2)
    step(model, opt)
    fg.save_safetensors(model.state_dict(), tmp_path / "m.safetensors")
    saved_opt = opt.state_dict()
    step(model, opt)

    fg.manual_seed(2)
    twin = fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3)).cuda()
    twin.load_state_dict(fg.load_safetensors(tmp_path / "m.safetensors"))
    twin_opt = fg.optim.Adam(twin.parameters(), lr=1e-2)
    twin_opt.load_state_dict(saved_opt)
    step(twin, twin_opt)
    assert all(p.device == "cuda:0" for p in twin.parameters())
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


@gpu
def test_attacks_on_a_cuda_model_match_the_cpu(rng: np.random.Generator) -> None:
    """PGD, APGD, CW and DeepFool keep their iterates and best points on the GPU, Square keeps host
    buffers and queries the GPU model through transfers; all give the CPU's adversarial examples
    (up to sign flips of near-zero gradients, and rounding for the minimal-perturbation attacks)."""
    x = rng.random((16, 1, 8, 8), dtype=np.float32)
    y = rng.integers(0, 4, 16)
    results = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(0)
        n = fg.nn
        model = n.Sequential(n.Conv2d(1, 4, 3), n.ReLU(), n.Flatten(), n.Linear(144, 4)).to(device)
        pgd = fg.attacks.PGD(model, eps=0.1, alpha=0.02, steps=5, seed=0)(x, y)
        apgd = fg.attacks.APGD(model, eps=0.1, steps=5, seed=0)(x, y)
        square = fg.attacks.Square(model, eps=0.1, queries=20, seed=0)(x, y)
        cw = fg.attacks.CW(model, steps=10, search_steps=2)(x, y)
        deepfool = fg.attacks.DeepFool(model, steps=5)(x, y)
        results[device] = (pgd.adversarial, apgd.adversarial, square.adversarial)
        results[device + " minimal"] = (cw.adversarial, deepfool.adversarial)
    for a, b in zip(results["cuda"], results["cpu"]):
        # A sign step can flip where a gradient coordinate is within rounding of zero: allow a few.
        assert np.mean(np.abs(np.asarray(a) - np.asarray(b)) > 1e-4) < 0.01
    for a, b in zip(results["cuda minimal"], results["cpu minimal"]):
        # Rounding can move a prediction that sits on a boundary: allow one sample of the 16.
        far = np.abs(np.asarray(a) - np.asarray(b)).reshape(len(a), -1).max(1) > 1e-3
        assert far.sum() <= 1, far


@gpu
@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_attack_steps_replayed_as_cuda_graphs_equal_eager_steps(norm: str, rng: np.random.Generator) -> None:
    """PGD with restarts and TRADES' inner maximisation replay their steps as CUDA graphs after the
    first; the adversarial examples (and a TRADES-trained model) equal those of `cuda_graphs = False`
    bit for bit. MI-FGSM (momentum) runs eagerly either way."""
    x = rng.random((32, 1, 10, 10), dtype=np.float32)
    y = rng.integers(0, 4, 32)
    n = fg.nn
    fg.manual_seed(0)
    model = n.Sequential(n.Conv2d(1, 4, 3), n.ReLU(), n.Flatten(), n.Linear(256, 4)).to("cuda")
    eps, alpha = (0.1, 0.02) if norm == "linf" else (1.0, 0.2)
    out = {}
    for graphs in (True, False):
        attack = fg.attacks.PGD if norm == "linf" else fg.attacks.PGDL2
        pgd = attack(model, eps=eps, alpha=alpha, steps=7, restarts=2, seed=0)
        mifgsm = fg.attacks.MIFGSM(model, eps=0.1, alpha=0.02, steps=5)
        pgd.cuda_graphs = mifgsm.cuda_graphs = graphs
        out[graphs] = (pgd(x, y).adversarial, mifgsm(x, y).adversarial)
    for a, b in zip(out[True], out[False]):
        np.testing.assert_array_equal(a, b)
    xs, ys = rng.random((200, 64), dtype=np.float32), rng.integers(0, 4, 200)
    trained = {}
    for graphs in (True, False):
        fg.manual_seed(0)
        net = n.Sequential(n.Linear(64, 32), n.ReLU(), n.Linear(32, 4))
        trades = fg.training.TRADES(net, eps=0.1, alpha=0.02, steps=4, beta=1.0)
        trades.cuda_graphs = graphs
        net.fit((xs, ys), epochs=1, batch_size=50, device="cuda", seed=0, verbose=False, adversarial=trades)
        trained[graphs] = [p.detach().cpu().numpy() for p in net.parameters()]
    for a, b in zip(trained[True], trained[False]):
        np.testing.assert_array_equal(a, b)


@gpu
def test_adversarial_fit_on_cuda_matches_the_cpu(mnist: dict) -> None:
    """Fast adversarial training and TRADES with `fit(device="cuda")`: the attack's iterates stay on
    the GPU, and one epoch on 2,000 images lands where the CPU run does."""
    x, y = mnist["x_train"][:2000].reshape(-1, 784), mnist["y_train"][:2000]
    for make in (lambda m: fg.training.FastAT(m, eps=0.1),
                 lambda m: fg.training.TRADES(m, eps=0.1, alpha=0.02, steps=3, beta=1.0)):
        losses = {}
        for device in ("cpu", "cuda"):
            fg.manual_seed(0)
            model = fg.nn.Sequential(fg.nn.Linear(784, 64), fg.nn.ReLU(), fg.nn.Linear(64, 10))
            hist = model.fit((x, y), epochs=1, batch_size=100, device=device, seed=0, verbose=False,
                             adversarial=make(model))
            losses[device] = hist.history["loss"][-1]
        assert abs(losses["cuda"] - losses["cpu"]) < 1e-2 * abs(losses["cpu"]), losses


@gpu
def test_a_network_on_cuda_matches_pytorch_on_cuda(rng: np.random.Generator) -> None:
    """conv → batch norm → ReLU → max pool → linear → layer norm → GELU → attention → cross-entropy,
    values and every input's gradient against PyTorch on the same GPU (TF32 off on both sides)."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    shapes = dict(x=(8, 3, 12, 12), conv_w=(6, 3, 3, 3), conv_b=(6,), bn_w=(6,), bn_b=(6,), fc_w=(32, 216), fc_b=(32,),
                  ln_w=(32,), ln_b=(32,), head_w=(10, 8))
    arrays = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    target = rng.integers(0, 10, 8 * 4)

    def network(lib, f, v: dict, y):
        h = f.conv2d(v["x"], v["conv_w"], v["conv_b"], padding=1)
        zeros, ones = lib.zeros(6, device="cuda"), lib.ones(6, device="cuda")  # batch norm's running buffers
        h = f.relu(f.batch_norm(h, zeros, ones, v["bn_w"], v["bn_b"], training=True))
        h = f.max_pool2d(h, 2).reshape(8, 216)
        h = f.gelu(f.layer_norm(f.linear(h, v["fc_w"], v["fc_b"]), (32,), v["ln_w"], v["ln_b"]))
        q = h.reshape(8, 4, 8)
        h = f.scaled_dot_product_attention(q, q, q).reshape(32, 8)
        return f.cross_entropy(f.linear(h, v["head_w"]), y)

    ours = {k: leaf(a, "cuda") for k, a in arrays.items()}
    loss = network(fg, F, ours, fg.tensor(target).cuda())
    loss.backward()
    theirs = {k: torch.from_numpy(a).cuda().requires_grad_(True) for k, a in arrays.items()}
    ref = network(torch, tf, theirs, torch.from_numpy(target).cuda())
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-5)
    for k in arrays:
        np.testing.assert_allclose(ours[k].grad.cpu().numpy(), theirs[k].grad.cpu().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=k)


class _Recorder(Callback):
    """Keeps every progress report."""

    def __init__(self) -> None:
        self.reports: list[dict] = []

    def on_batch_end(self, epoch: int, progress: dict) -> None:
        self.reports.append(dict(progress))


@gpu
def test_fit_on_cuda_reads_losses_in_groups_but_reports_every_batch_like_the_cpu(mnist: dict) -> None:
    """On a GPU the loop leaves each batch's loss and correct count on the device and reads them 16
    batches at a time; callbacks still see every batch, in order, with the CPU run's numbers, and a
    diverging loss still names its batch."""
    x, y = mnist["x_train"][:2500].reshape(-1, 784), mnist["y_train"][:2500]
    reports = {}
    for device in ("cpu", "cuda"):
        fg.manual_seed(0)
        model = fg.nn.Sequential(fg.nn.Linear(784, 64), fg.nn.ReLU(), fg.nn.Linear(64, 10))
        recorder = _Recorder()
        model.fit((x, y), epochs=1, batch_size=100, device=device, seed=0, verbose=False, callbacks=[recorder],
                  progress_every=1)
        reports[device] = recorder.reports
    assert [r["batch"] for r in reports["cuda"]] == list(range(1, 26))
    for gpu_report, cpu_report in zip(reports["cuda"], reports["cpu"]):
        assert gpu_report["samples"] == cpu_report["samples"] and gpu_report["steps"] == cpu_report["steps"]
        np.testing.assert_allclose(gpu_report["loss"], cpu_report["loss"], rtol=1e-4)
        assert abs(gpu_report["accuracy"] - cpu_report["accuracy"]) <= 0.01
    bad = x[:500].copy()
    bad[250, 3] = np.nan
    model = fg.nn.Linear(784, 10).cuda()
    with pytest.raises(RuntimeError, match="loss became NaN at batch 6 of the epoch"):
        model.fit((bad, y[:500]), epochs=1, batch_size=50, shuffle=False, device="cuda", verbose=False)


def _fit_on_cuda(model_fn: Callable[[], Any], x: np.ndarray, y: np.ndarray, cuda_graphs: bool) -> tuple[Any, Any]:
    """One epoch of `model_fn()` on the GPU (seeded, unshuffled, batches of 100); returns the model
    and the history."""
    fg.manual_seed(0)
    model = model_fn()
    history = model.fit((x, y), epochs=1, batch_size=100, shuffle=False, device="cuda", verbose=False,
                        optimizer=fg.optim.SGD(model.to("cuda").parameters(), lr=0.05, momentum=0.9),
                        cuda_graphs=cuda_graphs)
    return model, history


@gpu
@pytest.mark.parametrize("kind", ["mlp", "cnn with batch norm", "mlp with dropout"])
def test_cuda_graph_steps_give_the_parameters_of_eager_steps(kind: str, mnist: dict) -> None:
    """`fit` captures the forward and backward passes once batch shapes repeat (the first batch of a
    shape runs eagerly, the second is captured, the rest are replays) and the epoch ends with the
    same parameters and batch-norm statistics as the eager epoch, bit for bit; replayed dropout
    draws the masks the eager steps draw. The last batch (50 images, a new shape) runs eagerly."""
    n = fg.nn
    x = mnist["x_train"][:2550].reshape(-1, 784)
    if kind == "mlp":
        model_fn = lambda: n.Sequential(n.Linear(784, 64), n.ReLU(), n.Linear(64, 10))  # noqa: E731
    elif kind == "mlp with dropout":
        model_fn = lambda: n.Sequential(n.Linear(784, 64), n.ReLU(), n.Dropout(0.3), n.Linear(64, 10))  # noqa: E731
    else:
        x = x.reshape(-1, 1, 28, 28)
        model_fn = lambda: n.Sequential(n.Conv2d(1, 8, 3), n.BatchNorm2d(8), n.ReLU(), n.MaxPool2d(2),  # noqa: E731
                                        n.Flatten(), n.Linear(8 * 13 * 13, 10))
    y = mnist["y_train"][:2550]
    graphed, h_graphed = _fit_on_cuda(model_fn, x, y, cuda_graphs=True)
    after_graphed = fg.rand(4, device="cuda").cpu().numpy()
    eager, h_eager = _fit_on_cuda(model_fn, x, y, cuda_graphs=False)
    after_eager = fg.rand(4, device="cuda").cpu().numpy()
    assert h_graphed["graphed"] == [24] and h_eager["graphed"] == [0]
    assert h_graphed["loss"] == h_eager["loss"] and h_graphed["accuracy"] == h_eager["accuracy"]
    for (name, a), (_, b) in zip(graphed.state_dict().items(), eager.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    # The replays advanced the generator as the eager steps did.
    np.testing.assert_array_equal(after_graphed, after_eager)


@gpu
def test_a_step_that_reads_a_value_back_falls_back_to_eager_steps_with_a_warning(mnist: dict) -> None:
    """NLL loss reads its targets on the host, which a capture cannot hold: the capture is
    abandoned, `fit` warns with the reason, and the epoch runs op by op with exactly the eager
    epoch's parameters."""
    x, y = mnist["x_train"][:1000].reshape(-1, 784), mnist["y_train"][:1000]
    n = fg.nn
    model_fn = lambda: n.Sequential(n.Linear(784, 64), n.ReLU(), n.Linear(64, 10), n.LogSoftmax(1))  # noqa: E731

    def fit(graphs: bool) -> tuple[Any, Any]:
        fg.manual_seed(0)
        model = model_fn().to("cuda")
        history = model.fit((x, y), epochs=2, batch_size=100, shuffle=False, loss="nll", verbose=False,
                            optimizer=fg.optim.SGD(model.parameters(), lr=0.05), cuda_graphs=graphs)
        return model, history

    with pytest.warns(RuntimeWarning, match="CUDA graphs are off from epoch 0.*reading a GPU value on the host"):
        fallback, history = fit(True)
    eager, _ = fit(False)
    assert history["graphed"] == [0, 0]
    for (name, a), (_, b) in zip(fallback.state_dict().items(), eager.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


@gpu
def test_composite_methods_and_layers_on_the_device_match_the_cpu(rng: np.random.Generator) -> None:
    """The Python-composed Tensor methods, factories and layers run on the device's own ops with
    the CPU's values and gradients."""
    x = rng.standard_normal((3, 4, 6)).astype(np.float32)
    calls = [
        lambda t: t.cumsum(1), lambda t: t.flip((0, 2)), lambda t: t.repeat(1, 2, 1), lambda t: t.tril(-1),
        lambda t: t.norm(dim=-1), lambda t: t.std(2), lambda t: t.sort(descending=True).values,
        lambda t: t.topk(2).values, lambda t: t.masked_fill(t > 0, 0.5), lambda t: fg.cat(t.split([1, 3], 1), 1),
        lambda t: F.group_norm(t, 2), lambda t: F.conv1d(t, t[:2, :, :3]), lambda t: F.max_pool1d(t, 2),
        lambda t: F.interpolate(t, scale_factor=2), lambda t: F.elu(t), lambda t: F.hardswish(t), lambda t: F.mish(t),
        lambda t: fg.where(t > 0, t, 0.0),
    ]
    w = rng.standard_normal((1024,)).astype(np.float32)
    for i, call in enumerate(calls):
        outs, grads = [], []
        for device in ("cpu", "cuda"):
            leaf = fg.tensor(x).to(device).requires_grad_(True)
            out = call(leaf)
            weight = fg.tensor(w[: out.numel()].reshape(out.shape)).to(device)
            (out * weight).sum().backward()
            outs.append(out.detach().cpu().numpy())
            grads.append(leaf.grad.cpu().numpy())
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5, err_msg=f"call {i}")
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-5, err_msg=f"gradient of call {i}")
    fg.manual_seed(8)
    on_cpu = fg.randint(0, 100, (50,)).tolist()
    fg.manual_seed(8)
    assert fg.randint(0, 100, (50,), device="cuda").cpu().tolist() == on_cpu
    assert fg.arange(5, device="cuda").device.startswith("cuda")
