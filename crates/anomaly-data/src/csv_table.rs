//! The general table loader: a labelled CSV file, read with the `csv` crate (quoted
//! fields, a byte-order mark, headerless files, leading lines to skip).

use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use csv::{ReaderBuilder, StringRecord, Trim};

use crate::error::{DataError, Result};
use crate::table::Table;
use crate::text::read_text;

/// How to read a labelled CSV file into a [`Table`]: which column is the label, which of
/// its values means "normal", which columns to leave out, and where the records start.
///
/// The format is comma-separated values as the `csv` crate reads them: fields may be
/// quoted (`"1,5"` is one field, `""` inside quotes is a quote), every field is trimmed of
/// surrounding whitespace (so `\r\n` line ends are fine), blank lines are skipped, and a
/// UTF-8 byte-order mark at the start of the file is dropped. After
/// [`skip_rows`](Self::skip_rows) leading lines, one header row names the columns, or,
/// for a [`headerless`](Self::headerless) file, the columns are named by their 1-based
/// position (`"1"`, `"2"`, …). Every column other than the label and the dropped ones is
/// a feature and must hold finite numbers. The label column may hold anything; a row is
/// normal when its label equals [`CsvTable::normal`]. Files whose name ends in `.xz` are
/// decompressed on reading.
///
/// ```
/// use anomaly_data::CsvTable;
///
/// let csv = "id,temperature,pressure,status\n\
///            a1,20.5,1.01,ok\n\
///            a2,21.0,1.02,ok\n\
///            a3,95.0,0.40,\"fault, valve 3\"\n";
/// let table = CsvTable::new("status", "ok").drop_columns(["id"]).parse(csv, "plant.csv")?;
/// assert_eq!(table.names, ["temperature", "pressure"]);
/// assert_eq!(table.normal, [true, true, false]);
/// assert_eq!(table.features[[2, 0]], 95.0);
///
/// // scikit-learn's layout: a first line of counts, no header, the label last.
/// let sk = "3,2,malignant,benign\n1.0,2.0,1\n3.0,4.0,0\n5.0,6.0,1\n";
/// let table = CsvTable::new("3", "1").skip_rows(1).headerless().parse(sk, "sk.csv")?;
/// assert_eq!(table.names, ["1", "2"]);
/// assert_eq!(table.normal, [true, false, true]);
///
/// // A non-numeric feature is an error naming file, line and column.
/// let err = CsvTable::new("status", "ok").parse(csv, "plant.csv").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "plant.csv: line 2, column `id`: field 1 = `a1` is not a finite number"
/// );
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvTable {
    /// The name of the label column, as written in the header (its 1-based position in a
    /// headerless file).
    pub label: String,
    /// The label value of a normal row (compared with the trimmed field).
    pub normal: String,
    /// When set, the only label values a non-normal row may hold: any other value is an
    /// error naming its line, which catches typos such as `Benign` for `benign`. When
    /// `None`, every value but [`normal`](Self::normal) marks an anomalous row.
    #[serde(default)]
    pub anomalous: Option<Vec<String>>,
    /// Columns to leave out, e.g. categorical ones. Every other column except the label
    /// must hold numbers.
    #[serde(default)]
    pub drop: Vec<String>,
    /// Whether the first row (after the skipped lines) names the columns (the default).
    /// Without a header, columns are named by their 1-based position.
    #[serde(default = "default_header")]
    pub header: bool,
    /// Lines before the header (or the first record) that are not part of the table, such
    /// as a line of counts or a comment. Line numbers in errors still count from the top
    /// of the file.
    #[serde(default)]
    pub skip_rows: usize,
}

fn default_header() -> bool {
    true
}

impl CsvTable {
    /// Reads the column `label`; rows whose label is `normal` are normal, all others
    /// anomalous; no column is dropped.
    pub fn new(label: impl Into<String>, normal: impl Into<String>) -> Self {
        CsvTable {
            label: label.into(),
            normal: normal.into(),
            anomalous: None,
            drop: Vec::new(),
            header: true,
            skip_rows: 0,
        }
    }

