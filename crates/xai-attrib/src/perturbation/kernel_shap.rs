//! Kernel SHAP (Lundberg & Lee 2017; Captum's `KernelShap`): Shapley values as the
//! weighted least-squares fit of a linear surrogate over coalitions of feature groups.
//!
//! A coalition `z ∈ {0,1}^M` keeps the groups with `z_g = 1` from `x` and takes the
//! others from the baseline. With a background set `{r_1..r_N}`
//! ([`crate::Baseline::Distribution`]) its value is the average over the set,
//! `v(z) = 1/N Σ_n f(x_z ∪ r_{n,¬z})`; with a single reference it is one evaluation.
//! Kernel SHAP finds `φ` minimising `Σ_z π(z) (v(z) − φ₀ − zᵀφ)²` with the Shapley kernel
//! `π`; with enough coalitions this is exactly the Shapley values.
//!
//! Coalitions: `n_samples` counts evaluated coalitions including the full and the empty
//! one (as in Captum), and bounds the distinct coalitions evaluated. When
//! `2^M ≤ n_samples`, every coalition is enumerated with its exact kernel weight, which
//! gives the exact Shapley values. Otherwise [`KernelShapParams::sampling`] chooses them:
//! * [`CoalitionSampling::StratifiedLeverage`] (default): a fixed number of coalitions per
//!   size, the same for every size (leverage-score sampling, Musco & Witter 2024); the
//!   smallest and largest sizes enumerated while the budget allows, the rest drawn
//!   without replacement in complementary pairs, every group equally often within a size
//!   (see [`crate::perturbation::coalition_strata`]). It uses `n_samples` exactly (one
//!   less when the pairs leave one over). [`CoalitionSampling::StratifiedKernel`] gives
//!   each size coalitions in proportion to its kernel mass instead (SHAP's allocation);
//! * [`CoalitionSampling::Independent`]: `n_samples − 2` independent draws from the kernel
//!   (size `k` with probability `∝ (M−1)/(k(M−k))`, then a uniform subset), each with
//!   weight 1 (Captum's sampler); with `paired` every draw is followed by its complement
//!   (Covert & Lee 2021). Repeated coalitions are evaluated once and weighted by their
//!   count, so fewer than `n_samples` are evaluated.
//!
//! Measured against exact Shapley values (`benches/examples/kernel_shap_accuracy.rs`,
//! numbers in docs/performance.md): with up to 16 groups, 200 evaluations of the default
//! are as close as Captum's estimator with 1000 on a strongly interacting function and
//! closer on autoencoder detectors; with 38 sensors of an LSTM autoencoder they match it
//! at about 310 evaluations.
//!
//! The fit, in `f64`:
//! * `efficiency = true` (default, as the SHAP package): `φ₀ = v(0)` and
//!   `Σ_g φ_g = v(1) − v(0)` hold exactly; the constraint eliminates `φ_M`, leaving an
//!   unconstrained weighted least-squares problem in `M − 1` unknowns.
//! * `efficiency = false` (Captum): an unconstrained fit with intercept, in which the full
//!   and empty coalitions carry weight `10⁶` so that the constraint holds approximately.
//!
//! Every cell of a group carries the group's value. Cost per sample, for `C` distinct
//! coalitions: `1 + C·N + N/B` forward passes with a background set of `N` samples and
//! batch size `B` (the background is scored once per batch), `2 + C` with one reference
//! per sample. The reported `forward_evals` is the number of rows actually evaluated,
//! divided by `B`.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use ae_models::convert::tensor_to_f64s;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::baseline::References;
use crate::engine::Engine;
use crate::error::{Result, XaiError};
use crate::feature_mask::Groups;
use crate::params::{Batching, UnknownKeys};
use crate::perturbation::coalition_strata::sample_stratified;
pub use crate::perturbation::coalition_strata::CoalitionSampling;
use crate::perturbation::coalitions::{enumerate, sample_kernel, Design};
use crate::perturbation::lstsq::weighted_least_squares;
use crate::perturbation::stack_rows;
use crate::rng::seeded;
use crate::scorer::Scorer;
use crate::validate::{
    at_least, at_most, cells, check_scorer_input, check_working_memory, sample_shape,
};

