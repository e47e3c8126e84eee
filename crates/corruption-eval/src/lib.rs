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
//! The workspace's reproduction package (`anomaly_xai_repro::corruption`) runs the whole
//! experiment of paper 2 on a real table (train, corrupt, explain with each method,
//! recall@m, timing); the facade's `examples/corruption_validation.rs` is the command line.
//!
//! ```no_run
//! use corruption_eval::{Corruption, CorruptionGenerator, CorruptionParams};
//! # fn demo(ae: &dyn ae_models::LayerModel, train: &tch::Tensor, pool: &tch::Tensor)
//! #     -> Result<(), corruption_eval::CorruptionError> {
//! let recon = |x: &tch::Tensor| ae.forward(x);
//! let generator = CorruptionGenerator::new(&recon, train, CorruptionParams::default())?;
//! let set = generator.generate(pool, Corruption::Adversarial, 100)?;
//! println!("{} samples in {} tries", set.samples.len(), set.summary.tries);
//! # Ok(()) }
//! ```

mod corruption;
mod error;
mod generator;
mod ifgsm;
mod normalize;
mod params;
mod reconstruct;

pub use corruption::Corruption;
pub use error::{CorruptionError, Result};
pub use generator::{CorruptedSample, CorruptionGenerator, CorruptionSet, TriesSummary};
pub use normalize::{quantile, ScoreNormalizer};
pub use params::{CorruptionParams, IfgsmParams, Thresholds};
pub use reconstruct::Reconstruct;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
