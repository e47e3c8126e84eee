//! Chance levels: the expected score of an explanation that carries no information.
//!
//! The uninformative explanation gives all `D` features the same positive
//! score, and its ranking is a uniformly random order of the features. Every
//! selection strategy then picks a set of a size fixed by `D` and `n = |y|`
//! ([`Selection::uninformative_set_size`]), which is a uniformly random
//! `k`-subset, so the number of hits `H` is hypergeometric:
//! `P(H = h) = C(n, h) C(D − n, k − h) / C(D, k)`. The expectations are exact:
//!
//! * recall (= Acc) `= E[H] / n = k / D`;
//! * precision `= E[H] / k = n / D` (0 when `k = 0`);
//! * F1 `= 2 E[H] / (k + n) = 2kn / (D (k + n))`;
//! * IoU `= Σ_h P(H = h) · h / (k + n − h)`.
//!
//! Chance grows with the share of features in the ground truth: a region
//! whose truth covers 30 of 38 sensors has a chance IoU above 0.7.

use crate::error::{MetricsError, Result};
use crate::rank_metrics::{dcg_discounts, RankMetric, Rounding};
use crate::selection::Selection;
use crate::set_scores::SetScore;

/// The expected set score of a uniformly random `set_size`-subset of
/// `n_features` features against a ground truth of `n_truth` features.
///
/// ```
/// use loc_metrics::{chance::expected_set_score, SetScore};
///
/// // 1 true feature of 4, pick 2 at random: hit with probability 1/2, IoU 1/2 then.
/// assert!((expected_set_score(4, 1, 2, SetScore::Iou)? - 0.25).abs() < 1e-12);
/// assert!((expected_set_score(4, 1, 2, SetScore::Recall)? - 0.5).abs() < 1e-12);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// [`MetricsError::EmptyGroundTruth`] for `n_truth == 0`;
/// [`MetricsError::InvalidParameter`] if `n_truth` or `set_size` exceeds `n_features`.
pub fn expected_set_score(
    n_features: usize,
    n_truth: usize,
    set_size: usize,
    score: SetScore,
) -> Result<f64> {
    check_sizes(n_features, n_truth)?;
    if set_size > n_features {
        return Err(MetricsError::invalid(
            "set_size",
            set_size,
            "must not exceed the number of features",
        ));
    }
    let (d, n, k) = (n_features as f64, n_truth as f64, set_size as f64);
    Ok(match score {
        SetScore::Recall | SetScore::Acc => k / d,
        SetScore::Precision => {
            if set_size == 0 {
                0.0
            } else {
                n / d
            }
        }
        SetScore::F1 => 2.0 * k * n / (d * (k + n)),
        SetScore::Iou => hypergeometric(n_features, n_truth, set_size)
            .map(|(h, p)| p * h as f64 / (set_size + n_truth - h) as f64)
            .sum(),
    })
}

/// The chance level of `score` under `selection` for one region.
///
/// # Errors
/// As [`expected_set_score`] and [`Selection::select`].
pub fn chance_set_score(
    selection: Selection,
    score: SetScore,
    n_features: usize,
    n_truth: usize,
) -> Result<f64> {
    check_sizes(n_features, n_truth)?;
    let k = selection.uninformative_set_size(n_features, n_truth)?;
    expected_set_score(n_features, n_truth, k, score)
}

/// The chance level of a rank score: its expectation over uniformly random
/// rankings, which is also its value on all-equal scores with
/// [`Ties::Average`](crate::Ties::Average).
///
/// With `k` the cut: HitRate `= k / D`; NDCG `= (n / D) Σ_{i<k} 1/log2(i+2) / IDCG@k`.
///
/// # Errors
/// [`MetricsError::EmptyGroundTruth`], sizes as in [`expected_set_score`], or an invalid ratio.
pub fn chance_rank_metric(
    metric: RankMetric,
    n_features: usize,
    n_truth: usize,
    rounding: Rounding,
) -> Result<f64> {
    check_sizes(n_features, n_truth)?;
    metric.validate()?;
    let k = metric.cut(n_truth, n_features, rounding);
    let (d, n) = (n_features as f64, n_truth as f64);
    Ok(match metric {
        RankMetric::HitRate { .. } => k as f64 / d,
        RankMetric::Ndcg { .. } => {
            let idcg = dcg_discounts(k.min(n_truth));
            if idcg == 0.0 {
                0.0
            } else {
                n / d * dcg_discounts(k) / idcg
            }
        }
    })
}

fn check_sizes(n_features: usize, n_truth: usize) -> Result<()> {
    if n_truth == 0 {
        return Err(MetricsError::EmptyGroundTruth);
    }
    if n_truth > n_features {
        return Err(MetricsError::invalid(
            "n_truth",
            n_truth,
            "must not exceed the number of features",
        ));
    }
    Ok(())
}

