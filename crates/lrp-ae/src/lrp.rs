//! The method: seed the reconstruction error on the output layer, propagate it to the
//! input. One recording forward pass and one backward sweep per batch.

use std::sync::Arc;

use ae_models::convert::tensor_to_f64s;
use ae_models::explained_error::per_sample_sum;
use ae_models::layer::forward_recording;
use ae_models::{ExplainedError, LayerModel};
use serde::{Deserialize, Serialize};
use tch::Tensor;
use xai_attrib::{Attribution, Attributions, Baseline, Family, Request};

use crate::composite::Composite;
use crate::deviation::{explain_deviation, DeviationExplanation, Root, RootPoint};
use crate::error::{check_finite, checked_input, LrpError, Result};
use crate::presets::Preset;
use crate::propagate::{propagate, resolve_rules, LrpTrace};
use crate::seed::output_relevance;

/// The serialisable settings of an [`Lrp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrpConfig {
    /// Which error is explained (its norm picks the Deep-Taylor seed).
    pub error: ExplainedError,
    /// Which rule goes to which layer.
    pub preset: Preset,
}

impl LrpConfig {
    /// Builds the method, checking the preset's parameters.
    pub fn build(&self) -> Result<Lrp> {
        Lrp::new(self.error.clone(), self.preset)
    }
}

/// Layer-wise relevance propagation of an autoencoder's reconstruction error (paper 2).
///
/// ```
/// use ae_models::{Activation, LayerModel, ErrorNorm, Layer};
/// use lrp_ae::{Lrp, Preset};
/// use tch::{Device, Tensor};
///
/// struct Tiny(Vec<Layer>);
/// impl LayerModel for Tiny {
///     fn sample_shape(&self) -> Vec<i64> { vec![2] }
///     fn layers(&self) -> &[Layer] { &self.0 }
///     fn device(&self) -> Device { Device::Cpu }
/// }
/// let w = |v: &[f64]| Tensor::from_slice(v).reshape([2, 2]);
/// let ae = Tiny(vec![
///     Layer::Linear { weight: w(&[1.0, 0.5, 0.0, 1.0]), bias: None },
///     Layer::Activation(Activation::Relu),
///     Layer::Linear { weight: w(&[0.5, 0.0, 0.5, 1.0]), bias: None },
/// ]);
/// let x = Tensor::from_slice(&[1.0f64, 0.2]).reshape([1, 2]);
/// let e = Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense)?.explain(&ae, &x)?;
/// // Bias-free ReLU network under w² and z⁺: the input relevance sums to the error
/// // (0.2525), up to the 1e-6 stabilisers.
/// let total = e.relevance.sum(tch::Kind::Double).double_value(&[]);
/// assert!((e.error.double_value(&[0]) - 0.2525).abs() < 1e-12);
/// assert!((total - 0.2525).abs() < 1e-5);
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Lrp {
    error: ExplainedError,
    composite: Arc<dyn Composite>,
    root: Option<RootPoint>,
}

/// Everything one sweep produces.
#[derive(Debug)]
pub struct Explanation {
    /// Input relevance `[B, ..]`, the input's shape.
    pub relevance: Tensor,
    /// The seed: output-layer relevance `[B, ..]`.
    pub output_relevance: Tensor,
    /// The reconstruction `x̂`.
    pub reconstruction: Tensor,
    /// The explained error per sample `[B]` (what the seed sums to).
    pub error: Tensor,
    /// Relevance sums at every layer.
    pub trace: LrpTrace,
    /// Samples whose input relevance is zero everywhere although their explained error is
    /// not: biases and stabilisers absorbed all of it (e.g. a z⁺ network whose first-layer
    /// neurons are all dead for the sample, or a collapsed model whose output does not
    /// depend on its input). Explaining through [`Attribution`] turns any such sample into
    /// [`LrpError::VanishedRelevance`]; a ranking of zeros is never returned silently.
    pub vanished: Vec<usize>,
}

impl Lrp {
    /// LRP of the explained `error` (e.g. `ErrorNorm::SquaredL2`, or an [`ExplainedError`]
    /// restricted to some cells) with a named composite.
    ///
    /// A deviation preset ([`Preset::Deviation`]) makes a deviation LRP: it explains the
    /// deviation of the error from its value at a reference point, with
    /// [`Lrp::explain_deviation`] or through [`Attribution`].
    pub fn new(error: impl Into<ExplainedError>, preset: Preset) -> Result<Self> {
        Ok(Lrp {
            error: error.into(),
            composite: preset.composite()?,
            root: preset.root(),
        })
    }

