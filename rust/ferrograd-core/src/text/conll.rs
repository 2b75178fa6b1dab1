//! CoNLL column files (`word ... tag` per line, a blank line between sentences) and
//! token-classification datasets whose labels sit on the first word piece of each word.

use std::path::Path;

use super::classification::label_indices;
use super::tokenizer::{EncodeOptions, Padding, TextTokenizer};
use crate::data::csv::read_text;
use crate::data::file::format_error;
use crate::data::Dataset;
use crate::{Error, Result};

/// Label of word pieces that carry no label (continuations, special tokens, padding), as in
/// PyTorch's `ignore_index`.
pub const IGNORE: i64 = -100;

/// One sentence: its words and their tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sentence {
    pub words: Vec<String>,
    pub tags: Vec<String>,
}

/// The sentences of a CoNLL file: the first column is the word, the last the tag;
/// `-DOCSTART-` lines are skipped.
pub fn read_conll(path: &Path) -> Result<Vec<Sentence>> {
    let text = read_text(path)?;
    let mut sentences = Vec::new();
    let mut current = Sentence {
        words: vec![],
        tags: vec![],
    };
    for (index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|w| *w == "-DOCSTART-") {
            continue;
        }
        if fields.is_empty() {
            if !current.words.is_empty() {
                sentences.push(std::mem::replace(
                    &mut current,
                    Sentence {
                        words: vec![],
                        tags: vec![],
                    },
                ));
            }
            continue;
        }
        if fields.len() < 2 {
            return Err(format_error(
                path,
                format!(
                    "line {} has one field; expected a word and a tag",
                    index + 1
                ),
            ));
        }
        current.words.push(fields[0].to_string());
        current.tags.push(fields[fields.len() - 1].to_string());
    }
    if !current.words.is_empty() {
        sentences.push(current);
    }
    if sentences.is_empty() {
        return Err(format_error(path, "the file holds no sentence"));
    }
    Ok(sentences)
}

/// Token ids `[N, L]` (L the longest encoded sentence, at most `max_length`) with labels `[N, L]`:
/// each word's tag index on its first word piece, [`IGNORE`] elsewhere. Words cut off by
/// truncation get no label. `classes` fixes the tag order (pass the training set's to a
/// validation set); `None` takes the sorted distinct tags.
pub fn token_classification(
    sentences: &[Sentence],
    tokenizer: &TextTokenizer,
    max_length: usize,
    classes: Option<&[String]>,
) -> Result<Dataset> {
    if sentences.is_empty() {
        return Err(Error::arg(
            "token_classification",
            "sentences",
            "at least one sentence",
            0,
        ));
    }
    let tags: Vec<String> = sentences.iter().flat_map(|s| s.tags.clone()).collect();
    let (tag_ids, classes) = label_indices(tags, classes, Path::new("<sentences>"))?;
    let words: Vec<Vec<String>> = sentences.iter().map(|s| s.words.clone()).collect();
    let encoded = tokenizer.encode_words(
        &words,
        &EncodeOptions {
            max_length: Some(max_length),
            padding: Padding::Longest,
            add_special_tokens: true,
        },
    )?;
    let mut labels = vec![IGNORE; encoded.ids.len()];
    let mut first_tag = 0;
    for (s, sentence) in sentences.iter().enumerate() {
        let sentence_tags = &tag_ids[first_tag..first_tag + sentence.words.len()];
        first_tag += sentence.words.len();
        let row = s * encoded.len..(s + 1) * encoded.len;
        let mut previous = -1;
        for (label, &word) in labels[row.clone()].iter_mut().zip(&encoded.word_ids[row]) {
            if word >= 0 && word != previous {
                *label = sentence_tags[word as usize];
            }
            previous = word;
        }
    }
    encoded.into_dataset(labels, classes, tokenizer.pad_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenizer::tests::tiny_tokenizer;

    #[test]
    fn reads_sentences_and_aligns_tags_to_first_pieces() {
        let (tok, dir) = tiny_tokenizer("conll");
        let path = dir.join("ner.conll");
        std::fs::write(
            &path,
            "-DOCSTART- -X- O O\n\nThe DT O\ncats NNS B-ANI\n\nDog NN I-ANI\nsat VBD O\n",
        )
        .unwrap();
        let sentences = read_conll(&path).unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[1].words, vec!["Dog", "sat"]);
        assert_eq!(sentences[1].tags, vec!["I-ANI", "O"]);
        let ds = token_classification(&sentences, &tok, 16, None).unwrap();
        assert_eq!(ds.classes(), &["B-ANI", "I-ANI", "O"]);
        // [CLS] the cat ##s [SEP] / [CLS] dog sat [SEP] [PAD]
        assert_eq!(
            ds.labels(),
            vec![-100, 2, 0, -100, -100, -100, 1, 2, -100, -100]
        );
        let cut = token_classification(&sentences, &tok, 3, None).unwrap();
        assert_eq!(cut.labels(), vec![-100, 2, -100, -100, 1, -100]);
        let other = vec!["O".to_string()];
        assert!(token_classification(&sentences, &tok, 16, Some(&other)).is_err());
        std::fs::write(&path, "lonely\n").unwrap();
        assert!(matches!(read_conll(&path), Err(Error::Format { .. })));
    }
}
