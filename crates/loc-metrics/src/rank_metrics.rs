//! The SMD literature's rank scores HitRate@P% and NDCG@P% (OmniAnomaly,
//! InterFusion, TranAD), per score vector and per anomalous time step.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{finite, truth_mask, ScoreValue};
use crate::ranking::{Ranking, Ties};
use crate::region::Region;
use crate::selection::{parse_percent, percent_label, ROUNDING_GUARD};
use crate::table::TableRow;

/// How the cut `P · |G|` is turned into a whole number of features.
///
/// The three differ only when `P · |G|` has a fractional part, which for the
/// usual P = 150% happens for odd `|G|` (always exactly `.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// `⌊P·|G|⌋`, as the OmniAnomaly paper writes `Hit@⌊P% × |GT_t|⌋`.
    Floor,
    /// Nearest integer, halves rounded up (`round(1.5) = 2`, `round(4.5) = 5`).
    /// The default: "round" as a reader computes it by hand, and the choice
    /// that reproduces the measured chance row of DESIGN §7b.
    #[default]
    HalfUp,
    /// Nearest integer, halves to even: Python's `round`, used by the TranAD
    /// code (`round(p * len(l) / 100)`), so `round(4.5) = 4`.
    HalfEven,
}

impl Rounding {
    /// Rounds a non-negative `x`, treating values within 1e-9 of an integer or
    /// of a half as exactly that (so binary noise never flips the result).
    pub fn apply(&self, x: f64) -> usize {
        let x = x.max(0.0);
        let floor = (x + ROUNDING_GUARD).floor();
        let frac = x - floor;
        let up = match self {
            Rounding::Floor => false,
            Rounding::HalfUp => frac >= 0.5 - ROUNDING_GUARD,
            Rounding::HalfEven => {
                if (frac - 0.5).abs() <= ROUNDING_GUARD {
                    floor % 2.0 == 1.0
                } else {
                    frac > 0.5
                }
            }
        };
        floor as usize + usize::from(up)
    }
}

/// Options shared by the rank scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct RankOptions {
    /// How `P · |G|` is rounded to the cut size.
    pub rounding: Rounding,
    /// How tied scores are ranked.
    pub ties: Ties,
}

/// A rank score at a cut proportional to the ground-truth size.
///
/// With `G` the ground truth, `D` the number of features and
/// `k = min(round(ratio · |G|), D)`:
/// * HitRate = (number of `G` among the top `k`) / `|G|`;
/// * NDCG = DCG@k / IDCG@k, `DCG@k = Σ_{i=1..k} [rank i ∈ G] / log2(i + 1)`,
///   `IDCG@k = Σ_{i=1..min(k,|G|)} 1 / log2(i + 1)`.
///
/// Both are 0 when `k = 0`. Ties follow [`RankOptions::ties`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RankMetric {
    /// HitRate@P%.
    HitRate {
        /// P as a ratio (1.5 for 150%); must be finite and > 0.
        ratio: f64,
    },
    /// NDCG@P%.
    Ndcg {
        /// P as a ratio; must be finite and > 0.
        ratio: f64,
    },
}

impl RankMetric {
    /// HitRate@100%.
    pub const HIT_100: RankMetric = RankMetric::HitRate { ratio: 1.0 };
    /// HitRate@150%.
    pub const HIT_150: RankMetric = RankMetric::HitRate { ratio: 1.5 };
    /// NDCG@100%.
    pub const NDCG_100: RankMetric = RankMetric::Ndcg { ratio: 1.0 };
    /// NDCG@150%.
    pub const NDCG_150: RankMetric = RankMetric::Ndcg { ratio: 1.5 };
    /// The four scores the SMD literature reports.
    pub const DEFAULT: [RankMetric; 4] =
        [Self::HIT_100, Self::HIT_150, Self::NDCG_100, Self::NDCG_150];

    /// P as a ratio.
    pub fn ratio(&self) -> f64 {
        match *self {
            RankMetric::HitRate { ratio } | RankMetric::Ndcg { ratio } => ratio,
        }
    }

    /// Checks the ratio.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] unless the ratio is finite and > 0.
    pub fn validate(&self) -> Result<()> {
        crate::input::positive_param("ratio", self.ratio())
    }

