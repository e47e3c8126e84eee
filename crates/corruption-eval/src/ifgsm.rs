//! The adversarial corruption's optimisation: paper 2's I-FGSM variant (eq. 18-20) with
//! the step-size updater, batched over samples that each have their own feature `c`.

use tch::{Kind, Tensor};

use crate::error::Result;
use crate::params::IfgsmParams;
use crate::reconstruct::{check_reconstruction, Reconstruct};

/// Runs the optimisation from `start` `[B, F]`, moving only `start[b, features[b]]`, and
/// returns the best value of that feature per sample, `[B]`.
///
/// `features` is an `Int64` tensor `[B, 1]`, `low`/`high` the clipping bounds of each
/// sample's feature `[B]`. Rows are independent: the reconstruction of one sample must not
/// depend on the others in the batch (true of every autoencoder without batch norm in
/// training mode), so one backward pass of the batch sum gives every row its own gradient.
pub(crate) fn optimise_feature(
    recon: &Reconstruct<'_>,
    start: &Tensor,
    features: &Tensor,
    low: &Tensor,
    high: &Tensor,
    p: &IfgsmParams,
) -> Result<Tensor> {
    tch::with_grad(|| {
        let (b, m) = (start.size()[0], start.size()[1]);
        let options = (Kind::Float, start.device());
        let start = start.f_detach()?;
        let others_mask = Tensor::f_ones([b, m], options)?.f_scatter_value(1, features, 0.0)?;
        let mut xc = start.f_gather(1, features, false)?.f_squeeze_dim(1)?;
        let mut alpha = Tensor::f_full([b], p.alpha, options)?;
        let mut best_r = Tensor::f_full([b], f64::NEG_INFINITY, options)?;
        let mut best_xc = xc.f_detach_copy()?;
        let mut checkpoint: Option<(Tensor, Tensor)> = None;
        for step in 0..=p.max_steps {
            let var = xc.f_detach()?.f_set_requires_grad(true)?;
            let x = start.f_scatter(1, features, &var.f_unsqueeze(1)?)?;
            let x_hat = recon(&x)?;
            check_reconstruction(&x, &x_hat)?;
            let phi = x.f_sub(&x_hat)?.f_square()?;
            let phi_c = phi.f_gather(1, features, false)?.f_squeeze_dim(1)?;
            let others = phi
                .f_mul(&others_mask)?
                .f_sum_dim_intlist(1, false, Kind::Float)?;
            let r = others
                .f_sub(&phi_c.f_mul_scalar(p.theta)?)?
                .f_div_scalar(m as f64)?;

            let (r_now, phi_c_now, others_now) =
                (r.f_detach()?, phi_c.f_detach()?, others.f_detach()?);
            let better = r_now.f_gt_tensor(&best_r)?;
            best_xc = xc.f_where_self(&better, &best_xc)?;
            best_r = r_now.f_where_self(&better, &best_r)?;

            if step % p.halve_every == 0 {
                if let Some((phi_c_then, others_then)) = checkpoint.take() {
                    // The paper's rule: no progress on either term over the last k steps.
                    let stalled = phi_c_now
                        .f_ge_tensor(&phi_c_then)?
                        .f_logical_and(&others_now.f_le_tensor(&others_then)?)?;
                    alpha = alpha.f_div_scalar(2.0)?.f_where_self(&stalled, &alpha)?;
                }
                checkpoint = Some((phi_c_now, others_now));
            }
            if step == p.max_steps {
                break;
            }
            let sum = r.f_sum(Kind::Float)?;
            let grad = Tensor::f_run_backward(&[sum], &[&var], false, false)?
                .pop()
                .expect("one gradient per input");
            xc = xc
                .f_add(&alpha.f_mul(&grad.f_sign()?)?)?
                .f_clamp_tensor(Some(low), Some(high))?;
        }
        Ok(best_xc)
    })
}
