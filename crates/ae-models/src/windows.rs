//! Sliding windows over a multivariate series.
//!
//! Window `k` covers rows `[k · stride, k · stride + window)` of a series `[T, F]`; there
//! are `⌊(T − window) / stride⌋ + 1` of them. With `stride > 1` the last
//! `(T − window) mod stride` rows belong to no window; pick the stride (or pad the series)
//! accordingly. [`sliding_windows`] copies the windows into an `ndarray`;
//! [`sliding_windows_tensor`] returns a zero-copy strided view of a tensor, which is what
//! training on a whole SMD machine (about 23 700 windows of 50 × 38) wants: the trainer
//! gathers each mini-batch from it.

use ndarray::{Array3, ArrayView2, Axis, Slice};
use tch::Tensor;

use crate::checks::check_finite_array;
use crate::error::{ModelError, Result};

/// Windows of a series and where each starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// `[N, window, F]`.
    pub data: Array3<f32>,
    /// Row of the series where window `k` starts.
    pub starts: Vec<usize>,
}

/// The number of windows of length `window` at `stride` in a series of `len` rows.
///
/// # Errors
/// [`ModelError::InvalidParam`] for `window = 0`, `stride = 0` or `window > len`.
pub fn window_count(len: usize, window: usize, stride: usize) -> Result<usize> {
    let bad = |param, value: String, rule| ModelError::InvalidParam {
        what: "sliding_windows",
        param,
        value,
        rule,
    };
    if window == 0 {
        return Err(bad("window", "0".into(), "must be at least 1"));
    }
    if stride == 0 {
        return Err(bad("stride", "0".into(), "must be at least 1"));
    }
    if window > len {
        return Err(bad(
            "window",
            format!("{window} (series of {len} rows)"),
            "must not exceed the series length",
        ));
    }
    Ok((len - window) / stride + 1)
}

/// Copies the windows of `series` `[T, F]`.
///
/// ```
/// use ae_models::windows::sliding_windows;
/// use ndarray::Array2;
/// let series = Array2::from_shape_fn((7, 2), |(t, f)| (10 * t + f) as f32);
/// let w = sliding_windows(&series.view(), 3, 2)?;
/// assert_eq!(w.data.shape(), &[3, 3, 2]);
/// assert_eq!(w.starts, vec![0, 2, 4]);
/// assert_eq!(w.data[[2, 0, 1]], 41.0);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// As [`window_count`]; [`ModelError::NonFinite`] for NaN or infinite values.
pub fn sliding_windows(
    series: &ArrayView2<'_, f32>,
    window: usize,
    stride: usize,
) -> Result<Windows> {
    let n = window_count(series.nrows(), window, stride)?;
    check_finite_array(series, "sliding_windows series")?;
    let f = series.ncols();
    let mut data = Array3::zeros((n, window, f));
    let starts: Vec<usize> = (0..n).map(|k| k * stride).collect();
    for (k, &start) in starts.iter().enumerate() {
        data.index_axis_mut(Axis(0), k)
            .assign(&series.slice_axis(Axis(0), Slice::from(start..start + window)));
    }
    Ok(Windows { data, starts })
}

/// The windows of a series tensor `[T, F]` as a strided view `[N, window, F]` that shares
/// the series' storage (no copy; gather or `contiguous()` it before writing).
///
/// ```
/// use ae_models::windows::sliding_windows_tensor;
/// use tch::Tensor;
/// let series = Tensor::arange(12, (tch::Kind::Float, tch::Device::Cpu)).reshape([6, 2]);
/// let w = sliding_windows_tensor(&series, 4, 1)?;
/// assert_eq!(w.size(), vec![3, 4, 2]);
/// assert_eq!(w.double_value(&[2, 0, 1]), 5.0);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::ShapeMismatch`] unless the series is 2-D; otherwise as [`window_count`].
pub fn sliding_windows_tensor(series: &Tensor, window: usize, stride: usize) -> Result<Tensor> {
    let dims = series.size();
    if dims.len() != 2 {
        return Err(ModelError::ShapeMismatch {
            what: "sliding_windows_tensor series".into(),
            expected: "[T, F]".into(),
            got: dims,
        });
    }
    window_count(dims[0] as usize, window, stride)?;
    // unfold gives [N, F, window]; the permutation restores time-major windows.
    Ok(series
        .f_unfold(0, window as i64, stride as i64)?
        .f_permute([0, 2, 1])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{array_to_tensor, tensor_to_array};
    use ndarray::Array2;
    use proptest::prelude::*;

    #[test]
    fn window_longer_than_series_and_zero_sizes_are_errors() {
        let series = Array2::<f32>::zeros((5, 2));
        let err = sliding_windows(&series.view(), 6, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("window = 6 (series of 5 rows)"), "{err}");
        assert!(sliding_windows(&series.view(), 0, 1)
            .unwrap_err()
            .to_string()
            .contains("window = 0"));
        assert!(sliding_windows(&series.view(), 2, 0)
            .unwrap_err()
            .to_string()
            .contains("stride = 0"));
        let mut nan = series.clone();
        nan[[3, 1]] = f32::NAN;
        assert!(matches!(
            sliding_windows(&nan.view(), 2, 1).unwrap_err(),
            ModelError::NonFinite { index: 7, .. }
        ));
        let t = Tensor::zeros([5], (tch::Kind::Float, tch::Device::Cpu));
        assert!(sliding_windows_tensor(&t, 2, 1).is_err());
    }

    #[test]
    fn window_equal_to_series_gives_one_window() {
        let series = Array2::from_shape_fn((4, 3), |(t, f)| (t * 3 + f) as f32);
        let w = sliding_windows(&series.view(), 4, 3).unwrap();
        assert_eq!(w.starts, vec![0]);
        assert_eq!(w.data.index_axis(Axis(0), 0), series);
    }

    proptest! {
        #[test]
        fn count_and_content(t in 1usize..40, f in 1usize..4, window in 1usize..12, stride in 1usize..6) {
            prop_assume!(window <= t);
            let series = Array2::from_shape_fn((t, f), |(i, j)| (i * 10 + j) as f32);
            let w = sliding_windows(&series.view(), window, stride).unwrap();
            let n = w.starts.len();
            prop_assert_eq!(n, (t - window) / stride + 1);
            prop_assert_eq!(w.data.shape(), &[n, window, f]);
            // The next window would not fit: every possible window is there.
            prop_assert!(w.starts[n - 1] + stride + window > t);
            for (k, &s) in w.starts.iter().enumerate() {
                prop_assert_eq!(s, k * stride);
                for i in 0..window {
                    for j in 0..f {
                        prop_assert_eq!(w.data[[k, i, j]], series[[s + i, j]]);
                    }
                }
            }
            let ts = array_to_tensor(&series.view().into_dyn(), tch::Device::Cpu).unwrap();
            let view = sliding_windows_tensor(&ts, window, stride).unwrap();
            prop_assert_eq!(tensor_to_array(&view).unwrap(), w.data.into_dyn());
        }
    }
}
