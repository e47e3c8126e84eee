//! The attention read-out of [`AttentionLstmAe`] (paper 1's attention-based baseline):
//! the feature-attention weights the model computes for its own input, read as
//! importances.
//!
//! Every cell `(t, f)` gets the softmax weight of sensor `f` at step `t`
//! ([`AttentionLstmAe::attention_per_step`]); each time step's weights sum to one. With a
//! per-sensor mask every cell carries the group mean, which is the model's per-sensor
//! attention averaged over the window ([`AttentionLstmAe::attention`]). Attention is read,
//! not attributed: it says where the model looks, not what raises the error.
//!
//! Cost per sample: one evaluation of the attention layer (not of the whole model), no
//! backward pass.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use ae_models::AttentionLstmAe;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::error_scorer::ErrorScorer;
use crate::feature_mask::Groups;
use crate::validate::check_batch;

const NAME: &str = "attention";

/// Reads the attention weights of an [`AttentionLstmAe`] (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttentionReadout;

impl AttentionReadout {
    fn run(model: &AttentionLstmAe, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_batch(NAME, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let _guard = tch::no_grad_guard();
        let weights = model.attention_per_step(x)?.f_to_kind(x.kind())?;
        let scores = groups.mean_cells(&weights)?;
        Ok(Attributions {
            scores,
            delta: None,
            forward_evals: 1,
            backward_evals: 0,
        })
    }
}

impl Attribution<AttentionLstmAe> for AttentionReadout {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Readout
    }

    fn attribute(
        &self,
        model: &AttentionLstmAe,
        x: &Tensor,
        req: &Request,
    ) -> Result<Attributions> {
        AttentionReadout::run(model, x, req)
    }
}

impl Attribution<ErrorScorer<'_, AttentionLstmAe>> for AttentionReadout {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Readout
    }

    fn attribute(
        &self,
        model: &ErrorScorer<'_, AttentionLstmAe>,
        x: &Tensor,
        req: &Request,
    ) -> Result<Attributions> {
        AttentionReadout::run(model.detector(), x, req)
    }
}
