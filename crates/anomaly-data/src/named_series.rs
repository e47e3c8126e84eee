//! A multi-sensor series as a CSV file with a header: the first line names the sensors,
//! every other line holds one step's values, comma-separated.

use std::path::Path;

use ndarray::Array2;

use crate::csv_table::{header_names, records};
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
    /// finite numbers, as many as names. Read as every table of this crate is (the `csv`
    /// crate: fields trimmed, quotes resolved, blank lines skipped).
    ///
    /// ```
    /// use anomaly_data::NamedSeries;
    /// let s = NamedSeries::parse("pump,valve\n0.5,1\n0.25,0\n", "s.csv".as_ref())?;
    /// assert_eq!(s.names, ["pump", "valve"]);
    /// assert_eq!(s.values.dim(), (2, 2));
    /// let err = NamedSeries::parse("pump,valve\n0.5,x\n", "s.csv".as_ref()).unwrap_err();
    /// assert!(err.to_string().contains("line 2") && err.to_string().contains("valve"));
    /// # Ok::<(), anomaly_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::Parse`] naming the line: no header, an empty, repeated or numeric
    /// name, a row of another width; [`DataError::Field`] naming the line and sensor of a
    /// value that is not a finite number; [`DataError::Content`] for a file with no rows.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut records = records(text, 0, path)?;
        let (line, header) = records
            .next()
            .transpose()?
            .ok_or_else(|| DataError::Parse {
                path: path.to_path_buf(),
                line: 1,
                reason: "no header line of sensor names".into(),
            })?;
        let names = header_names(&header, path, line)?;
        if let Some(n) = names.iter().find(|n| n.parse::<f64>().is_ok()) {
            return Err(DataError::Parse {
                path: path.to_path_buf(),
                line,
                reason: format!("`{n}` is a number: the first line must name the sensors"),
            });
        }
        let mut values = Vec::new();
        let mut rows = 0;
        for record in records {
            let (line, fields) = record?;
            if fields.len() != names.len() {
                return Err(DataError::Parse {
                    path: path.to_path_buf(),
                    line,
                    reason: format!(
                        "{} fields, expected {} (one per sensor of the header)",
                        fields.len(),
                        names.len()
                    ),
                });
            }
            for (j, field) in fields.iter().enumerate() {
                match field.parse::<f32>() {
                    Ok(v) if v.is_finite() => values.push(v),
                    _ => {
                        return Err(DataError::Field {
                            path: path.to_path_buf(),
                            line,
                            column: names[j].clone(),
                            reason: format!("field {} = `{field}` is not a finite number", j + 1),
                        })
                    }
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                reason: "no rows after the header".into(),
            });
        }
        let values = Array2::from_shape_vec((rows, names.len()), values).map_err(|e| {
            DataError::Content {
                path: path.to_path_buf(),
                reason: format!("cannot shape {rows} rows: {e}"),
            }
        })?;
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
        assert!(err("a,,b\n1,2,3\n").contains("field 2 of the header is empty"));
        assert!(err("a,a\n1,2\n").contains("appears twice"));
        assert!(err("1,2\n3,4\n").contains("must name the sensors"));
        assert!(err("a,b\n").contains("no rows"));
        assert!(err("a,b\n1,2\n3\n").contains("line 3: 1 fields, expected 2"));
        assert!(err("a,b\n1,inf\n").contains("line 2"));
    }

    #[test]
    fn trailing_empty_lines_are_ignored() {
        let s = NamedSeries::parse("a,b\n1,2\n3,4\n\n", Path::new("s.csv")).unwrap();
        assert_eq!(s.values, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    }
}
