//! Finding CUDA and holding one context per device.
//!
//! cudarc's lazy loaders panic when a library is missing, so every entry point first asks
//! `require_*` (which only tries to open the library) and returns `Error::Device` naming what is
//! absent. The Python package preloads NVRTC and cuBLAS from pip's `nvidia-*` wheels when present
//! (`ferrograd/cuda.py`), so the loaders find them by their sonames.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream};

use super::fault::IndexFaults;
use super::staging::Staging;
use crate::{Error, Result};

/// Whether cuBLAS may use TF32 tensor cores for f32 products (off by default, as in PyTorch).
static ALLOW_TF32: AtomicBool = AtomicBool::new(false);

/// Lets cuBLAS round f32 matmul inputs to TF32 (faster, about 1e-3 relative error).
pub fn set_allow_tf32(allow: bool) {
    ALLOW_TF32.store(allow, Ordering::Relaxed);
}

/// Whether TF32 is allowed for f32 matmuls.
pub fn allow_tf32() -> bool {
    ALLOW_TF32.load(Ordering::Relaxed)
}

/// True when the NVIDIA driver library can be opened.
pub fn driver_present() -> bool {
    // SAFETY: only tries to open the library; nothing is called through it.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// True when NVRTC can be opened (it needs no GPU: CI compiles every kernel with it).
pub fn nvrtc_present() -> bool {
    // SAFETY: as above.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// True when cuBLAS can be opened.
pub fn cublas_present() -> bool {
    // SAFETY: as above.
    unsafe { cudarc::cublas::sys::is_culib_present() }
}

pub(crate) fn require_nvrtc() -> Result<()> {
    if nvrtc_present() {
        return Ok(());
    }
    Err(Error::Device(
        "CUDA: the NVRTC library (libnvrtc.so) was not found; install it with \
         `pip install ferrograd[cuda]` (the nvidia-cuda-nvrtc wheel) or add the CUDA toolkit's \
         lib directory to LD_LIBRARY_PATH"
            .into(),
    ))
}

fn require_driver() -> Result<()> {
    if driver_present() {
        return Ok(());
    }
    Err(Error::Device(
        "CUDA is not available: the NVIDIA driver library (libcuda.so) was not found on this machine"
            .into(),
    ))
}

/// Number of CUDA devices (0 without a driver).
pub fn device_count() -> usize {
    if !driver_present() {
        return 0;
    }
    CudaContext::device_count()
        .map(|n| n.max(0) as usize)
        .unwrap_or(0)
}

/// True when a driver, at least one device, NVRTC and cuBLAS are all present.
pub fn is_available() -> bool {
    device_count() > 0 && nvrtc_present() && cublas_present()
}

pub(crate) fn driver_error(what: &str, e: impl std::fmt::Debug) -> Error {
    Error::Device(format!("CUDA: {what} failed: {e:?}"))
}

/// One device: its context, the stream every op is ordered on, a cuBLAS handle, and the kernels
/// loaded so far. A single stream per device keeps ops in program order with no host
/// synchronisation; only reading values back (`numpy`, `item`) waits.
pub struct Gpu {
    pub ordinal: usize,
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    pub blas: CudaBlas,
    /// Where the kernels record out-of-range indices until the next synchronisation.
    pub faults: IndexFaults,
    /// Pinned host buffers that uploads go through.
    pub staging: Staging,
    /// `sm_XY` of the device, the NVRTC target.
    pub arch: String,
    modules: Mutex<HashMap<&'static str, Arc<CudaModule>>>,
    functions: Mutex<HashMap<(&'static str, String), CudaFunction>>,
}

impl Gpu {
    fn open(ordinal: usize) -> Result<Gpu> {
        require_driver()?;
        require_nvrtc()?;
        if !cublas_present() {
            return Err(Error::Device(
                "CUDA: the cuBLAS library (libcublas.so) was not found; install it with \
                 `pip install ferrograd[cuda]` (the nvidia-cublas wheel)"
                    .into(),
            ));
        }
        let count = device_count();
        if ordinal >= count {
            return Err(Error::Device(format!(
                "CUDA: device cuda:{ordinal} requested, but {count} device(s) are visible"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| driver_error("creating a context", e))?;
        // One stream per device orders every op, so cudarc's per-buffer event tracking (meant
        // for buffers shared across streams) is pure overhead.
        // SAFETY: no buffer of this context is used on another stream.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx
            .new_stream()
            .map_err(|e| driver_error("creating a stream", e))?;
        keep_freed_memory(&ctx)?;
        let faults = IndexFaults::new(&stream)?;
        let blas = CudaBlas::new(stream.clone()).map_err(|e| driver_error("cuBLAS init", e))?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| driver_error("reading the compute capability", e))?;
        Ok(Gpu {
            ordinal,
            ctx,
            stream,
            blas,
            faults,
            staging: Staging::default(),
            arch: format!("sm_{major}{minor}"),
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
        })
    }

    /// The kernel `name` of source file `file`, compiled and loaded on first use.
    pub fn function(&self, file: &'static str, name: &str) -> Result<CudaFunction> {
        let key = (file, name.to_string());
        if let Some(f) = self
            .functions
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(f);
        }
        let module = {
            let mut modules = self
                .modules
                .lock()
                .map_err(|_| Error::Device("CUDA: kernel cache lock poisoned".into()))?;
            match modules.get(file) {
                Some(m) => m.clone(),
                None => {
                    let ptx = super::kernels::compile(file, &self.arch)?;
                    let m = self
                        .ctx
                        .load_module(cudarc::nvrtc::Ptx::from_src(ptx))
                        .map_err(|e| driver_error(&format!("loading kernels {file}"), e))?;
                    modules.insert(file, m.clone());
                    m
                }
            }
        };
        let f = module
            .load_function(name)
            .map_err(|e| driver_error(&format!("finding kernel {name} in {file}"), e))?;
        if let Ok(mut m) = self.functions.lock() {
            m.insert(key, f.clone());
        }
        Ok(f)
    }

    /// The device's name.
    pub fn name(&self) -> Result<String> {
        self.ctx
            .name()
            .map_err(|e| driver_error("reading the device name", e))
    }

    /// (free, total) bytes of device memory.
    pub fn mem_info(&self) -> Result<(usize, usize)> {
        self.ctx
            .mem_get_info()
            .map_err(|e| driver_error("reading memory info", e))
    }

    /// Returns the memory that freed buffers keep cached in the device's pool, and the memory
    /// that destroyed CUDA graphs kept, to the driver, as `torch.cuda.empty_cache` does (after
    /// waiting for queued work, whose frees are pending).
    pub fn empty_cache(&self) -> Result<()> {
        self.synchronize()?;
        // SAFETY: the device comes from this live context; trimming only releases unused memory.
        unsafe {
            let pool = cudarc::driver::result::device::get_default_mem_pool(self.ctx.cu_device())
                .map_err(|e| driver_error("reading the memory pool", e))?;
            cudarc::driver::result::mem_pool::trim_to(pool, 0)
                .map_err(|e| driver_error("trimming the memory pool", e))?;
            cudarc::driver::sys::cuDeviceGraphMemTrim(self.ctx.cu_device())
                .result()
                .map_err(|e| driver_error("trimming the graphs' memory", e))
        }
    }

    /// Waits until every queued op of this device has finished, and raises an out-of-range
    /// index a kernel met meanwhile.
    pub fn synchronize(&self) -> Result<()> {
        super::graph::refuse_in_capture("synchronising with the GPU")?;
        self.stream
            .synchronize()
            .map_err(|e| driver_error("synchronize", e))?;
        self.faults.take(&self.stream)
    }
}

/// Buffers are allocated stream-ordered from the device's default pool, whose release threshold
/// is 0: every synchronisation hands freed memory back to the driver, and the next allocation maps
/// it again (about 1 ms for 256 MB, more than the kernel that uses it). A threshold of "all" keeps
/// freed memory cached in the pool, as PyTorch's caching allocator does; `empty_cache` trims it.
fn keep_freed_memory(ctx: &CudaContext) -> Result<()> {
    let mut threshold = u64::MAX;
    // SAFETY: the device comes from the live context; the attribute takes a u64.
    unsafe {
        let pool = cudarc::driver::result::device::get_default_mem_pool(ctx.cu_device())
            .map_err(|e| driver_error("reading the memory pool", e))?;
        cudarc::driver::result::mem_pool::set_attribute(
            pool,
            cudarc::driver::sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            (&mut threshold as *mut u64).cast(),
        )
    }
    .map_err(|e| driver_error("setting the memory pool's release threshold", e))
}

/// The device `ordinal`, opened on first use.
pub fn gpu(ordinal: usize) -> Result<Arc<Gpu>> {
    static GPUS: OnceLock<Mutex<HashMap<usize, Arc<Gpu>>>> = OnceLock::new();
    let mut gpus = GPUS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| Error::Device("CUDA: device table lock poisoned".into()))?;
    if let Some(g) = gpus.get(&ordinal) {
        return Ok(g.clone());
    }
    let g = Arc::new(Gpu::open(ordinal)?);
    gpus.insert(ordinal, g.clone());
    Ok(g)
}
