"""The CUDA backend: availability, devices and kernel compilation.

CUDA is loaded at run time. The NVIDIA driver (``libcuda``) comes with the GPU's driver install;
NVRTC (the run-time compiler of ferrograd's kernels) and cuBLAS come from the CUDA toolkit or from
pip's ``nvidia-*`` wheels (``pip install ferrograd[cuda]``), which this module finds and loads
before the first CUDA call. Tensors move with ``t.to("cuda")`` / ``t.cuda()``, modules with
``model.to("cuda")``; ops without a CUDA kernel yet raise ``NotImplementedError`` naming the op.
"""

from __future__ import annotations

import ctypes
import glob
import os
import site
import sys

from . import _core
from . import cuda_amp as amp

# `from ferrograd.cuda.amp import GradScaler` finds the module although this one is no package.
sys.modules[f"{__name__}.amp"] = amp

__all__ = [
    "amp",
    "is_available",
    "device_count",
    "get_device_name",
    "get_arch",
    "mem_get_info",
    "synchronize",
    "empty_cache",
    "compile_kernels",
    "set_allow_tf32",
    "libraries",
    "OutOfMemoryError", "DeviceProperties", "get_device_capability", "get_device_properties", "is_bf16_supported",
    "current_device", "set_device", "manual_seed", "manual_seed_all", "get_rng_state", "set_rng_state",
    "get_arch_list", "Event",
]

# Sonames of the libraries the backend opens, and where pip's wheels put them
# (site-packages/nvidia/cu13/lib for CUDA 13 wheels, nvidia/<package>/lib for CUDA 12 ones).
# NVRTC opens its builtins library by soname while compiling, so that one is loaded first.
_WHEEL_LIBRARIES = ("libnvrtc-builtins.so.*[0-9]", "libnvrtc.so.*[0-9]", "libcublasLt.so.*[0-9]", "libcublas.so.*[0-9]")
_loaded: list[ctypes.CDLL] = []


def _site_dirs() -> list[str]:
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    user = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user, str):
        dirs.append(user)
    dirs.extend(p for p in sys.path if p.endswith("site-packages"))
    return list(dict.fromkeys(dirs))


def _preload_wheel_libraries() -> None:
    """Loads NVRTC and cuBLAS from pip's nvidia wheels (once) so that the backend's loader, which
    asks for them by soname, finds them without LD_LIBRARY_PATH."""
    if _loaded or os.environ.get("FERROGRAD_NO_WHEEL_CUDA"):
        return
    for pattern in _WHEEL_LIBRARIES:
        for base in _site_dirs():
            hits = sorted(glob.glob(os.path.join(base, "nvidia", "*", "lib", pattern)))
            hits = [h for h in hits if ".alt." not in h]
            if hits:
                try:
                    _loaded.append(ctypes.CDLL(hits[-1], mode=ctypes.RTLD_GLOBAL))
                except OSError:
                    continue
                break


def libraries() -> dict[str, bool]:
    """Which CUDA libraries can be opened: ``{"driver": ..., "nvrtc": ..., "cublas": ...}``."""
    _preload_wheel_libraries()
    driver, nvrtc, cublas = _core.cuda_libraries()
    return {"driver": driver, "nvrtc": nvrtc, "cublas": cublas}


def is_available() -> bool:
    """True when a GPU, its driver, NVRTC and cuBLAS are all present."""
    _preload_wheel_libraries()
    return bool(_core.cuda_is_available())


def device_count() -> int:
    """Number of visible CUDA devices (0 without a driver)."""
    return int(_core.cuda_device_count())


def _index(device: int | str) -> int:
    if isinstance(device, int) and device >= 0:
        return device
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        suffix = device[5:] if device.startswith("cuda:") else "0"
        if suffix.isdigit():
            return int(suffix)
    raise ValueError(f"cuda: argument `device` expected an index >= 0, 'cuda' or 'cuda:N', got {device!r}")


def get_device_name(device: int | str = 0) -> str:
    """The name of a CUDA device (e.g. ``"NVIDIA H100 80GB HBM3"``)."""
    _preload_wheel_libraries()
    return str(_core.cuda_device_name(_index(device)))


def get_arch(device: int | str = 0) -> str:
    """The device's compute capability as NVRTC's target name (``"sm_90"``)."""
    _preload_wheel_libraries()
    return str(_core.cuda_arch(_index(device)))


def mem_get_info(device: int | str = 0) -> tuple[int, int]:
    """(free, total) bytes of device memory."""
    _preload_wheel_libraries()
    free, total = _core.cuda_mem_get_info(_index(device))
    return int(free), int(total)


def synchronize(device: int | str = 0) -> None:
    """Waits until every op queued on the device has finished (ops run asynchronously)."""
    _preload_wheel_libraries()
    _core.cuda_synchronize(_index(device))


def empty_cache(device: int | str = 0) -> None:
    """Returns the memory that freed tensors leave cached on the device to the driver, as
    ``torch.cuda.empty_cache`` does. ferrograd keeps freed device memory in the device's pool so
    that the next allocation of that size costs nothing; other processes see it as used until then."""
    _preload_wheel_libraries()
    _core.cuda_empty_cache(_index(device))


def compile_kernels(arch: str = "sm_90") -> dict[str, str]:
    """Compiles every kernel file for ``arch`` with NVRTC and returns each file's PTX by file name;
    needs NVRTC but no GPU. Raises :class:`ferrograd.DeviceError` with NVRTC's log if a kernel does
    not compile."""
    if not (isinstance(arch, str) and arch.startswith("sm_") and arch[3:].isdigit()):
        raise ValueError(f"compile_kernels: argument `arch` expected 'sm_XY' such as 'sm_90', got {arch!r}")
    _preload_wheel_libraries()
    return dict(_core.cuda_compile_kernels(arch))


# The value last given to set_allow_tf32, which ``ferrograd.backends.cuda.matmul.allow_tf32`` reads
# back (the core has a setter only).
_allow_tf32 = False


def set_allow_tf32(allow: bool) -> None:
    """Lets cuBLAS round float32 matmul inputs to TF32 on tensor cores (faster; about 1e-3 relative
    error). Off by default, as ``torch.backends.cuda.matmul.allow_tf32``."""
    global _allow_tf32
    _core.cuda_set_allow_tf32(bool(allow))
    _allow_tf32 = bool(allow)


# With a driver present, load the wheel libraries now, so that `t.to("cuda")` works without a
# prior call into this module; on machines without a driver this costs one failed dlopen.
if _core.cuda_libraries()[0]:
    _preload_wheel_libraries()


from .cuda_extras import (DeviceProperties, Event, OutOfMemoryError, current_device, get_arch_list,  # noqa: E402
                          get_device_capability, get_device_properties, get_rng_state, is_bf16_supported, manual_seed,
                          manual_seed_all, set_device, set_rng_state)
