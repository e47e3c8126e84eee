//! Input × Gradient: `a_i = x_i · ∂f/∂x_i`.
//!
//! As in Captum, the input itself multiplies the gradient (not `x − baseline`; the
//! request's baseline is not used). For a linear scorer `f(x) = w·x` this is `x ∘ w`,
//! which equals Integrated Gradients from a zero baseline. One forward and one backward
//! pass per sample. With a feature mask, every cell carries its group's sum.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::gradient::backprop::require_gradients;
use crate::gradient::saliency::gradients;
use crate::params::{Batching, UnknownKeys};
use crate::scorer::Scorer;
use crate::validate::check_scorer_input;

const NAME: &str = "input_x_gradient";

/// Unchecked settings of [`InputXGradient`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputXGradientParams {
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl InputXGradientParams {
    /// Checks the settings.
    pub fn check(&self) -> Result<InputXGradient> {
        self.unknown.reject(NAME)?;
        self.batching.check(NAME)?;
        Ok(InputXGradient {
            params: self.clone(),
        })
    }
}

/// Input times gradient (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "InputXGradientParams", into = "InputXGradientParams")]
pub struct InputXGradient {
    params: InputXGradientParams,
}

impl InputXGradient {
    /// Default settings to adjust and [`InputXGradientParams::check`].
    pub fn params() -> InputXGradientParams {
        InputXGradientParams::default()
    }
}

method_params!(InputXGradient, InputXGradientParams);

impl<S: Scorer + ?Sized> Attribution<S> for InputXGradient {
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
        check_scorer_input(NAME, model, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let grad = gradients(model, NAME, x, self.params.batching)?;
        Ok(Attributions {
            scores: groups.group_cells(&grad.f_mul(x)?)?,
            delta: None,
            forward_evals: 1,
            backward_evals: 1,
        })
    }
}
