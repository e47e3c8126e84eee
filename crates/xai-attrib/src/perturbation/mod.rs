//! Perturbation methods: they only evaluate the scorer (no gradients), on perturbed
//! copies of the input built and evaluated in large batches by one shared engine
//! (`engine.rs`). Each file here only says which perturbations it builds and how their
//! scores combine.

pub mod ablation;
pub mod coalition_strata;
pub(crate) mod coalitions;
pub mod kernel_shap;
pub mod lstsq;
pub mod occlusion;
pub mod permutation;
pub mod shapley_sampling;

use tch::Tensor;

use crate::error::Result;

/// Chooses `a` where `cond` holds and `b` elsewhere, broadcasting the three to
/// `[k, B, cells]`, and stacks the result as `k · B` rows of `sample_shape`.
pub(crate) fn stack_rows(
    cond: &Tensor,
    a: &Tensor,
    b: &Tensor,
    sample_shape: &[i64],
) -> Result<Tensor> {
    let rows = a.f_where_self(cond, b)?;
    let mut shape = vec![-1];
    shape.extend_from_slice(sample_shape);
    Ok(rows.f_reshape(&shape)?)
}
