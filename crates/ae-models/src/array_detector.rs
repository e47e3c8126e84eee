//! A detector written in plain Rust: a closure over `ndarray` that predicts every cell of a
//! batch (a PCA reconstruction, a moving average, a model of any other Rust ML crate).
//!
//! The closure is opaque to autograd, so the detector is not differentiable: perturbation
//! methods (Occlusion, Feature Ablation and Permutation, Shapley sampling, Kernel SHAP)
//! and the residual explain it; gradient methods and LRP are refused before any work.

use ndarray::{ArrayD, ArrayViewD};
use tch::{Device, Tensor};

use crate::checks::{check_finite_samples, check_samples};
use crate::convert::{array_to_tensor, tensor_to_array};
use crate::detector::Detector;
use crate::error::{ModelError, Result};
use crate::explained_error::OutputCells;
use crate::recon_error::{cell_errors, ErrorNorm};

/// A detector from a closure `[B, ..sample] -> [B, ..sample]` that predicts (e.g.
/// reconstructs) every cell of a batch of `f32` samples.
///
/// ```
/// use ae_models::{ArrayDetector, Detector, ErrorNorm};
/// use ndarray::{ArrayD, ArrayViewD, Axis};
/// use tch::Tensor;
/// // Predicts every sensor of a window by the window's mean over its sensors.
/// let d = ArrayDetector::new("sensor mean", vec![2, 3], |x: ArrayViewD<'_, f32>| {
///     let mean = x.mean_axis(Axis(2)).unwrap().insert_axis(Axis(2));
///     mean.broadcast(x.shape()).unwrap().to_owned()
/// })?;
/// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 0.0, 0.0, 3.0]).reshape([1, 2, 3]);
/// let e = d.cell_errors(&x, ErrorNorm::L1)?;
/// assert_eq!(Vec::<f32>::try_from(e.flatten(0, -1)).unwrap(), vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
/// assert!(!d.differentiable());
/// # Ok::<(), ae_models::ModelError>(())
/// ```
pub struct ArrayDetector<F> {
    name: String,
    sample_shape: Vec<i64>,
    predicted: OutputCells,
    f: F,
}

impl<F> ArrayDetector<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> ArrayD<f32>,
{
    /// `f` predicts every cell of samples of `sample_shape`; described as `name`.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] naming the detector when `sample_shape` has no
    /// dimension or one below 1: a sample without cells has no error to explain.
    pub fn new(name: impl Into<String>, sample_shape: Vec<i64>, f: F) -> Result<Self> {
        let name = name.into();
        if sample_shape.is_empty() || sample_shape.iter().any(|&d| d < 1) {
            return Err(ModelError::ShapeMismatch {
                what: format!("sample shape of plain-Rust detector `{name}`"),
                expected: "at least one dimension, every one at least 1".into(),
                got: sample_shape,
            });
        }
        Ok(ArrayDetector {
            name,
            sample_shape,
            predicted: OutputCells::all(),
            f,
        })
    }

    /// Only `cells` carry a prediction (e.g. the last steps of a forecaster's window);
    /// the closure's values elsewhere are ignored.
    pub fn predicting(mut self, cells: OutputCells) -> Self {
        self.predicted = cells;
        self
    }

    /// The closure's prediction of `x: [B, ..sample]`, checked: same shape, finite.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] naming both shapes when the closure answers with
    /// another shape (another batch size, another sample shape);
    /// [`ModelError::NonFinite`] naming the sample and cell of the first non-finite value.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        check_samples(&self.name, &self.sample_shape, x)?;
        let input = tensor_to_array(&x.f_detach()?)?;
        let out = (self.f)(input.view());
        if out.shape() != input.shape() {
            return Err(ModelError::ShapeMismatch {
                what: format!("prediction of `{}`", self.name),
                expected: format!("{:?} (the batch's shape)", input.shape()),
                got: out.shape().iter().map(|&d| d as i64).collect(),
            });
        }
        let out = array_to_tensor(&out.view(), Device::Cpu)?;
        check_finite_samples(&out, 0, &format!("prediction of `{}`", self.name))?;
        Ok(out.f_to_kind(x.kind())?.f_to_device(x.device())?)
    }
}

impl<F> Detector for ArrayDetector<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> ArrayD<f32>,
{
    fn sample_shape(&self) -> Vec<i64> {
        self.sample_shape.clone()
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
        let prediction = self.predict(x)?;
        cell_errors(x, &prediction, norm)
    }

    fn predicted_cells(&self) -> OutputCells {
        self.predicted.clone()
    }

    fn differentiable(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("plain-Rust detector `{}`", self.name)
    }
}

impl<F> std::fmt::Debug for ArrayDetector<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayDetector")
            .field("name", &self.name)
            .field("sample_shape", &self.sample_shape)
            .finish_non_exhaustive()
    }
}
