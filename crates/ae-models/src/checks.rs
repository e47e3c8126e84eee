//! The checks of inputs every model, detector and converter of this crate runs: shape,
//! dtype and finite values. A leaf: it depends on nothing of the crate but its error, so
//! every file can use it without a circle.

use ndarray::{ArrayView, Dimension};
use tch::{Kind, Tensor};

use crate::error::{ModelError, Result};

/// Checks that `x` is a batch `[B, ..sample]` of samples of `sample` shape; `what` names
/// the detector in the error.
///
/// # Errors
/// [`ModelError::ShapeMismatch`] naming the expected pattern and the batch's shape.
pub fn check_samples(what: &str, sample: &[i64], x: &Tensor) -> Result<()> {
    let got = x.size();
    if got.len() != sample.len() + 1 || got[1..] != sample[..] {
        return Err(ModelError::ShapeMismatch {
            what: format!("{what} input"),
            expected: format!(
                "[batch, {}]",
                sample
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            got,
        });
    }
    Ok(())
}

/// The flat (row-major) index of the first NaN or infinite value of `t`, if any: the one
/// place tensors are searched for non-finite values, and what every "non-finite value at …"
/// error of the workspace names ([`check_finite`] and friends turn it into an
/// error).
pub fn first_non_finite(t: &Tensor) -> Result<Option<usize>> {
    let _guard = tch::no_grad_guard();
    let bad = t.f_isfinite()?.f_logical_not()?.f_flatten(0, -1)?;
    if bad.f_any()?.f_int64_value(&[])? == 0 {
        return Ok(None);
    }
    Ok(Some(bad.f_nonzero()?.f_int64_value(&[0, 0])? as usize))
}

/// Checks that `x` is a batch of samples of shape `sample` (as
/// [`check_samples`], errors naming `"{what} input"`), of dtype `f32`
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
/// use ae_models::{checks::check_finite_array, ModelError};
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
/// use ae_models::{checks::check_finite_samples, ModelError};
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
