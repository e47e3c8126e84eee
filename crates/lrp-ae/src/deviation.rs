//! Deviation LRP: the relevance of the input's *deviation from a reference point*, so that
//! a sensor that drops is seen as clearly as one that rises.
//!
//! Paper 2's LRP ([`crate::Lrp`] with its presets) treats the input `x` as a constant of
//! the error and explains how the reconstruction `x̂` was built; every rule then follows
//! the signal present in the input, and an input that fell carries less of it. Deviation
//! LRP explains the error as the function of the input that every other attribution method
//! explains, `x ↦ e(x, f(x))`, relative to a reference point `x₀`:
//!
//! ```text
//! Σ_i R_i = e(x, f(x)) − e(x₀, f(x₀)) − absorbed,      R_i ∝ (x_i − x₀_i)
//! ```
//!
//! 1. **The error** is a sum of cell terms `e_i(r_i)` of the residual `r = x − x̂`. Each
//!    term's deviation is split exactly by its secant slope (DeepLIFT's rescale rule):
//!    `e_i(r_i) − e_i(r₀_i) = s_i (r_i − r₀_i)` with `s_i = (r_i + r₀_i)/m` for L2 and
//!    `(|r_i| − |r₀_i|)/(r_i − r₀_i)` for L1 ([`error_multiplier`]); the residual is linear,
//!    `Δr = Δx − Δx̂`, so the input gets `R_direct = Δx ⊙ s` *directly* and the output of
//!    the network gets `R(x̂) = −Δx̂ ⊙ s`. The two sum to the error's deviation exactly.
//! 2. **The network** passes `R(x̂)` to the input's deviation layer by layer with
//!    [`crate::rules::DeltaEpsilon`] on dense, convolutional and LSTM layers and
//!    [`crate::rules::Pass`] elsewhere ([`crate::Preset::Deviation`]): DeepLIFT's rescale
//!    rule in LRP form, which no bias absorbs; only ε, and in LSTM layers the gates' own
//!    change, absorb relevance (the trace shows how much).
//!
//! A drop `Δx_k < 0` makes `r_k` move the same way, so `Δx_k · s_k` is positive for a drop
//! as for a rise: the relevance depends on the deviation's size, not its sign. On a model
//! that is odd around the reference, a fault and its mirror image get the same relevance
//! (tested).
//!
//! **Reference points** ([`RootPoint`]): a point the caller gives (e.g. the per-sensor
//! training mean; through [`xai_attrib::Attribution`], the request's baseline), computed
//! in the same forward pass as the input (one row appended to the batch); or the input's
//! own reconstruction `x₀ = x̂`, the Deep Taylor root point nearest to `x` on the model's
//! normal manifold (`f(x̂) ≈ x̂`, so `e(x₀) ≈ 0`), which costs a second forward pass.

use ae_models::explained_error::per_sample_sum;
use ae_models::layer::forward_recording;
use ae_models::{ErrorNorm, ExplainedError, LayerModel, ResolvedError};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::composite::Composite;
use crate::error::{check_finite, checked_input, LrpError, Result};
use crate::propagate::{propagate_deviation, resolve_deviation_rules, LrpTrace};

/// Where a deviation LRP measures the input's deviation from, as configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootPoint {
    /// A reference the caller gives: [`Root::Tensor`], or through
    /// [`xai_attrib::Attribution`] the request's baseline (a zero baseline is a zero
    /// reference; a distribution is replaced by its mean).
    Baseline,
    /// The input's own reconstruction `x̂`, per sample (one more forward pass).
    Reconstruction,
}

/// The reference point of one call.
#[derive(Debug)]
pub enum Root {
    /// One reference for every sample — a tensor that broadcasts to one sample from its
    /// trailing dimensions (`[F]` per-feature means of `[T, F]` windows, a `[T, F]` window),
    /// or `[1, ..]` — appended to the batch, so the forward pass has one more row; or
    /// `[B, ..]`, one reference per sample.
    Tensor(Tensor),
    /// Each sample's own reconstruction (a second forward pass, on `x̂`).
    Reconstruction,
}

