//! Batch encoding with a Hugging Face tokenizer: truncation by the library (it knows the
//! special tokens and pair strategies), padding here, so every row of a batch has one length.

use std::path::Path;

use tokenizers::{EncodeInput, Encoding, Tokenizer, TruncationParams};

use crate::{Error, Result};

/// How rows are padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// To the longest row of the batch.
    Longest,
    /// To `max_length` (which must then be set).
    MaxLength,
}

/// Options of [`TextTokenizer::encode`].
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Truncate longer rows (special tokens included) to this many tokens.
    pub max_length: Option<usize>,
    pub padding: Padding,
    pub add_special_tokens: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            max_length: None,
            padding: Padding::Longest,
            add_special_tokens: true,
        }
    }
}

/// A padded batch, row-major `[rows, len]` each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoded {
    pub ids: Vec<i64>,
    /// 1 for tokens, 0 for padding.
    pub attention_mask: Vec<i64>,
    /// Segment ids (0 for the first text, 1 for the second of a pair).
    pub type_ids: Vec<i64>,
    /// Index of the word each token came from; -1 for special tokens and padding.
    pub word_ids: Vec<i64>,
    pub rows: usize,
    pub len: usize,
}

impl Encoded {
    /// A token dataset of these rows with `labels` (one per row, or one per token).
    pub fn into_dataset(
        self,
        labels: Vec<i64>,
        classes: Vec<String>,
        pad_id: u32,
    ) -> Result<crate::data::Dataset> {
        crate::data::Dataset::tokens(self.ids, self.len, labels, classes, pad_id as i64)
    }
}

/// A tokenizer loaded from a `tokenizer.json` file.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
}

fn library_error(op: &'static str, e: impl std::fmt::Display) -> Error {
    Error::arg(op, "text", "input the tokenizer can encode", e.to_string())
}

