//! LRP from any output relevance: Zennit's `attr_output`.
//!
//! [`crate::Lrp`] starts from the reconstruction error. [`OutputLrp`] starts from whatever
//! the question is about: a logit of a classifier, a one-hot target, the output itself
//! (Zennit's default), any given relevance tensor, or a function of the output. The sweep is
//! the same — one recording forward pass, the rules of a composite, one backward sweep —
//! and works for any model given as a layer list, whatever its output shape (a
//! [`ae_models::Sequential`] classifier with a softmax head, an autoencoder, a detector
//! head).
//!
//! ```
//! use ae_models::{Activation, Layer, Sequential};
//! use lrp_ae::{OutputLrp, OutputRelevance, Preset, OutputCell};
//! use tch::{Device, Kind, Tensor};
//! let w = |v: &[f64], o: i64, i: i64| Tensor::from_slice(v).reshape([o, i]);
//! let classifier = Sequential::new(
//!     vec![
//!         Layer::Linear { weight: w(&[1.0, 0.0, 0.5, 1.0], 2, 2), bias: None },
//!         Layer::Activation(Activation::Relu),
//!         Layer::Linear { weight: w(&[1.0, 1.0, -1.0, 2.0], 2, 2), bias: None },
//!         Layer::Activation(Activation::Softmax),
//!     ],
//!     [2],
//! )?;
//! let x = Tensor::from_slice(&[1.0f64, 2.0]).reshape([1, 2]);
//! let lrp = OutputLrp::new(Preset::EpsilonPlusFlat)?;
//! // Explain the probability of class 1 starting from its value (relevance on the softmax
//! // output, passed to its logit).
//! let e = lrp.explain(&classifier, &x, &OutputRelevance::Logit(OutputCell::class(1)))?;
//! let p1 = e.output.double_value(&[0, 1]);
//! assert_eq!(e.output_relevance.double_value(&[0, 0]), 0.0);
//! assert!((e.output_relevance.double_value(&[0, 1]) - p1).abs() < 1e-12);
//! // The flat first layer and bias-free ε layers conserve it, up to the 1e-6 stabilisers.
//! assert!((e.relevance.sum(Kind::Double).double_value(&[]) - p1).abs() < 1e-5);
//! # Ok::<(), lrp_ae::LrpError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use ae_models::layer::forward_recording;
use ae_models::{Layer, LayerModel};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::composite::Composite;
use crate::error::checked_input;
use crate::error::{check_finite, LrpError, Result};
use crate::presets::Preset;
use crate::propagate::{propagate, resolve_rules, LrpTrace};

/// Which output cell each sample's explanation starts from (Captum's `target`): a
/// multi-index into one sample's output (`[k]` for class `k` of a `[B, K]` output, `[t, k]`
/// for a `[B, T, K]` output); negative indices count from the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputCell {
    /// The same cell for every sample.
    Cell(Vec<i64>),
    /// One cell per sample of the batch.
    PerSample(Vec<Vec<i64>>),
}

impl OutputCell {
    /// Class `k` of a `[B, K]` output, for every sample.
    pub fn class(k: i64) -> Self {
        OutputCell::Cell(vec![k])
    }

    /// One class per sample of a `[B, K]` output.
    pub fn classes(ks: impl IntoIterator<Item = i64>) -> Self {
        OutputCell::PerSample(ks.into_iter().map(|k| vec![k]).collect())
    }

    /// A `[B, ..]` mask of the output's shape, dtype and device with a one at each
    /// sample's target cell.
    fn one_hot(&self, output: &Tensor) -> Result<Tensor> {
        let size = output.size();
        let b = size[0];
        let sample = &size[1..];
        let cells: Vec<&[i64]> = match self {
            OutputCell::Cell(c) => vec![c.as_slice(); b as usize],
            OutputCell::PerSample(cs) => {
                if cs.len() as i64 != b {
                    return Err(LrpError::ShapeMismatch {
                        what: "per-sample targets".into(),
                        expected: format!("one target per sample, {b}"),
                        got: vec![cs.len() as i64],
                    });
                }
                cs.iter().map(Vec::as_slice).collect()
            }
        };
        let mut flat = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            if cell.len() != sample.len() {
                return Err(LrpError::InvalidInput {
                    what: "target".into(),
                    reason: format!(
                        "sample {i}: index {cell:?} has {} entries, the output of one sample has shape {sample:?}",
                        cell.len()
                    ),
                });
            }
            let mut offset = 0i64;
            for (&c, &d) in cell.iter().zip(sample) {
                let c_abs = if c < 0 { c + d } else { c };
                if !(0..d).contains(&c_abs) {
                    return Err(LrpError::InvalidInput {
                        what: "target".into(),
                        reason: format!(
                            "sample {i}: index {cell:?} is outside the output of one sample, shape {sample:?}"
                        ),
                    });
                }
                offset = offset * d + c_abs;
            }
            flat.push(i as i64 * sample.iter().product::<i64>() + offset);
        }
        let mut mask = Tensor::f_zeros([output.numel() as i64], (output.kind(), output.device()))?;
        let idx = Tensor::f_from_slice(&flat)?.f_to_device(output.device())?;
        let ones = Tensor::f_ones([flat.len() as i64], (output.kind(), output.device()))?;
        Ok(mask
            .f_index_put_(&[Some(idx)], &ones, false)?
            .f_reshape(&size)?)
    }
}

