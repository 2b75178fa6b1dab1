//! safetensors files (the Hugging Face / PyTorch weight format). Writes are atomic: the bytes go to
//! a temporary file in the same directory, which is synced and then renamed over the target, so a
//! crash never leaves a half-written checkpoint.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::storage::Element;
use crate::{CpuStorage, DType, Error, Result, Tensor};

fn to_file_dtype(d: DType) -> Result<Dtype> {
    Ok(match d {
        DType::F32 => Dtype::F32,
        DType::I64 => Dtype::I64,
        DType::I32 => Dtype::I32,
        DType::U8 => Dtype::U8,
        DType::Bool => Dtype::BOOL,
        DType::BF16 => Dtype::BF16,
        DType::F16 => Dtype::F16,
        other => {
            return Err(Error::NotImplemented(format!(
                "saving dtype {other} to safetensors"
            )))
        }
    })
}

/// Little-endian bytes of a tensor's elements, row-major.
fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>> {
    // Tensors on a GPU are written from a host copy.
    let t = &t.to_device(crate::Device::Cpu)?;
    let st = t.storage()?;
    let host = st.cpu("save")?;
    let contiguous = host.copy_layout(t.layout());
    Ok(match &contiguous {
        CpuStorage::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        CpuStorage::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        CpuStorage::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        CpuStorage::U8(v) => v.clone(),
        CpuStorage::Bool(v) => v.iter().map(|&b| b as u8).collect(),
        CpuStorage::BF16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        CpuStorage::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    })
}

/// Writes named tensors (and optional string metadata) to `path` atomically.
pub fn save(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    let display = path.display().to_string();
    let mut seen = std::collections::HashSet::new();
    for (name, _) in tensors {
        if !seen.insert(name) {
            return Err(Error::arg(
                "save_safetensors",
                "tensors",
                "unique names",
                format!("{name:?} twice"),
            ));
        }
    }
    let bytes: Vec<(String, DType, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.dtype(), t.shape().to_vec(), tensor_bytes(t)?)))
        .collect::<Result<_>>()?;
    let views = bytes
        .iter()
        .map(|(n, d, s, b)| {
            let view =
                TensorView::new(to_file_dtype(*d)?, s.clone(), b).map_err(|e| Error::Format {
                    path: display.clone(),
                    msg: e.to_string(),
                })?;
            Ok((n.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let data = safetensors::serialize(views, metadata).map_err(|e| Error::Format {
        path: display.clone(),
        msg: e.to_string(),
    })?;
    super::atomic::write_atomic(path, &data)
}

fn decode<T: Element>(bytes: &[u8], width: usize, from: impl Fn(&[u8]) -> T) -> Vec<T> {
    bytes.chunks_exact(width).map(from).collect()
}

/// The string metadata of a safetensors file's header (empty when it has none).
pub fn read_metadata(path: &Path) -> Result<std::collections::HashMap<String, String>> {
    let display = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| Error::io(&display, e))?;
    let (_, meta) = SafeTensors::read_metadata(&data).map_err(|e| Error::Format {
        path: display,
        msg: format!("not a valid safetensors file ({e})"),
    })?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// Reads every tensor of a safetensors file, sorted by name. Truncated or corrupt files raise a
/// format error naming the path; dtypes ferrograd cannot hold raise NotImplemented.
pub fn load(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let display = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| Error::io(&display, e))?;
    let file = SafeTensors::deserialize(&data).map_err(|e| Error::Format {
        path: display.clone(),
        msg: format!("not a valid safetensors file ({e})"),
    })?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let (shape, b) = (view.shape().to_vec(), view.data());
        let storage = match view.dtype() {
            Dtype::F32 => CpuStorage::F32(decode(b, 4, |c| {
                f32::from_le_bytes([c[0], c[1], c[2], c[3]])
            })),
            Dtype::F64 => CpuStorage::F32(decode(b, 8, |c| {
                f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
            })),
            Dtype::I64 => CpuStorage::I64(decode(b, 8, |c| {
                i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
            })),
            Dtype::I32 => CpuStorage::I32(decode(b, 4, |c| {
                i32::from_le_bytes([c[0], c[1], c[2], c[3]])
            })),
            Dtype::U8 => CpuStorage::U8(b.to_vec()),
            Dtype::BOOL => CpuStorage::Bool(b.iter().map(|&x| x != 0).collect()),
            Dtype::BF16 => {
                CpuStorage::BF16(decode(b, 2, |c| half::bf16::from_le_bytes([c[0], c[1]])))
            }
            Dtype::F16 => CpuStorage::F16(decode(b, 2, |c| half::f16::from_le_bytes([c[0], c[1]]))),
            other => {
                return Err(Error::NotImplemented(format!(
                "{display}: tensor {name:?} has dtype {other:?}, which ferrograd cannot load yet"
            )))
            }
        };
        let n: usize = shape.iter().product();
        if storage.len() != n {
            return Err(Error::Format {
                path: display,
                msg: format!(
                    "tensor {name:?} holds {} values for shape {shape:?}",
                    storage.len()
                ),
            });
        }
        out.push((
            name,
            Tensor::from_storage(
                crate::Storage::Cpu(storage),
                crate::Layout::contiguous(&shape),
            ),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = std::env::temp_dir().join(format!("fg-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let a = Tensor::from_vec(vec![1.5f32, -2.0, 3.25, 0.0, 1e-8, 7.0], &[2, 3]).unwrap();
        let b = Tensor::from_vec(vec![3i64, -1], &[2]).unwrap();
        save(
            &path,
            &[("w".into(), a.transpose(0, 1).unwrap()), ("n".into(), b)],
            None,
        )
        .unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back[0].0, "n");
        assert_eq!(back[0].1.to_vec::<i64>().unwrap(), vec![3, -1]);
        assert_eq!(back[1].1.shape(), &[3, 2]);
        assert_eq!(
            back[1].1.to_vec::<f32>().unwrap(),
            a.transpose(0, 1).unwrap().to_vec::<f32>().unwrap()
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        assert!(matches!(load(&path), Err(Error::Format { .. })));
        assert!(matches!(
            load(&dir.join("missing.safetensors")),
            Err(Error::FileNotFound(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