impl TextTokenizer {
    /// Loads `path`; the file's own padding and truncation settings are dropped (each call says
    /// what it wants). The padding id is the file's, else that of `[PAD]` or `<pad>`, else 0.
    pub fn from_file(path: &Path) -> Result<TextTokenizer> {
        if !path.is_file() {
            return Err(Error::FileNotFound(path.display().to_string()));
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| {
            crate::data::file::format_error(path, format!("not a tokenizer.json file: {e}"))
        })?;
        let pad_id = inner
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| inner.token_to_id("[PAD]"))
            .or_else(|| inner.token_to_id("<pad>"))
            .unwrap_or(0);
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| library_error("tokenizer", e))?;
        Ok(TextTokenizer { inner, pad_id })
    }

    /// The id that fills padding positions.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Text of `ids`, special tokens dropped when `skip_special_tokens`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| library_error("decode", e))
    }

    /// Encodes raw texts (with `pairs`, text pairs).
    pub fn encode(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        options: &EncodeOptions,
    ) -> Result<Encoded> {
        let inputs: Vec<EncodeInput> = match pairs {
            Some(pairs) => {
                if pairs.len() != texts.len() {
                    return Err(Error::arg(
                        "tokenize",
                        "text_pair",
                        format!("{} second texts, one per text", texts.len()),
                        pairs.len(),
                    ));
                }
                texts
                    .iter()
                    .zip(pairs)
                    .map(|(a, b)| EncodeInput::Dual(a.as_str().into(), b.as_str().into()))
                    .collect()
            }
            None => texts.iter().map(|t| t.as_str().into()).collect(),
        };
        self.encode_inputs(inputs, options)
    }

    /// Encodes texts already split into words; `word_ids` then index those words.
    pub fn encode_words(
        &self,
        sentences: &[Vec<String>],
        options: &EncodeOptions,
    ) -> Result<Encoded> {
        let inputs: Vec<EncodeInput> = sentences.iter().map(|w| w.as_slice().into()).collect();
        self.encode_inputs(inputs, options)
    }

    fn encode_inputs(&self, inputs: Vec<EncodeInput>, options: &EncodeOptions) -> Result<Encoded> {
        if options.padding == Padding::MaxLength && options.max_length.is_none() {
            return Err(Error::arg(
                "tokenize",
                "max_length",
                "a length when padding='max_length'",
                "None",
            ));
        }
        if options.max_length == Some(0) {
            return Err(Error::arg("tokenize", "max_length", "a positive length", 0));
        }
        let mut tokenizer = self.inner.clone();
        let truncation = options.max_length.map(|max_length| TruncationParams {
            max_length,
            ..TruncationParams::default()
        });
        tokenizer
            .with_truncation(truncation)
            .map_err(|e| library_error("tokenize", e))?;
        let encodings = tokenizer
            .encode_batch(inputs, options.add_special_tokens)
            .map_err(|e| library_error("tokenize", e))?;
        let len = match options.padding {
            Padding::MaxLength => options.max_length.unwrap_or(0),
            Padding::Longest => encodings.iter().map(Encoding::len).max().unwrap_or(0),
        };
        Ok(self.pad(&encodings, len))
    }

    fn pad(&self, encodings: &[Encoding], len: usize) -> Encoded {
        let rows = encodings.len();
        let mut out = Encoded {
            ids: vec![self.pad_id as i64; rows * len],
            attention_mask: vec![0; rows * len],
            type_ids: vec![0; rows * len],
            word_ids: vec![-1; rows * len],
            rows,
            len,
        };
        for (r, e) in encodings.iter().enumerate() {
            let at = r * len;
            for (k, (((&id, &mask), &ty), word)) in e
                .get_ids()
                .iter()
                .zip(e.get_attention_mask())
                .zip(e.get_type_ids())
                .zip(e.get_word_ids())
                .take(len)
                .enumerate()
            {
                out.ids[at + k] = id as i64;
                out.attention_mask[at + k] = mask as i64;
                out.type_ids[at + k] = ty as i64;
                // Special tokens have no word; so do the tokens of the second text of a pair
                // here, since their word numbers restart and would be ambiguous.
                out.word_ids[at + k] = match (word, ty) {
                    (Some(w), 0) => *w as i64,
                    _ => -1,
                };
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A small WordPiece tokenizer file written to a temp dir of its own (`name`: tests run in
    /// parallel).
    pub(crate) fn tiny_tokenizer(name: &str) -> (TextTokenizer, PathBuf) {
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "mat", "##s", "dog",
        ];
        let vocab_json: Vec<String> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t:?}: {i}"))
            .collect();
        let json = format!(
            r###"{{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [
  {{"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}},
  {{"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}},
  {{"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}}],
 "normalizer": {{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}},
 "pre_tokenizer": {{"type": "BertPreTokenizer"}},
 "post_processor": {{"type": "TemplateProcessing",
   "single": [{{"SpecialToken": {{"id": "[CLS]", "type_id": 0}}}}, {{"Sequence": {{"id": "A", "type_id": 0}}}}, {{"SpecialToken": {{"id": "[SEP]", "type_id": 0}}}}],
   "pair": [{{"SpecialToken": {{"id": "[CLS]", "type_id": 0}}}}, {{"Sequence": {{"id": "A", "type_id": 0}}}}, {{"SpecialToken": {{"id": "[SEP]", "type_id": 0}}}}, {{"Sequence": {{"id": "B", "type_id": 1}}}}, {{"SpecialToken": {{"id": "[SEP]", "type_id": 1}}}}],
   "special_tokens": {{"[CLS]": {{"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}}, "[SEP]": {{"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}}}}},
 "decoder": {{"type": "WordPiece", "prefix": "##", "cleanup": true}},
 "model": {{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {{{}}}}}}}"###,
            vocab_json.join(", ")
        );
        let dir = std::env::temp_dir().join(format!("fg-tok-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        std::fs::write(&path, json).unwrap();
        (TextTokenizer::from_file(&path).unwrap(), dir)
    }

    #[test]
    fn encodes_pads_and_truncates_batches() {
        let (tok, _) = tiny_tokenizer("encode");
        let texts = vec!["The cats sat".to_string(), "dog".to_string()];
        let e = tok.encode(&texts, None, &EncodeOptions::default()).unwrap();
        assert_eq!((e.rows, e.len), (2, 6));
        assert_eq!(e.ids, vec![2, 4, 5, 9, 6, 3, 2, 10, 3, 0, 0, 0]);
        assert_eq!(e.attention_mask, vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
        assert_eq!(e.word_ids, vec![-1, 0, 1, 1, 2, -1, -1, 0, -1, -1, -1, -1]);
        let short = EncodeOptions {
            max_length: Some(4),
            padding: Padding::MaxLength,
            add_special_tokens: true,
        };
        let e = tok.encode(&texts, None, &short).unwrap();
        assert_eq!(e.ids, vec![2, 4, 5, 3, 2, 10, 3, 0]);
        let pair = tok
            .encode(
                &texts[1..],
                Some(&["the mat".to_string()]),
                &EncodeOptions::default(),
            )
            .unwrap();
        assert_eq!(pair.ids, vec![2, 10, 3, 4, 8, 3]);
        assert_eq!(pair.type_ids, vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(tok.decode(&[2, 4, 5, 9, 3], true).unwrap(), "the cats");
        let words = vec![vec!["cats".to_string(), "on".to_string()]];
        let e = tok.encode_words(&words, &EncodeOptions::default()).unwrap();
        assert_eq!(e.word_ids, vec![-1, 0, 0, 1, -1]);
    }

    #[test]
    fn bad_files_and_options_are_errors() {
        assert!(matches!(
            TextTokenizer::from_file(Path::new("/nonexistent/tokenizer.json")),
            Err(Error::FileNotFound(_))
        ));
        let (tok, dir) = tiny_tokenizer("errors");
        let bogus = dir.join("bogus.json");
        std::fs::write(&bogus, "{}").unwrap();
        assert!(matches!(
            TextTokenizer::from_file(&bogus),
            Err(Error::Format { .. })
        ));
        let no_len = EncodeOptions {
            max_length: None,
            padding: Padding::MaxLength,
            add_special_tokens: true,
        };
        assert!(tok.encode(&["a".into()], None, &no_len).is_err());
        assert!(tok
            .encode(&["a".into()], Some(&[]), &EncodeOptions::default())
            .is_err());
    }
}
