//! Loading one machine of the Server Machine Dataset (SMD, OmniAnomaly, KDD 2019).
//!
//! An SMD directory holds `train/NAME.txt`, `test/NAME.txt` (comma-separated rows of 38
//! sensor values each), `test_label/NAME.txt` (one `0`/`1` per test row) and
//! `interpretation_label/NAME.txt` (`start-end:s1,s2,..` regions, 0-based end-exclusive time
//! range, 1-based sensors). Every file may also be stored xz-compressed as `NAME.txt.xz`
//! (the copy in `shared/data/smd` compresses train and test); the plain file wins when
//! both exist. Labels are parsed by [`crate::smd_labels`], so regions come back with
//! 0-based sensors.

use std::fs;
use std::path::{Path, PathBuf};

use loc_metrics::Region;
use ndarray::Array2;

use crate::error::{DataError, Result};
use crate::smd_labels::{parse_interpretation_label, parse_test_label};
use crate::text::read_text;

/// One SMD machine: its series and its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SmdMachine {
    /// The machine's name, e.g. `machine-1-2`.
    pub name: String,
    /// The training half `[T_train, F]` (assumed normal), raw values.
    pub train: Array2<f32>,
    /// The test half `[T_test, F]`, raw values.
    pub test: Array2<f32>,
    /// Per test row: labelled anomalous or not (`test.nrows()` entries).
    pub test_labels: Vec<bool>,
    /// The labelled anomalous regions of the test half with their 0-based sensors, in
    /// file order.
    pub regions: Vec<Region>,
}

/// The files of one SMD machine ([`SmdMachine::files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmdFiles {
    /// `train/NAME.txt[.xz]`.
    pub train: PathBuf,
    /// `test/NAME.txt[.xz]`.
    pub test: PathBuf,
    /// `test_label/NAME.txt[.xz]`.
    pub test_label: PathBuf,
    /// `interpretation_label/NAME.txt[.xz]`.
    pub interpretation_label: PathBuf,
}

impl SmdFiles {
    /// The four paths, in the order train, test, test_label, interpretation_label.
    pub fn all(&self) -> [&Path; 4] {
        [
            &self.train,
            &self.test,
            &self.test_label,
            &self.interpretation_label,
        ]
    }
}

impl SmdMachine {
    /// Loads machine `name` from the SMD directory `dir`.
    ///
    /// ```no_run
    /// use anomaly_data::SmdMachine;
    /// let m = SmdMachine::load("../shared/data/smd".as_ref(), "machine-1-2")?;
    /// assert_eq!(m.train.ncols(), 38);
    /// assert_eq!(m.test_labels.len(), m.test.nrows());
    /// # Ok::<(), anomaly_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// Every error names the file: [`DataError::Missing`] for a missing file;
    /// [`DataError::Parse`] for a malformed line (with its number) or a non-finite value;
    /// [`DataError::MalformedLabel`] / [`DataError::SensorOutOfRange`] for a bad label
    /// line; [`DataError::Content`] for train and test of different widths or a label
    /// count different from the test length; [`DataError::Region`] for a region outside
    /// the test half; [`DataError::Io`] for a read failure.
    pub fn load(dir: &Path, name: &str) -> Result<Self> {
        let SmdFiles {
            train: train_path,
            test: test_path,
            test_label: label_path,
            interpretation_label: region_path,
        } = Self::files(dir, name)?;
        let train = parse_series(&read_text(&train_path)?, &train_path)?;
        let test = parse_series(&read_text(&test_path)?, &test_path)?;
        if train.ncols() != test.ncols() {
            return Err(content_error(
                &test_path,
                format!(
                    "{} columns, but the training file has {}",
                    test.ncols(),
                    train.ncols()
                ),
            ));
        }
        let test_labels = parse_test_label(&read_text(&label_path)?, &label_path)?;
        if test_labels.len() != test.nrows() {
            return Err(content_error(
                &label_path,
                format!(
                    "{} labels for {} test rows",
                    test_labels.len(),
                    test.nrows()
                ),
            ));
        }
        let regions =
            parse_interpretation_label(&read_text(&region_path)?, &region_path, test.ncols())?;
        for r in &regions {
            r.check(test.nrows(), test.ncols())
                .map_err(|source| DataError::Region {
                    context: region_path.display().to_string(),
                    source,
                })?;
        }
        Ok(SmdMachine {
            name: name.to_string(),
            train,
            test,
            test_labels,
            regions,
        })
    }

