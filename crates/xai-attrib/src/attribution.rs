//! The one interface every explanation method implements.

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::baseline::Baseline;
use crate::error::Result;
use crate::feature_mask::FeatureMask;

/// How a method obtains its attributions; harnesses use it to group and report methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Backpropagated gradients (Saliency, Input×Gradient, IG, Gradient SHAP).
    Gradient,
    /// Model evaluations on perturbed inputs (Occlusion, Ablation, Permutation, Shapley
    /// sampling, Kernel SHAP).
    Perturbation,
    /// Relevance propagated layer by layer (LRP).
    Propagation,
    /// Read directly off the model (per-feature residual, attention weights), the
    /// baselines of both papers.
    Readout,
    /// No model at all: the input's deviation from the request's baseline
    /// ([`crate::Deviation`]), the reference that shows what the model-based methods add.
    ModelFree,
}

/// Per-call data that is not a method setting: what to compare against and how to group
/// input cells.
#[derive(Debug, Default)]
pub struct Request {
    /// The reference input ("absence of signal"). Methods that do not use one ignore it.
    pub baseline: Baseline,
    /// Groups of input cells attributed together (e.g. all time steps of one sensor).
    /// `None` means every cell is its own group.
    pub mask: Option<FeatureMask>,
}

impl Request {
    /// A request with `baseline` and no mask.
    pub fn with_baseline(baseline: Baseline) -> Self {
        Request {
            baseline,
            mask: None,
        }
    }

    /// Sets the feature mask.
    pub fn mask(mut self, mask: FeatureMask) -> Self {
        self.mask = Some(mask);
        self
    }
}

/// What every method returns.
#[derive(Debug)]
pub struct Attributions {
    /// Attributions of the input's shape `[B, ..]`. With a feature mask, every cell of a
    /// group carries the group's attribution (as in Captum).
    pub scores: Tensor,
    /// `Σ attributions − (f(x) − f(baseline))` per sample `[B]`, for methods that satisfy
    /// completeness (IG, Gradient SHAP, LRP's conservation); `None` otherwise.
    pub delta: Option<Tensor>,
    /// Forward evaluations of the model per explained sample.
    pub forward_evals: usize,
    /// Backward passes per explained sample.
    pub backward_evals: usize,
}

/// The cost of one attribution call, per explained sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Cost {
    /// Forward evaluations of the model per sample.
    pub forward_evals: usize,
    /// Backward passes per sample.
    pub backward_evals: usize,
}

/// [`Attributions`] copied out of libtorch, for saving and comparing runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionRecord {
    /// The method's [`Attribution::name`].
    pub method: String,
    /// The attributions, `[B, ..]`.
    pub scores: ArrayD<f32>,
    /// The convergence delta per sample, where the method has one.
    pub delta: Option<Vec<f64>>,
    /// The cost per sample.
    pub cost: Cost,
}

impl Attributions {
    /// The cost per explained sample.
    pub fn cost(&self) -> Cost {
        Cost {
            forward_evals: self.forward_evals,
            backward_evals: self.backward_evals,
        }
    }

    /// The attributions as an `ndarray` array of the input's shape `[B, ..]`, for code that
    /// ranks or plots them without libtorch.
    ///
    /// ```
    /// use xai_attrib::{Attribution, FnScorer, Occlusion, Request};
    /// use tch::{Kind, Tensor};
    /// let energy = FnScorer::new("energy", |x: &Tensor| Ok(x.f_square()?.f_sum_dim_intlist(1, false, Kind::Float)?));
    /// let x = Tensor::from_slice(&[1.0f32, 3.0]).reshape([1, 2]);
    /// let a = Occlusion::params().window([1]).check()?.attribute(&energy, &x, &Request::default())?;
    /// assert_eq!(a.scores_array()?, ndarray::array![[1.0f32, 9.0]].into_dyn());
    /// # Ok::<(), xai_attrib::XaiError>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::XaiError::Model`] for a non-float tensor (never the case for a method of
    /// this crate).
    pub fn scores_array(&self) -> Result<ArrayD<f32>> {
        Ok(ae_models::convert::tensor_to_array(&self.scores)?)
    }

    /// Copies the attributions into a serialisable record labelled `method`.
    pub fn to_record(&self, method: &str) -> Result<AttributionRecord> {
        let scores = self.scores_array()?;
        let delta = match &self.delta {
            Some(d) => Some(ae_models::convert::tensor_to_f64s(d)?),
            None => None,
        };
        Ok(AttributionRecord {
            method: method.into(),
            scores,
            delta,
            cost: self.cost(),
        })
    }
}

/// An explanation method: a struct of its settings plus one `attribute` call.
///
/// `M` is what the method explains: black-box methods take any [`crate::Scorer`]; LRP
/// takes an autoencoder whose layers it can walk; read-out baselines take the model they
/// read.
pub trait Attribution<M: ?Sized> {
    /// A short, stable name for reports ("occlusion", "kernel_shap", ...).
    fn name(&self) -> &'static str;

    /// The method's family.
    fn family(&self) -> Family;

    /// Whether the attributions are multiplied by `x − baseline` (Captum's
    /// `multiplies_by_inputs`): such methods attribute the difference to the baseline.
    fn multiplies_by_inputs(&self) -> bool {
        false
    }

    /// Attributes `model`'s output for the batch `x` to its input cells.
    fn attribute(&self, model: &M, x: &Tensor, req: &Request) -> Result<Attributions>;
}