/// Everything one deviation sweep produces.
#[derive(Debug)]
pub struct DeviationExplanation {
    /// Relevance of the input's deviation `[B, ..]`: `direct` plus what came through the
    /// network. It sums to `error − reference_error` up to what the trace shows absorbed.
    pub relevance: Tensor,
    /// The share that reaches the input directly through the error's own `x` (the first
    /// term of `Δr = Δx − Δx̂`), `[B, ..]`.
    pub direct: Tensor,
    /// Relevance of the output's deviation `R(x̂) = −Δx̂ ⊙ s`, where the network sweep
    /// starts, `[B, ..]`.
    pub output_relevance: Tensor,
    /// The reconstruction `x̂`.
    pub reconstruction: Tensor,
    /// The reference point `x₀`, `[1, ..]` or `[B, ..]`.
    pub reference: Tensor,
    /// The explained error `e(x, x̂)` per sample, `[B]`.
    pub error: Tensor,
    /// The explained error at the reference, `e(x₀, f(x₀))`, per sample `[B]`.
    pub reference_error: Tensor,
    /// Relevance sums at every layer of the network sweep (from `output_relevance`).
    pub trace: LrpTrace,
}

impl DeviationExplanation {
    /// Per sample `[B]`, `Σ relevance − (error − reference_error)`: what ε and the LSTM
    /// gates absorbed (zero for an exactly conservative sweep).
    pub fn delta(&self) -> Result<Tensor> {
        Ok(per_sample_sum(&self.relevance)?
            .f_sub(&self.error)?
            .f_add(&self.reference_error)?)
    }
}

/// The secant slope `s_i = (e_i(r_i) − e_i(r₀_i)) / (r_i − r₀_i)` of every explained cell's
/// error term between the reference residual `r₀ = x0 − x0_hat` and the residual
/// `r = x − x_hat`, divided by the number of explained cells and zero elsewhere, `[B, ..]`
/// (`x0`, `x0_hat` may have a batch of 1). Computed without dividing where it can be
/// avoided: `(r + r₀)/m` for L2; for L1 `sign(r + r₀)/m` where `r` and `r₀` share a sign,
/// `(|r| − |r₀|)/(r − r₀)/m` where they do not (the difference is then at least `|r|`).
///
/// `Σ_i s_i (r_i − r₀_i)` is the error's deviation exactly.
///
/// ```
/// use ae_models::ErrorNorm;
/// use lrp_ae::deviation::error_multiplier;
/// use tch::Tensor;
/// let t = |v: &[f64]| Tensor::from_slice(v).reshape([1, 2]);
/// // r = (1, -2), r₀ = (0.5, 1): L2 slopes (r + r₀)/2 = (0.75, -0.5).
/// let s = error_multiplier(&ErrorNorm::SquaredL2.into(), &t(&[1.0, -2.0]), &t(&[0.0, 0.0]), &t(&[0.5, 1.0]), &t(&[0.0, 0.0]))?;
/// assert_eq!(Vec::<f64>::try_from(s.flatten(0, -1)).unwrap(), vec![0.75, -0.5]);
/// // L1: same sign → sign/2; opposite signs → (|r| − |r₀|)/(r − r₀)/2 = (2 − 1)/(−3)/2.
/// let s = error_multiplier(&ErrorNorm::L1.into(), &t(&[1.0, -2.0]), &t(&[0.0, 0.0]), &t(&[0.5, 1.0]), &t(&[0.0, 0.0]))?;
/// let s = Vec::<f64>::try_from(s.flatten(0, -1)).unwrap();
/// assert_eq!(s[0], 0.5);
/// assert!((s[1] + 1.0 / 6.0).abs() < 1e-15);
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
///
/// # Errors
/// Those of [`ExplainedError::resolve`] (cells outside the sample) and shape mismatches.
pub fn error_multiplier(
    error: &ExplainedError,
    x: &Tensor,
    x_hat: &Tensor,
    x0: &Tensor,
    x0_hat: &Tensor,
) -> Result<Tensor> {
    let resolved = error.resolve(&x.size()[1.min(x.dim())..], x.device())?;
    multiplier(&resolved, x, x_hat, x0, x0_hat)
}

/// [`error_multiplier`] of an explained error already resolved against the sample shape.
fn multiplier(
    resolved: &ResolvedError,
    x: &Tensor,
    x_hat: &Tensor,
    x0: &Tensor,
    x0_hat: &Tensor,
) -> Result<Tensor> {
    let r = x.f_sub(x_hat)?;
    let r0 = x0.f_sub(x0_hat)?.f_expand(r.size(), false)?;
    let s = match resolved.norm() {
        ErrorNorm::SquaredL2 => r.f_add(&r0)?,
        ErrorNorm::L1 => {
            let same = r.f_mul(&r0)?.f_ge(0.0)?;
            let den = r
                .f_sub(&r0)?
                .f_where_self(&same.f_logical_not()?, &r.f_ones_like()?)?;
            let cross = r.f_abs()?.f_sub(&r0.f_abs()?)?.f_div(&den)?;
            r.f_add(&r0)?.f_sign()?.f_where_self(&same, &cross)?
        }
    };
    Ok(resolved.scale(&s)?)
}

