//! The anomaly score of every sample for any [`Detector`], tensors or arrays in and out.
//!
//! A sample's score is its mean cell error over the cells the detector predicts (every
//! cell of an autoencoder, the forecast steps of a forecaster). [`anomaly_scores`] is the
//! tensor version; [`anomaly_scores_array`] and [`series_scores`] take and return
//! `ndarray` arrays for a detector written in plain Rust, and share its code.
//!
//! ```
//! use ae_models::anomaly_scores::series_scores;
//! use ae_models::{ArrayDetector, ErrorNorm};
//! use ndarray::{Array2, ArrayViewD, Axis};
//! // Predicts every step of a window [4, 2] by the window's mean step.
//! let mean = ArrayDetector::new("window mean", vec![4, 2], |x: ArrayViewD<'_, f32>| {
//!     let m = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
//!     m.broadcast(x.shape()).unwrap().to_owned()
//! })?;
//! let mut series = Array2::<f32>::zeros((10, 2));
//! series[[6, 1]] = 4.0; // a spike
//! let scores = series_scores(&mean, series.view(), 2, ErrorNorm::L1, 64)?;
//! assert_eq!(scores.len(), 4); // windows starting at 0, 2, 4, 6
//! assert_eq!(scores.to_vec(), vec![0.0, 0.0, 0.75, 0.75]);
//! # Ok::<(), ae_models::ModelError>(())
//! ```

use ndarray::{Array1, ArrayView2, ArrayViewD};
use tch::{Device, Kind, Tensor};

use crate::checks::{check_finite_samples, check_samples};
use crate::convert::{checked_array_to_tensor, tensor_to_array};
use crate::detector::Detector;
use crate::error::{ModelError, Result};
use crate::explained_error::{per_sample_sum, ExplainedError};
use crate::recon_error::ErrorNorm;
use crate::windows::sliding_windows_tensor;

/// The anomaly score `[N]` of every sample of `data: [N, ..sample]`: the mean `norm` error
/// of the cells `detector` predicts, computed in batches of `batch_size` under no-grad.
/// Each batch moves to the detector's device and its scores back to `data`'s device.
///
/// For an autoencoder this is [`crate::recon_error::score`].
///
/// # Errors
/// [`ModelError::InvalidParam`] for `batch_size = 0`; [`ModelError::ShapeMismatch`] for
/// samples of another shape; the detector's own errors; [`ModelError::NonFinite`] naming
/// the first sample and cell whose error is NaN or infinite.
pub fn anomaly_scores<D: Detector + ?Sized>(
    detector: &D,
    data: &Tensor,
    norm: ErrorNorm,
    batch_size: usize,
) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(ModelError::InvalidParam {
            what: "anomaly_scores",
            param: "batch_size",
            value: "0".into(),
            rule: "must be at least 1",
        });
    }
    let sample = detector.sample_shape();
    check_samples(&detector.describe(), &sample, data)?;
    let predicted = ExplainedError::new(norm)
        .within(&detector.predicted_cells())
        .resolve(&sample, detector.device())?;
    let _guard = tch::no_grad_guard();
    let n = data.size()[0];
    let mut scores = Vec::new();
    let mut start = 0;
    while start < n {
        let len = (batch_size as i64).min(n - start);
        let x = data
            .f_narrow(0, start, len)?
            .f_to_device(detector.device())?;
        let cells = detector.cell_errors(&x, norm)?;
        check_finite_samples(&cells, start as usize, "anomaly score: cell error")?;
        // Every cell predicted: a plain mean, as `recon_error::score` computes it.
        let s = match predicted.mask() {
            None => {
                let dims: Vec<i64> = (1..cells.dim() as i64).collect();
                cells.f_mean_dim(dims.as_slice(), false, None)?
            }
            Some(_) => per_sample_sum(&predicted.scale(&cells)?)?,
        };
        scores.push(s.f_to_device(data.device())?);
        start += len;
    }
    if scores.is_empty() {
        return Ok(Tensor::f_zeros([0], (Kind::Float, data.device()))?);
    }
    Ok(Tensor::f_cat(&scores, 0)?)
}

