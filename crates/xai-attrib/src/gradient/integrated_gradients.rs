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
//! Cost per sample: `n_steps` forward and backward passes, plus two forward passes for
//! the delta (`f(x)`, `f(x')`) when `convergence_delta` is on.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::completeness::delta_from_values;
use crate::engine::Engine;
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::gradient::backprop::{for_each_gradient, require_gradients};
use crate::gradient::quadrature::Quadrature;
use crate::scorer::Scorer;
use crate::validate::{at_least, check_batch, DEFAULT_BATCH_SIZE};

const NAME: &str = "integrated_gradients";

/// Unchecked settings of [`IntegratedGradients`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegratedGradientsParams {
    n_steps: usize,
    method: Quadrature,
    batch_size: usize,
    convergence_delta: bool,
}

impl Default for IntegratedGradientsParams {
    fn default() -> Self {
        IntegratedGradientsParams {
            n_steps: 50,
            method: Quadrature::GaussLegendre,
            batch_size: DEFAULT_BATCH_SIZE,
            convergence_delta: true,
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

    /// Rows (step × sample pairs) per forward/backward pass (default 512, at least 1).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to compute the convergence delta (default `true`; two extra forward passes
    /// per sample).
    pub fn convergence_delta(mut self, on: bool) -> Self {
        self.convergence_delta = on;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<IntegratedGradients> {
        at_least(NAME, "batch_size", self.batch_size, 1)?;
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
/// let ig = IntegratedGradients::params().n_steps(4).check()?;
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

    /// Rows per forward/backward pass.
    pub fn batch_size(&self) -> usize {
        self.params.batch_size
    }

    /// Whether the convergence delta is computed.
    pub fn convergence_delta(&self) -> bool {
        self.params.convergence_delta
    }
}

impl Default for IntegratedGradients {
    fn default() -> Self {
        IntegratedGradientsParams::default()
            .check()
            .expect("the defaults are valid")
    }
}

checked_params!(IntegratedGradients, IntegratedGradientsParams);

impl<S: Scorer + ?Sized> Attribution<S> for IntegratedGradients {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Gradient
    }

    fn multiplies_by_inputs(&self) -> bool {
        true
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_batch(NAME, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let reference = req.baseline.reference(x, NAME)?;
        let diff = x.f_sub(&reference)?;
        let b = x.size()[0];
        let n = self.alphas.len() as i64;
        let rank = x.dim();
        let alphas = Tensor::f_from_slice(&self.alphas)?
            .f_to_kind(x.kind())?
            .f_to_device(x.device())?;
        let weights = Tensor::f_from_slice(&self.weights)?
            .f_to_kind(x.kind())?
            .f_to_device(x.device())?;
        let column = |t: &Tensor, len: i64| -> Result<Tensor> {
            let mut shape = vec![len];
            shape.extend(std::iter::repeat(1).take(rank - 1));
            Ok(t.f_reshape(&shape)?)
        };
        // Rows are step-major: row r is step r / B of sample r % B.
        let index = |start: i64, len: i64| -> Result<(Tensor, Tensor)> {
            let r = Tensor::f_arange_start(start, start + len, (Kind::Int64, x.device()))?;
            Ok((r.f_floor_divide_scalar(b)?, r.f_remainder(b)?))
        };
        let mut total = x.f_zeros_like()?;
        for_each_gradient(
            model,
            NAME,
            n * b,
            self.params.batch_size,
            |start, len| {
                let (step, sample) = index(start, len)?;
                let alpha = column(&alphas.f_index_select(0, &step)?, len)?;
                let base = reference.f_index_select(0, &sample)?;
                Ok(base.f_add(&diff.f_index_select(0, &sample)?.f_mul(&alpha)?)?)
            },
            |start, len, _, grad| {
                let (step, sample) = index(start, len)?;
                let w = column(&weights.f_index_select(0, &step)?, len)?;
                total = total.f_index_add(0, &sample, &grad.f_mul(&w)?)?;
                Ok(())
            },
        )?;
        let attributions = total.f_mul(&diff)?;
        let mut forward_evals = self.alphas.len();
        let delta = if self.params.convergence_delta {
            forward_evals += 2;
            let engine = Engine::new(model, NAME, self.params.batch_size, false);
            let f = engine.eval(&Tensor::f_cat(&[&reference, x], 0)?)?;
            let change = f.f_narrow(0, b, b)?.f_sub(&f.f_narrow(0, 0, b)?)?;
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
