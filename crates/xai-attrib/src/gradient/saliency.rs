//! Saliency: the gradient of the score with respect to the input.
//!
//! `a_i = |∂f/∂x_i|` (or the signed gradient with `abs = false`). Captum's default is
//! the absolute value, kept here. One forward and one backward pass per sample; the
//! baseline is not used. With a feature mask, every cell carries its group's sum.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::gradient::backprop::{for_each_gradient, require_gradients};
use crate::scorer::Scorer;
use crate::validate::{at_least, check_batch, DEFAULT_BATCH_SIZE};

const NAME: &str = "saliency";

/// Unchecked settings of [`Saliency`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SaliencyParams {
    abs: bool,
    batch_size: usize,
}

impl Default for SaliencyParams {
    fn default() -> Self {
        SaliencyParams {
            abs: true,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

impl SaliencyParams {
    /// Whether to return `|gradient|` (default `true`, as Captum).
    pub fn abs(mut self, abs: bool) -> Self {
        self.abs = abs;
        self
    }

    /// Rows per forward/backward pass (default 512, at least 1).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<Saliency> {
        at_least(NAME, "batch_size", self.batch_size, 1)?;
        Ok(Saliency {
            abs: self.abs,
            batch_size: self.batch_size,
        })
    }
}

/// The gradient of the score (see the module docs).
///
/// ```
/// use tch::{Kind, Tensor};
/// use xai_attrib::{Attribution, FnScorer, Request, Saliency};
/// let w = Tensor::from_slice(&[2.0f32, -3.0]);
/// let f = FnScorer::new("w·x", move |x: &Tensor| Ok(x.f_mul(&w)?.f_sum_dim_intlist(1, false, Kind::Float)?));
/// let a = Saliency::default().attribute(&f, &Tensor::ones([1, 2], (Kind::Float, tch::Device::Cpu)), &Request::default())?;
/// assert_eq!(Vec::<f32>::try_from(a.scores.flatten(0, -1)).unwrap(), vec![2.0, 3.0]);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SaliencyParams", into = "SaliencyParams")]
pub struct Saliency {
    abs: bool,
    batch_size: usize,
}

impl Saliency {
    /// Default settings to adjust and [`SaliencyParams::check`].
    pub fn params() -> SaliencyParams {
        SaliencyParams::default()
    }

    /// Whether the absolute gradient is returned.
    pub fn abs(&self) -> bool {
        self.abs
    }

    /// Rows per forward/backward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}

impl Default for Saliency {
    fn default() -> Self {
        Saliency {
            abs: true,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

checked_params!(Saliency, SaliencyParams, manual_from);

impl From<Saliency> for SaliencyParams {
    fn from(m: Saliency) -> Self {
        SaliencyParams {
            abs: m.abs,
            batch_size: m.batch_size,
        }
    }
}

impl<S: Scorer + ?Sized> Attribution<S> for Saliency {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Gradient
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_batch(NAME, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let grad = gradients(model, NAME, x, self.batch_size)?;
        let grad = if self.abs { grad.f_abs()? } else { grad };
        Ok(Attributions {
            scores: groups.group_cells(&grad)?,
            delta: None,
            forward_evals: 1,
            backward_evals: 1,
        })
    }
}

/// `∂f/∂x` for every sample of `x`, `[B, ..]`.
pub(crate) fn gradients<S: Scorer + ?Sized>(
    model: &S,
    method: &'static str,
    x: &Tensor,
    batch_size: usize,
) -> Result<Tensor> {
    let mut parts = Vec::new();
    for_each_gradient(
        model,
        method,
        x.size()[0],
        batch_size,
        |start, len| Ok(x.f_narrow(0, start, len)?),
        |_, _, _, g| {
            parts.push(g.shallow_clone());
            Ok(())
        },
    )?;
    Ok(Tensor::f_cat(&parts, 0)?)
}
