//! Batched input gradients: the one place where gradient methods call autograd.

use tch::Tensor;

use crate::engine::progress_bar;
use crate::error::{Result, XaiError};
use crate::params::Batching;
use crate::scorer::Scorer;
use crate::validate::check_scores;

/// Fails with [`XaiError::NotDifferentiable`] when `scorer` says it cannot be
/// differentiated.
pub(crate) fn require_gradients<S: Scorer + ?Sized>(
    method: &'static str,
    scorer: &S,
) -> Result<()> {
    if scorer.differentiable() {
        Ok(())
    } else {
        Err(XaiError::NotDifferentiable {
            method,
            scorer: scorer.describe(),
        })
    }
}

/// Scores and input gradients of `total` rows, `batching.batch_size` rows per
/// forward/backward pass, with a progress bar when `batching.progress` (on a terminal).
/// `build(start, len)` returns rows `start..start + len` (`[len, ..]`) and the explained
/// sample of each (`[len]`, for [`Scorer::score_rows`]);
/// `consume(start, len, scores [len], grads [len, ..])` receives their results.
///
/// The gradient of the sum of the scores is taken, which is every row's own gradient
/// because a [`Scorer`] scores rows independently.
pub(crate) fn for_each_gradient<S: Scorer + ?Sized>(
    scorer: &S,
    method: &'static str,
    total: i64,
    batching: Batching,
    mut build: impl FnMut(i64, i64) -> Result<(Tensor, Tensor)>,
    mut consume: impl FnMut(i64, i64, &Tensor, &Tensor) -> Result<()>,
) -> Result<()> {
    let batch = batching.batch_size.clamp(1, i64::MAX as usize) as i64;
    let bar = progress_bar(method, total.max(0) as u64, batching.progress);
    let done = tch::with_grad(|| {
        let mut start = 0;
        while start < total {
            let len = batch.min(total - start);
            let (rows, samples) = build(start, len)?;
            let rows = rows.f_detach()?.f_set_requires_grad(true)?;
            let out = scorer.score_rows(&rows, &samples)?;
            let out = check_scores(&scorer.describe(), &out, len)?;
            if !out.requires_grad() {
                return Err(XaiError::NotDifferentiable {
                    method,
                    scorer: scorer.describe(),
                });
            }
            let grads = Tensor::f_run_backward(&[out.f_sum(out.kind())?], &[&rows], false, false)?;
            let grad = grads
                .into_iter()
                .next()
                .ok_or(XaiError::NotDifferentiable {
                    method,
                    scorer: scorer.describe(),
                })?;
            if let Some(i) = ae_models::checks::first_non_finite(&grad)? {
                let cells = (grad.numel() as i64 / len.max(1)).max(1) as usize;
                return Err(XaiError::NonFinite {
                    what: format!(
                        "{method}: gradient of `{}` for row {} (cell {})",
                        scorer.describe(),
                        start as usize + i / cells,
                        i % cells
                    ),
                    index: i,
                });
            }
            consume(start, len, &out.f_detach()?, &grad)?;
            bar.inc(len as u64);
            start += len;
        }
        Ok(())
    });
    bar.finish_and_clear();
    done
}
