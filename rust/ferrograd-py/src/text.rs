//! `_core.Tokenizer` and the text dataset builders (sequence and token classification).

use std::path::PathBuf;

use ferrograd_core::text::{
    self as core_text, EncodeOptions, Encoded, Padding, Sentence, TextFileOptions, TextTokenizer,
};
use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::data::dataset::PyDataset;
use crate::data::ColumnArg;
use crate::errors::IntoPy;

/// A Hugging Face tokenizer (`tokenizer.json`) running in Rust.
#[pyclass(name = "Tokenizer", module = "ferrograd.text", frozen)]
pub struct PyTokenizer {
    inner: TextTokenizer,
}

fn encode_options(
    max_length: Option<usize>,
    padding: &str,
    add_special_tokens: bool,
) -> PyResult<EncodeOptions> {
    let padding = match padding {
        "longest" => Padding::Longest,
        "max_length" => Padding::MaxLength,
        other => {
            return Err(PyValueError::new_err(format!(
                "tokenize: argument `padding` expected \"longest\" or \"max_length\", got {other:?}"
            )))
        }
    };
    Ok(EncodeOptions {
        max_length,
        padding,
        add_special_tokens,
    })
}

/// The encoded batch as a dict of int64 `[rows, len]` numpy arrays.
fn encoded_dict<'py>(py: Python<'py>, e: Encoded) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let shape = (e.rows, e.len);
    let to_array = |v: Vec<i64>| {
        Array2::from_shape_vec(shape, v).map_err(|err| PyValueError::new_err(err.to_string()))
    };
    d.set_item("input_ids", to_array(e.ids)?.into_pyarray(py))?;
    d.set_item(
        "attention_mask",
        to_array(e.attention_mask)?.into_pyarray(py),
    )?;
    d.set_item("token_type_ids", to_array(e.type_ids)?.into_pyarray(py))?;
    d.set_item("word_ids", to_array(e.word_ids)?.into_pyarray(py))?;
    Ok(d)
}

#[pymethods]
impl PyTokenizer {
    /// Loads a `tokenizer.json` file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<PyTokenizer> {
        let inner = py.detach(|| TextTokenizer::from_file(&path)).py()?;
        Ok(PyTokenizer { inner })
    }

    /// Encodes `texts` (and `text_pair`) into padded int64 arrays.
    #[pyo3(signature = (texts, text_pair = None, max_length = None, padding = "longest", add_special_tokens = true))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        text_pair: Option<Vec<String>>,
        max_length: Option<usize>,
        padding: &str,
        add_special_tokens: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let options = encode_options(max_length, padding, add_special_tokens)?;
        let tok = &self.inner;
        let e = py
            .detach(|| tok.encode(&texts, text_pair.as_deref(), &options))
            .py()?;
        encoded_dict(py, e)
    }

    /// Encodes sentences already split into words (`word_ids` index the words).
    #[pyo3(signature = (sentences, max_length = None, padding = "longest", add_special_tokens = true))]
    fn encode_words<'py>(
        &self,
        py: Python<'py>,
        sentences: Vec<Vec<String>>,
        max_length: Option<usize>,
        padding: &str,
        add_special_tokens: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let options = encode_options(max_length, padding, add_special_tokens)?;
        let tok = &self.inner;
        let e = py.detach(|| tok.encode_words(&sentences, &options)).py()?;
        encoded_dict(py, e)
    }

    /// The text of `ids`.
    #[pyo3(signature = (ids, skip_special_tokens = true))]
    fn decode(&self, ids: Vec<u32>, skip_special_tokens: bool) -> PyResult<String> {
        self.inner.decode(&ids, skip_special_tokens).py()
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    #[getter]
    fn pad_token_id(&self) -> u32 {
        self.inner.pad_id()
    }
}

/// A sequence-classification dataset from a delimited text file.
#[pyfunction]
#[pyo3(signature = (path, tokenizer, text, label, sep = None, header = true, max_length = 128, limit = None, classes = None))]
#[allow(clippy::too_many_arguments)]
fn text_classification(
    py: Python<'_>,
    path: PathBuf,
    tokenizer: PyRef<'_, PyTokenizer>,
    text: ColumnArg,
    label: ColumnArg,
    sep: Option<char>,
    header: bool,
    max_length: usize,
    limit: Option<usize>,
    classes: Option<Vec<String>>,
) -> PyResult<PyDataset> {
    let options = TextFileOptions {
        text: text.into(),
        label: label.into(),
        sep,
        header,
        max_length,
        limit,
        classes,
    };
    let tok = &tokenizer.inner;
    py.detach(|| core_text::text_classification(&path, tok, &options))
        .py()
        .map(PyDataset::from)
}

/// The sentences of a CoNLL file as `(words, tags)` pairs.
#[pyfunction]
fn read_conll(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(Vec<String>, Vec<String>)>> {
    let sentences = py.detach(|| core_text::read_conll(&path)).py()?;
    Ok(sentences.into_iter().map(|s| (s.words, s.tags)).collect())
}

/// A token-classification dataset from `(words, tags)` sentences.
#[pyfunction]
#[pyo3(signature = (sentences, tokenizer, max_length = 128, classes = None))]
fn token_classification(
    py: Python<'_>,
    sentences: Vec<(Vec<String>, Vec<String>)>,
    tokenizer: PyRef<'_, PyTokenizer>,
    max_length: usize,
    classes: Option<Vec<String>>,
) -> PyResult<PyDataset> {
    let mut parsed = Vec::with_capacity(sentences.len());
    for (i, (words, tags)) in sentences.into_iter().enumerate() {
        if words.len() != tags.len() {
            return Err(PyValueError::new_err(format!(
                "token_classification: argument `sentences` expected one tag per word, got {} words and {} tags in sentence {i}",
                words.len(),
                tags.len()
            )));
        }
        parsed.push(Sentence { words, tags });
    }
    let tok = &tokenizer.inner;
    py.detach(|| core_text::token_classification(&parsed, tok, max_length, classes.as_deref()))
        .py()
        .map(PyDataset::from)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTokenizer>()?;
    m.add_function(wrap_pyfunction!(text_classification, m)?)?;
    m.add_function(wrap_pyfunction!(read_conll, m)?)?;
    m.add_function(wrap_pyfunction!(token_classification, m)?)?;
    Ok(())
}
