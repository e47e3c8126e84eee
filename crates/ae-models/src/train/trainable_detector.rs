//! What the trainer needs of a model: its parameters, and the cells it predicts next to its
//! prediction of them.
//!
//! An autoencoder predicts every cell of its input; a forecaster predicts the last steps of
//! a window from the steps before them. Either way the trainer minimises the mean error of
//! the predicted cells, the error the detector is later explained by: the mean of
//! [`Detector::cell_errors`] over [`Detector::predicted_cells`].

use tch::Tensor;

use crate::detector::Detector;
use crate::error::Result;
use crate::layer_model::Trainable;

/// A detector the trainer ([`crate::train::train`]) can fit.
///
/// Every [`Trainable`] autoencoder is one: its targets are its input and its predictions
/// the reconstruction, so its training loss is exactly
/// `cfg.loss.mean_loss(&x, &model.forward(&x)?)`.
pub trait TrainableDetector: Detector {
    /// Every trainable parameter with its name, in a fixed order (the names of
    /// [`Trainable::parameters`] for an autoencoder).
    fn named_parameters(&self) -> &[(String, Tensor)];

    /// For a batch `x: [B, ..sample]`, the values of the cells the detector predicts and
    /// its prediction of them, both of one shape (`[B, ..]`): `(x, x̂)` for an autoencoder,
    /// `(last steps, forecast)` for a forecaster. Built from differentiable tch ops of the
    /// parameters; the trainer minimises their mean cell error.
    ///
    /// # Errors
    /// The detector's own input errors (shape, dtype, non-finite values).
    fn targets_and_predictions(&self, x: &Tensor) -> Result<(Tensor, Tensor)>;
}

impl<A: Trainable> TrainableDetector for A {
    fn named_parameters(&self) -> &[(String, Tensor)] {
        self.parameters()
    }

    fn targets_and_predictions(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((x.shallow_clone(), self.forward(x)?))
    }
}
