//! Recall@m for the corruption validation of paper 2: an explanation is
//! correct at `m` when the corrupted feature is among its `m` highest scores.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{finite, ScoreValue};
use crate::ranking::Ties;

/// Recall@m for `m = 1..=M`, `M` = number of features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallCurve {
    /// `recall[m - 1]` = share of samples whose corrupted feature ranks within the top `m`.
    pub recall: Vec<f64>,
    /// Number of samples.
    pub n_samples: usize,
    /// Tie handling used.
    pub ties: Ties,
}

impl RecallCurve {
    /// Recall@m, or `None` for `m = 0` or `m > M`.
    pub fn at(&self, m: usize) -> Option<f64> {
        m.checked_sub(1).and_then(|i| self.recall.get(i)).copied()
    }
}

/// Recall@m over samples: row `i` of `scores` (samples × features) explains a
/// sample whose feature `corrupted[i]` was corrupted.
///
/// A sample counts as correct at `m` when the corrupted feature's rank is at
/// most `m`, so recall@M is 1. With [`Ties::Average`] a corrupted feature tied
/// with others counts by the probability that a uniformly random order of the
/// tie puts it within the top `m` (a constant explanation gets `m / M`, not 1);
/// with [`Ties::LowerIndexFirst`] ties are ranked by feature index.
///
/// ```
/// use loc_metrics::{recall_at_m, Ties};
/// use ndarray::array;
///
/// let scores = array![[0.9_f32, 0.1, 0.0], [0.2, 0.5, 0.7], [0.3, 0.3, 0.1]];
/// let curve = recall_at_m(scores.view(), &[0, 1, 1], Ties::Average)?;
/// // Sample 0 is right at m = 1, sample 1 at m = 2, sample 2 half the time at m = 1.
/// assert_eq!(curve.recall, vec![0.5, 1.0, 1.0]);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// [`MetricsError::ShapeMismatch`] if `corrupted` has not one entry per row;
/// [`MetricsError::EmptyInput`] for no samples or no features;
/// [`MetricsError::FeatureOutOfRange`] for a bad corrupted index;
/// [`MetricsError::NonFinite`] with `[sample, feature]`.
pub fn recall_at_m<S: ScoreValue>(
    scores: ArrayView2<'_, S>,
    corrupted: &[usize],
    ties: Ties,
) -> Result<RecallCurve> {
    let (n, d) = scores.dim();
    if corrupted.len() != n {
        return Err(MetricsError::ShapeMismatch {
            what: "corrupted features (one per sample)",
            expected: vec![n],
            got: vec![corrupted.len()],
        });
    }
    if n == 0 {
        return Err(MetricsError::EmptyInput { what: "samples" });
    }
    if d == 0 {
        return Err(MetricsError::EmptyInput { what: "features" });
    }
    let hit_probabilities = (0..n)
        .into_par_iter()
        .map(|i| {
            let c = corrupted[i];
            if c >= d {
                return Err(MetricsError::FeatureOutOfRange {
                    what: "corrupted feature",
                    feature: c,
                    n_features: d,
                });
            }
            let row = scores.row(i);
            let sc = finite("scores", row[c], &[i, c])?;
            let (mut greater, mut tied_below, mut tied) = (0usize, 0usize, 0usize);
            for (f, &v) in row.iter().enumerate() {
                let v = finite("scores", v, &[i, f])?;
                if v > sc {
                    greater += 1;
                } else if v == sc {
                    tied += 1;
                    tied_below += usize::from(f < c);
                }
            }
            // hit[m - 1] = P(rank <= m).
            let hit: Vec<f64> = (1..=d)
                .map(|m| match ties {
                    Ties::LowerIndexFirst => f64::from(u8::from(greater + tied_below < m)),
                    Ties::Average => (m.saturating_sub(greater) as f64 / tied as f64).min(1.0),
                })
                .collect();
            Ok(hit)
        })
        .collect::<Result<Vec<_>>>()?;
    let recall = (0..d)
        .map(|j| hit_probabilities.iter().map(|h| h[j]).sum::<f64>() / n as f64)
        .collect();
    Ok(RecallCurve {
        recall,
        n_samples: n,
        ties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn lower_index_first_ranks_ties_by_index() {
        let scores = array![[0.3_f32, 0.3, 0.1], [0.3, 0.3, 0.1]];
        let curve = recall_at_m(scores.view(), &[0, 1], Ties::LowerIndexFirst).unwrap();
        assert_eq!(curve.recall, vec![0.5, 1.0, 1.0]);
        assert_eq!(
            (curve.at(0), curve.at(1), curve.at(4)),
            (None, Some(0.5), None)
        );
    }

    #[test]
    fn constant_explanation_gets_m_over_m_total() {
        let scores = ndarray::Array2::<f32>::zeros((3, 4));
        let curve = recall_at_m(scores.view(), &[0, 2, 3], Ties::Average).unwrap();
        assert_eq!(curve.recall, vec![0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn errors() {
        let scores = array![[0.1_f32, f32::NAN]];
        assert!(matches!(
            recall_at_m(scores.view(), &[0], Ties::Average),
            Err(MetricsError::NonFinite { ref index, .. }) if index == &[0, 1]
        ));
        assert!(matches!(
            recall_at_m(scores.view(), &[2], Ties::Average),
            Err(MetricsError::FeatureOutOfRange {
                feature: 2,
                n_features: 2,
                ..
            })
        ));
        assert!(matches!(
            recall_at_m(scores.view(), &[0, 1], Ties::Average),
            Err(MetricsError::ShapeMismatch { .. })
        ));
        let none = ndarray::Array2::<f32>::zeros((0, 3));
        assert!(matches!(
            recall_at_m(none.view(), &[], Ties::Average),
            Err(MetricsError::EmptyInput { .. })
        ));
    }
}