    /// LRP with any composite.
    pub fn with_composite(
        error: impl Into<ExplainedError>,
        composite: impl Composite + 'static,
    ) -> Self {
        Lrp {
            error: error.into(),
            composite: Arc::new(composite),
            root: None,
        }
    }

    /// The same method as a deviation LRP from `root` ([`crate::deviation`]): its
    /// composite must give every layer a rule with a deviation form
    /// ([`crate::rules::DeltaEpsilon`], [`crate::rules::Pass`]), which is checked when a
    /// sweep starts.
    pub fn with_root(mut self, root: RootPoint) -> Self {
        self.root = Some(root);
        self
    }

    /// The reference point of a deviation LRP; `None` for paper 2's LRP.
    pub fn root(&self) -> Option<RootPoint> {
        self.root
    }

    /// The explained error.
    pub fn error(&self) -> &ExplainedError {
        &self.error
    }

    /// The composite.
    pub fn composite(&self) -> &dyn Composite {
        &*self.composite
    }

    /// Explains the reconstruction error of `model` on the batch `x: [B, ..sample_shape]`.
    /// The work happens on the model's device in the dtype of its parameters; results
    /// stay there.
    ///
    /// # Errors
    /// A deviation LRP ([`Lrp::root`] is set) explains a deviation, not the error itself:
    /// [`LrpError::InvalidInput`] pointing to [`Lrp::explain_deviation`].
    pub fn explain<A: LayerModel + ?Sized>(&self, model: &A, x: &Tensor) -> Result<Explanation> {
        if let Some(root) = self.root {
            return Err(LrpError::InvalidInput {
                what: "lrp".into(),
                reason: format!(
                    "a deviation LRP (reference point {root:?}) explains e(x) − e(x₀), not e(x): call explain_deviation"
                ),
            });
        }
        let x = checked_input(model, x)?;
        let layers = model.layers();
        let rules = resolve_rules(layers, &*self.composite)?;
        let acts = tch::no_grad(|| forward_recording(layers, &x))?;
        let x_hat = acts[layers.len()].shallow_clone();
        let output_relevance = output_relevance(&self.error, &x, &x_hat)?;
        let error = per_sample_sum(&output_relevance)?;
        let (relevance, trace) = propagate(layers, &rules, &acts, &output_relevance)?;
        let vanished = check_relevance(&relevance, &error)?;
        Ok(Explanation {
            vanished,
            relevance,
            output_relevance,
            reconstruction: x_hat,
            error,
            trace,
        })
    }
}

impl Lrp {
    /// Deviation LRP ([`crate::deviation`]): the relevance of the deviation of `x` from
    /// `reference`, summing to `e(x) − e(x₀)` up to what ε and LSTM gates absorb. One
    /// recording forward pass over `x` and a given reference together (the reference
    /// appended to the batch), or two with [`Root::Reconstruction`]; one backward
    /// sweep. The composite's rules must all have a deviation form (e.g.
    /// [`Preset::Deviation`]); the reference point of [`Lrp::root`] is not used here, the
    /// argument is.
    ///
    /// ```
    /// use ae_models::{Activation, LayerModel, ErrorNorm, Layer};
    /// use lrp_ae::deviation::{Root, RootPoint};
    /// use lrp_ae::{Lrp, Preset};
    /// use tch::{Device, Tensor};
    ///
    /// struct Tiny(Vec<Layer>);
    /// impl LayerModel for Tiny {
    ///     fn sample_shape(&self) -> Vec<i64> { vec![2] }
    ///     fn layers(&self) -> &[Layer] { &self.0 }
    ///     fn device(&self) -> Device { Device::Cpu }
    /// }
    /// let w = |v: &[f64]| Tensor::from_slice(v).reshape([2, 2]);
    /// let ae = Tiny(vec![
    ///     Layer::Linear { weight: w(&[1.0, 0.5, 0.0, 1.0]), bias: Some(Tensor::from_slice(&[0.1, -0.2])) },
    ///     Layer::Activation(Activation::Tanh),
    ///     Layer::Linear { weight: w(&[0.5, 0.0, 0.5, 1.0]), bias: Some(Tensor::from_slice(&[0.3, 0.0])) },
    /// ]);
    /// let lrp = Lrp::new(ErrorNorm::SquaredL2, Preset::Deviation { eps: 0.0, root: RootPoint::Baseline })?;
    /// let x = Tensor::from_slice(&[1.0f64, -0.4]).reshape([1, 2]);
    /// let mean = Tensor::from_slice(&[0.2f64, 0.1]);
    /// let e = lrp.explain_deviation(&ae, &x, &Root::Tensor(mean))?;
    /// // No bias absorbs relevance: it sums to e(x) − e(x₀).
    /// assert!(e.delta()?.abs().double_value(&[0]) < 1e-12);
    /// # Ok::<(), lrp_ae::LrpError>(())
    /// ```
    pub fn explain_deviation<A: LayerModel + ?Sized>(
        &self,
        model: &A,
        x: &Tensor,
        reference: &Root,
    ) -> Result<DeviationExplanation> {
        explain_deviation(&self.error, &*self.composite, model, x, reference)
    }
}

