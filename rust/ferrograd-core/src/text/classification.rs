//! Sequence-classification datasets from delimited text files (one text column, one label
//! column), tokenized once when loaded.

use std::path::Path;

use super::tokenizer::{EncodeOptions, Padding, TextTokenizer};
use crate::data::csv::{encode_labels, position, read_text, split, Table};
use crate::data::file::format_error;
use crate::data::{Column, Dataset};
use crate::{Error, Result};

/// Where the text and the label are in a delimited file.
#[derive(Clone, Debug)]
pub struct TextFileOptions {
    pub text: Column,
    pub label: Column,
    /// Field separator; `None` detects it (tab for `.tsv`).
    pub sep: Option<char>,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Longest token sequence kept (special tokens included).
    pub max_length: usize,
    /// Read only the first `limit` rows.
    pub limit: Option<usize>,
    /// Class names in label order; `None` takes the sorted distinct label values.
    pub classes: Option<Vec<String>>,
}

/// Maps label values to positions in `classes`, or builds `classes` from the values.
pub(crate) fn label_indices(
    values: Vec<String>,
    classes: Option<&[String]>,
    path: &Path,
) -> Result<(Vec<i64>, Vec<String>)> {
    let Some(classes) = classes else {
        return Ok(encode_labels(values));
    };
    let labels = values
        .iter()
        .map(|v| {
            classes
                .iter()
                .position(|c| c == v)
                .map(|i| i as i64)
                .ok_or_else(|| {
                    format_error(
                        path,
                        format!("label {v:?} is not one of the classes {classes:?}"),
                    )
                })
        })
        .collect::<Result<Vec<i64>>>()?;
    Ok((labels, classes.to_vec()))
}

/// A dataset of token ids `[N, L]` (L the longest encoded text, at most `max_length`; batches
/// drop the padding every row of the batch shares) with one class per text.
pub fn text_classification(
    path: &Path,
    tokenizer: &TextTokenizer,
    options: &TextFileOptions,
) -> Result<Dataset> {
    let text = read_text(path)?;
    let table = Table::parse(&text, path, options.sep, options.header)?;
    let (sep, width, names) = (table.sep, table.width, table.names.as_deref());
    let text_col = position(&options.text, names, width, path)?;
    let label_col = position(&options.label, names, width, path)?;
    let (mut texts, mut values) = (Vec::new(), Vec::new());
    for &(index, line) in table.rows.iter().take(options.limit.unwrap_or(usize::MAX)) {
        let fields = split(line, sep);
        if fields.len() != width {
            return Err(format_error(
                path,
                format!(
                    "line {} has {} fields, expected {width}",
                    index + 1,
                    fields.len()
                ),
            ));
        }
        texts.push(fields[text_col].to_string());
        values.push(fields[label_col].to_string());
    }
    if texts.is_empty() {
        return Err(format_error(path, "no row left to read"));
    }
    let (labels, classes) = label_indices(values, options.classes.as_deref(), path)?;
    if options.max_length < 2 {
        return Err(Error::arg(
            "text_classification",
            "max_length",
            "at least 2 tokens",
            options.max_length,
        ));
    }
    let encoded = tokenizer.encode(
        &texts,
        None,
        &EncodeOptions {
            max_length: Some(options.max_length),
            padding: Padding::Longest,
            add_special_tokens: true,
        },
    )?;
    encoded.into_dataset(labels, classes, tokenizer.pad_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::BatchInputs;
    use crate::text::tokenizer::tests::tiny_tokenizer;

    #[test]
    fn reads_texts_and_labels_and_trims_padding_per_batch() {
        let (tok, dir) = tiny_tokenizer("classification");
        let path = dir.join("reviews.csv");
        std::fs::write(&path, "label,text\npos,\"the cat, the dog\"\nneg,cats\n").unwrap();
        let options = TextFileOptions {
            text: Column::Name("text".into()),
            label: Column::Name("label".into()),
            sep: None,
            header: true,
            max_length: 16,
            limit: None,
            classes: None,
        };
        let ds = text_classification(&path, &tok, &options).unwrap();
        assert_eq!(ds.classes(), &["neg".to_string(), "pos".to_string()]);
        assert_eq!(ds.labels(), vec![1, 0]);
        assert_eq!(ds.sample_shape(), &[7]);
        let pipeline = crate::data::Pipeline::new(vec![], ds.sample_shape()).unwrap();
        let mut rng = crate::rng::RngState { seed: 0, offset: 0 };
        let b = ds.batch(&[1], &pipeline, &mut rng).unwrap();
        assert_eq!(b.inputs, BatchInputs::I64(vec![2, 5, 9, 3]));
        let fixed = TextFileOptions {
            classes: Some(vec!["pos".into(), "neg".into()]),
            ..options.clone()
        };
        assert_eq!(
            text_classification(&path, &tok, &fixed).unwrap().labels(),
            vec![0, 1]
        );
        let unknown = TextFileOptions {
            classes: Some(vec!["pos".into()]),
            ..options
        };
        match text_classification(&path, &tok, &unknown) {
            Err(Error::Format { msg, .. }) => assert!(msg.contains("\"neg\""), "{msg}"),
            other => panic!("expected a format error, got {other:?}"),
        }
    }
}
