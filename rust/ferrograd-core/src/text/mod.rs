//! Text: a Hugging Face `tokenizer.json` tokenizer (through the `tokenizers` crate) and the
//! datasets built with it: sequence classification from delimited files, and token
//! classification from CoNLL files with labels aligned to word pieces.

pub mod classification;
pub mod conll;
pub mod tokenizer;

pub use classification::{text_classification, TextFileOptions};
pub use conll::{read_conll, token_classification, Sentence};
pub use tokenizer::{EncodeOptions, Encoded, Padding, TextTokenizer};