/// `(h, P(H = h))` over the support of the hypergeometric distribution of hits.
///
/// Probabilities go through log-factorials: binomials of a few hundred
/// features overflow `f64`, their logarithms do not.
fn hypergeometric(d: usize, n: usize, k: usize) -> impl Iterator<Item = (usize, f64)> {
    let mut ln_fact = Vec::with_capacity(d + 1);
    ln_fact.push(0.0_f64);
    for i in 1..=d {
        ln_fact.push(ln_fact[i - 1] + (i as f64).ln());
    }
    let ln_choose = move |a: usize, b: usize| ln_fact[a] - ln_fact[b] - ln_fact[a - b];
    let lo = (k + n).saturating_sub(d);
    let hi = n.min(k);
    let ln_total = ln_choose(d, k);
    (lo..=hi).map(move |h| {
        (
            h,
            (ln_choose(n, h) + ln_choose(d - n, k - h) - ln_total).exp(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `k`-subset of `0..d`, as bitmasks.
    fn subsets(d: usize, k: usize) -> impl Iterator<Item = u32> {
        (0u32..1 << d).filter(move |m| m.count_ones() as usize == k)
    }

    #[test]
    fn expectations_match_brute_force_enumeration() {
        for d in 1..=8 {
            for n in 1..=d {
                let truth: u32 = (1 << n) - 1;
                for k in 0..=d {
                    let mut sums = [0.0; 5];
                    let mut count = 0.0;
                    for m in subsets(d, k) {
                        let h = (m & truth).count_ones() as f64;
                        let (kf, nf) = (k as f64, n as f64);
                        sums[0] += h / (kf + nf - h);
                        sums[1] += 2.0 * h / (kf + nf);
                        sums[2] += h / nf;
                        sums[3] += if k == 0 { 0.0 } else { h / kf };
                        sums[4] += h / nf;
                        count += 1.0;
                    }
                    let scores = [
                        SetScore::Iou,
                        SetScore::F1,
                        SetScore::Acc,
                        SetScore::Precision,
                        SetScore::Recall,
                    ];
                    for (s, sum) in scores.into_iter().zip(sums) {
                        let got = expected_set_score(d, n, k, s).unwrap();
                        assert!(
                            (got - sum / count).abs() < 1e-12,
                            "d={d} n={n} k={k} {s}: {got}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn rank_chance_matches_brute_force_over_permutations() {
        // D = 5, truth {0, 1}: average HitRate/NDCG over all 120 orders.
        fn permutations(items: Vec<usize>) -> Vec<Vec<usize>> {
            if items.len() <= 1 {
                return vec![items];
            }
            let mut out = vec![];
            for i in 0..items.len() {
                let mut rest = items.clone();
                let x = rest.remove(i);
                for mut p in permutations(rest) {
                    p.insert(0, x);
                    out.push(p);
                }
            }
            out
        }
        let perms = permutations((0..5).collect());
        for metric in RankMetric::DEFAULT {
            let k = metric.cut(2, 5, Rounding::HalfUp);
            let idcg = dcg_discounts(2.min(k));
            let mut total = 0.0;
            for p in &perms {
                let rel = |pos: usize| p[pos] < 2;
                total += match metric {
                    RankMetric::HitRate { .. } => (0..k).filter(|&i| rel(i)).count() as f64 / 2.0,
                    RankMetric::Ndcg { .. } => {
                        (0..k)
                            .filter(|&i| rel(i))
                            .map(crate::rank_metrics::discount)
                            .sum::<f64>()
                            / idcg
                    }
                };
            }
            let want = total / perms.len() as f64;
            let got = chance_rank_metric(metric, 5, 2, Rounding::HalfUp).unwrap();
            assert!((got - want).abs() < 1e-12, "{metric}: {got} vs {want}");
        }
    }

    #[test]
    fn worked_example_of_docs_metrics_md() {
        // D = 7, n = 4, k = 5: h ∈ {2, 3, 4} with probabilities 6/21, 12/21, 3/21.
        let want = (6.0 * 2.0 / 7.0 + 12.0 * 3.0 / 6.0 + 3.0 * 4.0 / 5.0) / 21.0;
        assert!((expected_set_score(7, 4, 5, SetScore::Iou).unwrap() - want).abs() < 1e-12);
        assert!((want - 0.481_632_653).abs() < 1e-9);
    }

    #[test]
    fn chance_by_strategy() {
        // GT@120% with n = 4 of D = 38: k = 5, recall 5/38.
        let r = chance_set_score(Selection::GT_120, SetScore::Acc, 38, 4).unwrap();
        assert!((r - 5.0 / 38.0).abs() < 1e-15);
        // AllPositive on uninformative scores takes everything: IoU = n / D.
        let r = chance_set_score(Selection::AllPositive, SetScore::Iou, 38, 4).unwrap();
        assert!((r - 4.0 / 38.0).abs() < 1e-12);
        // Large D does not overflow.
        let r = expected_set_score(5000, 700, 800, SetScore::Iou).unwrap();
        assert!(r.is_finite() && r > 0.0 && r < 1.0);
    }

    #[test]
    fn invalid_sizes() {
        assert!(matches!(
            expected_set_score(5, 0, 1, SetScore::Iou),
            Err(MetricsError::EmptyGroundTruth)
        ));
        assert!(matches!(
            expected_set_score(5, 6, 1, SetScore::Iou),
            Err(MetricsError::InvalidParameter {
                param: "n_truth",
                ..
            })
        ));
        assert!(matches!(
            expected_set_score(5, 2, 6, SetScore::Iou),
            Err(MetricsError::InvalidParameter {
                param: "set_size",
                ..
            })
        ));
    }
}