    /// The cut `k = min(round(ratio · n_truth), n_features)`.
    pub fn cut(&self, n_truth: usize, n_features: usize, rounding: Rounding) -> usize {
        rounding
            .apply(self.ratio() * n_truth as f64)
            .min(n_features)
    }

    /// Scores one vector against its ground truth.
    ///
    /// ```
    /// use loc_metrics::{RankMetric, RankOptions};
    /// use ndarray::array;
    ///
    /// // Truth {0, 3}; ranking 1 > 0 > 3 > 2. HitRate@100% looks at the top 2.
    /// let s = array![0.8_f32, 0.9, 0.1, 0.4];
    /// let hit = RankMetric::HIT_100.compute(s.view(), &[0, 3], RankOptions::default())?;
    /// assert_eq!(hit, 0.5);
    /// let hit = RankMetric::HIT_150.compute(s.view(), &[0, 3], RankOptions::default())?;
    /// assert_eq!(hit, 1.0);
    /// # Ok::<(), loc_metrics::MetricsError>(())
    /// ```
    ///
    /// # Errors
    /// Non-finite or empty scores, an empty or invalid ground truth, or an invalid ratio.
    pub fn compute<S: ScoreValue>(
        &self,
        scores: ArrayView1<'_, S>,
        truth: &[usize],
        options: RankOptions,
    ) -> Result<f64> {
        self.validate()?;
        let ranking = Ranking::new(scores)?;
        let mask = truth_mask(truth, ranking.len())?;
        Ok(self.on_ranking(&ranking, &mask, truth.len(), options))
    }

    /// The score on a checked ranking and truth mask (`n_truth ≥ 1` set entries).
    pub(crate) fn on_ranking(
        &self,
        ranking: &Ranking,
        truth: &[bool],
        n_truth: usize,
        options: RankOptions,
    ) -> f64 {
        let k = self.cut(n_truth, ranking.len(), options.rounding);
        match self {
            RankMetric::HitRate { .. } => hit_rate_on(ranking, truth, n_truth, k, options.ties),
            RankMetric::Ndcg { .. } => ndcg_on(ranking, truth, n_truth, k, options.ties),
        }
    }
}

/// HitRate at an explicit cut: the share of `truth` among the top `k`
/// features (`k` clipped to the number of features).
///
/// # Errors
/// Non-finite or empty scores, or an empty or invalid ground truth.
pub fn hit_rate_at<S: ScoreValue>(
    scores: ArrayView1<'_, S>,
    truth: &[usize],
    k: usize,
    ties: Ties,
) -> Result<f64> {
    let ranking = Ranking::new(scores)?;
    let mask = truth_mask(truth, ranking.len())?;
    Ok(hit_rate_on(&ranking, &mask, truth.len(), k, ties))
}

/// NDCG at an explicit cut `k` with binary relevance (scikit-learn's
/// `ndcg_score(y_true, y_score, k=k)` for [`Ties::Average`]); 0 for `k = 0`.
///
/// ```
/// use loc_metrics::{ndcg_at, Ties};
/// use ndarray::array;
///
/// // Relevant features {0, 4, 5}; feature 3 ranks first, feature 0 second.
/// let s = array![0.7, -0.2, 0.15, 0.9, 0.4, -0.05, 0.3, 0.55];
/// let v = ndcg_at(s.view(), &[0, 4, 5], 2, Ties::Average)?;
/// assert!((v - 0.3868528072345415).abs() < 1e-12);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// Non-finite or empty scores, or an empty or invalid ground truth.
pub fn ndcg_at<S: ScoreValue>(
    scores: ArrayView1<'_, S>,
    truth: &[usize],
    k: usize,
    ties: Ties,
) -> Result<f64> {
    let ranking = Ranking::new(scores)?;
    let mask = truth_mask(truth, ranking.len())?;
    Ok(ndcg_on(&ranking, &mask, truth.len(), k, ties))
}

fn hit_rate_on(ranking: &Ranking, truth: &[bool], n_truth: usize, k: usize, ties: Ties) -> f64 {
    ranking.gain_at(truth, k, ties, |_| 1.0) / n_truth as f64
}

