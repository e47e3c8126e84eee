//! Feature Permutation (Fisher et al. 2019; Captum's `FeaturePermutation`): shuffle one
//! group across the samples of the batch and credit the change of each sample's score.
//!
//! For group `g` a random permutation `π_g` of the batch (never the identity) is drawn;
//! `a_g(x_b) = f(x_b) − f(x_b with group g taken from x_{π_g(b)})`, on every cell of the
//! group. The baseline is not used: the batch itself is the reference distribution, so
//! the method needs at least two samples (as in Captum, which asserts the same), and its
//! results depend on which samples are batched together.
//!
//! Cost per sample: `1 + G` forward passes, `batch_size` rows per call. Randomness: one
//! permutation per group from a ChaCha8 stream seeded by `seed`.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::engine::{batch_samples, Engine};
use crate::error::{Result, XaiError};
use crate::feature_mask::Groups;
use crate::params::{Batching, UnknownKeys};
use crate::perturbation::stack_rows;
use crate::rng::{permutation, seeded};
use crate::scorer::Scorer;
use crate::validate::{cells, check_scorer_input, sample_shape};

const NAME: &str = "feature_permutation";

/// Unchecked settings of [`FeaturePermutation`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeaturePermutationParams {
    seed: u64,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl FeaturePermutationParams {
    /// Checks the settings.
    pub fn check(&self) -> Result<FeaturePermutation> {
        self.unknown.reject(NAME)?;
        self.batching.check(NAME)?;
        Ok(FeaturePermutation {
            params: self.clone(),
        })
    }
}

/// Feature Permutation (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "FeaturePermutationParams",
    into = "FeaturePermutationParams"
)]
pub struct FeaturePermutation {
    params: FeaturePermutationParams,
}

impl FeaturePermutation {
    /// Default settings to adjust and [`FeaturePermutationParams::check`].
    pub fn params() -> FeaturePermutationParams {
        FeaturePermutationParams::default()
    }
}

method_params!(FeaturePermutation, FeaturePermutationParams, seeded);

impl<S: Scorer + ?Sized> Attribution<S> for FeaturePermutation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Perturbation
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let b = x.size()[0];
        if b < 2 {
            return Err(XaiError::InvalidInput {
                what: format!("{NAME} input of shape {:?}", x.size()),
                reason: "permuting within the batch needs at least 2 samples".into(),
            });
        }
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let (n, shape, n_cells) = (groups.n(), sample_shape(x), cells(x));
        let mut rng = seeded(self.params.seed);
        let identity: Vec<i64> = (0..b).collect();
        let mut perms = Vec::with_capacity((n * b) as usize);
        for _ in 0..n {
            let mut p = permutation(&mut rng, b as usize);
            while p == identity {
                p = permutation(&mut rng, b as usize);
            }
            perms.extend(p);
        }
        let perms = Tensor::f_from_slice(&perms)?.f_to_device(x.device())?;
        let flat = x.f_reshape([b, n_cells])?;
        let engine = Engine::new(model, NAME, self.params.batching);
        let f_x = engine.eval_batch(x)?;
        let mut effects = Vec::new();
        engine.run(
            n,
            b,
            |jobs| {
                let k = jobs.end - jobs.start;
                let order = perms.f_narrow(0, jobs.start * b, k * b)?;
                let shuffled = flat.f_index_select(0, &order)?.f_reshape([k, b, n_cells])?;
                let permuted = groups.members(jobs.start, k)?;
                let rows = stack_rows(&permuted, &shuffled, &flat.f_unsqueeze(0)?, &shape)?;
                Ok((rows, batch_samples(b, k, x.device())?))
            },
            |_, scores| {
                effects.push(f_x.f_unsqueeze(0)?.f_sub(scores)?);
                Ok(())
            },
        )?;
        let effects = Tensor::f_cat(&effects, 0)?.f_transpose(0, 1)?;
        Ok(Attributions {
            scores: groups.expand(&effects)?,
            delta: None,
            forward_evals: 1 + n as usize,
            backward_evals: 0,
        })
    }
}
