//! Gradient SHAP (Lundberg & Lee 2017, Captum's `GradientShap`): expected gradients.
//!
//! For each of `n_samples` draws per sample: a reference `r` drawn uniformly (with
//! replacement) from the baseline distribution, Gaussian noise `ε ~ N(0, stdevs²)` added
//! to the input (`x̃ = x + ε`), a point `α ~ U[0, 1]` on the path, and
//!
//! ```text
//! a = (x̃ − r) ∘ ∂f(r + α (x̃ − r))/∂x,
//! ```
//!
//! averaged over the draws. This approximates SHAP values in expectation; for a linear
//! scorer without noise every draw is exact, so the result is `(x − E[r]) ∘ w`.
//!
//! With `multiply_by_inputs(false)` (Captum's option of the same name) each draw
//! contributes its gradient alone, without the `x̃ − r` factor: the expected gradient
//! along the paths.
//!
//! The baseline may be a [`crate::Baseline::Distribution`] (the intended use, e.g. a
//! background set of training windows) or any single reference (every draw then uses
//! it). The convergence delta is Captum's per draw, `Σ a_draw − (f(x̃) − f(r))`,
//! averaged over the draws of a sample.
//!
//! Cost per sample: `n_samples` forward and backward passes, plus `2 · n_samples`
//! forward passes for the delta when `convergence_delta` is on (off by default, as in
//! Captum). Randomness: one ChaCha8
//! stream from `seed` (reference indices, then path points, then noise).

use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::baseline::References;
use crate::completeness::delta_from_values;
use crate::engine::Engine;
use crate::error::{Result, XaiError};
use crate::feature_mask::Groups;
use crate::gradient::backprop::require_gradients;
use crate::gradient::path::{delta_needs_inputs, path_gradients};
use crate::params::{Batching, UnknownKeys};
use crate::rng::{seeded, standard_normal};
use crate::scorer::Scorer;
use crate::validate::{at_least, at_most, check_scorer_input};

const NAME: &str = "gradient_shap";

/// Unchecked settings of [`GradientShap`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GradientShapParams {
    n_samples: usize,
    stdevs: f64,
    seed: u64,
    convergence_delta: bool,
    multiply_by_inputs: bool,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl Default for GradientShapParams {
    fn default() -> Self {
        GradientShapParams {
            n_samples: 5,
            stdevs: 0.0,
            seed: 0,
            convergence_delta: false,
            multiply_by_inputs: true,
            batching: Batching::default(),
            unknown: UnknownKeys::default(),
        }
    }
}

impl GradientShapParams {
    /// Draws per sample (default 5, as Captum; at least 1).
    pub fn n_samples(mut self, n: usize) -> Self {
        self.n_samples = n;
        self
    }

    /// Standard deviation of the Gaussian noise added to the input (default 0, as
    /// Captum; finite and ≥ 0).
    pub fn stdevs(mut self, stdevs: f64) -> Self {
        self.stdevs = stdevs;
        self
    }

    /// Whether to compute the convergence delta (default `false`, as Captum's
    /// `return_convergence_delta`; `2 · n_samples` extra forward passes when on).
    pub fn convergence_delta(mut self, on: bool) -> Self {
        self.convergence_delta = on;
        self
    }

    /// Whether to multiply the path-averaged gradient by `x − x'` (default `true`, as
    /// Captum's `multiply_by_inputs`). With `false` the attributions are the averaged
    /// gradient alone (for a linear scorer: its weights), which no longer sum to
    /// `f(x) − f(x')`, so the convergence delta cannot be asked for with it.
    pub fn multiply_by_inputs(mut self, on: bool) -> Self {
        self.multiply_by_inputs = on;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<GradientShap> {
        self.unknown.reject(NAME)?;
        delta_needs_inputs(NAME, self.convergence_delta, self.multiply_by_inputs)?;
        at_least(NAME, "n_samples", self.n_samples, 1)?;
        at_most(
            NAME,
            "n_samples",
            self.n_samples,
            GradientShap::MAX_SAMPLES,
            "each draw is a forward and a backward pass per sample",
        )?;
        self.batching.check(NAME)?;
        if !(self.stdevs.is_finite() && self.stdevs >= 0.0) {
            return Err(XaiError::InvalidParam {
                method: NAME,
                param: "stdevs",
                value: self.stdevs.to_string(),
                rule: "must be finite and ≥ 0",
            });
        }
        Ok(GradientShap {
            params: self.clone(),
        })
    }
}

/// Gradient SHAP (see the module docs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "GradientShapParams", into = "GradientShapParams")]
pub struct GradientShap {
    params: GradientShapParams,
}

impl GradientShap {
    /// The most draws [`GradientShapParams::n_samples`] may ask for (10⁵): each is a
    /// forward and a backward pass per sample, and the draws of a batch are built at once.
    pub const MAX_SAMPLES: usize = 100_000;

    /// Default settings to adjust and [`GradientShapParams::check`].
    pub fn params() -> GradientShapParams {
        GradientShapParams::default()
    }

    /// Draws per sample.
    pub fn n_samples(&self) -> usize {
        self.params.n_samples
    }

