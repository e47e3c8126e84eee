//! Features ordered by score, and how ties in that order are treated.

use std::ops::Range;

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{checked_vector, ScoreValue};

/// How rank-based scores (HitRate, NDCG, recall@m) treat features with equal scores.
///
/// Set selections ([`Selection`](crate::Selection)) must output one concrete
/// set and always break ties by the lower feature index; rank scores can do
/// better and report the expectation over the orders of tied features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ties {
    /// The expected score over all orders of each group of tied features
    /// (scikit-learn's `ndcg_score` default). Independent of feature numbering,
    /// so a method that outputs many exact zeros is not favoured or penalised by
    /// where its true sensors happen to sit in the sensor list.
    #[default]
    Average,
    /// Tied features are ranked by ascending index: deterministic, and what
    /// [`Ranking::order`] reports.
    LowerIndexFirst,
}

/// The best and worst 1-based rank a feature can take given ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankSpan {
    /// 1 + the number of features with a strictly higher score.
    pub best: usize,
    /// The number of features with a score at least as high (itself included).
    pub worst: usize,
}

/// A score vector with its features sorted by descending score.
///
/// Scores are checked to be finite once, here, and converted to `f64`; `-0.0`
/// is folded into `+0.0`. Ties are ordered by ascending feature index.
///
/// ```
/// use loc_metrics::Ranking;
/// use ndarray::array;
///
/// let r = Ranking::new(array![0.1_f32, 0.5, -0.2, 0.5].view())?;
/// assert_eq!(r.order(), &[1, 3, 0, 2]);
/// assert_eq!(r.n_positive(), 3);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    scores: Vec<f64>,
    order: Vec<usize>,
}

impl Ranking {
    /// Ranks a non-empty vector of finite scores.
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for an empty vector,
    /// [`MetricsError::NonFinite`] naming the first NaN or infinite score.
    pub fn new<S: ScoreValue>(scores: ArrayView1<'_, S>) -> Result<Self> {
        Ok(Self::from_checked(checked_vector("scores", scores)?))
    }

