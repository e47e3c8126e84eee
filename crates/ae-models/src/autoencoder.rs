//! The contract every autoencoder of this crate fulfils.

use tch::{Device, Tensor};

use crate::error::{ModelError, Result};
use crate::layer::{forward_layers, Layer};

/// A model that reconstructs its input, defined by an explicit layer list.
///
/// `forward` must equal folding the input through [`Autoencoder::layers`]; that is what
/// the default implementation does, and what LRP relies on.
pub trait Autoencoder {
    /// The shape of one sample, without the batch dimension (e.g. `[50, 38]` for windows
    /// of 50 steps of 38 sensors, `[1, 128, 128]` for a grayscale image).
    fn sample_shape(&self) -> Vec<i64>;

    /// The ordered layers; their fold is the reconstruction.
    fn layers(&self) -> &[Layer];

    /// The device the parameters live on.
    fn device(&self) -> Device;

    /// Reconstructs a batch `[B, ..sample_shape]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_batch(self, x)?;
        forward_layers(self.layers(), x)
    }
}

/// Checks that `x` is a batch of samples of `model`'s shape.
pub fn check_batch<A: Autoencoder + ?Sized>(model: &A, x: &Tensor) -> Result<()> {
    let got = x.size();
    let want = model.sample_shape();
    if got.len() != want.len() + 1 || got[1..] != want[..] {
        return Err(ModelError::ShapeMismatch {
            what: "autoencoder input".into(),
            expected: format!("[batch, {}]", want.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
            got,
        });
    }
    Ok(())
}
