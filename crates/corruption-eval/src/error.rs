//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while generating corruptions. Variants name the value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CorruptionError {
    /// A setting outside its allowed range, e.g. "thresholds.random = 1.5 must be in [0, 1)".
    #[error("corruption: {param} = {value} {rule}")]
    InvalidParam {
        /// The setting.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A tensor of the wrong shape or dtype.
    #[error("corruption: {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// What was checked.
        what: &'static str,
        /// The expectation, in words.
        expected: String,
        /// What arrived.
        got: String,
    },
    /// A NaN or infinite value in an input or a reconstruction.
    #[error("corruption: {what}: non-finite value at row {row}, feature {feature}")]
    NonFinite {
        /// What was checked.
        what: &'static str,
        /// The row of the first non-finite value.
        row: usize,
        /// Its feature.
        feature: usize,
    },
    /// A feature index past the last feature.
    #[error("corruption: feature {feature} out of range for {n_features} features")]
    FeatureOutOfRange {
        /// The bad index.
        feature: usize,
        /// Number of features.
        n_features: usize,
    },
    /// No row of the pool is clean enough to be corrupted.
    #[error(
        "corruption: none of the {pool} pool rows has a score <= {limit:.6} \
         (quantile {quantile} of the reference scores)"
    )]
    NoCleanSamples {
        /// Rows in the pool.
        pool: usize,
        /// The score limit.
        limit: f64,
        /// The clean quantile that set it.
        quantile: f64,
    },
    /// The reference scores are all equal, so they cannot be normalised.
    #[error("corruption: reference scores span [{lo}, {hi}], an empty range; cannot normalise")]
    DegenerateScores {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
    /// An error of the reconstruction function (the detector).
    #[error(transparent)]
    Model(#[from] ae_models::ModelError),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result alias of this crate.
pub type Result<T, E = CorruptionError> = std::result::Result<T, E>;
