//! CSV/TSV tables: numeric feature columns and a label column, with or without a header row.
//! Fields are trimmed (so "comma + space" files read as plain CSV) and may be wrapped in double
//! quotes; quoted separators are not supported.

use std::collections::HashMap;
use std::path::Path;

use super::file::{format_error, read_bytes};
use super::{Dataset, Samples};
use crate::{Error, Result};

/// A column, by header name or by 0-based position.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// The column whose header field is this name.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

/// What to do with rows holding a missing value (an empty field or `?`) in a used column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Fail, naming the line and column.
    Error,
    /// Skip the row.
    Drop,
}

/// How to read a table.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// The label column.
    pub label: Column,
    /// The feature columns, in order; `None` takes every column but the label.
    pub features: Option<Vec<Column>>,
    /// The field separator; `None` uses a tab for `.tsv` files, else the most frequent of
    /// `,`, `\t` and `;` in the first line.
    pub sep: Option<char>,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Rows with missing values.
    pub missing: Missing,
}

fn is_missing(field: &str) -> bool {
    field.is_empty() || field == "?"
}

/// The fields of `line`, trimmed, outer quotes removed; a separator inside quotes (text with
/// commas) does not split.
pub(crate) fn split(line: &str, sep: char) -> Vec<&str> {
    let mut fields = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in line.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            fields.push(&line[start..i]);
            start = i + c.len_utf8();
        }
    }
    fields.push(&line[start..]);
    fields
        .into_iter()
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
        })
        .collect()
}

pub(crate) fn detect_separator(path: &Path, first_line: &str) -> char {
    if path.extension().is_some_and(|e| e == "tsv") {
        return '\t';
    }
    [',', '\t', ';']
        .into_iter()
        .max_by_key(|&c| (first_line.matches(c).count(), c == ','))
        .unwrap_or(',')
}

/// The whole of a UTF-8 text file (gzip allowed).
pub(crate) fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?)
        .map_err(|e| format_error(path, format!("not UTF-8 text: {e}")))
}

/// A delimited text file split into its separator, header names (when it has a header), row
/// width and non-blank data lines (with their 0-based line numbers).
pub(crate) struct Table<'a> {
    pub sep: char,
    pub names: Option<Vec<&'a str>>,
    pub width: usize,
    pub rows: Vec<(usize, &'a str)>,
}

