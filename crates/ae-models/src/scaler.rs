//! Min-max scaling of multivariate series, fitted on the training half.
//!
//! `x' = (x − min) / (max − min)` per column, with `min` and `max` taken from the training
//! data, so training data lands in `[0, 1]` and test data may leave it. A constant training
//! column has range 0; its range is taken as 1 instead (as scikit-learn does), so it maps to
//! `x − min`: 0 on the training data, no NaN anywhere. An optional clip bounds transformed
//! values (the reference protocol of DESIGN §7b clips test data to `[-3, 3]`).

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::checks::check_finite_array;
use crate::error::{checked_serde, ModelError, Result};

/// A fitted per-column min-max scaler.
///
/// ```
/// use ae_models::MinMaxScaler;
/// use ndarray::array;
/// let train = array![[0.0f32, 5.0], [2.0, 5.0], [4.0, 5.0]];
/// let scaler = MinMaxScaler::fit(&train.view())?;
/// let test = array![[1.0f32, 6.0], [8.0, 5.0]];
/// assert_eq!(scaler.transform(&test.view())?, array![[0.25f32, 1.0], [2.0, 0.0]]);
/// let clipped = scaler.with_clip(-1.0, 1.5)?.transform(&test.view())?;
/// assert_eq!(clipped, array![[0.25f32, 1.0], [1.5, 0.0]]);
/// assert_eq!(scaler.inverse_transform(&scaler.transform(&test.view())?.view())?, test);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// A scaler read with serde (e.g. from JSON) is checked like one built by [`MinMaxScaler::fit`]
/// and [`MinMaxScaler::with_clip`]: one finite minimum and one finite positive range per
/// column, a finite clip with `low < high`; anything else fails to deserialise, naming the
/// value.
///
/// ```
/// use ae_models::MinMaxScaler;
/// let err = serde_json::from_str::<MinMaxScaler>(r#"{"min": [0.0], "range": [0.0], "clip": null}"#)
///     .unwrap_err();
/// assert!(err.to_string().contains("range"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct MinMaxScaler {
    min: Vec<f32>,
    range: Vec<f32>,
    clip: Option<(f32, f32)>,
}

checked_serde!(MinMaxScaler);

impl MinMaxScaler {
    /// Fits the scaler to the columns of `data` `[T, F]`.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] for no rows or no columns; [`ModelError::NonFinite`]
    /// naming the flat index of the first NaN or infinite value.
    pub fn fit(data: &ArrayView2<'_, f32>) -> Result<Self> {
        if data.nrows() == 0 || data.ncols() == 0 {
            return Err(ModelError::ShapeMismatch {
                what: "MinMaxScaler::fit data".into(),
                expected: "[T >= 1, F >= 1]".into(),
                got: vec![data.nrows() as i64, data.ncols() as i64],
            });
        }
        check_finite_array(data, "MinMaxScaler::fit data")?;
        let mut min = Vec::with_capacity(data.ncols());
        let mut range = Vec::with_capacity(data.ncols());
        for col in data.axis_iter(Axis(1)) {
            let lo = col.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let r = hi - lo;
            min.push(lo);
            // A range that underflows or overflows is as useless as a zero one.
            range.push(if r > 0.0 && r.is_finite() { r } else { 1.0 });
        }
        Ok(MinMaxScaler {
            min,
            range,
            clip: None,
        })
    }

    /// The same scaler, clipping transformed values to `[low, high]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] unless both bounds are finite and `low < high`.
    pub fn with_clip(&self, low: f32, high: f32) -> Result<Self> {
        check_clip(low, high)?;
        Ok(MinMaxScaler {
            clip: Some((low, high)),
            ..self.clone()
        })
    }

    /// The same scaler without clipping.
    pub fn without_clip(&self) -> Self {
        MinMaxScaler {
            clip: None,
            ..self.clone()
        }
    }

    /// Number of columns it was fitted on.
    pub fn n_features(&self) -> usize {
        self.min.len()
    }

    /// Per-column minimum of the training data.
    pub fn min(&self) -> &[f32] {
        &self.min
    }

    /// Per-column divisor: `max − min` of the training data, or 1 for a constant column.
    pub fn range(&self) -> &[f32] {
        &self.range
    }

    /// The clip bounds, if any.
    pub fn clip(&self) -> Option<(f32, f32)> {
        self.clip
    }

