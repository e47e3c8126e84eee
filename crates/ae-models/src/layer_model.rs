//! The contract every autoencoder of this crate fulfils.

use tch::{Device, Tensor};

use crate::checks::{check_f32_samples, check_samples};
use crate::error::Result;
use crate::layer::{forward_layers, Layer};

/// A model that reconstructs its input, defined by an explicit layer list.
///
/// `forward` must equal folding the input through [`LayerModel::layers`]; that is what
/// the default implementation does, and what LRP relies on.
///
/// The contract itself is that of any layer-list model (input shape, layers, forward), so
/// [`crate::Sequential`] implements it also for models whose output shape differs from the
/// input (a classifier); whatever needs a reconstruction checks the output shape.
pub trait LayerModel {
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

/// An autoencoder whose parameters can be trained, saved and restored.
///
/// The parameters are the very tensors the layer list holds (shallow clones share
/// storage), so writing into them under no-grad, as the trainer's best-weights restore and
/// [`crate::persist`] do, changes what [`LayerModel::forward`] computes.
pub trait Trainable: LayerModel {
    /// Every trainable parameter with its name relative to the model (e.g.
    /// `encoder.weight_ih_l0`), in a fixed order. The names are those of the saved
    /// safetensors file and, for LSTM and linear layers, those of the equivalent PyTorch
    /// module's `state_dict`.
    fn parameters(&self) -> &[(String, Tensor)];

    /// The number of scalar parameters.
    fn n_parameters(&self) -> i64 {
        self.parameters()
            .iter()
            .map(|(_, t)| t.numel() as i64)
            .sum()
    }
}

/// Checks that `x` is a batch of samples of `model`'s shape.
pub fn check_batch<A: LayerModel + ?Sized>(model: &A, x: &Tensor) -> Result<()> {
    check_samples("autoencoder", &model.sample_shape(), x)
}

/// Checks everything a model of this crate needs of an input batch: its shape (as
/// [`check_batch`]), dtype `f32` (the parameters' dtype) and finite values. `what` names the
/// model in errors.
///
/// ```
/// use ae_models::{layer_model::check_input, DenseAe, DenseAeConfig, ModelError};
/// use tch::{Device, Kind, Tensor};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)?;
/// let x = Tensor::from_slice(&[0.5f32, f32::NAN, 0.1]).reshape([1, 3]);
/// let err = check_input(&ae, &x, "DenseAe").unwrap_err();
/// assert!(matches!(err, ModelError::NonFinite { index: 1, .. }));
/// # Ok::<(), ModelError>(())
/// ```
pub fn check_input<A: LayerModel + ?Sized>(model: &A, x: &Tensor, what: &str) -> Result<()> {
    check_f32_samples(
        what,
        &model.sample_shape(),
        x,
        "autoencoder input (models hold f32 parameters)",
    )
}