/// [`anomaly_scores`] of an array of samples `[N, ..sample]`, as an array `[N]`.
///
/// # Errors
/// As [`anomaly_scores`], and [`ModelError::NonFinite`] naming the first non-finite value
/// of `data`.
pub fn anomaly_scores_array<D: Detector + ?Sized>(
    detector: &D,
    data: &ArrayViewD<'_, f32>,
    norm: ErrorNorm,
    batch_size: usize,
) -> Result<Array1<f32>> {
    let x = checked_array_to_tensor("anomaly_scores_array data", data, data.ndim(), Device::Cpu)?;
    to_array1(&anomaly_scores(detector, &x, norm, batch_size)?)
}

/// The anomaly score of every window of a series `[T, F]`: element `k` scores the window of
/// the detector's length starting at step `k · stride` (`(T − window) / stride + 1`
/// windows).
///
/// # Errors
/// [`ModelError::ShapeMismatch`] unless the detector's samples are windows `[window, F]`
/// of the series' width; [`ModelError::InvalidParam`] for a zero stride or a series
/// shorter than a window; otherwise as [`anomaly_scores`].
pub fn series_scores<D: Detector + ?Sized>(
    detector: &D,
    series: ArrayView2<'_, f32>,
    stride: usize,
    norm: ErrorNorm,
    batch_size: usize,
) -> Result<Array1<f32>> {
    let sample = detector.sample_shape();
    if sample.len() != 2 || sample[1] != series.ncols() as i64 || sample[0] < 1 {
        return Err(ModelError::ShapeMismatch {
            what: format!("series_scores: samples of {}", detector.describe()),
            expected: format!("windows [window, {}] of the series", series.ncols()),
            got: sample,
        });
    }
    let t = checked_array_to_tensor("series_scores series", &series, 2, Device::Cpu)?;
    let windows = sliding_windows_tensor(&t, sample[0] as usize, stride)?;
    to_array1(&anomaly_scores(detector, &windows, norm, batch_size)?)
}

fn to_array1(t: &Tensor) -> Result<Array1<f32>> {
    Ok(Array1::from(
        tensor_to_array(t)?.into_raw_vec_and_offset().0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recon_error::score;
    use crate::{DenseAe, DenseAeConfig, LstmForecaster, LstmForecasterConfig};

    #[test]
    fn an_autoencoder_scores_as_recon_error_score() {
        let ae = DenseAe::seeded(&DenseAeConfig::new(5, vec![3]), Device::Cpu, 0).unwrap();
        let data = Tensor::rand([9, 5], (Kind::Float, Device::Cpu));
        for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
            let ours = anomaly_scores(&ae, &data, norm, 4).unwrap();
            assert!(ours.equal(&score(&ae, &data, norm, 4).unwrap()), "{norm:?}");
        }
        let arr = tensor_to_array(&data).unwrap();
        let a = anomaly_scores_array(&ae, &arr.view(), ErrorNorm::L1, 4).unwrap();
        assert_eq!(a.len(), 9);
    }

    #[test]
    fn a_forecaster_scores_its_predicted_steps_only() {
        let f =
            LstmForecaster::seeded(&LstmForecasterConfig::new(2, 4, 2, 3), Device::Cpu, 0).unwrap();
        let x = Tensor::rand([3, 6, 2], (Kind::Float, Device::Cpu));
        let s = anomaly_scores(&f, &x, ErrorNorm::L1, 2).unwrap();
        let want = (x.narrow(1, 4, 2) - f.forecast(&x.narrow(1, 0, 4)).unwrap())
            .abs()
            .mean_dim([1i64, 2].as_slice(), false, None);
        assert!(s.allclose(&want, 1e-6, 1e-6, false));
    }

    #[test]
    fn bad_input_is_named() {
        let ae = DenseAe::seeded(&DenseAeConfig::new(5, vec![3]), Device::Cpu, 0).unwrap();
        let err = anomaly_scores(
            &ae,
            &Tensor::zeros([2, 4], (Kind::Float, Device::Cpu)),
            ErrorNorm::L1,
            4,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("[batch, 5]") && err.contains("[2, 4]"),
            "{err}"
        );
        let series = ndarray::Array2::<f32>::zeros((10, 5));
        let err = series_scores(&ae, series.view(), 1, ErrorNorm::L1, 4)
            .unwrap_err()
            .to_string();
        assert!(err.contains("windows [window, 5]"), "{err}");
        assert!(anomaly_scores(
            &ae,
            &Tensor::zeros([2, 5], (Kind::Float, Device::Cpu)),
            ErrorNorm::L1,
            0
        )
        .is_err());
    }
}
