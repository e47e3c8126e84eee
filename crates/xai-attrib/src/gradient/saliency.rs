//! Saliency: the gradient of the score with respect to the input.
//!
//! `a_i = |∂f/∂x_i|` (or the signed gradient with `abs = false`). Captum's default is
//! the absolute value, kept here. One forward and one backward pass per sample; the
//! baseline is not used. With a feature mask, every cell carries its group's sum.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::gradient::backprop::{for_each_gradient, require_gradients};
use crate::params::{Batching, UnknownKeys};
use crate::scorer::Scorer;
use crate::validate::check_scorer_input;

const NAME: &str = "saliency";

/// Unchecked settings of [`Saliency`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SaliencyParams {
    abs: bool,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl Default for SaliencyParams {
    fn default() -> Self {
        SaliencyParams {
            abs: true,
            batching: Batching::default(),
            unknown: UnknownKeys::default(),
        }
    }
}

impl SaliencyParams {
    /// Whether to return `|gradient|` (default `true`, as Captum).
    pub fn abs(mut self, abs: bool) -> Self {
        self.abs = abs;
        self
    }

    /// Checks the settings.
    pub fn check(&self) -> Result<Saliency> {
        self.unknown.reject(NAME)?;
        self.batching.check(NAME)?;
        Ok(Saliency {
            params: self.clone(),
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
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "SaliencyParams", into = "SaliencyParams")]
pub struct Saliency {
    params: SaliencyParams,
}

impl Saliency {
    /// Default settings to adjust and [`SaliencyParams::check`].
    pub fn params() -> SaliencyParams {
        SaliencyParams::default()
    }

    /// Whether the absolute gradient is returned.
    pub fn abs(&self) -> bool {
        self.params.abs
    }
}

method_params!(Saliency, SaliencyParams);

impl<S: Scorer + ?Sized> Attribution<S> for Saliency {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Gradient
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        require_gradients(NAME, model)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let grad = gradients(model, NAME, x, self.params.batching)?;
        let grad = if self.params.abs { grad.f_abs()? } else { grad };
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
    batching: Batching,
) -> Result<Tensor> {
    let mut parts = Vec::new();
    for_each_gradient(
        model,
        method,
        x.size()[0],
        batching,
        |start, len| {
            let samples = Tensor::f_arange_start(start, start + len, (Kind::Int64, x.device()))?;
            Ok((x.f_narrow(0, start, len)?, samples))
        },
        |_, _, _, g| {
            parts.push(g.shallow_clone());
            Ok(())
        },
    )?;
    Ok(Tensor::f_cat(&parts, 0)?)
}