const NAME: &str = "kernel_shap";

/// The regression weight of the full and the empty coalition without the efficiency
/// constraint (Captum's `inf_weight`).
pub const END_POINT_WEIGHT: f64 = 1e6;

/// Unchecked settings of [`KernelShap`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KernelShapParams {
    n_samples: usize,
    efficiency: bool,
    paired: bool,
    seed: u64,
    sampling: CoalitionSampling,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl Default for KernelShapParams {
    fn default() -> Self {
        KernelShapParams {
            n_samples: 200,
            efficiency: true,
            paired: true,
            seed: 0,
            sampling: CoalitionSampling::default(),
            batching: Batching::default(),
            unknown: UnknownKeys::default(),
        }
    }
}

impl KernelShapParams {
    /// Evaluated coalitions per sample, the full and empty ones included (default 200;
    /// Captum's default is 25; at least 3, at most [`KernelShap::MAX_SAMPLES`]).
    pub fn n_samples(mut self, n: usize) -> Self {
        self.n_samples = n;
        self
    }

    /// Whether the attributions must sum exactly to `v(1) − v(0)` (default `true`).
    pub fn efficiency(mut self, on: bool) -> Self {
        self.efficiency = on;
        self
    }

    /// Whether each sampled coalition is paired with its complement (default `true`;
    /// only [`CoalitionSampling::Independent`] draws unpaired, the stratified designs
    /// always pair).
    pub fn paired(mut self, on: bool) -> Self {
        self.paired = on;
        self
    }

    /// How coalitions are chosen when not all `2^M` fit in `n_samples` (default
    /// [`CoalitionSampling::StratifiedLeverage`]; Captum's sampler is
    /// [`CoalitionSampling::Independent`] with `paired(false)` and `efficiency(false)`).
    pub fn sampling(mut self, sampling: CoalitionSampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<KernelShap> {
        self.unknown.reject(NAME)?;
        at_least(NAME, "n_samples", self.n_samples, 3)?;
        at_most(
            NAME,
            "n_samples",
            self.n_samples,
            KernelShap::MAX_SAMPLES,
            "each coalition is a row of the design and of the fit, and a forward pass per sample",
        )?;
        self.batching.check(NAME)?;
        Ok(KernelShap {
            params: self.clone(),
        })
    }
}

/// Kernel SHAP (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "KernelShapParams", into = "KernelShapParams")]
pub struct KernelShap {
    params: KernelShapParams,
}

impl KernelShap {
    /// The most coalitions [`KernelShapParams::n_samples`] may ask for: each is a row of the
    /// design and of the weighted fit, and one forward pass per sample (10⁶ coalitions of 38
    /// groups hold about 650 MB of design and fit; how many groups there are is checked
    /// against [`crate::validate::MAX_WORKING_BYTES`] when the method runs).
    pub const MAX_SAMPLES: usize = 1_000_000;

    /// Default settings to adjust and [`KernelShapParams::check`].
    pub fn params() -> KernelShapParams {
        KernelShapParams::default()
    }

    /// Evaluated coalitions per sample.
    pub fn n_samples(&self) -> usize {
        self.params.n_samples
    }

    /// Whether the efficiency constraint is imposed.
    pub fn efficiency(&self) -> bool {
        self.params.efficiency
    }

    /// Whether sampled coalitions are paired with their complements.
    pub fn paired(&self) -> bool {
        self.params.paired
    }

    /// How coalitions are chosen.
    pub fn sampling(&self) -> CoalitionSampling {
        self.params.sampling
    }

    /// The coalitions evaluated for `m` groups (without the full and the empty one).
    fn design(&self, m: usize) -> Design {
        let draws = self.coalitions(m);
        if m < 31 && (1usize << m) - 2 <= self.params.n_samples - 2 {
            enumerate(m)
        } else {
            let mut rng = seeded(self.params.seed);
            match self.params.sampling {
                CoalitionSampling::Independent => {
                    sample_kernel(m, draws, self.params.paired, &mut rng)
                }
                stratified => sample_stratified(m, draws, stratified, &mut rng),
            }
        }
    }

