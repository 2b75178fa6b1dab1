//! Whole-file reads for the dataset loaders: gzip content is recognised by its magic number and
//! decompressed, so every format can be stored raw or gzipped under any name.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A [`Error::Format`] naming `path`.
pub fn format_error(path: &Path, msg: impl ToString) -> Error {
    Error::Format {
        path: path.display().to_string(),
        msg: msg.to_string(),
    }
}

/// The bytes of `path`, decompressed when they are a gzip stream.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| format_error(path, format!("corrupt or truncated gzip stream: {e}")))?;
    Ok(out)
}

/// The first of `names` that exists in `dir`; a [`Error::FileNotFound`] listing every candidate
/// otherwise.
pub fn find_first(dir: &Path, names: &[&str]) -> Result<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let tried: Vec<String> = names
                .iter()
                .map(|n| dir.join(n).display().to_string())
                .collect();
            Error::FileNotFound(tried.join(" or "))
        })
}

/// The names of the entries of `dir`, sorted.
pub fn sorted_entries(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))? {
        let entry = entry.map_err(|e| Error::io(dir.display(), e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_raw_and_gzipped_files_alike() {
        let dir = crate::data::test_files::temp_dir("file_read");
        let raw = dir.join("raw.bin");
        std::fs::write(&raw, b"hello data").unwrap();
        let gz = dir.join("packed.bin");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"hello data").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_bytes(&raw).unwrap(), b"hello data");
        assert_eq!(read_bytes(&gz).unwrap(), b"hello data");
    }

    #[test]
    fn missing_and_truncated_files_are_errors_naming_the_path() {
        let dir = crate::data::test_files::temp_dir("file_errors");
        let missing = dir.join("nope.gz");
        match read_bytes(&missing) {
            Err(Error::FileNotFound(p)) => assert!(p.contains("nope.gz")),
            other => panic!("expected FileNotFound, got {other:?}"),
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[7u8; 1000]).unwrap();
        let packed = enc.finish().unwrap();
        let cut = dir.join("cut.gz");
        std::fs::write(&cut, &packed[..packed.len() / 2]).unwrap();
        match read_bytes(&cut) {
            Err(Error::Format { path, msg }) => {
                assert!(path.contains("cut.gz"));
                assert!(msg.contains("gzip"), "{msg}");
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn find_first_prefers_the_earlier_name_and_lists_all_when_none_exists() {
        let dir = crate::data::test_files::temp_dir("file_find");
        std::fs::write(dir.join("b"), b"").unwrap();
        std::fs::write(dir.join("c"), b"").unwrap();
        assert_eq!(find_first(&dir, &["a", "b", "c"]).unwrap(), dir.join("b"));
        match find_first(&dir, &["x", "y"]) {
            Err(Error::FileNotFound(msg)) => assert!(msg.contains('x') && msg.contains(" or ")),
            other => panic!("expected FileNotFound, got {other:?}"),
        }
        assert_eq!(sorted_entries(&dir).unwrap(), vec!["b", "c"]);
    }
}
