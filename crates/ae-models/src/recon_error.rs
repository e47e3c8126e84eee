//! Reconstruction errors at every granularity the pipeline needs.
//!
//! A detector scores a sample by how badly it is reconstructed; the residual baseline
//! localizes by the same error per feature. For an input `x` and its reconstruction `x̂`,
//! the cell error is `|x − x̂|` ([`ErrorNorm::L1`], paper 1's MAE) or `(x − x̂)²`
//! ([`ErrorNorm::SquaredL2`]); every coarser error is the *mean* of the cell errors it covers:
//!
//! | function | input | output |
//! |---|---|---|
//! | [`cell_errors`] | `[B, ..]` | `[B, ..]` (per time step and feature, per pixel) |
//! | [`sample_errors`] | `[B, ..]` | `[B]` (per window / record / image: the anomaly score) |
//! | [`step_errors`] | `[B, T, F]` | `[B, T]` (per time step) |
//! | [`feature_errors`] | `[B, T, F]` or `[B, F]` | `[B, F]` (per sensor: the residual baseline) |
//!
//! All are built from differentiable tch ops, so a scorer can wrap them for gradient
//! methods. [`reconstruct`] and [`score`] run a model over a large data set in batches
//! under no-grad.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::checks::check_finite_samples;
use crate::error::{ModelError, Result};
use crate::layer_model::LayerModel;

/// How a cell's reconstruction error is measured. In JSON `"l1"` and `"squared_l2"`
/// (the former spellings `"L1"` and `"L2"` are still read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorNorm {
    /// Absolute error `|x − x̂|` (paper 1 trains and scores with its mean, the MAE).
    #[default]
    #[serde(alias = "L1")]
    L1,
    /// Squared error `(x − x̂)²` (paper 1's and paper 2's "L2" error: the squared L2
    /// distance, whose mean is the MSE).
    #[serde(alias = "L2")]
    SquaredL2,
}

/// The papers' names, as tables label them: `L1`, `L2`.
impl std::fmt::Display for ErrorNorm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorNorm::L1 => "L1",
            ErrorNorm::SquaredL2 => "L2",
        })
    }
}

impl ErrorNorm {
    /// The cell-wise error of tensors of equal shape (no shape check).
    fn apply(self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        let d = x.f_sub(x_hat)?;
        Ok(match self {
            ErrorNorm::L1 => d.f_abs()?,
            ErrorNorm::SquaredL2 => d.f_square()?,
        })
    }

    /// The mean cell error over a whole batch: the training loss.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] when the shapes differ.
    pub fn mean_loss(self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        same_shape(x, x_hat, 1)?;
        Ok(self.apply(x, x_hat)?.f_mean(Kind::Float)?)
    }
}

fn same_shape(x: &Tensor, x_hat: &Tensor, min_dims: usize) -> Result<()> {
    let (a, b) = (x.size(), x_hat.size());
    if a != b {
        return Err(ModelError::ShapeMismatch {
            what: "reconstruction (must match the input)".into(),
            expected: format!("{a:?}"),
            got: b,
        });
    }
    if a.len() < min_dims {
        return Err(ModelError::ShapeMismatch {
            what: "reconstruction error input".into(),
            expected: format!("at least {min_dims} dimensions with the batch first"),
            got: a,
        });
    }
    Ok(())
}

/// The error of every cell, same shape as the input.
///
/// ```
/// use ae_models::recon_error::{cell_errors, feature_errors, sample_errors, step_errors, ErrorNorm};
/// use tch::Tensor;
/// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 2, 2]);
/// let x_hat = Tensor::from_slice(&[1.0f32, 0.0, 2.0, 4.0]).reshape([1, 2, 2]);
/// let l2 = cell_errors(&x, &x_hat, ErrorNorm::SquaredL2)?;
/// assert_eq!(Vec::<f32>::try_from(l2.flatten(0, -1)).unwrap(), vec![0.0, 4.0, 1.0, 0.0]);
/// assert_eq!(sample_errors(&x, &x_hat, ErrorNorm::L1)?.double_value(&[0]), 0.75);
/// assert_eq!(Vec::<f32>::try_from(step_errors(&x, &x_hat, ErrorNorm::L1)?.flatten(0, -1)).unwrap(), vec![1.0, 0.5]);
/// assert_eq!(Vec::<f32>::try_from(feature_errors(&x, &x_hat, ErrorNorm::L1)?.flatten(0, -1)).unwrap(), vec![0.5, 1.0]);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::ShapeMismatch`] when the shapes differ or the input has no batch
/// dimension plus at least one more.
pub fn cell_errors(x: &Tensor, x_hat: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
    same_shape(x, x_hat, 2)?;
    norm.apply(x, x_hat)
}

