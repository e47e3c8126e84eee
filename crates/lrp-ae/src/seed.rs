//! The reconstruction rule: how the explained error becomes relevance of the output layer
//! (paper 2, §3.4).
//!
//! The error `e(x, x̂)` depends on the output `x̂` only (the input `x` is a constant of the
//! explanation), and its only root, `e = 0`, is `x̂ = x`. A Taylor expansion of `e` at that
//! root is exact for both losses: the second-order term for L2 (its gradient vanishes at
//! the root), the first-order term for L1. Every explained output neuron receives its own
//! term,
//!
//! ```text
//! L2: R_i = (x_i − x̂_i)² / m          L1: R_i = |x_i − x̂_i| / m,
//! ```
//!
//! with `m` the number of explained cells ([`ExplainedError`]: every cell, or some time
//! steps, sensors or pixels); the other cells get zero, so `Σ_i R_i = e(x, x̂)` exactly.
//! This is the relevance Zennit would take as `attr_output`. The explained error, not a
//! separate LRP type, says which cells and which norm: the seed is derived from it.

use ae_models::ExplainedError;
use tch::Tensor;

use crate::error::Result;

/// The output-layer relevance `[B, ..]` of `error` for input `x` and reconstruction
/// `x_hat` (same shape): the Deep-Taylor seed, summing to the explained error per sample.
///
/// ```
/// use ae_models::{ErrorNorm, ExplainedError};
/// use lrp_ae::seed::output_relevance;
/// use tch::Tensor;
/// let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0]).reshape([1, 2, 2]);
/// let x_hat = Tensor::from_slice(&[1.0f64, 0.0, 3.5, 4.0]).reshape([1, 2, 2]);
/// let r = output_relevance(&ErrorNorm::SquaredL2.into(), &x, &x_hat)?;
/// assert_eq!(Vec::<f64>::try_from(r.flatten(0, -1)).unwrap(), vec![0.0, 1.0, 0.0625, 0.0]);
/// let last = ExplainedError::new(ErrorNorm::L1).steps([-1]);
/// let r = output_relevance(&last, &x, &x_hat)?;
/// assert_eq!(Vec::<f64>::try_from(r.flatten(0, -1)).unwrap(), vec![0.0, 0.0, 0.25, 0.0]);
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
pub fn output_relevance(error: &ExplainedError, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
    Ok(error.cell_errors(x, x_hat)?)
}
