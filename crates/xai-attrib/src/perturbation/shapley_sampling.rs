//! Shapley Value Sampling (Castro et al. 2009; Captum's `ShapleyValueSampling`).
//!
//! The Shapley value of group `g` is its marginal contribution averaged over all orders
//! in which groups can be added to the baseline:
//!
//! ```text
//! φ_g = E_π [ f(x_{pre_π(g) ∪ {g}}) − f(x_{pre_π(g)}) ],
//! ```
//!
//! where `x_S` takes the cells of the groups in `S` from `x` and the others from the
//! baseline `x'`. Each of `n_permutations` random permutations walks from `x'` to `x`,
//! adding one group at a time; all its prefixes are evaluated in one batch (and several
//! permutations share a batch when `batch_size` allows). The permutations are shared by
//! all samples of a batch (as in Captum), so a sample's attribution does not depend on
//! what it is batched with. The estimate is unbiased and satisfies efficiency exactly:
//! `Σ_g φ_g = f(x) − f(x')` for every number of permutations. For an additive scorer it
//! is exact with a single permutation.
//!
//! Cost per sample: `2 + n_permutations · (G − 1)` forward passes (the full prefix is
//! `x` itself, evaluated once). The baseline comes from the request (a distribution is
//! replaced by its mean).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::engine::{batch_samples, Engine};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::params::{Batching, UnknownKeys};
use crate::perturbation::stack_rows;
use crate::rng::{permutation, seeded};
use crate::scorer::Scorer;
use crate::validate::{
    at_least, at_most, cells, check_scorer_input, check_working_memory, sample_shape,
};

const NAME: &str = "shapley_value_sampling";

/// Unchecked settings of [`ShapleyValueSampling`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShapleyValueSamplingParams {
    n_permutations: usize,
    seed: u64,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl Default for ShapleyValueSamplingParams {
    fn default() -> Self {
        ShapleyValueSamplingParams {
            n_permutations: 25,
            seed: 0,
            batching: Batching::default(),
            unknown: UnknownKeys::default(),
        }
    }
}

impl ShapleyValueSamplingParams {
    /// Random permutations (Captum's `n_samples`; default 25, at least 1, at most
    /// [`ShapleyValueSampling::MAX_PERMUTATIONS`]).
    pub fn n_permutations(mut self, n: usize) -> Self {
        self.n_permutations = n;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<ShapleyValueSampling> {
        self.unknown.reject(NAME)?;
        at_least(NAME, "n_permutations", self.n_permutations, 1)?;
        at_most(
            NAME,
            "n_permutations",
            self.n_permutations,
            ShapleyValueSampling::MAX_PERMUTATIONS,
            "each permutation is G − 1 forward passes per sample for G groups",
        )?;
        self.batching.check(NAME)?;
        Ok(ShapleyValueSampling {
            params: self.clone(),
        })
    }
}

/// Shapley Value Sampling (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "ShapleyValueSamplingParams",
    into = "ShapleyValueSamplingParams"
)]
pub struct ShapleyValueSampling {
    params: ShapleyValueSamplingParams,
}

impl ShapleyValueSampling {
    /// The most permutations [`ShapleyValueSamplingParams::n_permutations`] may ask for: each
    /// is `G − 1` forward passes per sample for `G` groups (10⁵ permutations of 38 groups are
    /// 3.7 million passes per sample); the permutations and walks kept for the average are
    /// checked against [`crate::validate::MAX_WORKING_BYTES`] when the method runs.
    pub const MAX_PERMUTATIONS: usize = 100_000;

    /// Default settings to adjust and [`ShapleyValueSamplingParams::check`].
    pub fn params() -> ShapleyValueSamplingParams {
        ShapleyValueSamplingParams::default()
    }

    /// Random permutations.
    pub fn n_permutations(&self) -> usize {
        self.params.n_permutations
    }
}

method_params!(ShapleyValueSampling, ShapleyValueSamplingParams, seeded);

