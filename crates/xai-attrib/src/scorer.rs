//! Scorers: what black-box methods explain, a batch in, one number per sample out.

use tch::Tensor;

use crate::error::Result;

/// A function from a batch `[B, ..]` to one score per sample `[B]`, built from tch ops.
///
/// Perturbation methods only evaluate it (under no-grad, in large batches); gradient
/// methods also differentiate it, which needs [`Scorer::differentiable`].
pub trait Scorer {
    /// Scores a batch: `[B, ..] -> [B]`.
    fn score(&self, x: &Tensor) -> Result<Tensor>;

    /// Whether `score` is built from differentiable tch ops (default: yes).
    fn differentiable(&self) -> bool {
        true
    }

    /// A short description for error messages and reports.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}
