//! The explained error as a scorer: what paper 1 explains ("features contributing to the
//! reconstruction error"), for any [`Detector`].
//!
//! For a detector with per-cell error `e_i(x)` (`|x_i − x̂_i|` or `(x_i − x̂_i)²`) and an
//! [`ExplainedError`] selecting cells `S`,
//!
//! ```text
//! f(x) = 1/|S| Σ_{i∈S} e_i(x)        (paper 1, eq. 1, with S every cell)
//! ```
//!
//! one number per sample. The input is never restricted: every input cell can receive
//! attribution for the selected part of the error. A forecaster's error covers only the
//! steps it predicts; the selection is intersected with them.

use tch::Tensor;

use ae_models::explained_error::per_sample_sum;
use ae_models::{Detector, ExplainedError, ResolvedError};

use crate::error::Result;
use crate::scorer::Scorer;

/// The per-sample explained error of a detector, `[B, ..] -> [B]`, differentiable when the
/// detector is.
///
/// Holds a reference to the detector, so one model can be wrapped in several scorers
/// (e.g. L1 and L2) without copying it.
///
/// ```
/// use ae_models::{DenseAe, DenseAeConfig, ErrorNorm, ExplainedError};
/// use tch::{Device, Kind, Tensor};
/// use xai_attrib::{ErrorScorer, Scorer};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![2]), Device::Cpu, 0)?;
/// let x = Tensor::rand([3, 4], (Kind::Float, Device::Cpu));
/// let all = ErrorScorer::new(&ae, ErrorNorm::SquaredL2)?;
/// let two = ErrorScorer::new(&ae, ExplainedError::new(ErrorNorm::SquaredL2).features([0, 1]))?;
/// assert_eq!(all.score(&x)?.size(), vec![3]);
/// assert_eq!(two.resolved().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ErrorScorer<'d, D: ?Sized> {
    detector: &'d D,
    error: ExplainedError,
    resolved: ResolvedError,
}

impl<'d, D: Detector + ?Sized> ErrorScorer<'d, D> {
    /// The explained `error` of `detector`, checked against its sample shape (within the
    /// cells it predicts).
    ///
    /// # Errors
    /// [`crate::XaiError::Model`] naming the selection when it does not fit the sample
    /// shape or keeps no predicted cell.
    pub fn new(detector: &'d D, error: impl Into<ExplainedError>) -> Result<Self> {
        let error = error.into();
        let resolved = error
            .clone()
            .within(&detector.predicted_cells())
            .resolve(&detector.sample_shape(), detector.device())?;
        Ok(ErrorScorer {
            detector,
            error,
            resolved,
        })
    }

    /// The wrapped detector.
    pub fn detector(&self) -> &'d D {
        self.detector
    }

    /// The explained error.
    pub fn error(&self) -> &ExplainedError {
        &self.error
    }

    /// The explained cells, resolved against the detector's sample shape.
    pub fn resolved(&self) -> &ResolvedError {
        &self.resolved
    }

    /// Per-cell errors `[B, ..]` (zero outside the explained cells), divided by the number
    /// of explained cells so that they sum to the score of each sample.
    pub fn per_cell(&self, x: &Tensor) -> Result<Tensor> {
        let errors = self.detector.cell_errors(x, self.resolved.norm())?;
        Ok(self.resolved.scale(&errors)?)
    }
}

impl<D: Detector + ?Sized> Scorer for ErrorScorer<'_, D> {
    fn score(&self, x: &Tensor) -> Result<Tensor> {
        Ok(per_sample_sum(&self.per_cell(x)?)?)
    }

    fn differentiable(&self) -> bool {
        self.detector.differentiable()
    }

    fn describe(&self) -> String {
        format!("{} of {}", self.error, self.detector.describe())
    }

    fn sample_shape(&self) -> Option<Vec<i64>> {
        Some(self.detector.sample_shape())
    }
}

impl<D: ?Sized> std::fmt::Debug for ErrorScorer<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorScorer")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}