impl<'a> Table<'a> {
    /// Splits `text` (read from `path`); `sep` None detects the separator from the first line.
    pub fn parse(text: &'a str, path: &Path, sep: Option<char>, header: bool) -> Result<Table<'a>> {
        let mut rows: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let Some(&(_, first)) = rows.first() else {
            return Err(format_error(path, "the file holds no rows"));
        };
        let sep = sep.unwrap_or_else(|| detect_separator(path, first));
        let names = header.then(|| split(rows.remove(0).1, sep));
        let width = names
            .as_ref()
            .map_or_else(|| split(first, sep).len(), Vec::len);
        Ok(Table {
            sep,
            names,
            width,
            rows,
        })
    }
}

/// The position of `column` among `names` (the header, or `None` without one).
pub(crate) fn position(
    column: &Column,
    names: Option<&[&str]>,
    width: usize,
    path: &Path,
) -> Result<usize> {
    let found = match (column, names) {
        (Column::Index(i), _) => Some(*i).filter(|&i| i < width),
        (Column::Name(n), Some(names)) => names.iter().position(|h| h == n),
        (Column::Name(n), None) => {
            return Err(Error::arg(
                "from_csv",
                "columns",
                "column indices when the file has no header",
                format!("the name {n:?}"),
            ))
        }
    };
    found.ok_or_else(|| {
        format_error(
            path,
            match names {
                Some(names) => format!("no column {column:?} among the {width} columns {names:?}"),
                None => format!("no column {column:?}: rows have {width} fields"),
            },
        )
    })
}

/// Labels as positions in the sorted distinct values (numerically when all parse as numbers).
pub(crate) fn encode_labels(values: Vec<String>) -> (Vec<i64>, Vec<String>) {
    let mut classes = values.clone();
    let as_number = |v: &String| v.parse::<f64>().ok();
    if values.iter().all(|v| as_number(v).is_some()) {
        classes.sort_by(|a, b| {
            let (x, y) = (as_number(a).unwrap_or(0.0), as_number(b).unwrap_or(0.0));
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        classes.sort();
    }
    classes.dedup();
    let index: HashMap<&str, i64> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as i64))
        .collect();
    let labels = values.iter().map(|v| index[v.as_str()]).collect();
    (labels, classes)
}

/// A table dataset (f32 feature rows `[F]`) from the CSV/TSV file `path` (gzip allowed).
/// Blank lines are skipped. Labels are the positions of their values in `classes`, the
/// sorted distinct values of the label column (sorted numerically when all are numbers).
pub fn from_csv(path: &Path, options: &CsvOptions) -> Result<Dataset> {
    let text = read_text(path)?;
    let table = Table::parse(&text, path, options.sep, options.header)?;
    let (sep, width, names) = (table.sep, table.width, table.names.as_deref());
    let label_col = position(&options.label, names, width, path)?;
    let feature_cols = match &options.features {
        Some(cols) => cols
            .iter()
            .map(|c| position(c, names, width, path))
            .collect::<Result<Vec<_>>>()?,
        None => (0..width).filter(|&c| c != label_col).collect(),
    };
    if feature_cols.is_empty() {
        return Err(Error::arg(
            "from_csv",
            "features",
            "at least one feature column",
            "none",
        ));
    }
    let column_name = |c: usize| names.map_or(c.to_string(), |n| format!("{c} ({:?})", n[c]));
    let mut features = Vec::new();
    let mut label_values = Vec::new();
    'rows: for &(index, line) in &table.rows {
        let fields = split(line, sep);
        let line_no = index + 1;
        if fields.len() != width {
            return Err(format_error(
                path,
                format!(
                    "line {line_no} has {} fields, expected {width}",
                    fields.len()
                ),
            ));
        }
        for &c in feature_cols.iter().chain([&label_col]) {
            if is_missing(fields[c]) {
                match options.missing {
                    Missing::Drop => continue 'rows,
                    Missing::Error => {
                        return Err(format_error(
                            path,
                            format!("line {line_no}, column {}: missing value {:?} (drop such rows with missing=\"drop\")", column_name(c), fields[c]),
                        ))
                    }
                }
            }
        }
        for &c in &feature_cols {
            let value = fields[c].parse::<f32>().map_err(|_| {
                format_error(
                    path,
                    format!("line {line_no}, column {}: {:?} is not a number (choose numeric columns with `features`)", column_name(c), fields[c]),
                )
            })?;
            features.push(value);
        }
        label_values.push(fields[label_col].to_string());
    }
    if label_values.is_empty() {
        return Err(format_error(path, "no row left to read"));
    }
    let (labels, classes) = encode_labels(label_values);
    Dataset::new(
        Samples::F32(features),
        vec![feature_cols.len()],
        labels,
        classes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_files::temp_dir;

    fn options(
        label: Column,
        features: Option<Vec<Column>>,
        header: bool,
        missing: Missing,
    ) -> CsvOptions {
        CsvOptions {
            label,
            features,
            sep: None,
            header,
            missing,
        }
    }

    fn features(ds: &Dataset) -> Vec<Vec<f32>> {
        (0..ds.len())
            .map(|i| ds.get(i).unwrap().0.to_vec::<f32>().unwrap())
            .collect()
    }

    #[test]
    fn reads_named_columns_with_header_and_string_labels() {
        let dir = temp_dir("csv_header");
        let path = dir.join("t.csv");
        std::fs::write(
            &path,
            "a, kind, b\n1.5, \"yes\", 2\n\n-3, no, 4e1\r\n0, yes, 7\n",
        )
        .unwrap();
        let ds = from_csv(
            &path,
            &options(Column::Name("kind".into()), None, true, Missing::Error),
        )
        .unwrap();
        assert_eq!(
            features(&ds),
            vec![vec![1.5, 2.0], vec![-3.0, 40.0], vec![0.0, 7.0]]
        );
        assert_eq!(ds.classes(), &["no".to_string(), "yes".to_string()]);
        assert_eq!(ds.labels(), vec![1, 0, 1]);
        let picked = options(
            Column::Index(1),
            Some(vec![Column::Name("b".into())]),
            true,
            Missing::Error,
        );
        assert_eq!(
            features(&from_csv(&path, &picked).unwrap()),
            vec![vec![2.0], vec![40.0], vec![7.0]]
        );
    }

    #[test]
    fn tsv_without_header_and_numeric_labels() {
        let dir = temp_dir("csv_tsv");
        let path = dir.join("t.tsv");
        std::fs::write(&path, "0.5\t10\n1.5\t2\n2.5\t10\n").unwrap();
        let ds = from_csv(
            &path,
            &options(Column::Index(1), None, false, Missing::Error),
        )
        .unwrap();
        assert_eq!(ds.classes(), &["2".to_string(), "10".to_string()]);
        assert_eq!(ds.labels(), vec![1, 0, 1]);
        assert_eq!(features(&ds), vec![vec![0.5], vec![1.5], vec![2.5]]);
        let by_name = options(Column::Name("x".into()), None, false, Missing::Error);
        assert!(matches!(
            from_csv(&path, &by_name),
            Err(Error::Argument { .. })
        ));
    }

    #[test]
    fn missing_values_are_rejected_or_dropped() {
        let dir = temp_dir("csv_missing");
        let path = dir.join("m.csv");
        std::fs::write(&path, "x,y,label\n1,2,a\n?,3,b\n4,,a\n5,6,b\n").unwrap();
        let strict = options(Column::Name("label".into()), None, true, Missing::Error);
        match from_csv(&path, &strict) {
            Err(Error::Format { msg, .. }) => assert!(
                msg.contains("line 3, column 0 (\"x\"): missing value"),
                "{msg}"
            ),
            other => panic!("expected a format error, got {other:?}"),
        }
        let lenient = options(Column::Name("label".into()), None, true, Missing::Drop);
        let ds = from_csv(&path, &lenient).unwrap();
        assert_eq!(features(&ds), vec![vec![1.0, 2.0], vec![5.0, 6.0]]);
        assert_eq!(ds.labels(), vec![0, 1]);
    }

    #[test]
    fn rejects_ragged_rows_text_features_and_unknown_columns() {
        let dir = temp_dir("csv_bad");
        let path = dir.join("bad.csv");
        std::fs::write(&path, "x,label\n1,a\n2\n").unwrap();
        let opts = options(Column::Name("label".into()), None, true, Missing::Error);
        assert!(
            matches!(from_csv(&path, &opts), Err(Error::Format { msg, .. }) if msg.contains("line 3 has 1 fields, expected 2"))
        );
        std::fs::write(&path, "x,label\nabc,a\n").unwrap();
        assert!(
            matches!(from_csv(&path, &opts), Err(Error::Format { msg, .. }) if msg.contains("\"abc\" is not a number"))
        );
        let unknown = options(Column::Name("nope".into()), None, true, Missing::Error);
        assert!(
            matches!(from_csv(&path, &unknown), Err(Error::Format { msg, .. }) if msg.contains("no column"))
        );
        std::fs::write(&path, "\n\n").unwrap();
        assert!(
            matches!(from_csv(&path, &opts), Err(Error::Format { msg, .. }) if msg.contains("no rows"))
        );
    }
}
