//! Turning user input into checked `f64` data: the single place where NaN,
//! out-of-range features and duplicates are caught.

use ndarray::ArrayView1;

use crate::error::{MetricsError, Result};

/// A number this crate accepts as a score, relevance or mask value.
///
/// Implemented for every `Copy` type that converts losslessly into `f64`:
/// `f32` (what models produce), `f64`, and the small integer types (`u8`
/// masks, `i32` counts). All arithmetic is done in `f64`.
pub trait ScoreValue: Copy + Into<f64> + Send + Sync {}

impl<T: Copy + Into<f64> + Send + Sync> ScoreValue for T {}

/// Converts one value, rejecting NaN and infinities; `-0.0` becomes `+0.0`
/// so that the two zeros tie instead of being ordered by their sign bit.
#[inline]
pub(crate) fn finite(what: &'static str, value: impl Into<f64>, index: &[usize]) -> Result<f64> {
    let v: f64 = value.into();
    if v.is_finite() {
        Ok(v + 0.0)
    } else {
        Err(MetricsError::NonFinite {
            what,
            index: index.to_vec(),
            value: v,
        })
    }
}

/// A finite, non-empty score vector in `f64`.
pub(crate) fn checked_vector<S: ScoreValue>(
    what: &'static str,
    scores: ArrayView1<'_, S>,
) -> Result<Vec<f64>> {
    if scores.is_empty() {
        return Err(MetricsError::EmptyInput { what });
    }
    scores
        .iter()
        .enumerate()
        .map(|(i, &s)| finite(what, s, &[i]))
        .collect()
}

/// Checks that `set` holds distinct features below `n_features`.
///
/// Uses a bitmap rather than sorting because sets are small and `n_features`
/// is small (tens of sensors), and the bitmap is reused by callers.
pub(crate) fn feature_mask(
    what: &'static str,
    set: &[usize],
    n_features: usize,
) -> Result<Vec<bool>> {
    let mut mask = vec![false; n_features];
    for &f in set {
        let slot = mask.get_mut(f).ok_or(MetricsError::FeatureOutOfRange {
            what,
            feature: f,
            n_features,
        })?;
        if *slot {
            return Err(MetricsError::DuplicateFeature { what, feature: f });
        }
        *slot = true;
    }
    Ok(mask)
}

/// [`feature_mask`] for a ground-truth set, which must also be non-empty.
pub(crate) fn truth_mask(truth: &[usize], n_features: usize) -> Result<Vec<bool>> {
    if truth.is_empty() {
        return Err(MetricsError::EmptyGroundTruth);
    }
    feature_mask("ground truth", truth, n_features)
}

/// Checks that a ratio or fraction parameter is finite and positive.
pub(crate) fn positive_param(param: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(MetricsError::invalid(
            param,
            value,
            "must be finite and > 0",
        ))
    }
}
