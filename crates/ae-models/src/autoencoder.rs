//! The contract every autoencoder of this crate fulfils.

use ndarray::{ArrayView, Dimension};
use tch::{Device, Kind, Tensor};

use crate::convert::first_non_finite;
use crate::detector::check_samples;
use crate::error::{ModelError, Result};
use crate::layer::{forward_layers, Layer};

/// A model that reconstructs its input, defined by an explicit layer list.
///
/// `forward` must equal folding the input through [`Autoencoder::layers`]; that is what
/// the default implementation does, and what LRP relies on.
///
/// The contract itself is that of any layer-list model (input shape, layers, forward), so
/// [`crate::Sequential`] implements it also for models whose output shape differs from the
/// input (a classifier); whatever needs a reconstruction checks the output shape.
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

/// An autoencoder whose parameters can be trained, saved and restored.
///
/// The parameters are the very tensors the layer list holds (shallow clones share
/// storage), so writing into them under no-grad, as the trainer's best-weights restore and
/// [`crate::persist`] do, changes what [`Autoencoder::forward`] computes.
pub trait Trainable: Autoencoder {
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
pub fn check_batch<A: Autoencoder + ?Sized>(model: &A, x: &Tensor) -> Result<()> {
    let got = x.size();
    let want = model.sample_shape();
    if got.len() != want.len() + 1 || got[1..] != want[..] {
        return Err(ModelError::ShapeMismatch {
            what: "autoencoder input".into(),
            expected: format!(
                "[batch, {}]",
                want.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            got,
        });
    }
    Ok(())
}

/// Checks everything a model of this crate needs of an input batch: its shape (as
/// [`check_batch`]), dtype `f32` (the parameters' dtype) and finite values. `what` names the
/// model in errors.
///
/// ```
/// use ae_models::{autoencoder::check_input, DenseAe, DenseAeConfig, ModelError};
/// use tch::{Device, Kind, Tensor};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)?;
/// let x = Tensor::from_slice(&[0.5f32, f32::NAN, 0.1]).reshape([1, 3]);
/// let err = check_input(&ae, &x, "DenseAe").unwrap_err();
/// assert!(matches!(err, ModelError::NonFinite { index: 1, .. }));
/// # Ok::<(), ModelError>(())
/// ```
pub fn check_input<A: Autoencoder + ?Sized>(model: &A, x: &Tensor, what: &str) -> Result<()> {
    check_f32_samples(
        what,
        &model.sample_shape(),
        x,
        "autoencoder input (models hold f32 parameters)",
    )
}

/// Checks that `x` is a batch of samples of shape `sample` (as
/// [`crate::detector::check_samples`], errors naming `"{what} input"`), of dtype `f32`
/// ([`ModelError::UnsupportedDtype`] naming `dtype_what`) and finite (naming
/// `"{what} input"`); the input check of the models, the trainer and the forecaster.
pub(crate) fn check_f32_samples(
    what: &str,
    sample: &[i64],
    x: &Tensor,
    dtype_what: &'static str,
) -> Result<()> {
    check_samples(what, sample, x)?;
    if x.kind() != Kind::Float {
        return Err(ModelError::UnsupportedDtype {
            what: dtype_what,
            dtype: format!("{:?}", x.kind()),
        });
    }
    check_finite(x, &format!("{what} input"))
}

/// Returns [`ModelError::NonFinite`] with the flat index of the first NaN or infinite value
/// of `x`, if there is one.
///
/// # Errors
/// As said, and as [`first_non_finite`] (`crate::convert`).
pub fn check_finite(x: &Tensor, what: &str) -> Result<()> {
    match first_non_finite(x)? {
        None => Ok(()),
        Some(index) => Err(ModelError::NonFinite {
            what: what.into(),
            index,
        }),
    }
}

/// [`check_finite`] for an array (flat index in the array's logical, row-major order).
///
/// ```
/// use ae_models::{autoencoder::check_finite_array, ModelError};
/// let a = ndarray::array![[1.0f32, 2.0], [3.0, f32::INFINITY]];
/// let err = check_finite_array(&a.view(), "table").unwrap_err();
/// assert!(matches!(err, ModelError::NonFinite { index: 3, .. }));
/// ```
///
/// # Errors
/// [`ModelError::NonFinite`] naming `what` and the index.
pub fn check_finite_array<D: Dimension>(a: &ArrayView<'_, f32, D>, what: &str) -> Result<()> {
    match a.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(ModelError::NonFinite {
            what: what.into(),
            index,
        }),
    }
}

/// [`check_finite`] for a batch `[B, ..]` that is part of a larger set starting at sample
/// `first_sample`: the error names the sample (counted in the whole set) and the cell
/// inside it, e.g. `score: reconstruction of sample 12, cell [3, 7]`, and its index is
/// the flat index in the whole set.
///
/// ```
/// use ae_models::{autoencoder::check_finite_samples, ModelError};
/// use tch::Tensor;
/// let batch = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, f32::NAN, 5.0]).reshape([3, 2]);
/// let err = check_finite_samples(&batch, 10, "reconstruction").unwrap_err();
/// assert!(err.to_string().contains("sample 12, cell [0]"), "{err}");
/// assert!(matches!(err, ModelError::NonFinite { index: 24, .. }));
/// ```
///
/// # Errors
/// As [`check_finite`].
pub fn check_finite_samples(batch: &Tensor, first_sample: usize, what: &str) -> Result<()> {
    let Some(flat) = first_non_finite(batch)? else {
        return Ok(());
    };
    let size = batch.size();
    let cell_shape = size.get(1..).unwrap_or(&[]);
    let per_sample = cell_shape.iter().product::<i64>().max(1) as usize;
    let (sample, mut rest) = (flat / per_sample, flat % per_sample);
    let mut cell = vec![0usize; cell_shape.len()];
    for (c, &d) in cell.iter_mut().zip(cell_shape).rev() {
        *c = rest % d as usize;
        rest /= d as usize;
    }
    let place = if cell.is_empty() {
        format!("{what} of sample {}", first_sample + sample)
    } else {
        format!("{what} of sample {}, cell {cell:?}", first_sample + sample)
    };
    Err(ModelError::NonFinite {
        what: place,
        index: first_sample * per_sample + flat,
    })
}
