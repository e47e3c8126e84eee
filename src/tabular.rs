//! Real tables for the corruption validation of paper 2: loaders for the breast-cancer
//! and NSL-KDD files in `shared/data/tabular`. Scale them with
//! [`ae_models::MinMaxScaler`] fitted on the training rows.
//!
//! Both loaders return a [`Table`]: a dense `f32` feature matrix, the column names and, per
//! row, whether it is a *normal* record (benign tumour, normal traffic). An autoencoder is
//! trained on the normal rows only; the rest are the real anomalies.
//!
//! | file | rows | features | normal |
//! |---|---|---|---|
//! | `breast_cancer/breast_cancer.csv` | 569 | 30 | 357 benign (target 1) |
//! | `nsl_kdd/KDDTrain+_20Percent.txt.xz` | 25192 | 38 numeric of 41 | 13449 `normal` |
//! | `nsl_kdd/KDDTest+.txt.xz` | 22544 | 38 numeric of 41 | 9711 `normal` |
//!
//! NSL-KDD's three categorical columns (`protocol_type`, `service`, `flag`) are dropped
//! rather than one-hot encoded: one-hot columns are not independent features (corrupting
//! one of them alone yields a record no encoder can produce), which would make "corrupt
//! exactly one feature" ill-posed. The label and difficulty columns are dropped too; the
//! label only sets [`Table::normal`].
//!
//! ```no_run
//! use anomaly_xai::tabular::load_breast_cancer;
//! use ae_models::MinMaxScaler;
//! let table = load_breast_cancer("../shared/data/tabular/breast_cancer")?;
//! let benign = table.select(&table.normal_indices())?;
//! let scaler = MinMaxScaler::fit(&benign.features.view())?;
//! let scaled = scaler.transform(&benign.features.view())?;
//! assert_eq!(scaled.ncols(), 30);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Everything that can go wrong while loading or scaling a table. Variants name the file
/// and line, or the offending value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TabularError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is malformed.
    #[error("{path}, line {line}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file as a whole does not have the expected content (e.g. too few rows).
    #[error("{path}: {reason}")]
    Content {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A row index outside the table.
    #[error("row {row} out of range for a table of {n_rows} rows")]
    RowOutOfRange {
        /// The bad index.
        row: usize,
        /// Number of rows.
        n_rows: usize,
    },
}

/// Result alias of this module.
pub type Result<T, E = TabularError> = std::result::Result<T, E>;

/// A table of numeric features with a normal/anomalous flag per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Rows × features, as read (unscaled).
    pub features: Array2<f32>,
    /// One name per feature column.
    pub names: Vec<String>,
    /// One flag per row: `true` for a normal record (benign, normal traffic).
    pub normal: Vec<bool>,
}

impl Table {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// Indices of the normal rows, ascending.
    pub fn normal_indices(&self) -> Vec<usize> {
        (0..self.n_rows()).filter(|&i| self.normal[i]).collect()
    }

    /// Indices of the anomalous rows, ascending.
    pub fn anomalous_indices(&self) -> Vec<usize> {
        (0..self.n_rows()).filter(|&i| !self.normal[i]).collect()
    }

    /// A new table with the given rows, in the given order (repeats allowed).
    ///
    /// # Errors
    /// [`TabularError::RowOutOfRange`] naming the first index past the end.
    pub fn select(&self, rows: &[usize]) -> Result<Table> {
        if let Some(&row) = rows.iter().find(|&&i| i >= self.n_rows()) {
            return Err(TabularError::RowOutOfRange {
                row,
                n_rows: self.n_rows(),
            });
        }
        Ok(Table {
            features: self.features.select(Axis(0), rows),
            names: self.names.clone(),
            normal: rows.iter().map(|&i| self.normal[i]).collect(),
        })
    }

    /// Shuffles `rows` with a seeded generator and splits it in two: the first
    /// `round(fraction · len)` indices and the rest. The same seed gives the same split.
    pub fn shuffled_split(rows: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut shuffled = rows.to_vec();
        shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let first =
            ((fraction.clamp(0.0, 1.0) * rows.len() as f64).round() as usize).min(rows.len());
        let rest = shuffled.split_off(first);
        (shuffled, rest)
    }
}

/// Loads the breast-cancer table (UCI Wisconsin diagnostic, scikit-learn's copy) from the
/// directory holding `breast_cancer.csv` and `feature_names.txt`.
///
/// The CSV's header `569,30,malignant,benign` gives the row and feature counts, which are
/// checked. Target 1 (benign) rows are normal, target 0 (malignant) rows anomalous.
pub fn load_breast_cancer(dir: impl AsRef<Path>) -> Result<Table> {
    let dir = dir.as_ref();
    let names = read_names(&dir.join("feature_names.txt"))?;
    let path = dir.join("breast_cancer.csv");
    let text = read_text(&path, false)?;
    let shown = path.display().to_string();
    let mut lines = text.lines().enumerate();
    let (n_rows, n_features) = match lines.next() {
        Some((_, header)) => {
            let h: Vec<&str> = header.trim().split(',').collect();
            let parse = |s: &str| s.trim().parse::<usize>().ok();
            match (
                h.first().and_then(|s| parse(s)),
                h.get(1).and_then(|s| parse(s)),
            ) {
                (Some(r), Some(f)) => (r, f),
                _ => {
                    return Err(parse_err(
                        &shown,
                        1,
                        format!("header `{header}` is not `rows,features,..`"),
                    ))
                }
            }
        }
        None => {
            return Err(TabularError::Content {
                path: shown,
                reason: "empty file".into(),
            })
        }
    };
    if names.len() != n_features {
        return Err(TabularError::Content {
            path: dir.join("feature_names.txt").display().to_string(),
            reason: format!("{} names for {n_features} features", names.len()),
        });
    }
    let mut values = Vec::with_capacity(n_rows * n_features);
    let mut normal = Vec::with_capacity(n_rows);
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != n_features + 1 {
            return Err(parse_err(
                &shown,
                i + 1,
                format!(
                    "{} fields, expected {} features and a target",
                    fields.len(),
                    n_features
                ),
            ));
        }
        for (j, f) in fields[..n_features].iter().enumerate() {
            values.push(parse_float(&shown, i + 1, j, f)?);
        }
        match fields[n_features].trim() {
            "0" => normal.push(false),
            "1" => normal.push(true),
            t => {
                return Err(parse_err(
                    &shown,
                    i + 1,
                    format!("target `{t}` is neither 0 nor 1"),
                ))
            }
        }
    }
    if normal.len() != n_rows {
        return Err(TabularError::Content {
            path: shown,
            reason: format!("header announces {n_rows} rows, found {}", normal.len()),
        });
    }
    let features = Array2::from_shape_vec((n_rows, n_features), values)
        .expect("one value per feature of every row was pushed");
    Ok(Table {
        features,
        names,
        normal,
    })
}

