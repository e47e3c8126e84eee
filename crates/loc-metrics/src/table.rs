//! Multi-method result tables rendered as markdown, like paper 1's Table 1.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// One table cell: a mean, optionally with its standard deviation across runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The value (a fraction in [0, 1] for every score of this crate).
    pub mean: f64,
    /// Sample standard deviation across runs, if there were several.
    pub std: Option<f64>,
}

/// One row: a method's name and its cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// The method (or "chance", "random", ...).
    pub method: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

impl TableRow {
    /// A row of plain values.
    pub fn new(method: impl Into<String>, values: Vec<f64>) -> Self {
        let cells = values
            .into_iter()
            .map(|mean| Cell { mean, std: None })
            .collect();
        TableRow {
            method: method.into(),
            cells,
        }
    }

    /// Appends another row's cells (e.g. set scores followed by HitRate columns).
    pub fn concat(mut self, other: TableRow) -> Self {
        self.cells.extend(other.cells);
        self
    }

    /// The mean ± sample standard deviation (divisor `runs − 1`) of each cell
    /// over runs of one method (e.g. seeds). With a single run the standard
    /// deviation is omitted; the runs' own standard deviations are ignored.
    ///
    /// ```
    /// use loc_metrics::TableRow;
    ///
    /// let runs = [TableRow::new("seed 1", vec![0.5, 0.2]), TableRow::new("seed 2", vec![0.7, 0.2])];
    /// let row = TableRow::across_runs("Kernel SHAP", &runs)?;
    /// assert!((row.cells[0].mean - 0.6).abs() < 1e-12);
    /// assert!((row.cells[0].std.unwrap() - 0.02_f64.sqrt()).abs() < 1e-12);
    /// assert_eq!(row.cells[1].std, Some(0.0));
    /// # Ok::<(), loc_metrics::MetricsError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for no runs;
    /// [`MetricsError::ShapeMismatch`] if runs have different numbers of cells.
    pub fn across_runs(method: impl Into<String>, runs: &[TableRow]) -> Result<TableRow> {
        let first = runs
            .first()
            .ok_or(MetricsError::EmptyInput { what: "runs" })?;
        let width = first.cells.len();
        if let Some(bad) = runs.iter().find(|r| r.cells.len() != width) {
            return Err(MetricsError::ShapeMismatch {
                what: "cells of a run",
                expected: vec![width],
                got: vec![bad.cells.len()],
            });
        }
        let n = runs.len() as f64;
        let cells = (0..width)
            .map(|j| {
                let mean = runs.iter().map(|r| r.cells[j].mean).sum::<f64>() / n;
                let std = (runs.len() > 1).then(|| {
                    let ss: f64 = runs.iter().map(|r| (r.cells[j].mean - mean).powi(2)).sum();
                    (ss / (n - 1.0)).sqrt()
                });
                Cell { mean, std }
            })
            .collect();
        Ok(TableRow {
            method: method.into(),
            cells,
        })
    }
}

/// A results table: one row per method, one column per score.
///
/// Values are fractions; [`to_markdown`](Self::to_markdown) prints them in
/// percent with two decimals (Rust's `{:.2}` of `100 · value`), and
/// `mean ± std` where a standard deviation is present.
///
/// ```
/// use loc_metrics::{Table, TableRow};
///
/// let mut t = Table::new(vec!["GT@120% IoU".into(), "GT@120% F1".into()]);
/// t.push(TableRow::new("Occlusion", vec![0.6439, 0.7666]))?;
/// t.push(TableRow::across_runs("Kernel SHAP", &[
///     TableRow::new("", vec![0.55, 0.66]),
///     TableRow::new("", vec![0.56, 0.67]),
/// ])?)?;
/// assert_eq!(t.to_markdown(), "\
/// | method | GT@120% IoU | GT@120% F1 |
/// |---|---:|---:|
/// | Occlusion | 64.39 | 76.66 |
/// | Kernel SHAP | 55.50 ± 0.71 | 66.50 ± 0.71 |
/// ");
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Header of the first (name) column.
    pub first_header: String,
    /// Column labels.
    pub columns: Vec<String>,
    /// Rows, in display order.
    pub rows: Vec<TableRow>,
}

impl Table {
    /// An empty table with the given score columns.
    pub fn new(columns: Vec<String>) -> Self {
        Table {
            first_header: "method".into(),
            columns,
            rows: vec![],
        }
    }

    /// Appends a row.
    ///
    /// # Errors
    /// [`MetricsError::ShapeMismatch`] if the row's cell count differs from the column count.
    pub fn push(&mut self, row: TableRow) -> Result<()> {
        if row.cells.len() != self.columns.len() {
            return Err(MetricsError::ShapeMismatch {
                what: "cells of a table row",
                expected: vec![self.columns.len()],
                got: vec![row.cells.len()],
            });
        }
        self.rows.push(row);
        Ok(())
    }

    /// GitHub-flavoured markdown, values in percent with two decimals.
    /// A row shorter than the header leaves its last cells empty.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "| {} |", escape(&self.first_header));
        for c in &self.columns {
            let _ = write!(out, " {} |", escape(c));
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(self.columns.len()));
        out.push('\n');
        for row in &self.rows {
            let _ = write!(out, "| {} |", escape(&row.method));
            for j in 0..self.columns.len() {
                match row.cells.get(j) {
                    Some(Cell { mean, std: Some(s) }) => {
                        let _ = write!(out, " {:.2} ± {:.2} |", 100.0 * mean, 100.0 * s);
                    }
                    Some(Cell { mean, std: None }) => {
                        let _ = write!(out, " {:.2} |", 100.0 * mean);
                    }
                    None => out.push_str("  |"),
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A `|` inside a cell would split it.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_checks_width_and_concat_joins() {
        let mut t = Table::new(vec!["a".into(), "b".into()]);
        assert!(matches!(
            t.push(TableRow::new("x", vec![0.1])),
            Err(MetricsError::ShapeMismatch { expected, got, .. }) if expected == [2] && got == [1]
        ));
        let row = TableRow::new("x", vec![0.1]).concat(TableRow::new("ignored", vec![0.2]));
        t.push(row).unwrap();
        assert_eq!(
            t.to_markdown(),
            "| method | a | b |\n|---|---:|---:|\n| x | 10.00 | 20.00 |\n"
        );
    }

    #[test]
    fn pipes_are_escaped_and_runs_must_agree() {
        let mut t = Table::new(vec!["a|b".into()]);
        t.rows.push(TableRow::new("m|n", vec![0.5]));
        assert!(t.to_markdown().starts_with("| method | a\\|b |"));
        assert!(t.to_markdown().contains("| m\\|n | 50.00 |"));
        let runs = [
            TableRow::new("", vec![0.1]),
            TableRow::new("", vec![0.1, 0.2]),
        ];
        assert!(TableRow::across_runs("m", &runs).is_err());
        assert!(TableRow::across_runs("m", &[]).is_err());
        assert_eq!(
            TableRow::across_runs("m", &runs[..1]).unwrap().cells[0].std,
            None
        );
    }
}
