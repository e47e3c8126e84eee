//! Normalisation of anomaly scores to `[0, 1]`, fixed from reference scores.

use serde::{Deserialize, Serialize};

use crate::error::{CorruptionError, Result};

/// Maps a raw anomaly score `s` to `clamp((s − lo) / (hi − lo), 0, 1)`.
///
/// ```
/// use corruption_eval::ScoreNormalizer;
/// let n = ScoreNormalizer::from_reference(&[1.0, 2.0, 5.0], 1.0)?;
/// assert_eq!((n.lo, n.hi), (1.0, 5.0));
/// assert_eq!(n.normalize(3.0), 0.5);
/// assert_eq!(n.normalize(9.0), 1.0);
/// # Ok::<(), corruption_eval::CorruptionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreNormalizer {
    /// The raw score that maps to 0.
    pub lo: f64,
    /// The raw score that maps to 1.
    pub hi: f64,
}

impl ScoreNormalizer {
    /// `lo` = the smallest reference score, `hi` = their `upper_quantile` quantile.
    ///
    /// # Errors
    /// [`CorruptionError::InvalidParam`] for no scores, a non-finite score or a quantile
    /// outside `(0, 1]`; [`CorruptionError::DegenerateScores`] when `hi <= lo`.
    pub fn from_reference(scores: &[f64], upper_quantile: f64) -> Result<ScoreNormalizer> {
        let lo = quantile(scores, 0.0)?;
        let hi = quantile(scores, upper_quantile)?;
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            return Err(CorruptionError::DegenerateScores { lo, hi });
        }
        Ok(ScoreNormalizer { lo, hi })
    }

    /// The normalised score in `[0, 1]`.
    pub fn normalize(&self, s: f64) -> f64 {
        ((s - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
    }
}

/// The `q` quantile of `values` with linear interpolation between order statistics
/// (numpy's default): position `q (n − 1)` in the sorted values.
///
/// ```
/// use corruption_eval::quantile;
/// assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5)?, 2.5);
/// # Ok::<(), corruption_eval::CorruptionError>(())
/// ```
///
/// # Errors
/// [`CorruptionError::InvalidParam`] for an empty slice, a non-finite value, or `q`
/// outside `[0, 1]`.
pub fn quantile(values: &[f64], q: f64) -> Result<f64> {
    if values.is_empty() {
        return Err(CorruptionError::InvalidParam {
            param: "scores",
            value: "[]".into(),
            rule: "must hold at least one score",
        });
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(CorruptionError::InvalidParam {
            param: "scores",
            value: v.to_string(),
            rule: "must all be finite",
        });
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(CorruptionError::InvalidParam {
            param: "quantile",
            value: q.to_string(),
            rule: "must be in [0, 1]",
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    Ok(sorted[i] + frac * (next - sorted[i]))
}
