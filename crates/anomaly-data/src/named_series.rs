//! A multi-sensor series as a CSV file with a header: the first line names the sensors,
//! every other line holds one step's values, comma-separated.

use std::path::Path;

use ndarray::Array2;

use crate::error::{DataError, Result};
use crate::text::read_text;

/// A series `[steps, sensors]` with its sensors' names.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSeries {
    /// The sensors' names, from the header.
    pub names: Vec<String>,
    /// The values `[steps, sensors]`.
    pub values: Array2<f32>,
}

impl NamedSeries {
    /// Reads `path` (plain or `.xz`).
    ///
    /// # Errors
    /// As [`NamedSeries::parse`]; [`DataError::Io`] when the file cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        Self::parse(&read_text(path)?, path)
    }

    /// Parses `text` (`path` names it in errors): a header of sensor names, then rows of
    /// finite numbers, as many as names. Empty lines at the end are ignored.
    ///
    /// ```
    /// use anomaly_data::NamedSeries;
    /// let s = NamedSeries::parse("pump,valve\n0.5,1\n0.25,0\n", "s.csv".as_ref())?;
    /// assert_eq!(s.names, ["pump", "valve"]);
    /// assert_eq!(s.values.dim(), (2, 2));
    /// let err = NamedSeries::parse("pump,valve\n0.5,x\n", "s.csv".as_ref()).unwrap_err();
    /// assert_eq!(err.to_string(), "s.csv: line 2: \"x\" (column valve) is not a finite number");
    /// # Ok::<(), anomaly_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::Parse`] naming the line: no header, an empty or repeated name, a row
    /// of another width, a value that is not a finite number; [`DataError::Content`] for a
    /// file with no rows.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |line: usize, reason: String| DataError::Parse {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate();
        let (_, header) = lines
            .next()
            .ok_or_else(|| bad(1, "no header line of sensor names".into()))?;
        let names: Vec<String> = header.split(',').map(|n| n.trim().to_string()).collect();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(bad(1, format!("column {} has no name", i + 1)));
            }
            if names[..i].contains(n) {
                return Err(bad(1, format!("sensor {n:?} is named twice")));
            }
            if n.parse::<f64>().is_ok() {
                return Err(bad(
                    1,
                    format!("{n:?} is a number: the first line must name the sensors"),
                ));
            }
        }
        let rows: Vec<(usize, &str)> = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect();
        if rows.is_empty() {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                reason: "no rows after the header".into(),
            });
        }
        let mut values = Vec::with_capacity(rows.len() * names.len());
        for (line, row) in &rows {
            let cells: Vec<&str> = row.split(',').collect();
            if cells.len() != names.len() {
                return Err(bad(
                    *line,
                    format!(
                        "{} values, expected {} like the header",
                        cells.len(),
                        names.len()
                    ),
                ));
            }
            for (cell, name) in cells.iter().zip(&names) {
                let v: f32 = cell
                    .trim()
                    .parse()
                    .ok()
                    .filter(|v: &f32| v.is_finite())
                    .ok_or_else(|| {
                        bad(
                            *line,
                            format!("{:?} (column {name}) is not a finite number", cell.trim()),
                        )
                    })?;
                values.push(v);
            }
        }
        let values = Array2::from_shape_vec((rows.len(), names.len()), values)
            .expect("one value per name on every row");
        Ok(NamedSeries { names, values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        NamedSeries::parse(text, Path::new("s.csv"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_files_are_refused_by_line() {
        assert!(err("").contains("no header"));
        assert!(err("a,,b\n1,2,3\n").contains("column 2 has no name"));
        assert!(err("a,a\n1,2\n").contains("named twice"));
        assert!(err("1,2\n3,4\n").contains("must name the sensors"));
        assert!(err("a,b\n").contains("no rows"));
        assert!(err("a,b\n1,2\n3\n").contains("line 3: 1 values, expected 2"));
        assert!(err("a,b\n1,inf\n").contains("line 2"));
    }

    #[test]
    fn trailing_empty_lines_are_ignored() {
        let s = NamedSeries::parse("a,b\n1,2\n3,4\n\n", Path::new("s.csv")).unwrap();
        assert_eq!(s.values, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    }
}