    /// The file has no header row: columns are named by their 1-based position (`"1"`,
    /// `"2"`, …), and [`label`](Self::label) and [`drop`](Self::drop) use those names.
    pub fn headerless(mut self) -> Self {
        self.header = false;
        self
    }

    /// Skips the first `lines` lines of the file before the header (or the first record).
    pub fn skip_rows(mut self, lines: usize) -> Self {
        self.skip_rows = lines;
        self
    }

    /// Restricts the label values of anomalous rows to `values`; any other value becomes
    /// an error.
    pub fn anomalous<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.anomalous = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// Leaves the named columns out of the features.
    pub fn drop_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.drop.extend(names.into_iter().map(Into::into));
        self
    }

    /// Checks the settings on their own, naming the first bad one.
    ///
    /// # Errors
    /// [`DataError::InvalidParam`] for an empty label name, an anomalous value equal to
    /// the normal one, or a dropped column that is the label.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: &str, rule| {
            Err(DataError::InvalidParam {
                what: "csv table",
                param,
                value: format!("{value:?}"),
                rule,
            })
        };
        if self.label.trim().is_empty() {
            return bad("label", &self.label, "must name a column");
        }
        if let Some(v) = self
            .anomalous
            .iter()
            .flatten()
            .find(|v| v.trim() == self.normal.trim())
        {
            return bad("anomalous", v, "must not hold the normal value");
        }
        if let Some(d) = self.drop.iter().find(|d| d.trim() == self.label.trim()) {
            return bad("drop", d, "must not name the label column");
        }
        Ok(())
    }

    /// Reads and parses the file at `path` (xz-compressed when its name ends in `.xz`).
    ///
    /// # Errors
    /// [`DataError::Io`] if the file cannot be read, else as [`CsvTable::parse`].
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        self.parse(&read_text(path)?, path)
    }

    /// Parses CSV text; `path` only names the source in errors.
    ///
    /// # Errors
    /// Every error names the file, and the line and column where there is one:
    /// * [`DataError::InvalidParam`]: as [`CsvTable::check`];
    /// * [`DataError::Content`]: no header row (an empty file), no data row, or no
    ///   normal row (the message lists the label values found);
    /// * [`DataError::Parse`]: a header with an empty or repeated name, or without
    ///   any feature column left; a row with another number of fields than the header;
    /// * [`DataError::UnknownColumn`]: the label or a dropped column is not in the header;
    /// * [`DataError::Field`]: a feature value that is not a finite number, an empty
    ///   label, or a label outside [`normal`](Self::normal) and
    ///   [`anomalous`](Self::anomalous) when the latter is set.
    pub fn parse(&self, text: &str, path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        self.check()?;
        let mut records = records(text, self.skip_rows, path)?;
        let first = records.next().transpose()?;
        let Some((header_line, first)) = first else {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                reason: match self.skip_rows {
                    0 => "empty file: no header row".into(),
                    n => format!("no header row after the {n} skipped line(s)"),
                },
            });
        };
        let (names, first_row) = if self.header {
            (header_names(&first, path, header_line)?, None)
        } else {
            let names = (1..=first.len()).map(|j| j.to_string()).collect();
            (names, Some((header_line, first)))
        };
        let find = |column: &str| {
            names
                .iter()
                .position(|n| n == column.trim())
                .ok_or_else(|| DataError::UnknownColumn {
                    path: path.to_path_buf(),
                    line: header_line,
                    column: column.to_string(),
                    available: names.join(", "),
                })
        };
        let label = find(&self.label)?;
        let dropped = self
            .drop
            .iter()
            .map(|d| find(d))
            .collect::<Result<Vec<_>>>()?;
        let keep: Vec<usize> = (0..names.len())
            .filter(|j| *j != label && !dropped.contains(j))
            .collect();
        if keep.is_empty() {
            return Err(DataError::Parse {
                path: path.to_path_buf(),
                line: header_line,
                reason: format!(
                    "no feature column left besides the label `{}` and the dropped columns",
                    names[label]
                ),
            });
        }
        let columns = Columns {
            names: &names,
            label,
            keep,
        };
        let labels = LabelRule {
            normal: self.normal.trim(),
            anomalous: self.anomalous.as_deref(),
        };
        let rows = first_row.into_iter().map(Ok).chain(records);
        let (table, counts) = read_rows(rows, path, &columns, &labels)?;
        if !table.normal.contains(&true) {
            let found: Vec<String> = counts
                .iter()
                .map(|(value, n)| format!("`{value}` × {n}"))
                .collect();
            return Err(DataError::Content {
                path: path.to_path_buf(),
                reason: format!(
                    "no normal row: no label in column `{}` equals `{}` (labels found: {})",
                    names[label],
                    labels.normal,
                    found.join(", ")
                ),
            });
        }
        Ok(table)
    }
}

