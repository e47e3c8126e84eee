//! Gradients along straight paths from references to inputs: the loop Integrated
//! Gradients and Gradient SHAP share.
//!
//! A batch of `B` samples and `D` points per sample makes `D · B` rows, draw-major (row
//! `r` is point `r / B` of sample `r % B`), so the same rows come out for every batch
//! size. Row `r` is evaluated at `s_r + α_r (e_r − s_r)`, between its start `s_r` (a
//! reference) and its end `e_r` (the input, perhaps with noise).

use std::cell::RefCell;

use tch::{Device, Kind, Tensor};

use crate::error::{Result, XaiError};
use crate::gradient::backprop::for_each_gradient;
use crate::params::Batching;
use crate::scorer::Scorer;

/// One batch of path rows and their gradients, `[len, ..sample]` each.
pub(crate) struct PathBatch<'a> {
    /// Row ids `[len]` (Int64).
    pub rows: &'a Tensor,
    /// The sample of every row, `[len]` (Int64).
    pub samples: &'a Tensor,
    /// Path starts.
    pub start: &'a Tensor,
    /// Path ends.
    pub end: &'a Tensor,
    /// The gradient of the score at the path point.
    pub grad: &'a Tensor,
}

/// The rows of `b` samples with `points` points each, their path points and gradients,
/// `batching.batch_size` rows per forward/backward pass. `endpoints(rows, samples)` gives
/// the rows' starts and ends, `alphas(rows)` their positions `[len]` on the path.
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_gradients<S: Scorer + ?Sized>(
    scorer: &S,
    method: &'static str,
    batching: Batching,
    device: Device,
    b: i64,
    points: i64,
    endpoints: impl Fn(&Tensor, &Tensor) -> Result<(Tensor, Tensor)>,
    alphas: impl Fn(&Tensor) -> Result<Tensor>,
    mut consume: impl FnMut(&PathBatch<'_>) -> Result<()>,
) -> Result<()> {
    // The endpoints of the batch being differentiated, built once for both closures.
    let current: RefCell<Option<(Tensor, Tensor, Tensor, Tensor)>> = RefCell::new(None);
    for_each_gradient(
        scorer,
        method,
        points * b,
        batching,
        |first, len| {
            let rows = Tensor::f_arange_start(first, first + len, (Kind::Int64, device))?;
            let samples = rows.f_remainder(b)?;
            let (start, end) = endpoints(&rows, &samples)?;
            let mut column = vec![len];
            column.extend(std::iter::repeat_n(1, start.dim() - 1));
            let alpha = alphas(&rows)?.f_reshape(&column)?;
            let point = start.f_add(&end.f_sub(&start)?.f_mul(&alpha)?)?;
            *current.borrow_mut() = Some((rows, samples.shallow_clone(), start, end));
            Ok((point, samples))
        },
        |_, _, _, grad| {
            let (rows, samples, start, end) = current
                .borrow_mut()
                .take()
                .expect("every batch is built before it is consumed");
            consume(&PathBatch {
                rows: &rows,
                samples: &samples,
                start: &start,
                end: &end,
                grad,
            })
        },
    )
}

/// The convergence delta measures `Σ attributions − (f(x) − f(x'))`, which means nothing
/// once the attributions are not multiplied by `x − x'`: the pair is refused.
pub(crate) fn delta_needs_inputs(
    method: &'static str,
    convergence_delta: bool,
    multiply_by_inputs: bool,
) -> Result<()> {
    if convergence_delta && !multiply_by_inputs {
        return Err(XaiError::InvalidParam {
            method,
            param: "convergence_delta",
            value: "true".into(),
            rule: "needs multiply_by_inputs = true (without the x − x' factor the attributions do not sum to f(x) − f(x'))",
        });
    }
    Ok(())
}