/// One error per sample `[B]`: the mean cell error of each window, record or image. This
/// is the anomaly score.
///
/// # Errors
/// As [`cell_errors`].
pub fn sample_errors(x: &Tensor, x_hat: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
    let cells = cell_errors(x, x_hat, norm)?;
    let dims: Vec<i64> = (1..cells.dim() as i64).collect();
    Ok(cells.f_mean_dim(dims.as_slice(), false, None)?)
}

/// One error per time step `[B, T]` of windows `[B, T, F]` (mean over features).
///
/// # Errors
/// As [`cell_errors`], and [`ModelError::ShapeMismatch`] unless the input is 3-D.
pub fn step_errors(x: &Tensor, x_hat: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
    need_windows(x, "step_errors")?;
    Ok(cell_errors(x, x_hat, norm)?.f_mean_dim([2i64].as_slice(), false, None)?)
}

/// One error per feature `[B, F]`: the mean over time of windows `[B, T, F]`, or the cell
/// errors themselves for records `[B, F]`. This is the residual baseline's attribution.
///
/// # Errors
/// As [`cell_errors`], and [`ModelError::ShapeMismatch`] unless the input is 2-D or 3-D.
pub fn feature_errors(x: &Tensor, x_hat: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
    let cells = cell_errors(x, x_hat, norm)?;
    match cells.dim() {
        2 => Ok(cells),
        3 => Ok(cells.f_mean_dim([1i64].as_slice(), false, None)?),
        _ => Err(ModelError::ShapeMismatch {
            what: "feature_errors input".into(),
            expected: "[B, T, F] or [B, F]".into(),
            got: x.size(),
        }),
    }
}

fn need_windows(x: &Tensor, what: &str) -> Result<()> {
    if x.dim() != 3 {
        return Err(ModelError::ShapeMismatch {
            what: format!("{what} input"),
            expected: "[B, T, F]".into(),
            got: x.size(),
        });
    }
    Ok(())
}

/// Reconstructs `data [N, ..sample_shape]` in batches of `batch_size` under no-grad. Each
/// batch moves to the model's device and its reconstruction back to `data`'s device, so
/// a data set larger than the accelerator's memory works.
///
/// # Errors
/// [`ModelError::InvalidParam`] for `batch_size = 0`; the model's own input errors;
/// [`ModelError::NonFinite`] when a reconstruction holds a NaN or infinite value (a model
/// with broken weights), naming the first such sample and its cell.
pub fn reconstruct<A: LayerModel + ?Sized>(
    model: &A,
    data: &Tensor,
    batch_size: usize,
) -> Result<Tensor> {
    batched(model, data, batch_size, |_, y, _| Ok(y.shallow_clone()))
}

/// The anomaly score of every sample of `data [N, ..]`: [`sample_errors`] of its
/// reconstruction, `[N]`, computed in batches under no-grad.
///
/// ```
/// use ae_models::{recon_error::{score, ErrorNorm}, DenseAe, DenseAeConfig, Trainable};
/// use tch::{Device, Kind, Tensor};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)?;
/// let data = Tensor::rand([5, 3], (Kind::Float, Device::Cpu));
/// assert_eq!(score(&ae, &data, ErrorNorm::L1, 2)?.size(), vec![5]);
/// // A broken weight shows up as an error naming the first bad sample, never as NaN scores.
/// let _ = tch::no_grad(|| ae.parameters()[2].1.shallow_clone().fill_(f64::NAN));
/// let err = score(&ae, &data, ErrorNorm::L1, 2).unwrap_err();
/// assert!(err.to_string().contains("reconstruction of sample 0, cell [0]"), "{err}");
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// As [`reconstruct`], and [`ModelError::NonFinite`] when a cell error or a score
/// overflows to infinity.
pub fn score<A: LayerModel + ?Sized>(
    model: &A,
    data: &Tensor,
    norm: ErrorNorm,
    batch_size: usize,
) -> Result<Tensor> {
    batched(model, data, batch_size, |x, y, first| {
        let cells = cell_errors(x, y, norm)?;
        check_finite_samples(&cells, first, "score: cell error")?;
        let dims: Vec<i64> = (1..cells.dim() as i64).collect();
        let scores = cells.f_mean_dim(dims.as_slice(), false, None)?;
        check_finite_samples(&scores, first, "score")?;
        Ok(scores)
    })
}