/// The non-blank records of CSV `text` after its first `skip_lines` lines, each with the
/// 1-based line of the file it starts on. Fields are trimmed, quotes resolved, a leading
/// UTF-8 byte-order mark dropped; a record may have any number of fields (the caller
/// checks them against its columns). Every table loader of this crate reads through here.
///
/// # Errors
/// [`DataError::Content`] when the file has fewer than `skip_lines` lines; the iterator
/// yields [`DataError::Parse`] naming the line for a record the `csv` crate cannot read.
pub(crate) fn records<'t>(
    text: &'t str,
    skip_lines: usize,
    path: &'t Path,
) -> Result<impl Iterator<Item = Result<(usize, StringRecord)>> + 't> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rest = text;
    for skipped in 0..skip_lines {
        if rest.is_empty() {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                reason: format!(
                    "skip_rows = {skip_lines}, but the file has only {skipped} line(s)"
                ),
            });
        }
        rest = rest.find('\n').map_or("", |end| &rest[end + 1..]);
    }
    let reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(rest.as_bytes());
    Ok(reader
        .into_records()
        .filter_map(move |record| match record {
            // A line of blanks is one empty field.
            Ok(r) if r.len() == 1 && r[0].is_empty() => None,
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                Some(Ok((line + skip_lines, r)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                Some(Err(DataError::Parse {
                    path: path.to_path_buf(),
                    line: line + skip_lines,
                    reason: format!("not readable as CSV: {e}"),
                }))
            }
        }))
}

/// The names of a header record; empty or repeated names are errors.
fn header_names(header: &StringRecord, path: &Path, line: usize) -> Result<Vec<String>> {
    let names: Vec<String> = header.iter().map(|n| n.trim().to_string()).collect();
    let bad = |reason: String| DataError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(bad(format!("field {} of the header is empty", j + 1)));
        }
        if let Some(k) = names[..j].iter().position(|n| n == name) {
            return Err(bad(format!(
                "column `{name}` appears twice (fields {} and {})",
                k + 1,
                j + 1
            )));
        }
    }
    Ok(names)
}

/// The roles of a table's columns: `names` has one entry per field of a row; `label` is
/// the label column; `keep`, ascending, are the feature columns.
pub(crate) struct Columns<'a> {
    pub(crate) names: &'a [String],
    pub(crate) label: usize,
    pub(crate) keep: Vec<usize>,
}

/// Which label value is normal, and which others are allowed (`None`: any).
pub(crate) struct LabelRule<'a> {
    pub(crate) normal: &'a str,
    pub(crate) anomalous: Option<&'a [String]>,
}

impl LabelRule<'_> {
    /// Whether `value` (trimmed) marks a normal row, or why it is not allowed.
    fn is_normal(&self, value: &str) -> std::result::Result<bool, String> {
        if value.is_empty() {
            return Err("the label is empty".into());
        }
        if value == self.normal {
            return Ok(true);
        }
        match self.anomalous {
            Some(allowed) if !allowed.iter().any(|a| a.trim() == value) => {
                let allowed: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                Err(format!(
                    "label `{value}` is neither the normal value `{}` nor an anomalous one ({})",
                    self.normal,
                    allowed.join(", ")
                ))
            }
            _ => Ok(false),
        }
    }
}