fn ndcg_on(ranking: &Ranking, truth: &[bool], n_truth: usize, k: usize, ties: Ties) -> f64 {
    let idcg = dcg_discounts(k.min(n_truth).min(ranking.len()));
    if idcg == 0.0 {
        return 0.0;
    }
    ranking.gain_at(truth, k, ties, discount) / idcg
}

/// The DCG discount of 0-based position `p`: `1 / log2(p + 2)`.
pub(crate) fn discount(p: usize) -> f64 {
    1.0 / ((p + 2) as f64).log2()
}

/// `Σ_{p < k} discount(p)`.
pub(crate) fn dcg_discounts(k: usize) -> f64 {
    (0..k).map(discount).sum()
}

/// Labels `HitRate@150%` and `NDCG@100%`.
impl fmt::Display for RankMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RankMetric::HitRate { ratio } => write!(f, "HitRate@{}%", percent_label(ratio)),
            RankMetric::Ndcg { ratio } => write!(f, "NDCG@{}%", percent_label(ratio)),
        }
    }
}

/// Parses `HitRate@<p>%` and `NDCG@<p>%` (case-insensitive prefix).
impl FromStr for RankMetric {
    type Err = MetricsError;

    fn from_str(text: &str) -> Result<Self> {
        let unknown = || MetricsError::UnknownName {
            what: "rank metric",
            text: text.into(),
            expected: "HitRate@<percent>% or NDCG@<percent>%",
        };
        let (name, p) = text.trim().split_once('@').ok_or_else(unknown)?;
        let ratio = parse_percent(p).ok_or_else(unknown)?;
        let metric = match name.to_ascii_lowercase().as_str() {
            "hitrate" | "hit" => RankMetric::HitRate { ratio },
            "ndcg" => RankMetric::Ndcg { ratio },
            _ => return Err(unknown()),
        };
        metric.validate()?;
        Ok(metric)
    }
}

/// Mean rank scores over the anomalous time steps of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointwiseReport {
    /// The scores computed, in column order.
    pub metrics: Vec<RankMetric>,
    /// Rounding and tie handling used.
    pub options: RankOptions,
    /// Number of anomalous time steps averaged over.
    pub n_steps: usize,
    /// Mean of each metric over those steps.
    pub mean: Vec<f64>,
}

impl PointwiseReport {
    /// Column labels, e.g. `HitRate@150%`.
    pub fn columns(&self) -> Vec<String> {
        self.metrics.iter().map(ToString::to_string).collect()
    }

    /// One table row holding the means.
    pub fn table_row(&self, method: impl Into<String>) -> TableRow {
        TableRow::new(method, self.mean.clone())
    }

    /// Pools reports of several series (e.g. machines) into the mean over all
    /// their anomalous time steps.
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for no reports;
    /// [`MetricsError::IncompatibleResults`] if metrics or options differ.
    pub fn pool(reports: &[PointwiseReport]) -> Result<PointwiseReport> {
        let first = reports
            .first()
            .ok_or(MetricsError::EmptyInput { what: "reports" })?;
        let mut sum = vec![0.0; first.metrics.len()];
        let mut n_steps = 0;
        for r in reports {
            if r.metrics != first.metrics || r.options != first.options {
                return Err(MetricsError::IncompatibleResults {
                    what: format!(
                        "metrics {:?} with {:?} vs {:?} with {:?}",
                        first.columns(),
                        first.options,
                        r.columns(),
                        r.options
                    ),
                });
            }
            for (s, m) in sum.iter_mut().zip(&r.mean) {
                *s += m * r.n_steps as f64;
            }
            n_steps += r.n_steps;
        }
        if n_steps == 0 {
            return Err(MetricsError::EmptyInput {
                what: "anomalous time steps",
            });
        }
        let mean = sum.into_iter().map(|s| s / n_steps as f64).collect();
        Ok(PointwiseReport {
            metrics: first.metrics.clone(),
            options: first.options,
            n_steps,
            mean,
        })
    }
}