/// A function from the model output to its relevance, for [`OutputRelevance::Map`].
pub type OutputFn = dyn Fn(&Tensor) -> Result<Tensor>;

/// The relevance the sweep starts from, on the model output `y: [B, ..]` (Zennit's
/// `attr_output`).
pub enum OutputRelevance {
    /// `R = y`: every output explains its own value (Zennit's default, `attr_output=None`).
    Output,
    /// `R = y ⊙ onehot(target)`: start from the target cell's value (a logit, or a
    /// probability behind a softmax head), zero elsewhere.
    Logit(OutputCell),
    /// `R = onehot(target)`: relevance 1 on the target cell (Zennit's common
    /// `attr_output=torch.eye(K)[[k]]`).
    OneHot(OutputCell),
    /// A given relevance, shaped like the output `[B, ..]` or `[1, ..]` (one for every
    /// sample); converted to the output's dtype and device.
    Given(Tensor),
    /// A function of the output, returning its shape (Zennit's callable `attr_output`).
    Map(Arc<OutputFn>),
}

impl Clone for OutputRelevance {
    fn clone(&self) -> Self {
        match self {
            OutputRelevance::Output => OutputRelevance::Output,
            OutputRelevance::Logit(t) => OutputRelevance::Logit(t.clone()),
            OutputRelevance::OneHot(t) => OutputRelevance::OneHot(t.clone()),
            OutputRelevance::Given(t) => OutputRelevance::Given(t.shallow_clone()),
            OutputRelevance::Map(f) => OutputRelevance::Map(Arc::clone(f)),
        }
    }
}

impl fmt::Debug for OutputRelevance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputRelevance::Output => f.write_str("Output"),
            OutputRelevance::Logit(t) => f.debug_tuple("Logit").field(t).finish(),
            OutputRelevance::OneHot(t) => f.debug_tuple("OneHot").field(t).finish(),
            OutputRelevance::Given(t) => write!(f, "Given({:?})", t.size()),
            OutputRelevance::Map(_) => f.write_str("Map(..)"),
        }
    }
}

impl OutputRelevance {
    /// [`OutputRelevance::Map`] from a closure.
    pub fn map(f: impl Fn(&Tensor) -> Result<Tensor> + 'static) -> Self {
        OutputRelevance::Map(Arc::new(f))
    }

    /// The relevance of `output: [B, ..]`, checked to have its shape and finite values.
    ///
    /// # Errors
    /// [`LrpError::ShapeMismatch`] or [`LrpError::InvalidInput`] for a target or tensor that
    /// does not fit the output; [`LrpError::NonFinite`] for NaN or infinite relevance.
    pub fn relevance(&self, output: &Tensor) -> Result<Tensor> {
        let size = output.size();
        let r = match self {
            OutputRelevance::Output => output.shallow_clone(),
            OutputRelevance::Logit(t) => output.f_mul(&t.one_hot(output)?)?,
            OutputRelevance::OneHot(t) => t.one_hot(output)?,
            OutputRelevance::Given(t) => {
                let got = t.size();
                let fits = got.len() == size.len()
                    && (got[0] == size[0] || got[0] == 1)
                    && got[1..] == size[1..];
                if !fits {
                    return Err(LrpError::ShapeMismatch {
                        what: "given output relevance".into(),
                        expected: format!("the model output's shape {size:?} (or [1, ..])"),
                        got,
                    });
                }
                t.f_to_kind(output.kind())?
                    .f_to_device(output.device())?
                    .f_expand(&size, false)?
            }
            OutputRelevance::Map(f) => {
                let r = f(output)?;
                if r.size() != size {
                    return Err(LrpError::ShapeMismatch {
                        what: "output relevance returned by the function".into(),
                        expected: format!("the model output's shape {size:?}"),
                        got: r.size(),
                    });
                }
                r.f_to_kind(output.kind())?
            }
        };
        check_finite("output relevance", &r)?;
        Ok(r)
    }
}

/// Everything one sweep from an output relevance produces.
#[derive(Debug)]
pub struct OutputExplanation {
    /// Input relevance `[B, ..]`, the input's shape.
    pub relevance: Tensor,
    /// The relevance the sweep started from, the output's shape.
    pub output_relevance: Tensor,
    /// The model output `y`.
    pub output: Tensor,
    /// Relevance sums at every layer.
    pub trace: LrpTrace,
}

/// LRP of any output relevance ([`OutputRelevance`]) with a composite: Zennit's
/// `Gradient(model, composite)(x, attr_output)`. See the module docs.
#[derive(Debug, Clone)]
pub struct OutputLrp {
    composite: Arc<dyn Composite>,
}

