//! Loading one machine of the Server Machine Dataset (SMD, OmniAnomaly, KDD 2019).
//!
//! An SMD directory holds `train/NAME.txt`, `test/NAME.txt` (comma-separated rows of 38
//! sensor values each), `test_label/NAME.txt` (one `0`/`1` per test row) and
//! `interpretation_label/NAME.txt` (`start-end:s1,s2,..` regions, 0-based end-exclusive time
//! range, 1-based sensors). Every file may also be stored xz-compressed as `NAME.txt.xz`
//! (the copy in `shared/data/smd` compresses train and test); the plain file wins when
//! both exist. Labels are parsed by [`loc_metrics::smd_labels`], so regions come back with
//! 0-based sensors.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use loc_metrics::smd_labels::{parse_interpretation_label, parse_test_label};
use loc_metrics::{MetricsError, Region};
use ndarray::Array2;

use crate::error::{ModelError, Result};

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

impl SmdMachine {
    /// Loads machine `name` from the SMD directory `dir`.
    ///
    /// ```no_run
    /// use ae_models::SmdMachine;
    /// let m = SmdMachine::load("../shared/data/smd".as_ref(), "machine-1-2")?;
    /// assert_eq!(m.train.ncols(), 38);
    /// assert_eq!(m.test_labels.len(), m.test.nrows());
    /// # Ok::<(), ae_models::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Data`] naming the file for a missing file, a malformed line (with its
    /// number), a non-finite value, train and test of different widths, a label count
    /// different from the test length, or a region outside the test half;
    /// [`ModelError::Io`] for a read failure.
    pub fn load(dir: &Path, name: &str) -> Result<Self> {
        let train_path = locate(dir, "train", name)?;
        let test_path = locate(dir, "test", name)?;
        let train = parse_series(&read_text(&train_path)?, &train_path)?;
        let test = parse_series(&read_text(&test_path)?, &test_path)?;
        if train.ncols() != test.ncols() {
            return Err(data_error(
                &test_path,
                format!(
                    "{} columns, but the training file has {}",
                    test.ncols(),
                    train.ncols()
                ),
            ));
        }
        let label_path = locate(dir, "test_label", name)?;
        let test_labels = parse_test_label(&read_text(&label_path)?, &label_path)
            .map_err(|e| label_error(&label_path, e))?;
        if test_labels.len() != test.nrows() {
            return Err(data_error(
                &label_path,
                format!(
                    "{} labels for {} test rows",
                    test_labels.len(),
                    test.nrows()
                ),
            ));
        }
        let region_path = locate(dir, "interpretation_label", name)?;
        let regions =
            parse_interpretation_label(&read_text(&region_path)?, &region_path, test.ncols())
                .map_err(|e| label_error(&region_path, e))?;
        for r in &regions {
            r.check(test.nrows(), test.ncols())
                .map_err(|e| label_error(&region_path, e))?;
        }
        Ok(SmdMachine {
            name: name.to_string(),
            train,
            test,
            test_labels,
            regions,
        })
    }

    /// The names of the machines in `dir` that have both a training and a test file,
    /// sorted.
    ///
    /// # Errors
    /// [`ModelError::Io`] if `dir/train` cannot be listed.
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

fn data_error(path: &Path, reason: String) -> ModelError {
    ModelError::Data {
        path: path.display().to_string(),
        reason,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn label_error(path: &Path, e: MetricsError) -> ModelError {
    // loc-metrics already names the file in its message; keep the rest as the reason.
    let reason = match e {
        MetricsError::MalformedLabel {
            line, text, reason, ..
        } => {
            format!("line {line}: {reason}: {text:?}")
        }
        MetricsError::SensorOutOfRange {
            line,
            text,
            sensor,
            n_features,
            ..
        } => {
            format!(
                "line {line}: sensor {sensor} (1-based) exceeds the {n_features} sensors: {text:?}"
            )
        }
        other => other.to_string(),
    };
    data_error(path, reason)
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
    Err(data_error(
        &plain,
        "missing (looked for .txt and .txt.xz)".into(),
    ))
}

/// Reads a text file, decompressing it when its name ends in `.xz`.
///
/// # Errors
/// [`ModelError::Io`] naming the file, also for corrupt xz data or invalid UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    let file = fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut text = String::new();
    let read = if path.extension().is_some_and(|e| e == "xz") {
        xz2::read::XzDecoder::new(file).read_to_string(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)
    };
    read.map_err(|source| io_error(path, source))?;
    Ok(text)
}

/// Parses comma-separated rows of numbers into `[rows, columns]`. Every row must have as
/// many values as the first; `path` only names the source in errors.
///
/// ```
/// use ae_models::smd::parse_series;
/// let a = parse_series("0.5,1\n0.25,0\n", "x.txt".as_ref())?;
/// assert_eq!(a.shape(), &[2, 2]);
/// let err = parse_series("0.5,1\n0.25\n", "x.txt".as_ref()).unwrap_err();
/// assert_eq!(err.to_string(), "x.txt: line 2: 1 values, expected 2 like line 1");
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::Data`] naming the line for an empty file or line, a value that is not a
/// finite number, or a row of a different width.
pub fn parse_series(text: &str, path: &Path) -> Result<Array2<f32>> {
    let mut values = Vec::new();
    let mut width = 0;
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            return Err(data_error(path, format!("line {n} is empty")));
        }
        let before = values.len();
        for field in line.split(',') {
            let field = field.trim();
            match field.parse::<f32>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(data_error(
                        path,
                        format!("line {n}: {field:?} is not a finite number"),
                    ))
                }
            }
        }
        let got = values.len() - before;
        if rows == 0 {
            width = got;
        } else if got != width {
            return Err(data_error(
                path,
                format!("line {n}: {got} values, expected {width} like line 1"),
            ));
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(data_error(path, "no data rows".into()));
    }
    Array2::from_shape_vec((rows, width), values)
        .map_err(|e| data_error(path, format!("cannot shape {rows} rows of {width}: {e}")))
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
            .contains("line 2 is empty"));
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
