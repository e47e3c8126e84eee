//! The adapter that lets a detector written in plain Rust (a closure over `ndarray`) be
//! explained by every perturbation method.

use ndarray::{Array1, ArrayViewD};
use tch::{Device, Tensor};

use ae_models::convert::tensor_to_array;

use crate::error::{Result, XaiError};
use crate::scorer::Scorer;

/// A scorer from a closure `[B, ..] -> [B]` over `f32` arrays.
///
/// Every batch the methods build is copied to an `ndarray` view, handed to the closure,
/// and its answer copied back into a tensor of the input's dtype and device. The closure
/// is opaque to autograd, so [`Scorer::differentiable`] is `false` and gradient methods
/// return [`XaiError::NotDifferentiable`]; Feature Ablation, Occlusion, Feature
/// Permutation, Shapley Value Sampling and Kernel SHAP all work.
///
/// ```
/// use ndarray::{Array1, ArrayViewD, Axis};
/// use tch::Tensor;
/// use xai_attrib::{ArrayScorer, Scorer};
/// // A detector that flags large values: the per-sample maximum.
/// let s = ArrayScorer::new("max", |x: ArrayViewD<'_, f32>| -> Array1<f32> {
///     x.outer_iter().map(|row| row.iter().cloned().fold(f32::MIN, f32::max)).collect()
/// });
/// let out = s.score(&Tensor::from_slice(&[1.0f32, 5.0, 2.0, 3.0]).reshape([2, 2]))?;
/// assert_eq!(Vec::<f32>::try_from(out).unwrap(), vec![5.0, 3.0]);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
pub struct ArrayScorer<F> {
    name: String,
    f: F,
}

impl<F> ArrayScorer<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> Array1<f32>,
{
    /// Wraps `f`, described as `name` in reports and errors.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        ArrayScorer {
            name: name.into(),
            f,
        }
    }
}

impl<F> Scorer for ArrayScorer<F>
where
    F: Fn(ArrayViewD<'_, f32>) -> Array1<f32>,
{
    fn score(&self, x: &Tensor) -> Result<Tensor> {
        let batch = x.size().first().copied().unwrap_or(0);
        let a = tensor_to_array(&x.f_detach()?)?;
        let out = (self.f)(a.view());
        if out.len() as i64 != batch {
            return Err(XaiError::ShapeMismatch {
                what: format!("output of array scorer `{}`", self.name),
                expected: format!("[{batch}] (one score per sample)"),
                got: vec![out.len() as i64],
            });
        }
        let values: Vec<f32> = out.iter().copied().collect();
        Ok(Tensor::f_from_slice(&values)?
            .f_to_device(Device::Cpu)?
            .f_to_kind(x.kind())?
            .f_to_device(x.device())?)
    }

    fn differentiable(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

impl<F> std::fmt::Debug for ArrayScorer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayScorer")
            .field("name", &self.name)
            .finish()
    }
}
