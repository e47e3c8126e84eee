//! Feature Ablation: replace one group at a time by the baseline.
//!
//! `a_g = f(x) − f(x with group g set to x')`, given to every cell of group `g` (Captum's
//! convention). Without a mask every cell is its own group. Exact for additive scorers:
//! for `f(x) = w·x` it is `(x − x')·w`. The baseline comes from the request (a
//! distribution is replaced by its mean).
//!
//! Cost per sample: `1 + G` forward passes (`G` groups), `batch_size` rows per call.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::engine::{batch_samples, Engine};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::params::{Batching, UnknownKeys};
use crate::perturbation::stack_rows;
use crate::scorer::Scorer;
use crate::validate::{cells, check_scorer_input, sample_shape};

const NAME: &str = "feature_ablation";

/// Unchecked settings of [`FeatureAblation`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureAblationParams {
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl FeatureAblationParams {
    /// Checks the settings.
    pub fn check(&self) -> Result<FeatureAblation> {
        self.unknown.reject(NAME)?;
        self.batching.check(NAME)?;
        Ok(FeatureAblation {
            params: self.clone(),
        })
    }
}

/// Feature Ablation (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "FeatureAblationParams", into = "FeatureAblationParams")]
pub struct FeatureAblation {
    params: FeatureAblationParams,
}

impl FeatureAblation {
    /// Default settings to adjust and [`FeatureAblationParams::check`].
    pub fn params() -> FeatureAblationParams {
        FeatureAblationParams::default()
    }
}

method_params!(FeatureAblation, FeatureAblationParams);

impl<S: Scorer + ?Sized> Attribution<S> for FeatureAblation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Perturbation
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let (b, n, shape) = (x.size()[0], groups.n(), sample_shape(x));
        let flat_x = x.f_reshape([1, b, cells(x)])?;
        let flat_ref = req
            .baseline
            .reference(x, NAME)?
            .f_reshape([1, b, cells(x)])?;
        let engine = Engine::new(model, NAME, self.params.batching);
        let f_x = engine.eval_batch(x)?;
        let mut effects = Vec::new();
        engine.run(
            n,
            b,
            |jobs| {
                let k = jobs.end - jobs.start;
                let ablated = groups.members(jobs.start, k)?;
                let rows = stack_rows(&ablated, &flat_ref, &flat_x, &shape)?;
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
