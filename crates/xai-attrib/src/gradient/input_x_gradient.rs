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
use crate::scorer::Scorer;
use crate::validate::{at_least, check_batch, DEFAULT_BATCH_SIZE};

const NAME: &str = "input_x_gradient";

/// Unchecked settings of [`InputXGradient`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputXGradientParams {
    batch_size: usize,
}

impl Default for InputXGradientParams {
    fn default() -> Self {
        InputXGradientParams {
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

impl InputXGradientParams {
    /// Rows per forward/backward pass (default 512, at least 1).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<InputXGradient> {
        at_least(NAME, "batch_size", self.batch_size, 1)?;
        Ok(InputXGradient {
            batch_size: self.batch_size,
        })
    }
}

/// Input times gradient (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InputXGradientParams", into = "InputXGradientParams")]
pub struct InputXGradient {
    batch_size: usize,
}

impl InputXGradient {
    /// Default settings to adjust and [`InputXGradientParams::check`].
    pub fn params() -> InputXGradientParams {
        InputXGradientParams::default()
    }

    /// Rows per forward/backward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}

impl Default for InputXGradient {
    fn default() -> Self {
        InputXGradient {
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

checked_params!(InputXGradient, InputXGradientParams, manual_from);

impl From<InputXGradient> for InputXGradientParams {
    fn from(m: InputXGradient) -> Self {
        InputXGradientParams {
            batch_size: m.batch_size,
        }
    }
}

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
        check_batch(NAME, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let grad = gradients(model, NAME, x, self.batch_size)?;
        Ok(Attributions {
            scores: groups.group_cells(&grad.f_mul(x)?)?,
            delta: None,
            forward_evals: 1,
            backward_evals: 1,
        })
    }
}
