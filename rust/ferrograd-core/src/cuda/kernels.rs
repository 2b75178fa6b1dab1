//! The CUDA C++ sources, embedded in the binary, and their NVRTC compilation.
//!
//! Each file is compiled once per (source hash, architecture): first from an in-memory table,
//! then from the on-disk cache (`$FERROGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/ferrograd`, else
//! `~/.cache/ferrograd`, under `kernels/`), else by NVRTC, whose PTX is then written to both.
//! Compilation needs NVRTC only, not a GPU, which is how CI checks every kernel.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions};

use crate::{Error, Result};

/// Shared definitions every kernel file starts with (layouts, indexing, bf16 / f16 elements).
const COMMON: &str = concat!(
    include_str!("kernels/common.cuh"),
    include_str!("kernels/half.cuh")
);

/// (file name, source) of every kernel file (the flash attention files start with the operand
/// header they share; the pointwise kernels with the gamma-family and other special functions).
pub const SOURCES: &[(&str, &str)] = &[
    (
        "attention.cu",
        concat!(
            include_str!("kernels/flash_operand.cuh"),
            include_str!("kernels/attention.cu")
        ),
    ),
    (
        "attention_mma.cu",
        concat!(
            include_str!("kernels/flash_operand.cuh"),
            include_str!("kernels/attention_mma.cu")
        ),
    ),
    ("conv.cu", include_str!("kernels/conv.cu")),
    ("copy.cu", include_str!("kernels/copy.cu")),
    (
        "elementwise.cu",
        concat!(
            include_str!("kernels/gamma_functions.cuh"),
            include_str!("kernels/special_functions.cuh"),
            include_str!("kernels/elementwise.cu")
        ),
    ),
    ("reduce.cu", include_str!("kernels/reduce.cu")),
    ("softmax.cu", include_str!("kernels/softmax.cu")),
    ("index.cu", include_str!("kernels/index.cu")),
    ("loss.cu", include_str!("kernels/loss.cu")),
    ("norm.cu", include_str!("kernels/norm.cu")),
    ("batch_norm.cu", include_str!("kernels/batch_norm.cu")),
    ("random.cu", include_str!("kernels/random.cu")),
    ("unfold.cu", include_str!("kernels/unfold.cu")),
    ("pool.cu", include_str!("kernels/pool.cu")),
    ("optim.cu", include_str!("kernels/optim.cu")),
];

/// The NVRTC options `file` is compiled with: IEEE division and square root and no flushing of
/// denormals, so results follow the CPU backend's to rounding. The optimizer updates spell out
/// each fused multiply-add where the CPU's fuses, so there no other product may be fused.
fn options(file: &str, arch: &str) -> Vec<String> {
    let mut options = vec![
        format!(
            "--gpu-architecture=compute_{}",
            arch.trim_start_matches("sm_")
        ),
        "--std=c++17".into(),
        "--ftz=false".into(),
        "--prec-div=true".into(),
        "--prec-sqrt=true".into(),
    ];
    if file == "optim.cu" {
        options.push("--fmad=false".into());
    }
    options
}

fn source(file: &str) -> Result<String> {
    SOURCES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, src)| format!("{COMMON}\n{src}"))
        .ok_or_else(|| Error::NotImplemented(format!("CUDA: no kernel file named {file}")))
}

/// 64-bit FNV-1a: a stable hash (unlike `DefaultHasher`) for cache file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = env("FERROGRAD_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|p| p.join("ferrograd")))
        .or_else(|| env("HOME").map(|p| p.join(".cache").join("ferrograd")))?;
    Some(base.join("kernels"))
}

/// The PTX of `file` for `arch` (`"sm_90"`), compiled or taken from a cache.
pub fn compile(file: &'static str, arch: &str) -> Result<String> {
    static MEMORY: OnceLock<Mutex<HashMap<(&'static str, String), String>>> = OnceLock::new();
    let memory = MEMORY.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (file, arch.to_string());
    if let Some(ptx) = memory.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(ptx);
    }
    let src = source(file)?;
    let opts = options(file, arch);
    let hash = fnv1a(format!("{src}\n{}", opts.join(" ")).as_bytes());
    let cached = cache_dir().map(|d| {
        d.join(format!(
            "{}-{hash:016x}-{arch}.ptx",
            file.trim_end_matches(".cu")
        ))
    });
    let ptx = match cached
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        Some(ptx) => ptx,
        None => {
            let ptx = compile_uncached(file, &src, opts)?;
            if let Some(path) = &cached {
                // A cache that cannot be written (read-only home) only costs a recompile.
                let _ = std::fs::create_dir_all(path.parent().unwrap_or(path))
                    .map(|_| crate::io::atomic::write_atomic(path, ptx.as_bytes()));
            }
            ptx
        }
    };
    if let Ok(mut m) = memory.lock() {
        m.insert(key, ptx.clone());
    }
    Ok(ptx)
}

fn compile_uncached(file: &str, src: &str, options: Vec<String>) -> Result<String> {
    super::runtime::require_nvrtc()?;
    let opts = CompileOptions {
        options,
        name: Some(file.to_string()),
        ..Default::default()
    };
    compile_ptx_with_opts(src, opts)
        .map(|ptx| ptx.to_src())
        .map_err(|e| match e {
            cudarc::nvrtc::CompileError::CompileError { log, .. } => Error::Device(format!(
                "CUDA: NVRTC could not compile {file}:\n{}",
                log.to_string_lossy()
            )),
            other => Error::Device(format!("CUDA: NVRTC failed on {file}: {other:?}")),
        })
}

/// Compiles every kernel file for `arch` with NVRTC (no cache, no GPU needed) and returns each
/// file's name and PTX; the first file that does not compile is the error.
pub fn compile_all(arch: &str) -> Result<Vec<(&'static str, String)>> {
    SOURCES
        .iter()
        .map(|(file, _)| {
            compile_uncached(file, &source(file)?, options(file, arch)).map(|ptx| (*file, ptx))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kernel_file_compiles_with_nvrtc() {
        if !super::super::runtime::nvrtc_present() {
            eprintln!(
                "NVRTC not found: skipped (the Python suite runs this check with pip's NVRTC)"
            );
            return;
        }
        for arch in ["sm_80", "sm_90"] {
            let files = super::compile_all(arch).unwrap();
            assert_eq!(files.len(), super::SOURCES.len());
        }
    }
}
