//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while attributing. Variants name the offending value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum XaiError {
    /// A method setting outside its allowed range, e.g.
    /// "occlusion: window = [0, 3] must be ≥ 1 in every dimension".
    #[error("{method}: {param} = {value} {rule}")]
    InvalidParam {
        /// The method.
        method: &'static str,
        /// The setting.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A count too large for what it would allocate or run, refused before anything is
    /// allocated, e.g. "kernel_shap: n_samples = 1000000000000 is over the bound of
    /// 1000000 (each coalition is a row of the design and of the fit, and a forward pass
    /// per sample)".
    #[error("{method}: {param} = {value} {need}")]
    TooLarge {
        /// The method.
        method: &'static str,
        /// The setting.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The bound it breaks, or what it would need, in words.
        need: String,
    },
    /// A tensor (input, baseline, mask, score) of the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was checked.
        what: String,
        /// The expected shape, in words or as a pattern.
        expected: String,
        /// The shape that arrived.
        got: Vec<i64>,
    },
    /// A NaN or infinite value in an input, baseline or score.
    #[error("{what}: non-finite value at flat index {index}")]
    NonFinite {
        /// What was checked.
        what: String,
        /// Flat index of the first non-finite value.
        index: usize,
    },
    /// A gradient method was asked to explain a scorer that cannot be differentiated
    /// (e.g. a plain-Rust closure).
    #[error("{method} needs gradients, but the scorer `{scorer}` is not differentiable")]
    NotDifferentiable {
        /// The method.
        method: &'static str,
        /// The scorer's description.
        scorer: String,
    },
    /// The request lacks something the method needs (e.g. Gradient SHAP without a
    /// baseline distribution).
    #[error("{method}: {reason}")]
    MissingInput {
        /// The method.
        method: &'static str,
        /// What is missing.
        reason: String,
    },
    /// A feature mask whose group ids are not usable (negative, not contiguous `0..n`,
    /// an empty group, a non-integer dtype).
    #[error("feature mask: {reason}")]
    InvalidMask {
        /// What is wrong, naming the offending id or dtype.
        reason: String,
    },
    /// An input that is unusable for a reason other than its shape or finiteness (an
    /// integer dtype, an empty batch, a batch too small for the method).
    #[error("{what}: {reason}")]
    InvalidInput {
        /// What was checked.
        what: String,
        /// Why it is rejected.
        reason: String,
    },
    /// An error from the model.
    #[error(transparent)]
    Model(#[from] ae_models::ModelError),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result alias of this crate.
pub type Result<T, E = XaiError> = std::result::Result<T, E>;