    /// How many coalitions the design for `m` groups holds (without the full and the
    /// empty one): all `2^m − 2` when they fit in `n_samples`, else `n_samples − 2`.
    fn coalitions(&self, m: usize) -> usize {
        let draws = self.params.n_samples - 2;
        if m < 31 && (1usize << m) - 2 <= draws {
            (1usize << m) - 2
        } else {
            draws
        }
    }

    /// Checks, before anything is allocated, that the design and the fit for `m` groups
    /// and `b` samples fit in [`crate::validate::MAX_WORKING_BYTES`]: per coalition, `m`
    /// design entries (a flag, its `i64` copy, its `f64` regression row) and `b` values.
    fn check_memory(&self, m: usize, b: usize) -> Result<()> {
        let c = self.coalitions(m) as u64;
        let per_row = (m as u64)
            .checked_mul(17)
            .and_then(|d| d.checked_add((b as u64).checked_mul(16)?));
        check_working_memory(
            NAME,
            "n_samples",
            self.params.n_samples,
            per_row.and_then(|r| r.checked_mul(c)),
            &format!("the design and fit of {c} coalitions of {m} groups for {b} sample(s)"),
        )
    }

    /// Solves for `φ` (`M × B`, row-major) from coalition values `v` (`C × B`).
    fn solve(
        &self,
        design: &Design,
        v: &[f64],
        v_full: &[f64],
        v_empty: &[f64],
    ) -> Result<Vec<f64>> {
        let (m, c, b) = (design.m, design.len(), v_full.len());
        if self.params.efficiency {
            // φ_M = Δ − Σ_{j<M} φ_j turns the fit into one over z_j − z_M, j < M.
            let p = m - 1;
            let mut x = Vec::with_capacity(c * p);
            let mut y = Vec::with_capacity(c * b);
            for i in 0..c {
                let z = &design.z[i * m..(i + 1) * m];
                let last = f64::from(u8::from(z[m - 1]));
                x.extend(z[..p].iter().map(|&v| f64::from(u8::from(v)) - last));
                for s in 0..b {
                    y.push(v[i * b + s] - v_empty[s] - last * (v_full[s] - v_empty[s]));
                }
            }
            let beta = weighted_least_squares(&x, &design.weights, &y, p, b)?.beta;
            let mut phi = beta;
            for s in 0..b {
                let sum: f64 = (0..p).map(|j| phi[j * b + s]).sum();
                phi.push(v_full[s] - v_empty[s] - sum);
            }
            Ok(phi)
        } else {
            let p = m + 1;
            let mut x = Vec::with_capacity((c + 2) * p);
            let mut y = Vec::with_capacity((c + 2) * b);
            let mut w = Vec::with_capacity(c + 2);
            x.push(1.0);
            x.extend(std::iter::repeat_n(1.0, m));
            y.extend_from_slice(v_full);
            w.push(END_POINT_WEIGHT);
            x.push(1.0);
            x.extend(std::iter::repeat_n(0.0, m));
            y.extend_from_slice(v_empty);
            w.push(END_POINT_WEIGHT);
            for i in 0..c {
                x.push(1.0);
                x.extend(
                    design.z[i * m..(i + 1) * m]
                        .iter()
                        .map(|&v| f64::from(u8::from(v))),
                );
                y.extend_from_slice(&v[i * b..(i + 1) * b]);
                w.push(design.weights[i]);
            }
            let beta = weighted_least_squares(&x, &w, &y, p, b)?.beta;
            Ok(beta[b..].to_vec())
        }
    }
}

method_params!(KernelShap, KernelShapParams, seeded);

impl<S: Scorer + ?Sized> Attribution<S> for KernelShap {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Perturbation
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        if groups.is_per_example() && groups.has_absent_group()? {
            // One design (and one efficiency constraint) serves every sample; a group that
            // some example lacks would be fitted as a column of noise there and take a
            // share of that example's total.
            return Err(XaiError::InvalidMask {
                reason: format!(
                    "{NAME} takes one mask per example only when every example uses all {} \
                     groups; give each example its own call, or renumber",
                    groups.n()
                ),
            });
        }
        let (b, m, shape, n_cells) = (x.size()[0], groups.n(), sample_shape(x), cells(x));
        if m > 1 {
            self.check_memory(m as usize, b as usize)?;
        }
        let device = x.device();
        let flat_x = x.f_reshape([b, n_cells])?;
        let engine = Engine::new(model, NAME, self.params.batching);
        let f_x = engine.eval_batch(x)?;
        let (refs, shared) = match req.baseline.references(x, NAME)? {
            References::PerSample(r) => (r.f_reshape([b, n_cells])?, false),
            References::Shared(d) => (d.f_reshape([d.size()[0], n_cells])?, true),
        };
        let per_value = if shared { refs.size()[0] } else { 1 };
        let n_refs = refs.size()[0];
        let ref_rows = |copies: i64| -> Result<Tensor> {
            let mut s = vec![n_refs * copies];
            s.extend_from_slice(&shape);
            Ok(refs.f_repeat([copies, 1])?.f_reshape(&s)?)
        };
        let f_empty = if !shared {
            engine.eval_batch(&ref_rows(1)?)?
        } else if model.per_sample() {
            // Each sample's own score of the background set: sample-major rows.
            let samples = Tensor::f_arange(b, (Kind::Int64, device))?
                .f_repeat_interleave_self_int(n_refs, 0, None)?;
            engine
                .eval(&ref_rows(b)?, &samples)?
                .f_reshape([b, n_refs])?
                .f_mean_dim(1, false, x.kind())?
        } else {
            let f_refs = engine.eval(
                &ref_rows(1)?,
                &Tensor::f_zeros([n_refs], (Kind::Int64, device))?,
            )?;
            f_refs.f_mean(f_refs.kind())?.f_expand([b], false)?
        };
        let (v_full, v_empty) = (tensor_to_f64s(&f_x)?, tensor_to_f64s(&f_empty)?);
        let phi = if m == 1 {
            v_full.iter().zip(&v_empty).map(|(a, e)| a - e).collect()
        } else {
            let design = self.design(m as usize);
            let c = design.len() as i64;
            let z: Vec<i64> = design.z.iter().map(|&v| i64::from(v)).collect();
            let z = Tensor::f_from_slice(&z)?
                .f_reshape([c, m])?
                .f_to_device(device)?
                .f_to_kind(Kind::Bool)?;
            // Job j = coalition j / B for sample j % B; its rows are the background set.
            let mut values = Vec::new();
            engine.run(
                c * b,
                per_value,
                |jobs| {
                    let j = Tensor::f_arange_start(jobs.start, jobs.end, (Kind::Int64, device))?;
                    let sample = j.f_remainder(b)?;
                    let present = groups.present_for(
                        &z.f_index_select(0, &j.f_floor_divide_scalar(b)?)?,
                        &sample,
                    )?;
                    let inputs = flat_x.f_index_select(0, &sample)?.f_unsqueeze(1)?;
                    let others = if shared {
                        refs.f_unsqueeze(0)?
                    } else {
                        refs.f_index_select(0, &sample)?.f_unsqueeze(1)?
                    };
                    let rows = stack_rows(&present.f_unsqueeze(1)?, &inputs, &others, &shape)?;
                    Ok((
                        rows,
                        sample.f_repeat_interleave_self_int(per_value, 0, None)?,
                    ))
                },
                |_, scores| {
                    values.push(scores.f_mean_dim(1, false, scores.kind())?);
                    Ok(())
                },
            )?;
            let v = tensor_to_f64s(&Tensor::f_cat(&values, 0)?)?;
            self.solve(&design, &v, &v_full, &v_empty)?
        };
        let phi = Tensor::f_from_slice(&phi)?
            .f_reshape([m, b])?
            .f_transpose(0, 1)?
            .f_to_kind(x.kind())?
            .f_to_device(device)?;
        let forward_evals = (engine.rows() + b - 1) / b;
        Ok(Attributions {
            scores: groups.expand(&phi)?,
            delta: None,
            forward_evals: forward_evals as usize,
            backward_evals: 0,
        })
    }
}
