//! The residual baseline: the per-cell reconstruction error itself, `|x − x̂|` (L1) or
//! `(x − x̂)²` (L2), read off the detector with one forward pass and no backward pass.
//! Paper 1's "baseline" row and paper 2's "Residual" are this method.
//!
//! With a feature mask, every cell carries its group's *mean* error (for a per-sensor mask:
//! the sensor's mean error over the window, the usual per-feature reconstruction error).
//!
//! It explains a [`Detector`] directly, or an [`ErrorScorer`] (so that it can sit in the
//! same list as the other methods): then cells outside the scorer's explained cells get 0
//! and the explained cells their error, in this method's norm.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use ae_models::{Detector, ErrorNorm};

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::error_scorer::ErrorScorer;
use crate::feature_mask::Groups;
use crate::validate::check_batch;

const NAME: &str = "residual";

/// The per-cell error as attribution (see the module docs).
///
/// ```
/// use ae_models::{DenseAe, DenseAeConfig, ErrorNorm};
/// use tch::{Device, Kind, Tensor};
/// use xai_attrib::{Attribution, Request, Residual};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)?;
/// let x = Tensor::rand([2, 3], (Kind::Float, Device::Cpu));
/// let a = Residual::new(ErrorNorm::L1).attribute(&ae, &x, &Request::default())?;
/// assert_eq!(a.scores.size(), vec![2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Residual {
    norm: ErrorNorm,
}

impl Residual {
    /// The residual in `norm`.
    pub fn new(norm: ErrorNorm) -> Self {
        Residual { norm }
    }

    /// The norm.
    pub fn norm(&self) -> ErrorNorm {
        self.norm
    }

    fn run<D: Detector + ?Sized>(
        &self,
        detector: &D,
        x: &Tensor,
        req: &Request,
        keep: impl Fn(Tensor) -> Result<Tensor>,
    ) -> Result<Attributions> {
        check_batch(NAME, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let _guard = tch::no_grad_guard();
        let err = keep(detector.cell_errors(x, self.norm)?)?;
        let scores = groups.mean_cells(&err)?;
        Ok(Attributions {
            scores,
            delta: None,
            forward_evals: 1,
            backward_evals: 0,
        })
    }
}

impl<D: Detector + ?Sized> Attribution<D> for Residual {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Readout
    }

    fn attribute(&self, detector: &D, x: &Tensor, req: &Request) -> Result<Attributions> {
        self.run(detector, x, req, Ok)
    }
}

impl<D: Detector + ?Sized> Attribution<ErrorScorer<'_, D>> for Residual {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Readout
    }

    fn attribute(
        &self,
        scorer: &ErrorScorer<'_, D>,
        x: &Tensor,
        req: &Request,
    ) -> Result<Attributions> {
        self.run(scorer.detector(), x, req, |err| {
            Ok(scorer.resolved().keep(&err)?)
        })
    }
}
