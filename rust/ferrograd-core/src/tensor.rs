//! The tensor handle: shared storage + layout + dtype + device, and the autograd node that made it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::autograd::{self, BackwardFn, Node};
use crate::grad_hooks::GradHooks;
use crate::storage::Element;
use crate::{CpuStorage, DType, Device, Error, Layout, Result, Storage};

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// A cheap-to-clone handle to an n-dimensional array.
#[derive(Clone)]
pub struct Tensor(Arc<TensorInner>);

pub struct TensorInner {
    id: usize,
    storage: Arc<RwLock<Storage>>,
    layout: Layout,
    dtype: DType,
    device: Device,
    requires_grad: AtomicBool,
    grad: Mutex<Option<Tensor>>,
    node: Option<Node>,
    hooks: GradHooks,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor(shape={:?}, dtype={}, device={})",
            self.shape(),
            self.dtype(),
            self.device()
        )
    }
}

impl Tensor {
    /// Wraps a storage and layout as a leaf tensor.
    pub fn from_storage(storage: Storage, layout: Layout) -> Tensor {
        let dtype = storage.dtype();
        let device = storage.device();
        Self::build(Arc::new(RwLock::new(storage)), layout, dtype, device, None)
    }

    fn build(
        storage: Arc<RwLock<Storage>>,
        layout: Layout,
        dtype: DType,
        device: Device,
        node: Option<Node>,
    ) -> Tensor {
        if device == Device::Cpu {
            crate::cpu::workers::keep_warm();
        }
        Tensor(Arc::new(TensorInner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            storage,
            layout,
            dtype,
            device,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
            node,
            hooks: GradHooks::default(),
        }))
    }

    /// The result of an op: records `backward` on the tape when grad mode is on and an input needs it.
    pub fn from_op(
        storage: Storage,
        shape: &[usize],
        name: &'static str,
        inputs: &[&Tensor],
        backward: BackwardFn,
    ) -> Tensor {
        Self::from_op_laid_out(storage, Layout::contiguous(shape), name, inputs, backward)
    }

    /// `from_op` for a result whose storage holds its elements as `layout` says (a channels-last
    /// convolution output, say) rather than row-major.
    pub fn from_op_laid_out(
        storage: Storage,
        layout: Layout,
        name: &'static str,
        inputs: &[&Tensor],
        backward: BackwardFn,
    ) -> Tensor {
        let dtype = storage.dtype();
        let device = storage.device();
        let node = autograd::record(name, inputs, backward);
        Self::build(Arc::new(RwLock::new(storage)), layout, dtype, device, node)
    }

    /// Like `from_op` for ops whose backward needs their own output (exp, sigmoid, softmax, ...):
    /// `make_backward` receives a detached handle sharing the output's storage, so nothing is copied.
    pub fn from_op_saving_output(
        storage: Storage,
        shape: &[usize],
        name: &'static str,
        inputs: &[&Tensor],
        make_backward: impl FnOnce(Tensor) -> BackwardFn,
    ) -> Tensor {
        let layout = Layout::contiguous(shape);
        Self::from_op_saving_output_laid_out(storage, layout, name, inputs, make_backward)
    }

    /// `from_op_saving_output` for a result laid out as `layout` (see `from_op_laid_out`).
    pub fn from_op_saving_output_laid_out(
        storage: Storage,
        layout: Layout,
        name: &'static str,
        inputs: &[&Tensor],
        make_backward: impl FnOnce(Tensor) -> BackwardFn,
    ) -> Tensor {
        let dtype = storage.dtype();
        let device = storage.device();
        let shared = Arc::new(RwLock::new(storage));
        let needs_node = autograd::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad());
        let node = if needs_node {
            let saved = Self::build(shared.clone(), layout.clone(), dtype, device, None);
            autograd::record(name, inputs, make_backward(saved))
        } else {
            None
        };
        Self::build(shared, layout, dtype, device, node)
    }

    /// A view sharing this tensor's storage with another layout, recorded as an op.
    pub fn view_op(&self, layout: Layout, name: &'static str, backward: BackwardFn) -> Tensor {
        let node = autograd::record(name, &[self], backward);
        Self::build(
            self.0.storage.clone(),
            layout,
            self.0.dtype,
            self.0.device,
            node,
        )
    }

    /// Records this fresh result (a leaf nobody else holds) as the output of an op, sharing its
    /// storage, for ops that build their output by writing into a new tensor, and for ops
    /// defined outside the core (a Python `autograd.Function`'s forward, computed unrecorded).
    pub fn attach_op(
        &self,
        name: &'static str,
        inputs: &[&Tensor],
        backward: BackwardFn,
    ) -> Tensor {
        let node = autograd::record(name, inputs, backward);
        Self::build(
            self.0.storage.clone(),
            self.0.layout.clone(),
            self.0.dtype,
            self.0.device,
            node,
        )
    }

    /// A leaf from a host vector.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::shape(
                "tensor",
                format!("{} elements cannot have shape {shape:?}", data.len()),
            ));
        }
        Ok(Self::from_storage(
            Storage::Cpu(T::wrap(data)),
            Layout::contiguous(shape),
        ))
    }

    /// A tensor filled with `value`.
    pub fn full(shape: &[usize], value: f64, dtype: DType, device: Device) -> Result<Tensor> {
        let n = crate::storage::checked_numel("full", shape)?;
        let storage = match device {
            Device::Cpu => Storage::Cpu(CpuStorage::full(dtype, n, value)?),
            Device::Cuda(i) => Storage::Cuda(crate::cuda::CudaStorage::full(i, dtype, n, value)?),
        };
        Ok(Self::from_storage(storage, Layout::contiguous(shape)))
    }

    pub fn zeros(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        Self::full(shape, 0.0, dtype, device)
    }

    pub fn ones(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        Self::full(shape, 1.0, dtype, device)
    }

    /// A zero tensor with this tensor's shape, dtype and device.
    pub fn zeros_like(&self) -> Result<Tensor> {
        Self::zeros(self.shape(), self.dtype(), self.device())
    }

    /// A float32 scalar (rank 0) on `device`.
    pub fn scalar(value: f32, device: Device) -> Result<Tensor> {
        Self::full(&[], value as f64, DType::F32, device)
    }

    pub fn id(&self) -> usize {
        self.0.id
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn shape(&self) -> &[usize] {
        self.0.layout.shape()
    }

    pub fn rank(&self) -> usize {
        self.0.layout.rank()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn device(&self) -> Device {
        self.0.device
    }

    /// Size of axis `dim` (negative counts from the end).
    pub fn dim(&self, dim: isize) -> Result<usize> {
        let d = crate::layout::normalize_axis("size", dim, self.rank())?;
        self.shape().get(d).copied().ok_or_else(|| {
            Error::arg(
                "size",
                "dim",
                "an axis of a tensor with dimensions",
                "a 0-d tensor",
            )
        })
    }

    /// Read access to the storage.
    pub fn storage(&self) -> Result<RwLockReadGuard<'_, Storage>> {
        self.0
            .storage
            .read()
            .map_err(|_| Error::Autograd("tensor storage lock poisoned".into()))
    }

    /// Write access to the storage, for in-place updates (optimizers, buffers).
    pub fn storage_mut(&self) -> Result<RwLockWriteGuard<'_, Storage>> {
        self.0
            .storage
            .write()
            .map_err(|_| Error::Autograd("tensor storage lock poisoned".into()))
    }

    /// True when both tensors view the same storage buffer.
    pub fn same_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// The storage buffer's identity: equal for tensors that view the same buffer.
    pub fn storage_id(&self) -> usize {
        Arc::as_ptr(&self.0.storage) as usize
    }

    pub fn is_leaf(&self) -> bool {
        self.0.node.is_none()
    }

    pub fn node(&self) -> Option<&Node> {
        self.0.node.as_ref()
    }

    pub(crate) fn grad_hooks(&self) -> &GradHooks {
        &self.0.hooks
    }

    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.node.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks a leaf as a gradient target; errors for non-leaves and non-float tensors.
    pub fn set_requires_grad(&self, flag: bool) -> Result<()> {
        if !self.is_leaf() {
            return Err(Error::Autograd(
                "requires_grad can only be changed on leaf tensors; use detach() for a non-leaf"
                    .into(),
            ));
        }
        if flag && !self.dtype().is_float() {
            return Err(Error::dtype(
                "requires_grad",
                "a floating-point tensor",
                self.dtype(),
            ));
        }
        self.0.requires_grad.store(flag, Ordering::Relaxed);
        Ok(())
    }

    /// The accumulated gradient of a leaf.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().ok().and_then(|g| g.clone())
    }

    /// Replaces the accumulated gradient.
    pub fn set_grad(&self, grad: Option<Tensor>) {
        if let Ok(mut g) = self.0.grad.lock() {
            *g = grad;
        }
    }

    /// Adds `g` to the accumulated gradient.
    pub fn accumulate_grad(&self, g: Tensor) -> Result<()> {
        self.accumulate_grad_with(g, false)
    }

    /// `accumulate_grad`; with `keep_graph` (a `create_graph` backward pass) the stored gradient
    /// keeps `g`'s graph, as PyTorch's does, so it can be differentiated again.
    pub fn accumulate_grad_with(&self, g: Tensor, keep_graph: bool) -> Result<()> {
        let mut slot = self
            .0
            .grad
            .lock()
            .map_err(|_| Error::Autograd("grad lock poisoned".into()))?;
        *slot = Some(match (slot.take(), keep_graph) {
            (Some(prev), true) => prev.add(&g)?,
            (Some(prev), false) => {
                let _guard = autograd::NoGradGuard::new();
                prev.add(&g)?
            }
            // A recorded copy: the walk may hand one buffer to several leaves.
            (None, true) => g.mul_scalar(1.0)?,
            (None, false) => g.into_owned()?,
        });
        Ok(())
    }

    /// This tensor, detached, if it is the only handle on a contiguous storage; otherwise a deep
    /// copy. Gradients stored on leaves go through this: backward hands the same buffer to several
    /// inputs (both operands of an add), and in-place edits of one leaf's `.grad` (clipping, an
    /// optimizer, the user) must not reach another's.
    pub fn into_owned(self) -> Result<Tensor> {
        let whole = self.layout().is_contiguous()
            && self.layout().offset() == 0
            && self.storage()?.len() == self.numel();
        if whole && Arc::strong_count(&self.0) == 1 && Arc::strong_count(&self.0.storage) == 1 {
            return Ok(self.detach());
        }
        self.deep_clone()
    }

    /// A tensor sharing storage with this one but cut from the graph.
    pub fn detach(&self) -> Tensor {
        Self::build(
            self.0.storage.clone(),
            self.0.layout.clone(),
            self.0.dtype,
            self.0.device,
            None,
        )
    }

    /// A contiguous tensor with the same values (this tensor itself when already contiguous at offset 0).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.layout().is_contiguous() && self.layout().offset() == 0 {
            return Ok(self.clone());
        }
        let storage = self.storage()?.copy_layout(self.layout())?;
        Ok(Tensor::from_op(
            storage,
            self.shape(),
            "contiguous",
            &[self],
            Box::new(|g| Ok(vec![Some(g.clone())])),
        ))
    }

    /// A deep copy (new storage), detached from the graph.
    pub fn deep_clone(&self) -> Result<Tensor> {
        let storage = self.storage()?.copy_layout(self.layout())?;
        Ok(Tensor::from_storage(
            storage,
            Layout::contiguous(self.shape()),
        ))
    }

    /// The elements converted to a host vector of `T` (row-major), whatever the layout.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let st = self.storage()?;
        let s = st.cpu("to_vec")?;
        if self.dtype() == T::DTYPE {
            let v = T::slice(s).ok_or_else(|| Error::dtype("to_vec", T::DTYPE, self.dtype()))?;
            return Ok(CpuStorage::gather_layout(v, self.layout()));
        }
        let c = s.to_dtype(self.layout(), T::DTYPE)?;
        Ok(T::slice(&c).map(|v| v.to_vec()).unwrap_or_default())
    }

    /// Runs `f` on the float32 elements, row-major: borrowed in place when the layout is
    /// contiguous, else from a contiguous copy. Kernels use this to avoid copying their inputs.
    pub fn with_f32_slice<R>(&self, op: &'static str, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
        if self.numel() == 0 {
            // An empty layout has no contiguous range, and its contiguous copy is itself.
            self.storage()?.f32s(op)?;
            return Ok(f(&[]));
        }
        if let Some((start, end)) = self.layout().contiguous_range() {
            let st = self.storage()?;
            let data = st
                .f32s(op)?
                .get(start..end)
                .ok_or_else(|| Error::shape(op, "storage is smaller than the layout"))?;
            return Ok(f(data));
        }
        let copy = self.contiguous()?;
        copy.with_f32_slice(op, f)
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "a one-element tensor is needed, got shape {:?}",
                    self.shape()
                ),
            ));
        }
        if let Device::Cuda(_) = self.device() {
            return self.to_device(Device::Cpu)?.item();
        }
        let st = self.storage()?;
        let s = st.cpu("item")?;
        let o = self.layout().offset();
        Ok(crate::with_cpu_vec!(s, v => v[o].to_f64()))
    }

    /// Converts to another dtype (a differentiable op between float types).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let storage = match &*self.storage()? {
            Storage::Cpu(s) => Storage::Cpu(s.to_dtype(self.layout(), dtype)?),
            Storage::Cuda(s) => Storage::Cuda(s.copy_layout(self.layout(), dtype)?),
        };
        if dtype.is_float() && self.dtype().is_float() {
            let src = self.dtype();
            return Ok(Tensor::from_op(
                storage,
                self.shape(),
                "to_dtype",
                &[self],
                Box::new(move |g| Ok(vec![Some(g.to_dtype(src)?)])),
            ));
        }
        Ok(Tensor::from_storage(
            storage,
            Layout::contiguous(self.shape()),
        ))
    }

    /// Moves the tensor to `device` (differentiable).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if device == self.device() {
            return Ok(self.clone());
        }
        let storage = {
            let st = self.storage()?;
            match (&*st, device) {
                (Storage::Cpu(s), Device::Cuda(i)) => Storage::Cuda(
                    crate::cuda::CudaStorage::from_host(i, &s.copy_layout(self.layout()))?,
                ),
                (Storage::Cuda(s), Device::Cpu) => {
                    Storage::Cpu(s.copy_layout(self.layout(), self.dtype())?.to_host()?)
                }
                (Storage::Cuda(s), Device::Cuda(i)) => {
                    let host = s.copy_layout(self.layout(), self.dtype())?.to_host()?;
                    Storage::Cuda(crate::cuda::CudaStorage::from_host(i, &host)?)
                }
                (Storage::Cpu(_), Device::Cpu) => return Ok(self.clone()),
            }
        };
        if !self.dtype().is_float() {
            return Ok(Tensor::from_storage(
                storage,
                Layout::contiguous(self.shape()),
            ));
        }
        let src = self.device();
        Ok(Tensor::from_op(
            storage,
            self.shape(),
            "to_device",
            &[self],
            Box::new(move |g| Ok(vec![Some(g.to_device(src)?)])),
        ))
    }

    /// Runs backward from this tensor; `grad` defaults to one for a one-element tensor.
    pub fn backward(&self, grad: Option<Tensor>) -> Result<()> {
        autograd::backward(self, grad)
    }

    /// Adds `by` to every element of this int64 tensor's storage in place, outside autograd,
    /// without reading it back from a GPU (a batch counter).
    pub fn count_up(&self, by: i64) -> Result<()> {
        let mut st = self.storage_mut()?;
        match &mut *st {
            Storage::Cpu(CpuStorage::I64(v)) => {
                v.iter_mut().for_each(|x| *x += by);
                Ok(())
            }
            Storage::Cuda(c) => c.count_up(by),
            _ => Err(Error::dtype("count_up", "int64", self.dtype())),
        }
    }

    /// Writes `src` (same shape) into this tensor's storage in place, outside autograd.
    pub fn assign(&self, src: &Tensor) -> Result<()> {
        crate::ensure_shape!(
            src.shape() == self.shape(),
            "assign",
            "shape {:?} cannot be written into {:?}",
            src.shape(),
            self.shape()
        );
        // A source on another device is copied over first (as torch's copy_ does).
        let values = src
            .to_device(self.device())?
            .to_dtype(self.dtype())?
            .contiguous()?;
        if values.same_storage(self) {
            return Ok(());
        }
        let sv = values.storage()?;
        let mut dst = self.storage_mut()?;
        let layout = self.layout().clone();
        match (&mut *dst, &*sv) {
            (Storage::Cpu(d), Storage::Cpu(s)) => {
                crate::cpu::copy::copy_into(d, &layout, s, values.layout())
            }
            (Storage::Cuda(d), Storage::Cuda(s)) => d.copy_into(&layout, s, values.layout()),
            _ => Err(Error::Device(format!(
                "assign: expected the source on {}, got {}",
                self.device(),
                values.device()
            ))),
        }
    }
}
