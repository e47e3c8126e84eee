//! The crate's single error type.

use thiserror::Error;

/// Shorthand for `Result<T, MetricsError>`.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

/// Everything that can go wrong when scoring a localization.
///
/// Every variant names the offending value, so that a message read in a log is
/// enough to find the bad input. Nothing in this crate panics on user input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A ground-truth feature set is empty, so recall, IoU and friends are undefined.
    #[error("the ground-truth feature set is empty")]
    EmptyGroundTruth,

    /// An input that must hold at least one element holds none.
    #[error("{what} is empty")]
    EmptyInput {
        /// Which input.
        what: &'static str,
    },

    /// A feature index is not below the number of features.
    #[error("{what} names feature {feature}, but there are only {n_features} features (0-based)")]
    FeatureOutOfRange {
        /// Which input held the index (e.g. "ground truth").
        what: &'static str,
        /// The bad, 0-based index.
        feature: usize,
        /// The number of features.
        n_features: usize,
    },

    /// A feature set lists the same feature twice.
    #[error("{what} lists feature {feature} more than once")]
    DuplicateFeature {
        /// Which input.
        what: &'static str,
        /// The repeated, 0-based index.
        feature: usize,
    },

    /// Two inputs that must agree in shape do not.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What was compared.
        what: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape found.
        got: Vec<usize>,
    },

    /// A score is NaN or infinite.
    #[error("{what} holds the non-finite value {value} at index {index:?}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Its position (one entry per axis).
        index: Vec<usize>,
        /// The value found.
        value: f64,
    },

    /// A parameter breaks its rule.
    #[error("{param} = {value} is invalid: it {rule}")]
    InvalidParameter {
        /// The parameter's name.
        param: &'static str,
        /// The value given, as text.
        value: String,
        /// The rule it must satisfy, phrased to follow "it".
        rule: &'static str,
    },

    /// A region `[start, end)` holds no time step.
    #[error("region [{start}, {end}) is empty: start must be below end")]
    EmptyRegion {
        /// First time step.
        start: usize,
        /// One past the last time step.
        end: usize,
    },

    /// A region reaches past the end of the series it is evaluated on.
    #[error("region [{start}, {end}) reaches past the {n_steps} time steps of the scores")]
    RegionOutOfBounds {
        /// First time step.
        start: usize,
        /// One past the last time step.
        end: usize,
        /// The number of time steps available.
        n_steps: usize,
    },

    /// An error inside one region of a multi-region evaluation.
    #[error("region {index} [{start}, {end}): {source}")]
    InRegion {
        /// The region's position in the list given.
        index: usize,
        /// Its first time step.
        start: usize,
        /// One past its last time step.
        end: usize,
        /// What went wrong.
        #[source]
        source: Box<MetricsError>,
    },

    /// A metric is undefined because all labels fall in one class.
    #[error("{what} is undefined with {positives} positive and {negatives} negative labels")]
    DegenerateLabels {
        /// The metric.
        what: &'static str,
        /// Number of positive labels.
        positives: usize,
        /// Number of negative labels.
        negatives: usize,
    },

    /// Two results that must share their columns do not.
    #[error("cannot combine results: {what}")]
    IncompatibleResults {
        /// What differs.
        what: String,
    },

    /// Text that should name a selection strategy or score does not.
    #[error("cannot parse {what} from {text:?}: {expected}")]
    UnknownName {
        /// What was being parsed.
        what: &'static str,
        /// The text given.
        text: String,
        /// What would have been accepted.
        expected: &'static str,
    },
}

impl MetricsError {
    /// Attaches the position of a region to an error raised while scoring it.
    pub(crate) fn in_region(self, index: usize, start: usize, end: usize) -> Self {
        MetricsError::InRegion {
            index,
            start,
            end,
            source: Box::new(self),
        }
    }

    pub(crate) fn invalid(param: &'static str, value: impl ToString, rule: &'static str) -> Self {
        MetricsError::InvalidParameter {
            param,
            value: value.to_string(),
            rule,
        }
    }
}