/// Distinct label values with their row counts, in order of first appearance.
pub(crate) type LabelCounts = Vec<(String, usize)>;

/// Reads the records `(1-based line number, fields)` into a table of the kept columns.
/// Every loader of this crate goes through here, so all tables are parsed by the same
/// rules and fail with the same messages.
pub(crate) fn read_rows(
    records: impl Iterator<Item = Result<(usize, StringRecord)>>,
    path: &Path,
    columns: &Columns<'_>,
    labels: &LabelRule<'_>,
) -> Result<(Table, LabelCounts)> {
    let width = columns.names.len();
    let mut values = Vec::new();
    let mut normal = Vec::new();
    let mut counts: LabelCounts = Vec::new();
    let owned_path = || PathBuf::from(path);
    for record in records {
        let (line_no, fields) = record?;
        if fields.len() != width {
            return Err(DataError::Parse {
                path: owned_path(),
                line: line_no,
                reason: format!("{} fields, expected {width} (one per column)", fields.len()),
            });
        }
        let field_error = |j: usize, reason: String| DataError::Field {
            path: owned_path(),
            line: line_no,
            column: columns.names[j].clone(),
            reason,
        };
        // Fields are checked left to right, so the first bad one of a line is named.
        let mut keep = columns.keep.iter().peekable();
        let mut row_normal = false;
        for (j, field) in fields.iter().enumerate() {
            if j == columns.label {
                let value = field.trim();
                row_normal = labels.is_normal(value).map_err(|r| field_error(j, r))?;
                match counts.iter_mut().find(|(v, _)| v == value) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((value.to_string(), 1)),
                }
            } else if keep.next_if_eq(&&j).is_some() {
                match field.trim().parse::<f32>() {
                    Ok(v) if v.is_finite() => values.push(v),
                    _ => {
                        return Err(field_error(
                            j,
                            format!("field {} = `{field}` is not a finite number", j + 1),
                        ))
                    }
                }
            }
        }
        normal.push(row_normal);
    }
    if normal.is_empty() {
        return Err(DataError::Content {
            path: owned_path(),
            reason: "no data rows".into(),
        });
    }
    let features =
        Array2::from_shape_vec((normal.len(), columns.keep.len()), values).map_err(|e| {
            DataError::Content {
                path: owned_path(),
                reason: format!("cannot shape {} rows: {e}", normal.len()),
            }
        })?;
    let names = columns
        .keep
        .iter()
        .map(|&j| columns.names[j].clone())
        .collect();
    Ok((
        Table {
            features,
            names,
            normal,
        },
        counts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "a,b,target\n1,2,1\n3,4,0\n";

    fn err(t: &CsvTable, text: &str) -> DataError {
        t.parse(text, "t.csv").unwrap_err()
    }

    #[test]
    fn parses_features_names_and_flags_in_file_order() {
        let t = CsvTable::new("target", "1")
            .parse("a, b ,target\r\n\n1.5,2,1\r\n 3 ,-4e2,0\n", "t.csv")
            .unwrap();
        assert_eq!(t.names, ["a", "b"]);
        assert_eq!(t.features, ndarray::array![[1.5f32, 2.0], [3.0, -400.0]]);
        assert_eq!(t.normal, [true, false]);
        // The label may sit anywhere and hold text.
        let t = CsvTable::new("kind", "normal")
            .parse("kind,x\nnormal,1\nsmurf,2\nnormal,3\n", "k.csv")
            .unwrap();
        assert_eq!(t.names, ["x"]);
        assert_eq!(t.normal, [true, false, true]);
    }

    #[test]
    fn dropped_columns_may_hold_text() {
        let t = CsvTable::new("target", "1")
            .drop_columns(["kind"])
            .parse("kind,a,target\ntcp,1,1\nudp,2,0\n", "t.csv")
            .unwrap();
        assert_eq!(t.names, ["a"]);
        assert_eq!(t.features, ndarray::array![[1.0f32], [2.0]]);
    }

    #[test]
    fn missing_label_column_names_file_header_line_and_columns() {
        let e = err(&CsvTable::new("class", "1"), CSV);
        assert!(
            matches!(&e, DataError::UnknownColumn { line: 1, column, .. } if column == "class"),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "t.csv: line 1: the header has no column `class` (its columns: a, b, target)"
        );
        let e = err(&CsvTable::new("target", "1").drop_columns(["c"]), CSV);
        assert!(
            matches!(&e, DataError::UnknownColumn { column, .. } if column == "c"),
            "{e}"
        );
    }

    #[test]
    fn ragged_rows_name_file_and_line() {
        let e = err(&CsvTable::new("target", "1"), "a,b,target\n1,2,1\n3,0\n");
        assert!(matches!(e, DataError::Parse { line: 3, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "t.csv: line 3: 2 fields, expected 3 (one per column)"
        );
        let e = err(&CsvTable::new("target", "1"), "a,b,target\n1,2,1,9\n");
        assert!(matches!(e, DataError::Parse { line: 2, .. }), "{e}");
    }

    #[test]
    fn non_numeric_values_name_file_line_and_column() {
        for (text, line, column, needle) in [
            ("a,b,target\n1,2,1\n3,x,0\n", 3, "b", "field 2 = `x`"),
            ("a,b,target\n1,NaN,1\n", 2, "b", "field 2 = `NaN`"),
            ("a,b,target\n1,2,1\ninf,2,1\n", 3, "a", "field 1 = `inf`"),
            ("a,b,target\n1,,1\n", 2, "b", "field 2 = ``"),
        ] {
            let e = err(&CsvTable::new("target", "1"), text);
            match &e {
                DataError::Field {
                    line: l, column: c, ..
                } => assert_eq!((*l, c.as_str()), (line, column), "{e}"),
                other => panic!("{other}"),
            }
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
            assert!(e.to_string().starts_with("t.csv: "), "{e}");
        }
    }

    #[test]
    fn empty_files_and_files_without_rows_are_errors() {
        for text in ["", "\n  \n"] {
            let e = err(&CsvTable::new("target", "1"), text);
            assert!(e.to_string().contains("empty file: no header row"), "{e}");
            assert!(matches!(e, DataError::Content { .. }));
        }
        let e = err(&CsvTable::new("target", "1"), "a,b,target\n\n");
        assert_eq!(e.to_string(), "t.csv: no data rows");
    }

    #[test]
    fn a_table_without_normal_rows_lists_the_labels_found() {
        let e = err(&CsvTable::new("target", "2"), "a,target\n1,1\n2,0\n3,1\n");
        assert!(matches!(e, DataError::Content { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "t.csv: no normal row: no label in column `target` equals `2` \
             (labels found: `1` × 2, `0` × 1)"
        );
    }

    #[test]
    fn labels_outside_the_allowed_values_are_errors() {
        let t = CsvTable::new("target", "1").anomalous(["0"]);
        assert_eq!(t.parse(CSV, "t.csv").unwrap().normal, [true, false]);
        let e = err(&t, "a,b,target\n1,2,1\n3,4,2\n");
        assert!(
            matches!(&e, DataError::Field { line: 3, column, .. } if column == "target"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("label `2` is neither the normal value `1` nor an anomalous one (`0`)"),
            "{e}"
        );
        let e = err(&CsvTable::new("target", "1"), "a,target\n1, \n");
        assert!(e.to_string().contains("the label is empty"), "{e}");
    }

    #[test]
    fn bad_headers_and_settings_are_named() {
        let e = err(&CsvTable::new("target", "1"), "a,,target\n1,2,1\n");
        assert_eq!(
            e.to_string(),
            "t.csv: line 1: field 2 of the header is empty"
        );
        let e = err(&CsvTable::new("target", "1"), "a,b,a,target\n1,2,3,1\n");
        assert!(
            e.to_string()
                .contains("column `a` appears twice (fields 1 and 3)"),
            "{e}"
        );
        let e = err(
            &CsvTable::new("target", "1").drop_columns(["a"]),
            "a,target\n1,1\n",
        );
        assert!(matches!(e, DataError::Parse { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("no feature column left"), "{e}");
        for (t, needle) in [
            (CsvTable::new(" ", "1"), "label = \" \""),
            (
                CsvTable::new("target", "1").anomalous(["0", "1"]),
                "anomalous = \"1\" must not hold the normal value",
            ),
            (
                CsvTable::new("target", "1").drop_columns(["target"]),
                "drop = \"target\" must not name the label column",
            ),
        ] {
            let e = err(&t, CSV);
            assert!(matches!(e, DataError::InvalidParam { .. }), "{e}");
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
    }

    #[test]
    fn quoted_fields_hold_commas_and_quotes() {
        let t = CsvTable::new("label", "ok")
            .drop_columns(["note"])
            .parse(
                "\"x, mm\",note,label\n\"1.5\",\"a \"\"quoted\"\", note\",ok\n2,\"b\nc\",\"bad, very\"\n",
                "q.csv",
            )
            .unwrap();
        assert_eq!(t.names, ["x, mm"]);
        assert_eq!(t.features, ndarray::array![[1.5f32], [2.0]]);
        assert_eq!(t.normal, [true, false]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let t = CsvTable::new("target", "1")
            .parse("\u{feff}a,b,target\n1,2,1\n", "bom.csv")
            .unwrap();
        assert_eq!(t.names, ["a", "b"]);
        let e = err(&CsvTable::new("x", "1"), "\u{feff}a,target\n1,1\n");
        assert_eq!(
            e.to_string(),
            "t.csv: line 1: the header has no column `x` (its columns: a, target)"
        );
    }

    #[test]
    fn headerless_files_and_skipped_lines_name_columns_by_position() {
        // scikit-learn's layout: a line of counts, then records with the label last.
        let text = "3,2,malignant,benign\n1.0,2.0,1\n3.0,4.0,0\n5,6,1\n";
        let t = CsvTable::new("3", "1")
            .skip_rows(1)
            .headerless()
            .parse(text, "sk.csv")
            .unwrap();
        assert_eq!(t.names, ["1", "2"]);
        assert_eq!(
            t.features,
            ndarray::array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]
        );
        assert_eq!(t.normal, [true, false, true]);
        // Line numbers count from the top of the file, skipped lines included.
        let e = err(
            &CsvTable::new("3", "1").skip_rows(1).headerless(),
            "3,2,x,y\n1,2,1\n1,x,0\n",
        );
        assert_eq!(
            e.to_string(),
            "t.csv: line 3, column `2`: field 2 = `x` is not a finite number"
        );
        // Skipped lines before a header.
        let t = CsvTable::new("target", "1")
            .skip_rows(2)
            .parse("# export\n# v2\na,target\n4,1\n", "t.csv")
            .unwrap();
        assert_eq!(t.names, ["a"]);
        let e = err(
            &CsvTable::new("target", "1").skip_rows(5),
            "a,target\n1,1\n",
        );
        assert_eq!(
            e.to_string(),
            "t.csv: skip_rows = 5, but the file has only 2 line(s)"
        );
        // The settings read from JSON, with defaults.
        let json: CsvTable = serde_json::from_str(
            r#"{"label": "3", "normal": "1", "header": false, "skip_rows": 1}"#,
        )
        .unwrap();
        assert_eq!(json, CsvTable::new("3", "1").skip_rows(1).headerless());
    }

    #[test]
    fn settings_round_trip_through_json() {
        let t = CsvTable::new("target", "1")
            .anomalous(["0"])
            .drop_columns(["id"]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<CsvTable>(&json).unwrap(), t);
        let minimal: CsvTable =
            serde_json::from_str(r#"{"label": "target", "normal": "1"}"#).unwrap();
        assert_eq!(minimal, CsvTable::new("target", "1"));
    }
}
