//! The crate's one error type, and the two value checks every data routine shares.

use std::path::PathBuf;

use thiserror::Error;

/// Shorthand for `Result<T, DataError>`.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, generating or transforming data.
///
/// Every variant names what is wrong and where: the file and line (and column, for a
/// field of a table), or the setting and its value. Nothing in this crate panics on user
/// input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file or folder that is required does not exist.
    #[error("{}: {what} not found", path.display())]
    Missing {
        /// The path that was looked for.
        path: PathBuf,
        /// What it should have been, e.g. "mask of test image `x.jpg`".
        what: String,
    },

    /// A file or folder could not be read or written (also: corrupt xz data, invalid
    /// UTF-8).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file could not be decoded or encoded as an image.
    #[cfg(feature = "image")]
    #[error("{}: {source}", path.display())]
    Codec {
        /// The file (or the name of embedded data).
        path: PathBuf,
        /// The underlying error of the `image` crate.
        #[source]
        source: image::ImageError,
    },

    /// A line of a text file is malformed (a ragged row, an empty line, a bad header).
    #[error("{}: line {line}: {reason}", path.display())]
    Parse {
        /// The file (or the name given to in-memory text).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// One field of a table holds a value its column cannot take.
    #[error("{}: line {line}, column `{column}`: {reason}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: String,
        /// What is wrong with the value (the value included).
        reason: String,
    },

    /// A column named in the settings is not in the table's header.
    #[error(
        "{}: line {line}: the header has no column `{column}` (its columns: {available})",
        path.display()
    )]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: usize,
        /// The name asked for.
        column: String,
        /// The header's names, comma-separated.
        available: String,
    },

    /// A line of an SMD label file does not follow its format.
    #[error("{}: line {line}: {reason}: {text:?}", path.display())]
    MalformedLabel {
        /// The file (or the name given to in-memory text).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line, as read.
        text: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An SMD label line names a sensor beyond the series' feature count.
    #[error(
        "{}: line {line}: sensor {sensor} (1-based) exceeds the feature count {n_features}: {text:?}",
        path.display()
    )]
    SensorOutOfRange {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
        /// The sensor number as written (1-based).
        sensor: usize,
        /// The number of features.
        n_features: usize,
    },

    /// A file or folder as a whole does not have the expected content: too few or too
    /// many rows, widths that disagree, no normal row, an unrecognised folder layout.
    #[error("{}: {reason}", path.display())]
    Content {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A labelled region does not fit its data.
    #[error("{context}: {source}")]
    Region {
        /// Where the region comes from: a label file, or "synthetic".
        context: String,
        /// What `loc-metrics` found wrong with it.
        #[source]
        source: loc_metrics::MetricsError,
    },

    /// A row index outside a table.
    #[error("row {row} out of range for a table of {n_rows} rows")]
    RowOutOfRange {
        /// The bad index.
        row: usize,
        /// Number of rows.
        n_rows: usize,
    },

    /// A setting outside its allowed range, e.g.
    /// "gaussian blur: kernel = 4 must be odd and at least 1".
    #[error("{what}: {param} = {value} {rule}")]
    InvalidParam {
        /// The routine or generator whose setting is wrong.
        what: &'static str,
        /// The setting.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },

    /// More sensors per synthetic anomaly than the machine has.
    #[error("synthetic: sensors_per_anomaly up to {per_anomaly} exceeds n_sensors = {n_sensors}")]
    TooManySensors {
        /// The largest number of sensors one anomaly may touch.
        per_anomaly: usize,
        /// Sensors of the machine.
        n_sensors: usize,
    },

    /// The synthetic anomalies, at their longest, and their gaps do not fit the test half.
    #[error(
        "synthetic: {n_anomalies} anomalies of up to {max_len} steps, each after a gap of \
         {min_gap}, need {needed} test steps, but n_test = {n_test}"
    )]
    AnomaliesDoNotFit {
        /// Number of anomalies.
        n_anomalies: usize,
        /// Longest anomaly.
        max_len: usize,
        /// Normal steps before each anomaly.
        min_gap: usize,
        /// `n_anomalies · (max_len + min_gap)`.
        needed: usize,
        /// Test steps available.
        n_test: usize,
    },

    /// An array of the wrong shape (an empty image, a mask that does not match its image,
    /// a texture smaller than the crop).
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was checked.
        what: String,
        /// The expected shape, in words or as a pattern.
        expected: String,
        /// The shape that arrived.
        got: Vec<usize>,
    },

    /// A NaN or infinite value in an image, a map or a texture.
    #[error("{what}: non-finite value at flat index {index}")]
    NonFinite {
        /// What was checked.
        what: String,
        /// Flat (row-major) index of the first non-finite value.
        index: usize,
    },
}

/// Checks that every value is finite, naming `what` and the flat index of the first bad
/// value in the error.
///
/// ```
/// use anomaly_data::check_finite;
/// assert!(check_finite("image", &[0.0f32, 1.0]).is_ok());
/// let err = check_finite("image", &[0.0f32, f32::NAN]).unwrap_err();
/// assert_eq!(err.to_string(), "image: non-finite value at flat index 1");
/// ```
///
/// # Errors
/// [`DataError::NonFinite`].
pub fn check_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f32>) -> Result<()> {
    match values.into_iter().position(|v| !v.is_finite()) {
        Some(index) => Err(DataError::NonFinite {
            what: what.into(),
            index,
        }),
        None => Ok(()),
    }
}

/// Checks that an array shape holds at least one element on every axis, naming `what`.
///
/// # Errors
/// [`DataError::ShapeMismatch`] showing the shape.
pub fn check_non_empty(what: &str, shape: &[usize]) -> Result<()> {
    if shape.contains(&0) {
        return Err(DataError::ShapeMismatch {
            what: what.into(),
            expected: "at least 1×1 pixels".into(),
            got: shape.to_vec(),
        });
    }
    Ok(())
}
