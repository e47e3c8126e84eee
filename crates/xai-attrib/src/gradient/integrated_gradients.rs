//! Integrated Gradients (Sundararajan et al. 2017; paper 1, eq. 3).
//!
//! ```text
//! IG_i(x) = (x_i − x'_i) · ∫₀¹ ∂f(x' + α (x − x'))/∂x_i dα
//!         ≈ (x_i − x'_i) · Σ_k w_k ∂f(x' + α_k (x − x'))/∂x_i
//! ```
//!
//! with the points and weights of a [`Quadrature`] rule (Gauss-Legendre by default, as
//! Captum). By the fundamental theorem of calculus the attributions sum to
//! `f(x) − f(x')` (completeness); the convergence delta measures how far the quadrature
//! is from that. The baseline `x'` comes from the request (a distribution is replaced by
//! its mean). Every `(step, sample)` pair is one row; rows are evaluated `batch_size` at a
//! time.
//!
//! With `multiply_by_inputs(false)` (Captum's option of the same name) the attributions
//! are the integral alone, `∫₀¹ ∂f/∂x_i dα`, without the `x_i − x'_i` factor.
//!
//! Cost per sample: `n_steps` forward and backward passes, plus two forward passes for
//! the delta (`f(x)`, `f(x')`) when `convergence_delta` is on (off by default, as in
//! Captum).

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::completeness::delta_from_values;
use crate::engine::Engine;
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::gradient::backprop::require_gradients;
use crate::gradient::path::{delta_needs_inputs, path_gradients};
use crate::gradient::quadrature::Quadrature;
use crate::params::{Batching, UnknownKeys};
use crate::scorer::Scorer;
use crate::validate::{at_most, check_scorer_input};

const NAME: &str = "integrated_gradients";

/// Unchecked settings of [`IntegratedGradients`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegratedGradientsParams {
    n_steps: usize,
    method: Quadrature,
    convergence_delta: bool,
    multiply_by_inputs: bool,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl Default for IntegratedGradientsParams {
    fn default() -> Self {
        IntegratedGradientsParams {
            n_steps: 50,
            method: Quadrature::GaussLegendre,
            convergence_delta: false,
            multiply_by_inputs: true,
            batching: Batching::default(),
            unknown: UnknownKeys::default(),
        }
    }
}

impl IntegratedGradientsParams {
    /// Quadrature points (default 50, as Captum; at least 1, or 2 for Riemann rules).
    pub fn n_steps(mut self, n_steps: usize) -> Self {
        self.n_steps = n_steps;
        self
    }

    /// The quadrature rule (default Gauss-Legendre).
    pub fn method(mut self, method: Quadrature) -> Self {
        self.method = method;
        self
    }

    /// Whether to compute the convergence delta (default `false`, as Captum's
    /// `return_convergence_delta`; two extra forward passes per sample when on).
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
    pub fn check(&self) -> Result<IntegratedGradients> {
        self.unknown.reject(NAME)?;
        delta_needs_inputs(NAME, self.convergence_delta, self.multiply_by_inputs)?;
        self.batching.check(NAME)?;
        at_most(
            NAME,
            "n_steps",
            self.n_steps,
            IntegratedGradients::MAX_STEPS,
            "each step is a forward and a backward pass per sample",
        )?;
        let (alphas, weights) = self.method.nodes(self.n_steps)?;
        Ok(IntegratedGradients {
            params: self.clone(),
            alphas,
            weights,
        })
    }
}

