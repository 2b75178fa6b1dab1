//! Transform classes: `Transform` holds a core transform; `Normalize`, `RandomCrop`,
//! `RandomHorizontalFlip`, `RandomResizedCrop` and `Cutout` are its constructors as subclasses.
//! Parameters are checked by the core when an object is built.

use ferrograd_core::data::Transform;
use pyo3::prelude::*;

use crate::errors::IntoPy;

/// A per-sample transform for `Dataset.get_batch` and `DataLoader`.
#[pyclass(
    name = "Transform",
    module = "ferrograd.data.transforms",
    subclass,
    frozen
)]
pub struct PyTransform {
    pub inner: Transform,
}

/// A size given as `n` (square) or `(height, width)`.
#[derive(FromPyObject)]
enum SizeArg {
    Square(usize),
    Rect(usize, usize),
}

impl From<SizeArg> for [usize; 2] {
    fn from(s: SizeArg) -> [usize; 2] {
        match s {
            SizeArg::Square(n) => [n, n],
            SizeArg::Rect(h, w) => [h, w],
        }
    }
}

fn build(inner: Transform) -> PyResult<PyClassInitializer<PyTransform>> {
    inner.validate().py()?;
    Ok(PyClassInitializer::from(PyTransform { inner }))
}

#[pymethods]
impl PyTransform {
    fn __repr__(&self) -> String {
        match &self.inner {
            Transform::Normalize { mean, std } => format!("Normalize(mean={mean:?}, std={std:?})"),
            Transform::RandomCrop { size, padding } => {
                format!(
                    "RandomCrop(size=({}, {}), padding={padding})",
                    size[0], size[1]
                )
            }
            Transform::RandomHorizontalFlip { p } => format!("RandomHorizontalFlip(p={p})"),
            Transform::RandomResizedCrop { size, scale, ratio } => format!(
                "RandomResizedCrop(size=({}, {}), scale=({}, {}), ratio=({}, {}))",
                size[0], size[1], scale[0], scale[1], ratio[0], ratio[1]
            ),
            Transform::Cutout { size } => format!("Cutout(size={size})"),
        }
    }
}

/// `(x - mean[c]) / std[c]` per channel (or per feature of a table row).
#[pyclass(name = "Normalize", module = "ferrograd.data.transforms", extends = PyTransform, frozen)]
struct PyNormalize;

#[pymethods]
impl PyNormalize {
    #[new]
    fn new(mean: Vec<f32>, std: Vec<f32>) -> PyResult<PyClassInitializer<Self>> {
        Ok(build(Transform::Normalize { mean, std })?.add_subclass(PyNormalize))
    }
}

/// Pads every border with `padding` zeros, then keeps a random `size` window.
#[pyclass(name = "RandomCrop", module = "ferrograd.data.transforms", extends = PyTransform, frozen)]
struct PyRandomCrop;

#[pymethods]
impl PyRandomCrop {
    #[new]
    #[pyo3(signature = (size, padding = 0))]
    fn new(size: SizeArg, padding: usize) -> PyResult<PyClassInitializer<Self>> {
        let size = size.into();
        Ok(build(Transform::RandomCrop { size, padding })?.add_subclass(PyRandomCrop))
    }
}

/// Mirrors the image left-right with probability `p`.
#[pyclass(name = "RandomHorizontalFlip", module = "ferrograd.data.transforms", extends = PyTransform, frozen)]
struct PyRandomHorizontalFlip;

#[pymethods]
impl PyRandomHorizontalFlip {
    #[new]
    #[pyo3(signature = (p = 0.5))]
    fn new(p: f32) -> PyResult<PyClassInitializer<Self>> {
        Ok(build(Transform::RandomHorizontalFlip { p })?.add_subclass(PyRandomHorizontalFlip))
    }
}

/// torchvision's RandomResizedCrop: a random window of `scale` area fraction and `ratio` aspect,
/// resized bilinearly to `size`.
#[pyclass(name = "RandomResizedCrop", module = "ferrograd.data.transforms", extends = PyTransform, frozen)]
struct PyRandomResizedCrop;

#[pymethods]
impl PyRandomResizedCrop {
    #[new]
    #[pyo3(signature = (size, scale = (0.08, 1.0), ratio = (3.0 / 4.0, 4.0 / 3.0)))]
    fn new(
        size: SizeArg,
        scale: (f32, f32),
        ratio: (f32, f32),
    ) -> PyResult<PyClassInitializer<Self>> {
        let t = Transform::RandomResizedCrop {
            size: size.into(),
            scale: [scale.0, scale.1],
            ratio: [ratio.0, ratio.1],
        };
        Ok(build(t)?.add_subclass(PyRandomResizedCrop))
    }
}

/// Zeroes a `size` x `size` square at a random centre (clipped at the borders).
#[pyclass(name = "Cutout", module = "ferrograd.data.transforms", extends = PyTransform, frozen)]
struct PyCutout;

#[pymethods]
impl PyCutout {
    #[new]
    fn new(size: usize) -> PyResult<PyClassInitializer<Self>> {
        Ok(build(Transform::Cutout { size })?.add_subclass(PyCutout))
    }
}

/// Adds the transform classes to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTransform>()?;
    m.add_class::<PyNormalize>()?;
    m.add_class::<PyRandomCrop>()?;
    m.add_class::<PyRandomHorizontalFlip>()?;
    m.add_class::<PyRandomResizedCrop>()?;
    m.add_class::<PyCutout>()?;
    Ok(())
}
