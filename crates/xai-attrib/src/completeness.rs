//! Completeness (Captum's convergence delta), computed once for every method that has it.
//!
//! Integrated Gradients, Gradient SHAP and LRP distribute `f(x) − f(x')` over the input
//! cells; how far the sum of their attributions is from it measures the approximation
//! error: `δ = Σ_i a_i − (f(end) − f(start))`, one value per sample.

use tch::{Kind, Tensor};

use crate::engine::Engine;
use crate::error::{Result, XaiError};
use crate::scorer::Scorer;

/// `Σ attributions − (f(end) − f(start))` per sample, `[B]`.
///
/// `attributions`, `start` and `end` are `[B, ..]` of the same shape; the two scorer
/// evaluations run under no-grad. The attributions must be per cell (not group totals
/// repeated over a group's cells, which would count a group several times).
pub fn convergence_delta<S: Scorer + ?Sized>(
    scorer: &S,
    attributions: &Tensor,
    start: &Tensor,
    end: &Tensor,
) -> Result<Tensor> {
    for (what, t) in [("start", start), ("end", end)] {
        if t.size() != attributions.size() {
            return Err(XaiError::ShapeMismatch {
                what: format!("convergence delta: {what} point"),
                expected: format!("the attributions' shape {:?}", attributions.size()),
                got: t.size(),
            });
        }
    }
    let engine = Engine::quiet(scorer, "convergence_delta", usize::MAX);
    let (f_start, f_end) = engine.eval_ends(start, end)?;
    let diff = f_end.f_sub(&f_start)?;
    delta_from_values(attributions, &diff)
}

/// `Σ attributions − diff` per sample for already computed `diff = f(end) − f(start)`.
pub(crate) fn delta_from_values(attributions: &Tensor, diff: &Tensor) -> Result<Tensor> {
    let b = attributions.size()[0];
    let sums = attributions
        .f_reshape([b, -1])?
        .f_sum_dim_intlist(1, false, Kind::Double)?;
    Ok(sums
        .f_sub(&diff.f_to_kind(Kind::Double)?)?
        .f_to_kind(attributions.kind())?)
}