    /// Noise standard deviation.
    pub fn stdevs(&self) -> f64 {
        self.params.stdevs
    }

    /// Whether the convergence delta is computed.
    pub fn convergence_delta(&self) -> bool {
        self.params.convergence_delta
    }

    /// Whether the averaged gradient is multiplied by `x − x'`.
    pub fn multiply_by_inputs(&self) -> bool {
        self.params.multiply_by_inputs
    }
}

method_params!(GradientShap, GradientShapParams, seeded);

impl<S: Scorer + ?Sized> Attribution<S> for GradientShap {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Gradient
    }

    fn multiplies_by_inputs(&self) -> bool {
        self.params.multiply_by_inputs
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let (b, cells) = (x.size()[0], crate::validate::cells(x));
        let s = self.params.n_samples as i64;
        let opts = (x.kind(), x.device());
        let flat_x = x.f_reshape([b, cells])?;
        // Draw `s` references per sample: rows are draw-major (row r is draw r / B of
        // sample r % B), so the same seed gives the same draws for every batch size.
        let mut rng = seeded(self.params.seed);
        let (pool, per_sample) = match req.baseline.references(x, NAME)? {
            References::PerSample(r) => (r.f_reshape([b, cells])?, true),
            References::Shared(d) => (d.f_reshape([d.size()[0], cells])?, false),
        };
        let pool_n = pool.size()[0];
        let rows = s * b;
        let ref_index: Vec<i64> = (0..rows)
            .map(|r| {
                if per_sample {
                    r % b
                } else {
                    rng.gen_range(0..pool_n)
                }
            })
            .collect();
        let alphas: Vec<f64> = (0..rows).map(|_| rng.gen::<f64>()).collect();
        let noise = if self.params.stdevs > 0.0 {
            let v: Vec<f64> = (0..rows * cells)
                .map(|_| self.params.stdevs * standard_normal(&mut rng))
                .collect();
            Some(
                Tensor::f_from_slice(&v)?
                    .f_to_kind(x.kind())?
                    .f_to_device(x.device())?
                    .f_reshape([rows, cells])?,
            )
        } else {
            None
        };
        let ref_index = Tensor::f_from_slice(&ref_index)?.f_to_device(x.device())?;
        let alphas = Tensor::f_from_slice(&alphas)?
            .f_to_kind(x.kind())?
            .f_to_device(x.device())?;

        let sample_shape = |len: i64| {
            let mut shape = vec![len];
            shape.extend_from_slice(&x.size()[1..]);
            shape
        };
        let engine = Engine::quiet(model, NAME, self.params.batching.batch_size);
        let mut total = Tensor::f_zeros([b, cells], opts)?;
        let mut delta_total = Tensor::f_zeros([b], opts)?;
        path_gradients(
            model,
            NAME,
            self.params.batching,
            x.device(),
            b,
            s,
            // The references and the noisy inputs of the rows, `[len, ..]`.
            |rows, samples| {
                let len = rows.size()[0];
                let mut input = flat_x.f_index_select(0, samples)?;
                if let Some(noise) = &noise {
                    input = input.f_add(&noise.f_index_select(0, rows)?)?;
                }
                let reference = pool.f_index_select(0, &ref_index.f_index_select(0, rows)?)?;
                Ok((
                    reference.f_reshape(sample_shape(len))?,
                    input.f_reshape(sample_shape(len))?,
                ))
            },
            |rows| Ok(alphas.f_index_select(0, rows)?),
            |batch| {
                let len = batch.rows.size()[0];
                let (input, reference) = (
                    batch.end.f_reshape([len, cells])?,
                    batch.start.f_reshape([len, cells])?,
                );
                let grad = batch.grad.f_reshape([len, cells])?;
                let attr = if self.params.multiply_by_inputs {
                    grad.f_mul(&input.f_sub(&reference)?)?
                } else {
                    grad
                };
                total = total.f_index_add(0, batch.samples, &attr)?;
                if self.params.convergence_delta {
                    let both = Tensor::f_cat(&[&reference, &input], 0)?
                        .f_reshape(sample_shape(2 * len))?;
                    let f =
                        engine.eval(&both, &Tensor::f_cat(&[batch.samples, batch.samples], 0)?)?;
                    let change = f.f_narrow(0, len, len)?.f_sub(&f.f_narrow(0, 0, len)?)?;
                    let d = delta_from_values(&attr, &change)?;
                    delta_total = delta_total.f_index_add(0, batch.samples, &d)?;
                }
                Ok(())
            },
        )?;
        let attributions = total.f_div_scalar(s as f64)?.f_reshape(x.size())?;
        let delta = if self.params.convergence_delta {
            Some(delta_total.f_div_scalar(s as f64)?)
        } else {
            None
        };
        let per_draw = if self.params.convergence_delta { 3 } else { 1 };
        Ok(Attributions {
            scores: groups.group_cells(&attributions)?,
            delta,
            forward_evals: self.params.n_samples * per_draw,
            backward_evals: self.params.n_samples,
        })
    }
}
