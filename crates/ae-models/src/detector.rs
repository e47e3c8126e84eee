//! What a localization pipeline needs of an anomaly detector, and nothing more.
//!
//! A detector scores a sample by how badly it predicts the sample's cells: an autoencoder
//! reconstructs every cell, a forecaster predicts the last steps of a window from the
//! steps before them. [`Detector::cell_errors`] is that per-cell error; the explained
//! error ([`crate::ExplainedError`]) averages some of it into one number per sample, which
//! every attribution method explains. Gradient methods also need the error to be
//! differentiable ([`Detector::differentiable`]); LRP needs the layer list
//! ([`Detector::layer_model`]). Methods that a detector cannot serve are refused before
//! any work, naming the method and what is missing.
//!
//! Every [`LayerModel`] of this crate is a detector.

use tch::{Device, Tensor};

use crate::error::Result;
use crate::explained_error::OutputCells;
use crate::layer_model::LayerModel;
use crate::recon_error::{cell_errors, ErrorNorm};

/// An anomaly detector as explanation methods see it.
pub trait Detector {
    /// The shape of one sample, without the batch dimension (e.g. `[50, 38]`).
    fn sample_shape(&self) -> Vec<i64>;

    /// The device inputs are moved to.
    fn device(&self) -> Device;

    /// The per-cell error `[B, ..sample]` of a batch `[B, ..sample]` in `norm`: `|x − x̂|`
    /// or `(x − x̂)²` at every cell the detector predicts, 0 at the others. Rows are
    /// independent of each other. When [`Detector::differentiable`], it is built from
    /// differentiable tch ops of `x`.
    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor>;

    /// The cells the detector predicts (every cell by default; a forecaster's predicted
    /// steps). An explained error never covers the others.
    fn predicted_cells(&self) -> OutputCells {
        OutputCells::all()
    }

    /// Whether gradients of [`Detector::cell_errors`] with respect to the input exist.
    fn differentiable(&self) -> bool {
        true
    }

    /// The detector as a layer list, for LRP; `None` for a black box.
    fn layer_model(&self) -> Option<&dyn LayerModel> {
        None
    }

    /// A short description for reports and errors.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }

    /// The detector's weights by name, so that one trained detector can be told from
    /// another (a fingerprint of them): by default the parameters of the layer list
    /// ([`Detector::layer_model`]), named `{layer index}.{parameter}`; empty for a detector whose weights the library cannot
    /// read (a closure over plain Rust).
    ///
    /// # Errors
    /// When the weights cannot be read (a TorchScript module that refuses).
    fn weights(&self) -> Result<Vec<(String, Tensor)>> {
        let Some(a) = self.layer_model() else {
            return Ok(Vec::new());
        };
        Ok(a.layers()
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .parameters()
                    .into_iter()
                    .map(move |(n, t)| (format!("{i}.{n}"), t.shallow_clone()))
            })
            .collect())
    }
}

fn autoencoder_errors<A: LayerModel + ?Sized>(
    model: &A,
    x: &Tensor,
    norm: ErrorNorm,
) -> Result<Tensor> {
    cell_errors(x, &model.forward(x)?, norm)
}

impl<A: LayerModel> Detector for A {
    fn sample_shape(&self) -> Vec<i64> {
        LayerModel::sample_shape(self)
    }
    fn device(&self) -> Device {
        LayerModel::device(self)
    }
    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
        autoencoder_errors(self, x, norm)
    }
    fn layer_model(&self) -> Option<&dyn LayerModel> {
        Some(self)
    }
}

impl Detector for dyn LayerModel + '_ {
    fn sample_shape(&self) -> Vec<i64> {
        LayerModel::sample_shape(self)
    }
    fn device(&self) -> Device {
        LayerModel::device(self)
    }
    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
        autoencoder_errors(self, x, norm)
    }
    fn layer_model(&self) -> Option<&dyn LayerModel> {
        Some(self)
    }
    fn describe(&self) -> String {
        "autoencoder".into()
    }
}
