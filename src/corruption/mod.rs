//! Corruption-based validation of explanations (paper 2, §4.1 and appendix A): make a
//! clean sample anomalous by changing exactly one feature `c`, so that the right answer
//! to "where is the anomaly?" is known, without any labels.
//!
//! Three corruptions ([`Corruption`]) of feature `c` of a clean sample `x`:
//! * **null**: `x_c ← 0` (the setting [`CorruptionParams::null_value`]); on min-max
//!   scaled data that is the feature's training minimum;
//! * **random**: `x_c ← lo_c + u (hi_c − lo_c)`, `u ~ U[0, 1)`, where `[lo_c, hi_c]` is
//!   the feature's range on the reference (training) rows, `[0, 1]` after min-max scaling;
//! * **adversarial**: paper 2's I-FGSM variant (eq. 18-20), started from the random
//!   corruption of the same try: sign-gradient ascent on `x_c` alone of
//!   `r_adv = (1/m)[Σ_{i≠c} φ(x,i) − θ φ(x,c)]`, `φ(x,i) = (x_i − x̂_i)²`, with the step
//!   halving rule; see [`IfgsmParams`] for the details and our choices.
//!
//! # Anomaly score and its normalisation
//! The anomaly score is the mean squared reconstruction error
//! `s(x) = (1/m) Σ_i (x_i − x̂_i)²` (paper 2 uses the L2 distance; the mean square orders
//! samples identically). The paper normalises scores to `[0, 1]` without saying how. We
//! fix the normaliser *before* any corruption is generated, from the detector's scores on
//! the reference (training) rows only, so that a threshold means the same thing for every
//! corruption and does not depend on the generated set: `ŝ = clamp((s − lo) / (hi − lo),
//! 0, 1)` with `lo` the smallest reference score and `hi` the
//! [`CorruptionParams::score_upper_quantile`] quantile of the reference scores (default
//! 1.0: the largest). So `ŝ = 1` means "at least as bad as the worst normal training row"
//! and the paper's `T = 0.5` means "more than halfway from the best to the worst normal
//! row". See [`ScoreNormalizer`].
//!
//! # Which samples are corrupted
//! Clean samples are the rows of a user-given pool (e.g. held-out normal rows) whose raw
//! score is at most the [`CorruptionParams::clean_quantile`] quantile of the reference
//! scores (default 0.5: the median training error). Each *try* draws, from one seeded
//! ChaCha8 stream, a clean row uniformly, a feature `c` uniformly and one uniform `u`;
//! all three corruptions consume the stream identically, so for one seed try `t` of every
//! corruption uses the same row and feature, and the adversarial try `t` starts from the
//! random try `t`. A try is kept when it changed `x_c` and `ŝ > T` (strictly, as in the
//! paper: "greater than a threshold"); generation stops at `K` kept samples or
//! [`CorruptionParams::max_tries`] tries. Tries are evaluated in batches; which tries are
//! kept does not depend on the batch size (scores may differ in the last bits, as BLAS
//! rounds differently for different batch shapes).
//!
//! [`validation`] runs the whole experiment of paper 2 on a real table (train, corrupt,
//! explain with five methods, recall@m, timing); `examples/corruption_validation.rs` is
//! its command line.
//!
//! ```no_run
//! use anomaly_xai::corruption::{Corruption, CorruptionGenerator, CorruptionParams};
//! # fn demo(ae: &dyn ae_models::Autoencoder, train: &tch::Tensor, pool: &tch::Tensor)
//! #     -> Result<(), anomaly_xai::corruption::CorruptionError> {
//! let recon = |x: &tch::Tensor| ae.forward(x);
//! let generator = CorruptionGenerator::new(&recon, train, CorruptionParams::default())?;
//! let set = generator.generate(pool, Corruption::Adversarial, 100)?;
//! println!("{} samples in {} tries", set.samples.len(), set.summary.tries);
//! # Ok(()) }
//! ```

mod generator;
mod ifgsm;
mod normalize;
mod params;
pub mod validation;

pub use generator::{
    CorruptedSample, CorruptionGenerator, CorruptionSet, Reconstruct, TriesSummary,
};
pub use normalize::{quantile, ScoreNormalizer};
pub use params::{CorruptionParams, IfgsmParams, Thresholds};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The three corruptions of paper 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corruption {
    /// The feature is set to [`CorruptionParams::null_value`] (0).
    Null,
    /// The feature is set to a uniform value in its reference range.
    Random,
    /// The feature is moved by I-FGSM so that the *other* features reconstruct badly.
    Adversarial,
}

impl Corruption {
    /// All three, in the paper's panel order (null, random, adversarial).
    pub const ALL: [Corruption; 3] = [
        Corruption::Null,
        Corruption::Random,
        Corruption::Adversarial,
    ];

    /// The lowercase name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Corruption::Null => "null",
            Corruption::Random => "random",
            Corruption::Adversarial => "adversarial",
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Corruption {
    type Err = CorruptionError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "null" => Ok(Corruption::Null),
            "random" => Ok(Corruption::Random),
            "adversarial" => Ok(Corruption::Adversarial),
            _ => Err(CorruptionError::InvalidParam {
                param: "corruption",
                value: s.to_string(),
                rule: "must be one of null, random, adversarial",
            }),
        }
    }
}

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
    /// An error from the reconstruction function, the scaler or training.
    #[error(transparent)]
    Model(#[from] ae_models::ModelError),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result alias of this module.
pub type Result<T, E = CorruptionError> = std::result::Result<T, E>;