/// The reference of a deviation LRP run through [`Attribution`]: the input's
/// reconstruction, or the request's baseline as one reference `[1, ..]` for all samples
/// (a zero or constant baseline, a tensor of one sample's shape, a distribution's mean),
/// or `[B, ..]` for a baseline of the batch's shape.
fn attribution_reference(root: RootPoint, baseline: &Baseline, x: &Tensor) -> Result<Root> {
    Ok(match root {
        RootPoint::Reconstruction => Root::Reconstruction,
        RootPoint::Baseline => {
            let per_batch = matches!(baseline, Baseline::Tensor(t)
                if x.dim() > 0 && t.dim() == x.dim() && t.size()[0] == x.size()[0] && x.size()[0] > 1);
            let rows = if per_batch {
                x.shallow_clone()
            } else {
                x.f_narrow(0, 0, 1)?
            };
            Root::Tensor(baseline.reference(&rows, "lrp")?)
        }
    })
}

/// Fails when the input relevance holds a non-finite value (naming it); returns the samples
/// whose relevance is zero everywhere although their explained error is not.
pub(crate) fn check_relevance(relevance: &Tensor, error: &Tensor) -> Result<Vec<usize>> {
    check_finite("lrp input relevance", relevance)?;
    let magnitude = tensor_to_f64s(&per_sample_sum(&relevance.f_abs()?)?)?;
    let errors = tensor_to_f64s(error)?;
    Ok(magnitude
        .iter()
        .zip(&errors)
        .enumerate()
        .filter(|(_, (m, e))| **m == 0.0 && **e > 0.0)
        .map(|(i, _)| i)
        .collect())
}

/// LRP as one more attribution method. The scores are the input relevance (grouped sums
/// with a feature mask); `delta` is `Σ relevance − error` per sample, the relevance that
/// biases and stabilisers absorbed (zero for a conservative composite). The request's
/// baseline is not used: the seed's root point is the input itself.
///
/// A deviation LRP ([`Lrp::root`]) returns the relevance of the input's deviation from the
/// request's baseline ([`RootPoint::Baseline`]) or from its reconstruction, and `delta` is
/// `Σ relevance − (e(x) − e(x₀))`.
impl<A: LayerModel + ?Sized> Attribution<A> for Lrp {
    fn name(&self) -> &'static str {
        "lrp"
    }

    fn family(&self) -> Family {
        Family::Propagation
    }

    fn attribute(&self, model: &A, x: &Tensor, req: &Request) -> xai_attrib::Result<Attributions> {
        let (relevance, delta, forward_evals) = match self.root {
            Some(root) => {
                xai_attrib::validate::check_batch("lrp", x)?;
                let reference = attribution_reference(root, &req.baseline, x)?;
                let e = self.explain_deviation(model, x, &reference)?;
                let delta = e.delta()?;
                let forward_evals = if root == RootPoint::Reconstruction {
                    2
                } else {
                    1
                };
                (e.relevance, delta, forward_evals)
            }
            None => {
                let e = self.explain(model, x)?;
                if let Some(&sample) = e.vanished.first() {
                    return Err(LrpError::VanishedRelevance {
                        sample,
                        count: e.vanished.len(),
                        error: tensor_to_f64s(&e.error)?[sample],
                    }
                    .into());
                }
                let delta = per_sample_sum(&e.relevance)?.f_sub(&e.error)?;
                (e.relevance, delta, 1)
            }
        };
        let scores = match &req.mask {
            Some(mask) => mask.expand(&mask.group_sums(&relevance)?, &relevance.size()[1..])?,
            None => relevance,
        };
        Ok(Attributions {
            scores,
            delta: Some(delta),
            forward_evals,
            backward_evals: 1,
        })
    }
}