/// HitRate/NDCG per anomalous time step, averaged over all such steps (the
/// OmniAnomaly protocol).
///
/// `scores` is time × features. A time step is anomalous when some region
/// covers it; its ground truth `G_t` is the union of the features of the
/// regions covering it (SMD's machine-3-3 has nested regions).
///
/// # Errors
/// A region outside the matrix ([`MetricsError::InRegion`] wrapping the cause),
/// a non-finite score in an anomalous row ([`MetricsError::NonFinite`] with
/// `[t, feature]`), no regions, or an invalid metric.
pub fn evaluate_pointwise<S: ScoreValue>(
    scores: ArrayView2<'_, S>,
    regions: &[Region],
    metrics: &[RankMetric],
    options: RankOptions,
) -> Result<PointwiseReport> {
    if metrics.is_empty() {
        return Err(MetricsError::EmptyInput {
            what: "metric list",
        });
    }
    for m in metrics {
        m.validate()?;
    }
    if regions.is_empty() {
        return Err(MetricsError::EmptyInput {
            what: "region list",
        });
    }
    let (n_steps, n_features) = scores.dim();
    for (i, r) in regions.iter().enumerate() {
        r.check(n_steps, n_features)
            .map_err(|e| e.in_region(i, r.start, r.end))?;
    }
    // (time step, region) pairs grouped by step give each step its covering
    // regions without a per-step map; steps are then scored in parallel.
    let mut pairs: Vec<(usize, usize)> = regions
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.span().map(move |t| (t, i)))
        .collect();
    pairs.par_sort_unstable();
    let steps: Vec<&[(usize, usize)]> = pairs.chunk_by(|a, b| a.0 == b.0).collect();
    let per_step: Vec<Vec<f64>> = steps
        .par_iter()
        .map(|covering| {
            let t = covering[0].0;
            let mut mask = vec![false; n_features];
            for &(_, i) in *covering {
                for &f in &regions[i].features {
                    mask[f] = true;
                }
            }
            let values = scores
                .row(t)
                .iter()
                .enumerate()
                .map(|(f, &v)| finite("scores", v, &[t, f]))
                .collect::<Result<Vec<f64>>>()?;
            let ranking = Ranking::from_checked(values);
            let n_truth = mask.iter().filter(|&&b| b).count();
            Ok(metrics
                .iter()
                .map(|m| m.on_ranking(&ranking, &mask, n_truth, options))
                .collect())
        })
        .collect::<Result<_>>()?;
    let n = per_step.len() as f64;
    let mean = (0..metrics.len())
        .map(|j| per_step.iter().map(|v| v[j]).sum::<f64>() / n)
        .collect();
    Ok(PointwiseReport {
        metrics: metrics.to_vec(),
        options,
        n_steps: per_step.len(),
        mean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rounding_modes_differ_only_on_fractions() {
        let cases = [
            (3.0, [3, 3, 3]),
            (1.5, [1, 2, 2]),
            (4.5, [4, 5, 4]),
            (2.6, [2, 3, 3]),
            (2.4, [2, 2, 2]),
        ];
        for (x, [floor, up, even]) in cases {
            assert_eq!(Rounding::Floor.apply(x), floor, "floor {x}");
            assert_eq!(Rounding::HalfUp.apply(x), up, "half up {x}");
            assert_eq!(Rounding::HalfEven.apply(x), even, "half even {x}");
        }
        // 1.1 * 50 = 55.00000000000001 and 0.29 * 100 = 28.999999999999996.
        assert_eq!(Rounding::HalfUp.apply(1.1 * 50.0), 55);
        assert_eq!(Rounding::Floor.apply(0.29 * 100.0), 29);
        assert_eq!(Rounding::HalfUp.apply(2.9999999999), 3);
        assert_eq!(Rounding::Floor.apply(2.9999999999), 3);
    }

    #[test]
    fn hit_rate_and_ndcg_by_hand() {
        // Ranking: 1 (0.9), 0 (0.8), 3 (0.4), 2 (0.1); truth {0, 3}.
        let s = array![0.8_f32, 0.9, 0.1, 0.4];
        let o = RankOptions::default();
        let truth = [0, 3];
        let get = |m: RankMetric| m.compute(s.view(), &truth, o).unwrap();
        assert_eq!(get(RankMetric::HIT_100), 0.5);
        assert_eq!(get(RankMetric::HIT_150), 1.0);
        // NDCG@100%: k = 2, DCG = 1/log2(3), IDCG = 1 + 1/log2(3).
        let l3 = 3f64.log2();
        assert!((get(RankMetric::NDCG_100) - (1.0 / l3) / (1.0 + 1.0 / l3)).abs() < 1e-12);
        // NDCG@150%: k = 3, DCG = 1/log2(3) + 1/log2(4), IDCG as before.
        let want = (1.0 / l3 + 0.5) / (1.0 + 1.0 / l3);
        assert!((get(RankMetric::NDCG_150) - want).abs() < 1e-12);
    }

    #[test]
    fn cut_is_clipped_and_zero_cut_scores_zero() {
        let s = array![0.3_f64, 0.2, 0.1];
        let o = RankOptions::default();
        // 3 · 1.5 = 4.5 → 5 features wanted, 3 exist: everything is found.
        assert_eq!(
            RankMetric::HIT_150
                .compute(s.view(), &[0, 1, 2], o)
                .unwrap(),
            1.0
        );
        let tiny = RankMetric::HitRate { ratio: 0.2 };
        assert_eq!(tiny.cut(1, 3, Rounding::HalfUp), 0);
        assert_eq!(tiny.compute(s.view(), &[0], o).unwrap(), 0.0);
        assert_eq!(
            RankMetric::Ndcg { ratio: 0.2 }
                .compute(s.view(), &[0], o)
                .unwrap(),
            0.0
        );
    }

    #[test]
    fn ties_average_over_orders() {
        // All tied: any order is equally likely; truth {2} of 4, cut 1 → 1/4.
        let s = array![1.0_f32, 1.0, 1.0, 1.0];
        let avg = RankOptions {
            ties: Ties::Average,
            ..Default::default()
        };
        let low = RankOptions {
            ties: Ties::LowerIndexFirst,
            ..Default::default()
        };
        assert_eq!(
            RankMetric::HIT_100.compute(s.view(), &[2], avg).unwrap(),
            0.25
        );
        assert_eq!(
            RankMetric::HIT_100.compute(s.view(), &[2], low).unwrap(),
            0.0
        );
        assert_eq!(
            RankMetric::HIT_100.compute(s.view(), &[0], low).unwrap(),
            1.0
        );
    }

    #[test]
    fn pointwise_uses_the_union_of_covering_regions() {
        // 4 steps × 3 features; step 1 is covered by two regions → truth {0, 2}.
        let scores = array![
            [0.0_f32, 0.0, 0.0],
            [0.9, 0.1, 0.8],
            [0.1, 0.9, 0.2],
            [0.0, 0.0, 0.0],
        ];
        let regions = [
            Region::new(1, 3, vec![0]).unwrap(),
            Region::new(1, 2, vec![2]).unwrap(),
        ];
        let r = evaluate_pointwise(
            scores.view(),
            &regions,
            &[RankMetric::HIT_100],
            RankOptions::default(),
        )
        .unwrap();
        assert_eq!(r.n_steps, 2);
        // step 1: top 2 = {0, 2} → 1; step 2: top 1 = {1}, truth {0} → 0.
        assert_eq!(r.mean, vec![0.5]);
        let pooled = PointwiseReport::pool(&[r.clone(), r.clone()]).unwrap();
        assert_eq!((pooled.n_steps, pooled.mean.clone()), (4, vec![0.5]));
    }

    #[test]
    fn pointwise_errors_name_the_place() {
        let mut scores = ndarray::Array2::<f32>::zeros((5, 3));
        scores[[2, 1]] = f32::NAN;
        let regions = [Region::new(0, 3, vec![0]).unwrap()];
        let err = evaluate_pointwise(
            scores.view(),
            &regions,
            &RankMetric::DEFAULT,
            RankOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, MetricsError::NonFinite { ref index, .. } if index == &[2, 1]),
            "{err}"
        );
        let regions = [
            Region::new(0, 2, vec![0]).unwrap(),
            Region::new(4, 6, vec![1]).unwrap(),
        ];
        let err = evaluate_pointwise(
            scores.view(),
            &regions,
            &RankMetric::DEFAULT,
            RankOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, MetricsError::InRegion { index: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn labels_round_trip() {
        for m in RankMetric::DEFAULT {
            assert_eq!(m.to_string().parse::<RankMetric>().unwrap(), m);
        }
        assert_eq!(RankMetric::HIT_150.to_string(), "HitRate@150%");
        assert!("NDCG@0%".parse::<RankMetric>().is_err());
        assert!("MAP@100%".parse::<RankMetric>().is_err());
    }
}
