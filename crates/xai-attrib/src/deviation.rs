//! The deviation from normal: each cell's distance from a reference input of normal data,
//! `|x − x'|` (L1) or `(x − x')²` (L2), with no model at all. It is the residual of a
//! "detector" that predicts every input as the reference, and the row an explanation
//! method has to beat to show that the detector adds something.
//!
//! The reference is the request's baseline (a distribution is replaced by its mean). The
//! one that means "normal" is the training mean: per feature
//! ([`crate::BaselineSpec::FeatureMeans`]) for series and tables, per cell
//! ([`crate::BaselineSpec::SampleMeans`], the mean normal image) for images. With a
//! feature mask every cell carries its group's mean deviation, as for the residual.
//!
//! The distance is not divided by each feature's spread on normal data: a pipeline that
//! compares scores with those of normal reference windows (dividing each sensor's score by
//! its usual magnitude, or standardizing it) already does, and a per-feature factor applied
//! here would cancel there. Where scores are compared raw, the deviation is in the units
//! the other methods see, those of the (scaled) input.
//!
//! It explains any [`Scorer`] in the sense that it sits in the same list as the other
//! methods: the scorer is only asked to check the batch (its sample shape), never
//! evaluated. Cost per sample: no forward and no backward pass.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use ae_models::ErrorNorm;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::params::UnknownKeys;
use crate::scorer::Scorer;
use crate::validate::check_scorer_input;

const NAME: &str = "deviation";

/// Unchecked settings of [`Deviation`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviationParams {
    /// The distance per cell: `|x − x'|` (L1, the default) or `(x − x')²` (L2).
    norm: ErrorNorm,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl DeviationParams {
    /// The distance per cell: [`ErrorNorm::L1`] (default), the mean absolute distance
    /// once averaged over a region, or [`ErrorNorm::SquaredL2`].
    pub fn norm(mut self, norm: ErrorNorm) -> Self {
        self.norm = norm;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`crate::XaiError::InvalidParam`] naming a key that is no setting of the method.
    pub fn check(&self) -> Result<Deviation> {
        self.unknown.reject(NAME)?;
        Ok(Deviation {
            params: self.clone(),
        })
    }
}

/// The deviation from normal, no model involved (see the module docs).
///
/// ```
/// use tch::Tensor;
/// use xai_attrib::{Attribution, Baseline, Deviation, FnScorer, Request};
/// // Training windows [N = 2, T = 1, F = 2]: feature means 1 and 15.
/// let train = Tensor::from_slice(&[0.0f32, 10.0, 2.0, 20.0]).reshape([2, 1, 2]);
/// let req = Request::with_baseline(Baseline::feature_means(&train)?);
/// // The detector is never evaluated.
/// let detector = FnScorer::new("unused", |_: &Tensor| unreachable!());
/// let x = Tensor::from_slice(&[4.0f32, 12.0]).reshape([1, 1, 2]);
/// let a = Deviation::default().attribute(&detector, &x, &req)?;
/// assert_eq!(Vec::<f32>::try_from(a.scores.flatten(0, -1)).unwrap(), vec![3.0, 3.0]);
/// assert_eq!((a.forward_evals, a.backward_evals), (0, 0));
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "DeviationParams", into = "DeviationParams")]
pub struct Deviation {
    params: DeviationParams,
}

impl Deviation {
    /// Default settings to adjust and [`DeviationParams::check`].
    pub fn params() -> DeviationParams {
        DeviationParams::default()
    }

    /// The distance per cell.
    pub fn norm(&self) -> ErrorNorm {
        self.params.norm
    }

    /// The checked settings.
    pub fn settings(&self) -> &DeviationParams {
        &self.params
    }
}

impl TryFrom<DeviationParams> for Deviation {
    type Error = crate::XaiError;
    fn try_from(p: DeviationParams) -> Result<Self> {
        p.check()
    }
}

impl From<Deviation> for DeviationParams {
    fn from(m: Deviation) -> Self {
        m.params
    }
}

impl<S: Scorer + ?Sized> Attribution<S> for Deviation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::ModelFree
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let d = x.f_sub(&req.baseline.reference(x, NAME)?)?;
        let cells = match self.params.norm {
            ErrorNorm::L1 => d.f_abs()?,
            ErrorNorm::SquaredL2 => d.f_square()?,
        };
        Ok(Attributions {
            scores: groups.mean_cells(&cells)?,
            delta: None,
            forward_evals: 0,
            backward_evals: 0,
        })
    }
}