impl<S: Scorer + ?Sized> Attribution<S> for ShapleyValueSampling {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Perturbation
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let (b, n, shape, n_cells) = (x.size()[0], groups.n(), sample_shape(x), cells(x));
        let device = x.device();
        let flat_x = x.f_reshape([1, b, n_cells])?;
        let reference = req.baseline.reference(x, NAME)?;
        let flat_ref = reference.f_reshape([1, b, n_cells])?;
        let n_perm = self.params.n_permutations as i64;
        // Per permutation: its order, ranks and group order (i64 each, per group), and
        // its walk of G + 1 scores per sample, twice (the scores and their steps).
        let per_perm = (n as u64)
            .checked_mul(24)
            .and_then(|p| p.checked_add((n as u64 + 1).checked_mul(b as u64)?.checked_mul(16)?));
        check_working_memory(
            NAME,
            "n_permutations",
            self.params.n_permutations,
            per_perm.and_then(|p| p.checked_mul(n_perm as u64)),
            &format!("{n_perm} permutations of {n} groups for {b} sample(s)"),
        )?;
        let mut rng = seeded(self.params.seed);
        let perms: Vec<Vec<i64>> = (0..n_perm)
            .map(|_| permutation(&mut rng, n as usize))
            .collect();
        // rank[p][g] = position of group g in permutation p.
        let mut rank = vec![0i64; (n_perm * n) as usize];
        for (p, perm) in perms.iter().enumerate() {
            for (pos, &g) in perm.iter().enumerate() {
                rank[p * n as usize + g as usize] = pos as i64;
            }
        }
        let rank = Tensor::f_from_slice(&rank)?
            .f_reshape([n_perm, n])?
            .f_to_device(device)?;
        let engine = Engine::new(model, NAME, self.params.batching);
        let (f_ref, f_x) = engine.eval_ends(&reference, x)?;
        // Job j is prefix length k = j % (G − 1) + 1 of permutation j / (G − 1).
        let inner = n - 1;
        let mut prefix_scores = Vec::new();
        engine.run(
            n_perm * inner,
            b,
            |jobs| {
                let j = Tensor::f_arange_start(jobs.start, jobs.end, (Kind::Int64, device))?;
                let p = j.f_floor_divide_scalar(inner)?;
                let k = j.f_remainder(inner)?.f_add_scalar(1)?;
                let cell_rank = groups.present(&rank.f_index_select(0, &p)?)?;
                let present = cell_rank.f_lt_tensor(&k.f_reshape([-1, 1, 1])?)?;
                let rows = stack_rows(&present, &flat_x, &flat_ref, &shape)?;
                Ok((rows, batch_samples(b, jobs.end - jobs.start, device)?))
            },
            |_, scores| {
                prefix_scores.push(scores.shallow_clone());
                Ok(())
            },
        )?;
        // Per permutation: f at prefixes 0..=G, i.e. f(x'), the inner prefixes, f(x).
        let inner_scores = if inner > 0 {
            Tensor::f_cat(&prefix_scores, 0)?.f_reshape([n_perm, inner, b])?
        } else {
            Tensor::f_zeros([n_perm, 0, b], (x.kind(), device))?
        };
        let walk = Tensor::f_cat(
            &[
                f_ref
                    .f_unsqueeze(0)?
                    .f_unsqueeze(0)?
                    .f_expand([n_perm, 1, b], false)?,
                inner_scores,
                f_x.f_unsqueeze(0)?
                    .f_unsqueeze(0)?
                    .f_expand([n_perm, 1, b], false)?,
            ],
            1,
        )?;
        let steps = walk.f_narrow(1, 1, n)?.f_sub(&walk.f_narrow(1, 0, n)?)?;
        // steps[p, k] is the contribution of group perms[p][k].
        let order: Vec<i64> = perms.concat();
        let order = Tensor::f_from_slice(&order)?.f_to_device(device)?;
        let totals = Tensor::f_zeros([n, b], (x.kind(), device))?.f_index_add(
            0,
            &order,
            &steps.f_reshape([n_perm * n, b])?,
        )?;
        let phi = totals.f_div_scalar(n_perm as f64)?.f_transpose(0, 1)?;
        Ok(Attributions {
            scores: groups.expand(&phi)?,
            delta: None,
            forward_evals: 2 + (n_perm * inner) as usize,
            backward_evals: 0,
        })
    }
}