impl OutputLrp {
    /// With a named composite.
    ///
    /// # Errors
    /// Those of [`Preset::composite`].
    pub fn new(preset: Preset) -> Result<Self> {
        Ok(OutputLrp {
            composite: preset.composite()?,
        })
    }

    /// With any composite.
    pub fn with_composite(composite: impl Composite + 'static) -> Self {
        OutputLrp {
            composite: Arc::new(composite),
        }
    }

    /// The composite.
    pub fn composite(&self) -> &dyn Composite {
        &*self.composite
    }

    /// Explains `model` on the batch `x: [B, ..sample_shape]` starting from `from`. The
    /// work happens on the model's device in the dtype of its parameters.
    ///
    /// # Errors
    /// Shape, dtype and non-finite errors of `x`; [`LrpError::NoRule`] /
    /// [`LrpError::UnsupportedLayer`] naming a layer the composite does not cover; those of
    /// [`OutputRelevance::relevance`].
    pub fn explain<M: LayerModel + ?Sized>(
        &self,
        model: &M,
        x: &Tensor,
        from: &OutputRelevance,
    ) -> Result<OutputExplanation> {
        let x = checked_input(model, x)?;
        attr_output(model.layers(), &*self.composite, &x, from)
    }
}

/// [`OutputLrp::explain`] on a bare layer list, for models that are not an
/// [`LayerModel`] value: `x` must already have the layers' dtype and device.
///
/// # Errors
/// As [`OutputLrp::explain`], with the layers' own shape errors for a misfit `x`.
pub fn attr_output(
    layers: &[Layer],
    composite: &dyn Composite,
    x: &Tensor,
    from: &OutputRelevance,
) -> Result<OutputExplanation> {
    let rules = resolve_rules(layers, composite)?;
    let acts = tch::no_grad(|| forward_recording(layers, x))?;
    let output = acts[layers.len()].shallow_clone();
    let output_relevance = tch::no_grad(|| from.relevance(&output))?;
    let (relevance, trace) = propagate(layers, &rules, &acts, &output_relevance)?;
    check_finite("lrp input relevance", &relevance)?;
    Ok(OutputExplanation {
        relevance,
        output_relevance,
        output,
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn y() -> Tensor {
        Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape([2, 3])
    }

    fn values(t: &Tensor) -> Vec<f64> {
        Vec::<f64>::try_from(t.flatten(0, -1)).unwrap()
    }

    #[test]
    fn targets_pick_cells() {
        let r = OutputRelevance::Logit(OutputCell::classes([2, -3]))
            .relevance(&y())
            .unwrap();
        assert_eq!(values(&r), vec![0.0, 0.0, 3.0, 4.0, 0.0, 0.0]);
        let r = OutputRelevance::OneHot(OutputCell::class(1))
            .relevance(&y())
            .unwrap();
        assert_eq!(values(&r), vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
        let y3 = Tensor::arange(12, (Kind::Double, Device::Cpu)).reshape([2, 2, 3]);
        let r = OutputRelevance::Logit(OutputCell::Cell(vec![1, 0]))
            .relevance(&y3)
            .unwrap();
        assert_eq!(r.sum(Kind::Double).double_value(&[]), 3.0 + 9.0);
        let r = OutputRelevance::Output.relevance(&y()).unwrap();
        assert!(r.equal(&y()));
    }

    #[test]
    fn misfit_targets_and_tensors_are_named() {
        let e = OutputRelevance::OneHot(OutputCell::class(3))
            .relevance(&y())
            .unwrap_err();
        assert!(
            e.to_string().contains("index [3] is outside") && e.to_string().contains("[3]"),
            "{e}"
        );
        let e = OutputRelevance::OneHot(OutputCell::classes([0]))
            .relevance(&y())
            .unwrap_err();
        assert!(e.to_string().contains("one target per sample, 2"), "{e}");
        let e = OutputRelevance::OneHot(OutputCell::Cell(vec![0, 0]))
            .relevance(&y())
            .unwrap_err();
        assert!(e.to_string().contains("has 2 entries"), "{e}");
        let e = OutputRelevance::Given(Tensor::ones([2, 4], (Kind::Double, Device::Cpu)))
            .relevance(&y())
            .unwrap_err();
        assert!(e.to_string().contains("[2, 4]"), "{e}");
        let one = OutputRelevance::Given(Tensor::from_slice(&[1.0f32, 0.0, 2.0]).reshape([1, 3]));
        assert_eq!(
            values(&one.relevance(&y()).unwrap()),
            vec![1.0, 0.0, 2.0, 1.0, 0.0, 2.0]
        );
        let nan = OutputRelevance::map(|y: &Tensor| Ok(y.f_log()?.f_sub_scalar(f64::INFINITY)?));
        assert!(matches!(
            nan.relevance(&y()),
            Err(LrpError::NonFinite { index: 0, .. })
        ));
        let wrong = OutputRelevance::map(|y: &Tensor| Ok(y.f_sum(Kind::Double)?));
        assert!(wrong.relevance(&y()).is_err());
    }
}