/// Runs `model` over `data` in batches; `per_batch(x, reconstruction, first sample)` turns
/// each batch into its share of the answer. Every reconstruction is checked to be finite.
fn batched<A: LayerModel + ?Sized>(
    model: &A,
    data: &Tensor,
    batch_size: usize,
    per_batch: impl Fn(&Tensor, &Tensor, usize) -> Result<Tensor>,
) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(ModelError::InvalidParam {
            what: "reconstruct",
            param: "batch_size",
            value: "0".into(),
            rule: "must be at least 1",
        });
    }
    let _guard = tch::no_grad_guard();
    let n = data.size().first().copied().unwrap_or(0);
    let mut outs = Vec::new();
    let mut start = 0;
    while start < n {
        let len = (batch_size as i64).min(n - start);
        let x = data.f_narrow(0, start, len)?.f_to_device(model.device())?;
        let y = model.forward(&x)?;
        check_finite_samples(&y, start as usize, "reconstruction")?;
        outs.push(per_batch(&x, &y, start as usize)?.f_to_device(data.device())?);
        start += len;
    }
    if outs.is_empty() {
        // An empty data set still gets its shape checked and an empty answer.
        let y = model.forward(&data.f_to_device(model.device())?)?;
        return per_batch(data, &y.f_to_device(data.device())?, 0);
    }
    Ok(Tensor::f_cat(&outs, 0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn l2_means_match_hand_computation() {
        let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 0.0, 0.0, 0.0]).reshape([1, 3, 2]);
        let y = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 0.0, 0.0, -1.0]).reshape([1, 3, 2]);
        let s = sample_errors(&x, &y, ErrorNorm::SquaredL2).unwrap();
        assert!((s.double_value(&[0]) - 15.0 / 6.0).abs() < 1e-6);
        let t = step_errors(&x, &y, ErrorNorm::SquaredL2).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(t.flatten(0, -1)).unwrap(),
            vec![2.5, 4.5, 0.5]
        );
        let f = feature_errors(&x, &y, ErrorNorm::SquaredL2).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(f.flatten(0, -1)).unwrap(),
            vec![10.0 / 3.0, 5.0 / 3.0]
        );
        assert!(
            (ErrorNorm::SquaredL2
                .mean_loss(&x, &y)
                .unwrap()
                .double_value(&[])
                - 2.5)
                .abs()
                < 1e-6
        );
    }

    #[test]
    fn records_and_images() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let y = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
        assert_eq!(
            feature_errors(&x, &y, ErrorNorm::L1).unwrap().size(),
            vec![2, 3]
        );
        let img = Tensor::ones([2, 1, 4, 4], (Kind::Float, Device::Cpu));
        assert_eq!(
            sample_errors(&img, &img.zeros_like(), ErrorNorm::L1)
                .unwrap()
                .size(),
            vec![2]
        );
        assert!(feature_errors(&img, &img, ErrorNorm::L1).is_err());
        assert!(step_errors(&x, &y, ErrorNorm::L1)
            .unwrap_err()
            .to_string()
            .contains("[B, T, F]"));
    }

    #[test]
    fn non_finite_outputs_name_the_sample_and_cell() {
        use crate::{DenseAe, DenseAeConfig, LstmAe, LstmAeConfig, Trainable};
        // A NaN in one output bias: every reconstruction is NaN in that cell.
        let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![2]), Device::Cpu, 0).unwrap();
        let (name, bias) = &ae.parameters()[3];
        assert_eq!(name, "decoder.0.bias");
        let _ = tch::no_grad(|| bias.get(2).fill_(f64::NAN));
        let data = Tensor::rand([7, 4], (Kind::Float, Device::Cpu));
        for err in [
            reconstruct(&ae, &data, 3).unwrap_err(),
            score(&ae, &data, ErrorNorm::L1, 3).unwrap_err(),
        ] {
            assert!(
                matches!(err, ModelError::NonFinite { index: 2, .. })
                    && err
                        .to_string()
                        .contains("reconstruction of sample 0, cell [2]"),
                "{err}"
            );
        }
        // Only sample 5 overflows (its input is huge): found in the second batch, by its
        // index in the whole set. An LSTM AE, so the cell is (step, feature).
        let lstm = LstmAe::seeded(&LstmAeConfig::new(2, 3, 4), Device::Cpu, 0).unwrap();
        let x = Tensor::zeros([6, 3, 2], (Kind::Float, Device::Cpu));
        let _ = x.get(5).get(1).get(0).fill_(3e38);
        let ok = reconstruct(&lstm, &x, 4).unwrap();
        assert_eq!(ok.size(), vec![6, 3, 2]);
        let err = score(&lstm, &x, ErrorNorm::SquaredL2, 4).unwrap_err();
        assert!(
            err.to_string()
                .contains("score: cell error of sample 5, cell [1, 0]"),
            "{err}"
        );
        assert!(
            matches!(err, ModelError::NonFinite { index: 32, .. }),
            "{err}"
        );
    }

    #[test]
    fn mismatched_shapes_are_named() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let y = Tensor::ones([2, 4], (Kind::Float, Device::Cpu));
        let err = cell_errors(&x, &y, ErrorNorm::L1).unwrap_err().to_string();
        assert!(err.contains("[2, 3]") && err.contains("[2, 4]"), "{err}");
        let v = Tensor::ones([3], (Kind::Float, Device::Cpu));
        assert!(cell_errors(&v, &v, ErrorNorm::L1).is_err());
    }
}