/// The deviation sweep of [`crate::Lrp::explain_deviation`].
pub(crate) fn explain_deviation<A: LayerModel + ?Sized>(
    error: &ExplainedError,
    composite: &dyn Composite,
    model: &A,
    x: &Tensor,
    reference: &Root,
) -> Result<DeviationExplanation> {
    let x = checked_input(model, x)?;
    let layers = model.layers();
    let rules = resolve_deviation_rules(layers, composite)?;
    let b = x.size()[0];
    let (acts, reference_acts, x0) = tch::no_grad(|| -> Result<_> {
        Ok(match reference {
            Root::Reconstruction => {
                let acts = forward_recording(layers, &x)?;
                let x0 = acts[layers.len()].shallow_clone();
                let reference_acts = forward_recording(layers, &x0)?;
                (acts, reference_acts, x0)
            }
            Root::Tensor(t) => {
                let x0 = checked_reference(&x, t)?;
                let n0 = x0.size()[0];
                let both = forward_recording(layers, &Tensor::f_cat(&[&x, &x0], 0)?)?;
                let mut acts = Vec::with_capacity(both.len());
                let mut reference_acts = Vec::with_capacity(both.len());
                for a in &both {
                    acts.push(a.f_narrow(0, 0, b)?);
                    reference_acts.push(a.f_narrow(0, b, n0)?);
                }
                (acts, reference_acts, x0)
            }
        })
    })?;
    let x_hat = acts[layers.len()].shallow_clone();
    let x0_hat = &reference_acts[layers.len()];
    // Resolved once for the multiplier and both errors: `x0` has `x`'s sample shape (the
    // sweep checks it before the errors are computed).
    let resolved = error.resolve(&x.size()[1.min(x.dim())..], x.device())?;
    let s = multiplier(&resolved, &x, &x_hat, &x0, x0_hat)?;
    let direct = x.f_sub(&x0)?.f_mul(&s)?;
    let output_relevance = x_hat.f_sub(x0_hat)?.f_mul(&s)?.f_neg()?;
    let (through, trace) =
        propagate_deviation(layers, &rules, &acts, &reference_acts, &output_relevance)?;
    let sample_errors = |a: &Tensor, a_hat: &Tensor| -> Result<Tensor> {
        Ok(per_sample_sum(&resolved.cell_errors(a, a_hat)?)?)
    };
    let reference_error = sample_errors(&x0, x0_hat)?.f_expand([b], false)?;
    let relevance = direct.f_add(&through)?;
    // A finite input and reference can still overflow (f32 activations, huge weights): an
    // error naming the cell, never an infinite ranking.
    check_finite("lrp deviation relevance", &relevance)?;
    Ok(DeviationExplanation {
        relevance,
        direct,
        output_relevance,
        error: sample_errors(&x, &x_hat)?,
        reference_error,
        reconstruction: x_hat,
        reference: x0,
        trace,
    })
}

/// Checks a given reference against the (checked) batch `x` and brings it to `x`'s device
/// and dtype: a shape that broadcasts to one sample becomes `[1, ..sample]`, `[1, ..]` and
/// `[B, ..]` stay.
fn checked_reference(x: &Tensor, reference: &Tensor) -> Result<Tensor> {
    let what = "lrp reference";
    if !matches!(
        reference.kind(),
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
    ) {
        return Err(LrpError::InvalidInput {
            what: what.into(),
            reason: format!("dtype {:?} is not a floating-point type", reference.kind()),
        });
    }
    check_finite(what, reference)?;
    let size = x.size();
    let sample = &size[1..];
    let got = reference.size();
    // NumPy broadcasting from the trailing dimensions, as baselines broadcast.
    let to_sample = got.len() <= sample.len()
        && got
            .iter()
            .rev()
            .zip(sample.iter().rev())
            .all(|(&g, &s)| g == 1 || g == s);
    let r = if to_sample {
        let mut one = vec![1i64];
        one.extend_from_slice(sample);
        reference.f_expand(&one, false)?.f_contiguous()?
    } else if got.len() == size.len() && (got[0] == 1 || got[0] == size[0]) && got[1..] == size[1..]
    {
        reference.shallow_clone()
    } else {
        return Err(LrpError::ShapeMismatch {
            what: what.into(),
            expected: format!(
                "a shape that broadcasts to one sample {sample:?} (e.g. [{}] per feature), [1, ..] or the batch's shape {size:?}",
                sample.last().copied().unwrap_or(1)
            ),
            got,
        });
    };
    Ok(r.f_to_device(x.device())?.f_to_kind(x.kind())?)
}