/// The NSL-KDD files shipped in `shared/data/tabular/nsl_kdd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NslKddSplit {
    /// `KDDTrain+_20Percent.txt.xz`: 25192 rows, 13449 normal.
    Train20,
    /// `KDDTest+.txt.xz`: 22544 rows, 9711 normal.
    Test,
    /// `KDDTest-21.txt.xz`: 11850 rows, 2152 normal (the hard subset).
    Test21,
}

impl NslKddSplit {
    /// The file name of the split.
    pub fn file_name(self) -> &'static str {
        match self {
            NslKddSplit::Train20 => "KDDTrain+_20Percent.txt.xz",
            NslKddSplit::Test => "KDDTest+.txt.xz",
            NslKddSplit::Test21 => "KDDTest-21.txt.xz",
        }
    }
}

/// NSL-KDD's categorical columns, dropped by the loader (0-based field indices).
pub const NSL_KDD_CATEGORICAL: [usize; 3] = [1, 2, 3];

/// Loads one NSL-KDD split from the directory holding it and `field_names.txt`.
pub fn load_nsl_kdd(dir: impl AsRef<Path>, split: NslKddSplit) -> Result<Table> {
    load_nsl_kdd_file(dir.as_ref().join(split.file_name()))
}

/// Loads an NSL-KDD CSV (xz-compressed when the name ends in `.xz`, plain text otherwise)
/// with `field_names.txt` beside it: 43 fields per line, the 41 features, the attack type
/// (`normal` marks a normal row) and the difficulty. Keeps the 38 numeric features,
/// dropping [`NSL_KDD_CATEGORICAL`], the label and the difficulty.
pub fn load_nsl_kdd_file(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let names_path = path
        .parent()
        .unwrap_or(Path::new("."))
        .join("field_names.txt");
    let all_names = read_names(&names_path)?;
    const FIELDS: usize = 43;
    if all_names.len() != FIELDS {
        return Err(TabularError::Content {
            path: names_path.display().to_string(),
            reason: format!("{} field names, expected {FIELDS}", all_names.len()),
        });
    }
    let keep: Vec<usize> = (0..41)
        .filter(|j| !NSL_KDD_CATEGORICAL.contains(j))
        .collect();
    let names = keep.iter().map(|&j| all_names[j].clone()).collect();
    let xz = path.extension().is_some_and(|e| e == "xz");
    let text = read_text(path, xz)?;
    let shown = path.display().to_string();
    let mut values = Vec::new();
    let mut normal = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != FIELDS {
            return Err(parse_err(
                &shown,
                i + 1,
                format!("{} fields, expected {FIELDS}", fields.len()),
            ));
        }
        for &j in &keep {
            values.push(parse_float(&shown, i + 1, j, fields[j])?);
        }
        normal.push(fields[41].trim() == "normal");
    }
    if normal.is_empty() {
        return Err(TabularError::Content {
            path: shown,
            reason: "no data rows".into(),
        });
    }
    let features = Array2::from_shape_vec((normal.len(), keep.len()), values)
        .expect("one value per kept field of every row was pushed");
    Ok(Table {
        features,
        names,
        normal,
    })
}

/// Finds the shared data directory: `$ANOMALY_XAI_DATA` when set, else the first
/// `shared/data` found beside `start` or one of its ancestors (the repository sits at
/// `<root>/main`, its data at `<root>/shared/data`). `None` when neither exists.
pub fn find_data_dir(start: impl AsRef<Path>) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ANOMALY_XAI_DATA") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    start
        .as_ref()
        .ancestors()
        .map(|a| a.join("shared").join("data"))
        .find(|d| d.is_dir())
}

fn read_text(path: &Path, xz: bool) -> Result<String> {
    let io = |source| TabularError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    if xz {
        xz2::read::XzDecoder::new(BufReader::new(file))
            .read_to_string(&mut text)
            .map_err(io)?;
    } else {
        BufReader::new(file).read_to_string(&mut text).map_err(io)?;
    }
    Ok(text)
}

fn read_names(path: &Path) -> Result<Vec<String>> {
    let io = |source| TabularError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut names = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(io)?;
        let name = line.trim();
        if !name.is_empty() {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

fn parse_err(path: &str, line: usize, reason: String) -> TabularError {
    TabularError::Parse {
        path: path.to_string(),
        line,
        reason,
    }
}

fn parse_float(path: &str, line: usize, column: usize, s: &str) -> Result<f32> {
    match s.trim().parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(parse_err(
            path,
            line,
            format!("field {} = `{s}` is not a finite number", column + 1),
        )),
    }
}