    /// Ranks scores already known to be finite (and with `-0.0` folded).
    pub(crate) fn from_checked(scores: Vec<f64>) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        Ranking { scores, order }
    }

    /// `(feature, score)` pairs from the highest score down (ties by ascending feature
    /// index): the ranked list of sensors a user reads.
    ///
    /// ```
    /// use loc_metrics::Ranking;
    /// let r = Ranking::new(ndarray::array![0.1, 0.5, -0.2].view())?;
    /// assert_eq!(r.ranked(), vec![(1, 0.5), (0, 0.1), (2, -0.2)]);
    /// # Ok::<(), loc_metrics::MetricsError>(())
    /// ```
    pub fn ranked(&self) -> Vec<(usize, f64)> {
        self.order.iter().map(|&f| (f, self.scores[f])).collect()
    }

    /// The number of features.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Always `false`: a ranking holds at least one feature.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Feature indices by descending score, ties by ascending index.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The scores, indexed by feature, as `f64`.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    /// The number of features with a score strictly above zero; they are the
    /// first `n_positive()` entries of [`order`](Self::order).
    pub fn n_positive(&self) -> usize {
        self.order.partition_point(|&f| self.scores[f] > 0.0)
    }

    /// Runs of equal scores, as ranges of positions in [`order`](Self::order).
    pub fn tie_groups(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let mut start = 0;
        std::iter::from_fn(move || {
            if start >= self.order.len() {
                return None;
            }
            let s = self.scores[self.order[start]];
            let len = self.order[start..]
                .iter()
                .take_while(|&&f| self.scores[f] == s)
                .count();
            let group = start..start + len;
            start += len;
            Some(group)
        })
    }

    /// The range of ranks `feature` can take among its ties.
    ///
    /// # Errors
    /// [`MetricsError::FeatureOutOfRange`] if `feature >= self.len()`.
    pub fn rank_span(&self, feature: usize) -> Result<RankSpan> {
        let s = *self
            .scores
            .get(feature)
            .ok_or(MetricsError::FeatureOutOfRange {
                what: "feature",
                feature,
                n_features: self.len(),
            })?;
        let best = 1 + self.order.partition_point(|&f| self.scores[f] > s);
        let worst = self.order.partition_point(|&f| self.scores[f] >= s);
        Ok(RankSpan { best, worst })
    }

    /// `Σ_{p < k} w(p) · relevant(feature at position p)`, or, with
    /// [`Ties::Average`], its expectation over the orders of tied features.
    ///
    /// Under a uniformly random order of a tie group, every position of the
    /// group holds a relevant feature with probability `relevant_in_group /
    /// group_len`, which is what the average uses.
    pub(crate) fn gain_at(
        &self,
        relevant: &[bool],
        k: usize,
        ties: Ties,
        weight: impl Fn(usize) -> f64,
    ) -> f64 {
        let k = k.min(self.len());
        match ties {
            Ties::LowerIndexFirst => (0..k)
                .filter(|&p| relevant[self.order[p]])
                .map(weight)
                .sum(),
            Ties::Average => {
                let mut total = 0.0;
                for g in self.tie_groups() {
                    if g.start >= k {
                        break;
                    }
                    let hits = self.order[g.clone()]
                        .iter()
                        .filter(|&&f| relevant[f])
                        .count();
                    if hits == 0 {
                        continue;
                    }
                    let share = hits as f64 / g.len() as f64;
                    total += share * (g.start..g.end.min(k)).map(&weight).sum::<f64>();
                }
                total
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_are_ordered_by_lower_index_and_signed_zeros_tie() {
        let r = Ranking::new(array![0.0_f64, 2.0, -0.0, 2.0, -1.0].view()).unwrap();
        assert_eq!(r.order(), &[1, 3, 0, 2, 4]);
        let groups: Vec<_> = r.tie_groups().collect();
        assert_eq!(groups, vec![0..2, 2..4, 4..5]);
        assert_eq!(r.n_positive(), 2);
    }

    #[test]
    fn rank_span_covers_the_tie_group() {
        let r = Ranking::new(array![1.0_f32, 3.0, 1.0, 1.0, 0.5].view()).unwrap();
        assert_eq!(r.rank_span(2).unwrap(), RankSpan { best: 2, worst: 4 });
        assert_eq!(r.rank_span(1).unwrap(), RankSpan { best: 1, worst: 1 });
        assert_eq!(r.rank_span(4).unwrap(), RankSpan { best: 5, worst: 5 });
        assert!(matches!(
            r.rank_span(5),
            Err(MetricsError::FeatureOutOfRange {
                feature: 5,
                n_features: 5,
                ..
            })
        ));
    }

    #[test]
    fn nan_is_reported_with_its_index() {
        let err = Ranking::new(array![1.0_f32, f32::NAN].view()).unwrap_err();
        assert!(matches!(err, MetricsError::NonFinite { ref index, .. } if index == &[1]));
        assert!(matches!(
            Ranking::new(ArrayView1::<f32>::from(&[][..])),
            Err(MetricsError::EmptyInput { what: "scores" })
        ));
    }

    #[test]
    fn average_gain_splits_a_tie_group_straddling_the_cut() {
        // Features 1, 2, 3 tie; one of them (2) is relevant; the cut takes two of
        // the three tied positions, so the expected number of hits is 2/3.
        let r = Ranking::new(array![5.0, 1.0, 1.0, 1.0].view()).unwrap();
        let relevant = [false, false, true, false];
        let avg = r.gain_at(&relevant, 3, Ties::Average, |_| 1.0);
        assert!((avg - 2.0 / 3.0).abs() < 1e-12);
        let lower = r.gain_at(&relevant, 3, Ties::LowerIndexFirst, |_| 1.0);
        assert_eq!(lower, 1.0);
        let lower = r.gain_at(&relevant, 2, Ties::LowerIndexFirst, |_| 1.0);
        assert_eq!(lower, 0.0);
    }
}
