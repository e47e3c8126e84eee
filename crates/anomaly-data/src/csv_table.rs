//! The row reader every table loader of this crate goes through: comma-separated
//! records, trimmed fields, numeric features and a label column.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{DataError, Result};
use crate::table::Table;

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

/// Reads the records `(1-based line number, text)` into a table of the kept columns.
/// Blank lines are skipped. Every loader of this crate goes through here, so all tables
/// are parsed by the same rules and fail with the same messages.
pub(crate) fn read_rows<'t>(
    lines: impl Iterator<Item = (usize, &'t str)>,
    path: &Path,
    columns: &Columns<'_>,
    labels: &LabelRule<'_>,
) -> Result<(Table, LabelCounts)> {
    let width = columns.names.len();
    let mut values = Vec::new();
    let mut normal = Vec::new();
    let mut counts: LabelCounts = Vec::new();
    let owned_path = || PathBuf::from(path);
    for (line_no, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
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