/// Integrated Gradients (see the module docs).
///
/// ```
/// use tch::{Kind, Tensor};
/// use xai_attrib::{Attribution, Baseline, FnScorer, IntegratedGradients, Request};
/// // f(x) = x₀² + x₁: IG from 0 gives (x₀², x₁) exactly with Gauss-Legendre.
/// let f = FnScorer::new("quad", |x: &Tensor| {
///     Ok(x.f_select(1, 0)?.f_square()?.f_add(&x.f_select(1, 1)?)?)
/// });
/// let x = Tensor::from_slice(&[3.0f64, 2.0]).reshape([1, 2]);
/// let ig = IntegratedGradients::params().n_steps(4).convergence_delta(true).check()?;
/// let a = ig.attribute(&f, &x, &Request::with_baseline(Baseline::Zero))?;
/// let v = Vec::<f64>::try_from(a.scores.flatten(0, -1)).unwrap();
/// assert!((v[0] - 9.0).abs() < 1e-12 && (v[1] - 2.0).abs() < 1e-12);
/// assert!(a.delta.unwrap().abs().max().double_value(&[]) < 1e-12);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "IntegratedGradientsParams",
    into = "IntegratedGradientsParams"
)]
pub struct IntegratedGradients {
    params: IntegratedGradientsParams,
    alphas: Vec<f64>,
    weights: Vec<f64>,
}

impl IntegratedGradients {
    /// The most steps [`IntegratedGradientsParams::n_steps`] may ask for (10⁵): each is a
    /// forward and a backward pass per sample, and Gauss–Legendre nodes cost `O(n²)` to
    /// compute; the default 50 is exact to 1e-6 on smooth paths.
    pub const MAX_STEPS: usize = 100_000;

    /// Default settings to adjust and [`IntegratedGradientsParams::check`].
    pub fn params() -> IntegratedGradientsParams {
        IntegratedGradientsParams::default()
    }

    /// Quadrature points.
    pub fn n_steps(&self) -> usize {
        self.params.n_steps
    }

    /// The quadrature rule.
    pub fn method(&self) -> Quadrature {
        self.params.method
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

impl Default for IntegratedGradients {
    fn default() -> Self {
        IntegratedGradientsParams::default()
            .check()
            .expect("the defaults are valid")
    }
}

method_params!(IntegratedGradients, IntegratedGradientsParams);

impl<S: Scorer + ?Sized> Attribution<S> for IntegratedGradients {
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
        let reference = req.baseline.reference(x, NAME)?;
        let diff = x.f_sub(&reference)?;
        let b = x.size()[0];
        let n = self.alphas.len() as i64;
        let on_device = |v: &[f64]| -> Result<Tensor> {
            Ok(Tensor::f_from_slice(v)?
                .f_to_kind(x.kind())?
                .f_to_device(x.device())?)
        };
        let (alphas, weights) = (on_device(&self.alphas)?, on_device(&self.weights)?);
        let step = |rows: &Tensor| -> Result<Tensor> { Ok(rows.f_floor_divide_scalar(b)?) };
        let mut total = x.f_zeros_like()?;
        path_gradients(
            model,
            NAME,
            self.params.batching,
            x.device(),
            b,
            n,
            |_, samples| {
                Ok((
                    reference.f_index_select(0, samples)?,
                    x.f_index_select(0, samples)?,
                ))
            },
            |rows| Ok(alphas.f_index_select(0, &step(rows)?)?),
            |batch| {
                let mut column = vec![batch.grad.size()[0]];
                column.extend(std::iter::repeat_n(1, x.dim() - 1));
                let w = weights
                    .f_index_select(0, &step(batch.rows)?)?
                    .f_reshape(&column)?;
                total = total.f_index_add(0, batch.samples, &batch.grad.f_mul(&w)?)?;
                Ok(())
            },
        )?;
        let attributions = if self.params.multiply_by_inputs {
            total.f_mul(&diff)?
        } else {
            total
        };
        let mut forward_evals = self.alphas.len();
        let delta = if self.params.convergence_delta {
            forward_evals += 2;
            let engine = Engine::quiet(model, NAME, self.params.batching.batch_size);
            let (f_ref, f_x) = engine.eval_ends(&reference, x)?;
            let change = f_x.f_sub(&f_ref)?;
            Some(delta_from_values(&attributions, &change)?)
        } else {
            None
        };
        Ok(Attributions {
            scores: groups.group_cells(&attributions)?,
            delta,
            forward_evals,
            backward_evals: self.alphas.len(),
        })
    }
}
