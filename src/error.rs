//! The one error type of the facade: what its pipelines report, and what every crate's
//! error converts into, so a user's `main` can return `anomaly_xai::Result`.

use thiserror::Error;

use crate::attrib::XaiError;
use crate::lrp::LrpError;
use crate::metrics::MetricsError;
use crate::models::ModelError;

/// Everything that can go wrong in the workspace, seen from the facade. Variants name the
/// offending value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A pipeline setting outside its range.
    #[error("{setting} = {value} {rule}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A region outside the series.
    #[error("region [{start}, {end}) does not fit a series of {n_steps} steps")]
    RegionOutOfRange {
        /// Region start.
        start: usize,
        /// Region end (exclusive).
        end: usize,
        /// Series length.
        n_steps: usize,
    },
    /// An array of the wrong shape.
    #[error("{what}: expected {expected}, got {got:?}")]
    Shape {
        /// What was checked.
        what: &'static str,
        /// What was expected.
        expected: String,
        /// What arrived.
        got: Vec<usize>,
    },
    /// A NaN or infinite value.
    #[error("{what}: non-finite value{}", at_index(.index))]
    NonFinite {
        /// What was checked.
        what: String,
        /// Where.
        index: Vec<usize>,
    },
    /// A method needs training windows (for its baseline) and none were given.
    #[error("{method} needs the detector's training windows for its baseline (Context::train)")]
    MissingTrainingData {
        /// The method's label.
        method: String,
    },
    /// A method that the detector cannot serve, refused before any work.
    #[error("{method} cannot explain {detector}: it needs {missing}")]
    MissingCapability {
        /// The method's label.
        method: String,
        /// The detector.
        detector: String,
        /// What the detector lacks.
        missing: String,
    },
    /// A method attributed nothing: every attribution of a batch is exactly 0. Returned
    /// instead of the zeros, the same for every method, because a ranking of zeros says
    /// nothing about the input: typically the detector's error is 0 everywhere (a
    /// detector that returns its input) or does not depend on the input.
    #[error(
        "{method} explains nothing: every attribution of the {samples} sample(s) is 0 ({})",
        nothing_reason(*.max_error)
    )]
    NothingExplained {
        /// The method's label.
        method: String,
        /// How many samples the batch held.
        samples: usize,
        /// The largest explained error of those samples.
        max_error: f64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A missing value (NaN or infinite) in the windows of a span to explain.
    #[error("live series: sensor {sensor}{} has no value (NaN or infinite) at step {step}; explain a span without gaps, or fill them with the training mean (ExplainerBuilder::missing)", .name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())]
    MissingValue {
        /// The step of the live series.
        step: usize,
        /// The sensor's column.
        sensor: usize,
        /// The sensor's name, when the explainer has names.
        name: Option<String>,
    },
    /// A saved explainer that cannot be read: not an explainer file, or a damaged one.
    #[error("{path}: not a readable saved explainer: {problem}")]
    SavedExplainer {
        /// The file.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A saved explainer written in a format version this library does not read.
    #[error(
        "{path}: saved explainer format version {found}; this library reads version {supported}"
    )]
    FormatVersion {
        /// The file.
        path: String,
        /// The file's version.
        found: u64,
        /// The version this library reads.
        supported: u32,
    },
    /// A detector other than the one a saved explainer was fitted for.
    #[error("the explainer was fitted for {saved}; refused {given}")]
    OtherDetector {
        /// The detector the explainer was fitted for.
        saved: String,
        /// The detector handed in.
        given: String,
    },
    /// A model failed. Every model error arrives here, whichever crate passed it on.
    #[error(transparent)]
    Model(ModelError),
    /// An attribution method failed (what is neither the model's nor a missing capability).
    #[error(transparent)]
    Attribution(XaiError),
    /// LRP failed (what is not the model's).
    #[error(transparent)]
    Lrp(LrpError),
    /// Scoring failed.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// Generating corruptions failed.
    #[error(transparent)]
    Corruption(#[from] crate::corruption::CorruptionError),
    /// Data could not be loaded or generated (a table, an SMD machine, a synthetic set).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// Image data, preprocessing or drawing failed.
    #[cfg(feature = "image")]
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    /// A chart could not be drawn.
    #[cfg(feature = "plot")]
    #[error(transparent)]
    Plot(#[from] anomaly_xai_plot::PlotError),
    /// A JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

fn at_index(index: &[usize]) -> String {
    if index.is_empty() {
        String::new()
    } else {
        format!(" at {index:?}")
    }
}

// One path per cause: an error that a crate passed on from the crate below it (a model
// error inside an attribution error, libtorch's inside a model error) arrives as the
// variant of its own cause, so a user matches `Error::Model` once, not three ways.

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Torch(t) => Error::Torch(t),
            ModelError::Json(j) => Error::Json(j),
            other => Error::Model(other),
        }
    }
}

impl From<XaiError> for Error {
    fn from(e: XaiError) -> Self {
        match e {
            XaiError::Model(m) => m.into(),
            XaiError::Torch(t) => Error::Torch(t),
            XaiError::NotDifferentiable { method, scorer } => Error::MissingCapability {
                method: method.into(),
                detector: scorer,
                missing: "gradients (it is not differentiable)".into(),
            },
            other => Error::Attribution(other),
        }
    }
}

impl From<LrpError> for Error {
    fn from(e: LrpError) -> Self {
        match e {
            LrpError::Model(m) => m.into(),
            LrpError::Torch(t) => Error::Torch(t),
            other => Error::Lrp(other),
        }
    }
}

/// Why a method may have explained nothing, from the samples' largest explained error.
fn nothing_reason(max_error: f64) -> String {
    if max_error == 0.0 {
        "their explained error is 0: the detector predicts them exactly, so there is nothing \
         to explain; a detector that returns its input has zero error everywhere"
            .into()
    } else {
        format!(
            "their explained error reaches {max_error:.3e}, but none of it depends on the input \
             as this method sees it (does the detector's error depend on its input?)"
        )
    }
}

/// Result alias of the facade.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] naming `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