    /// The four files [`SmdMachine::load`] reads for machine `name` of `dir` (each the
    /// plain `.txt` when there is one, else the `.txt.xz`), found without reading them:
    /// what a caller checks before any work, or digests to record what a result came from.
    ///
    /// ```
    /// use anomaly_data::SmdMachine;
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/smd");
    /// let files = SmdMachine::files(&dir, "machine-1-2")?;
    /// assert!(files.train.ends_with("train/machine-1-2.txt.xz"));
    /// let err = SmdMachine::files(&dir, "machine-9-9").unwrap_err();
    /// assert!(err.to_string().contains("machine-9-9"));
    /// # Ok::<(), anomaly_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::Missing`] naming the first file that is in neither form.
    pub fn files(dir: &Path, name: &str) -> Result<SmdFiles> {
        Ok(SmdFiles {
            train: locate(dir, "train", name)?,
            test: locate(dir, "test", name)?,
            test_label: locate(dir, "test_label", name)?,
            interpretation_label: locate(dir, "interpretation_label", name)?,
        })
    }

    /// The names of the machines in `dir` that have both a training and a test file,
    /// sorted.
    ///
    /// # Errors
    /// [`DataError::Io`] if `dir/train` cannot be listed.
    pub fn list(dir: &Path) -> Result<Vec<String>> {
        let train_dir = dir.join("train");
        let entries = fs::read_dir(&train_dir).map_err(|source| io_error(&train_dir, source))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| io_error(&train_dir, source))?;
            let file = entry.file_name().to_string_lossy().into_owned();
            let stem = file
                .strip_suffix(".txt.xz")
                .or_else(|| file.strip_suffix(".txt"));
            if let Some(stem) = stem {
                if locate(dir, "test", stem).is_ok() {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The number of sensors.
    pub fn n_features(&self) -> usize {
        self.train.ncols()
    }
}

fn content_error(path: &Path, reason: String) -> DataError {
    DataError::Content {
        path: path.to_path_buf(),
        reason,
    }
}

fn parse_error(path: &Path, line: usize, reason: String) -> DataError {
    DataError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `dir/sub/name.txt`, else `dir/sub/name.txt.xz`.
fn locate(dir: &Path, sub: &str, name: &str) -> Result<PathBuf> {
    let plain = dir.join(sub).join(format!("{name}.txt"));
    if plain.is_file() {
        return Ok(plain);
    }
    let xz = dir.join(sub).join(format!("{name}.txt.xz"));
    if xz.is_file() {
        return Ok(xz);
    }
    Err(DataError::Missing {
        path: plain,
        what: "SMD file (looked for .txt and .txt.xz)".into(),
    })
}

/// Parses comma-separated rows of numbers into `[rows, columns]`. Every row must have as
/// many values as the first; `path` only names the source in errors.
///
/// ```
/// use anomaly_data::smd::parse_series;
/// let a = parse_series("0.5,1\n0.25,0\n", "x.txt".as_ref())?;
/// assert_eq!(a.shape(), &[2, 2]);
/// let err = parse_series("0.5,1\n0.25\n", "x.txt".as_ref()).unwrap_err();
/// assert_eq!(err.to_string(), "x.txt: line 2: 1 values, expected 2 like line 1");
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::Parse`] naming the line for an empty line, a value that is not a finite
/// number, or a row of a different width; [`DataError::Content`] for a file without
/// rows.
pub fn parse_series(text: &str, path: &Path) -> Result<Array2<f32>> {
    let mut values = Vec::new();
    let mut width = 0;
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            return Err(parse_error(path, n, "the line is empty".into()));
        }
        let before = values.len();
        for field in line.split(',') {
            let field = field.trim();
            match field.parse::<f32>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(parse_error(
                        path,
                        n,
                        format!("{field:?} is not a finite number"),
                    ))
                }
            }
        }
        let got = values.len() - before;
        if rows == 0 {
            width = got;
        } else if got != width {
            return Err(parse_error(
                path,
                n,
                format!("{got} values, expected {width} like line 1"),
            ));
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(content_error(path, "no data rows".into()));
    }
    Array2::from_shape_vec((rows, width), values)
        .map_err(|e| content_error(path, format!("cannot shape {rows} rows of {width}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_series_lines_are_named() {
        let p = Path::new("s.txt");
        assert_eq!(
            parse_series("1,2\n3,x\n", p).unwrap_err().to_string(),
            "s.txt: line 2: \"x\" is not a finite number"
        );
        assert!(parse_series("1,2\n\n3,4\n", p)
            .unwrap_err()
            .to_string()
            .contains("s.txt: line 2: the line is empty"));
        assert!(parse_series("1,nan\n", p)
            .unwrap_err()
            .to_string()
            .contains("\"nan\""));
        assert!(parse_series("", p)
            .unwrap_err()
            .to_string()
            .contains("no data rows"));
        let a = parse_series("1,2\r\n3,4\r\n", p).unwrap();
        assert_eq!(a, ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
    }
}