    /// Checks what [`MinMaxScaler::fit`] and [`MinMaxScaler::with_clip`] guarantee; run on
    /// every deserialised scaler.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] naming the first value that breaks a rule.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| {
            Err(ModelError::InvalidParam {
                what: "MinMaxScaler",
                param,
                value,
                rule,
            })
        };
        if self.min.is_empty() || self.min.len() != self.range.len() {
            return bad(
                "min/range",
                format!("{} and {} values", self.min.len(), self.range.len()),
                "must have one value per column, for at least one column",
            );
        }
        if let Some(j) = self.min.iter().position(|v| !v.is_finite()) {
            return bad(
                "min",
                format!("{} (column {j})", self.min[j]),
                "must be finite",
            );
        }
        if let Some(j) = self.range.iter().position(|r| !(r.is_finite() && *r > 0.0)) {
            return bad(
                "range",
                format!("{} (column {j})", self.range[j]),
                "must be finite and positive",
            );
        }
        if let Some((low, high)) = self.clip {
            check_clip(low, high)?;
        }
        Ok(())
    }

    /// Scales `data` `[T, F]` (and clips it, if the scaler clips).
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] for a different column count; [`ModelError::NonFinite`]
    /// for NaN or infinite input, or for a result that overflows (a value far outside the
    /// training range over a tiny range), naming its flat index.
    pub fn transform(&self, data: &ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_columns(data, "MinMaxScaler::transform data")?;
        let mut out = data.to_owned();
        for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            let (lo, r) = (self.min[j], self.range[j]);
            col.mapv_inplace(|v| (v - lo) / r);
            if let Some((a, b)) = self.clip {
                // max/min rather than clamp: they cannot panic, whatever the bounds.
                col.mapv_inplace(|v| v.max(a).min(b));
            }
        }
        check_finite_array(&out.view(), "MinMaxScaler::transform result")?;
        Ok(out)
    }

    /// Maps scaled values back: `x = x' · range + min`. Clipped values stay clipped.
    ///
    /// # Errors
    /// As [`MinMaxScaler::transform`].
    pub fn inverse_transform(&self, data: &ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_columns(data, "MinMaxScaler::inverse_transform data")?;
        let mut out = data.to_owned();
        for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            let (lo, r) = (self.min[j], self.range[j]);
            col.mapv_inplace(|v| v * r + lo);
        }
        check_finite_array(&out.view(), "MinMaxScaler::inverse_transform result")?;
        Ok(out)
    }

    /// The column count must match, and the scaler itself must be valid: its fields are
    /// private and every constructor checks them, so this is a second line that keeps
    /// `transform` from ever indexing out of bounds.
    fn check_columns(&self, data: &ArrayView2<'_, f32>, what: &str) -> Result<()> {
        self.check()?;
        if data.ncols() != self.n_features() {
            return Err(ModelError::ShapeMismatch {
                what: what.into(),
                expected: format!("[T, {}]", self.n_features()),
                got: vec![data.nrows() as i64, data.ncols() as i64],
            });
        }
        check_finite_array(data, what)
    }
}

/// The clip rule of [`MinMaxScaler::with_clip`] and [`MinMaxScaler::check`]: both bounds
/// finite and `low < high`.
fn check_clip(low: f32, high: f32) -> Result<()> {
    if !(low.is_finite() && high.is_finite() && low < high) {
        return Err(ModelError::InvalidParam {
            what: "MinMaxScaler",
            param: "clip",
            value: format!("[{low}, {high}]"),
            rule: "must be finite with low < high",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn training_data_lands_in_the_unit_interval() {
        let train = array![[1.0f32, -2.0, 7.0], [3.0, 2.0, 7.0], [2.0, 0.0, 7.0]];
        let s = MinMaxScaler::fit(&train.view()).unwrap();
        let t = s.transform(&train.view()).unwrap();
        assert_eq!(
            t,
            array![[0.0f32, 0.0, 0.0], [1.0, 1.0, 0.0], [0.5, 0.5, 0.0]]
        );
        assert_eq!(s.range(), &[2.0, 4.0, 1.0]);
    }

    #[test]
    fn constant_columns_give_offsets_not_nan() {
        let s = MinMaxScaler::fit(&array![[5.0f32], [5.0]].view()).unwrap();
        let t = s.transform(&array![[5.0f32], [7.5]].view()).unwrap();
        assert_eq!(t, array![[0.0f32], [2.5]]);
    }

    #[test]
    fn bad_input_is_named() {
        let err = MinMaxScaler::fit(&array![[1.0f32, 2.0], [f32::NAN, 1.0]].view()).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { index: 2, .. }),
            "{err}"
        );
        let err = MinMaxScaler::fit(&Array2::<f32>::zeros((0, 3)).view()).unwrap_err();
        assert!(err.to_string().contains("[0, 3]"), "{err}");
        let s = MinMaxScaler::fit(&array![[1.0f32, 2.0]].view()).unwrap();
        let err = s.transform(&array![[1.0f32, 2.0, 3.0]].view()).unwrap_err();
        assert!(
            err.to_string().contains("[T, 2]") && err.to_string().contains("[1, 3]"),
            "{err}"
        );
        assert!(s
            .with_clip(1.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("[1, 1]"));
        assert!(s.with_clip(f32::NAN, 1.0).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let s = MinMaxScaler::fit(&array![[1.0f32, 2.0], [3.0, 2.0]].view())
            .unwrap()
            .with_clip(-3.0, 3.0)
            .unwrap();
        let back: MinMaxScaler = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.without_clip().clip(), None);
    }

    #[test]
    fn json_that_breaks_a_rule_does_not_deserialise() {
        // Each of these deserialised before, and `transform` then panicked (length
        // mismatch, reversed clip) or divided into inf (zero range).
        for (json, needle) in [
            (
                r#"{"min": [0.0, 1.0], "range": [1.0], "clip": null}"#,
                "2 and 1 values",
            ),
            (
                r#"{"min": [], "range": [], "clip": null}"#,
                "0 and 0 values",
            ),
            (
                r#"{"min": [0.0], "range": [1.0], "clip": [3.0, -3.0]}"#,
                "clip = [3, -3]",
            ),
            (
                r#"{"min": [0.0, 0.0], "range": [1.0, 0.0], "clip": null}"#,
                "range = 0 (column 1)",
            ),
            (
                r#"{"min": [0.0], "range": [-2.0], "clip": null}"#,
                "range = -2 (column 0)",
            ),
        ] {
            let err = serde_json::from_str::<MinMaxScaler>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn overflowing_results_are_errors_not_inf() {
        let s = MinMaxScaler::fit(&array![[0.0f32], [1e-30]].view()).unwrap();
        let err = s.transform(&array![[0.5f32], [1e10]].view()).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { index: 1, .. })
                && err.to_string().contains("transform result"),
            "{err}"
        );
        let s = MinMaxScaler::fit(&array![[0.0f32], [1e38]].view()).unwrap();
        let err = s
            .inverse_transform(&array![[0.5f32], [10.0]].view())
            .unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { index: 1, .. })
                && err.to_string().contains("inverse_transform result"),
            "{err}"
        );
    }
}
