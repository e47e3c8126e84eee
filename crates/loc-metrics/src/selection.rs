//! Selection strategies: from a per-feature score vector to a predicted feature set.

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{positive_param, ScoreValue};
use crate::ranking::Ranking;

/// Relative slack with which [`Selection::MassFraction`] decides that the
/// cumulative positive score has reached its target share.
///
/// Scores arrive as `f32`; a share that is exactly `q` in decimal arithmetic
/// (e.g. `0.5 + 0.3` of `1.0` for `q = 0.8`) lands a few `f32` ulps (~1e-7)
/// either side of `q` after conversion, and a hand computation must give the
/// same set as the code. Shares within `1e-6 · total` below the target count
/// as reaching it.
pub const MASS_TOLERANCE: f64 = 1e-6;

/// Absolute slack for the roundings of `p · n`: binary floating point turns
/// decimal products that are integers into near-integers (`1.1 · 50` is
/// `55.00000000000001`), which a bare `ceil` would push up by one.
pub(crate) const ROUNDING_GUARD: f64 = 1e-9;

/// `ceil(x)` that treats values within [`ROUNDING_GUARD`] above an integer as that integer.
pub(crate) fn ceil_guarded(x: f64) -> usize {
    (x - ROUNDING_GUARD).ceil().max(0.0) as usize
}

/// How the predicted set `y'` is picked from one score vector.
///
/// Features are ranked by descending score, ties by ascending feature index
/// (see [`Ranking`]); every strategy takes a prefix of that order, so the
/// returned set is listed in rank order. "Positive" means strictly `> 0`.
///
/// | strategy | paper name | picks |
/// |---|---|---|
/// | `AllPositive` | (worked example) | every feature with score > 0 |
/// | `GtRatio { ratio, positive_only: true }` | GT@120% | top `ceil(ratio·n)` among positive features |
/// | `GtRatio { ratio, positive_only: false }` | — | top `ceil(ratio·n)` regardless of sign |
/// | `MassFraction { fraction }` | AT@80% (FA@80%) | smallest top set of positive features holding `fraction` of the positive score mass |
/// | `TopK { k, positive_only: true }` | AT@5 (FA@5) | top `k` among positive features |
/// | `TopK { k, positive_only: false }` | — | top `k` regardless of sign |
///
/// `n` is the size of the ground-truth set; set sizes are clipped to the
/// number of candidates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Selection {
    /// Every feature with a strictly positive score.
    AllPositive,
    /// The top `ceil(ratio · n)` features, `n` = ground-truth size.
    GtRatio {
        /// Multiple of the ground-truth size (1.2 for GT@120%); must be > 0.
        ratio: f64,
        /// Rank only features with a positive score (the paper's protocol).
        /// Where attributions of true sensors go negative (Occlusion, Ablation)
        /// the filter throws them away; `false` ranks all features.
        positive_only: bool,
    },
    /// The smallest top set of positive features whose scores sum to at least
    /// `fraction` of the total positive score (within [`MASS_TOLERANCE`]).
    MassFraction {
        /// Share of the positive score mass, in (0, 1] (0.8 for AT@80%).
        fraction: f64,
    },
    /// The top `k` features.
    TopK {
        /// Set size; must be ≥ 1 (5 for AT@5).
        k: usize,
        /// Rank only features with a positive score.
        positive_only: bool,
    },
}

impl Selection {
    /// Paper 1's GT@120%: top `ceil(1.2 n)` positive features.
    pub const GT_120: Selection = Selection::GtRatio {
        ratio: 1.2,
        positive_only: true,
    };
    /// GT@120% without the positive filter.
    pub const GT_120_UNFILTERED: Selection = Selection::GtRatio {
        ratio: 1.2,
        positive_only: false,
    };
    /// Paper 1's AT@80% (FA@80%).
    pub const AT_80: Selection = Selection::MassFraction { fraction: 0.8 };
    /// Paper 1's AT@5 (FA@5): top 5 positive features.
    pub const AT_5: Selection = Selection::TopK {
        k: 5,
        positive_only: true,
    };
    /// AT@5 without the positive filter.
    pub const AT_5_UNFILTERED: Selection = Selection::TopK {
        k: 5,
        positive_only: false,
    };
    /// The three strategies of paper 1's Table 1, in its column order.
    pub const PAPER: [Selection; 3] = [Self::GT_120, Self::AT_80, Self::AT_5];

    /// `GtRatio` with the positive filter (the paper's protocol).
    pub fn gt_ratio(ratio: f64) -> Self {
        Selection::GtRatio {
            ratio,
            positive_only: true,
        }
    }

    /// `GtRatio` ranking all features regardless of sign.
    pub fn gt_ratio_unfiltered(ratio: f64) -> Self {
        Selection::GtRatio {
            ratio,
            positive_only: false,
        }
    }

    /// `MassFraction`.
    pub fn mass_fraction(fraction: f64) -> Self {
        Selection::MassFraction { fraction }
    }

    /// `TopK` with the positive filter.
    pub fn top_k(k: usize) -> Self {
        Selection::TopK {
            k,
            positive_only: true,
        }
    }

    /// `TopK` ranking all features regardless of sign.
    pub fn top_k_unfiltered(k: usize) -> Self {
        Selection::TopK {
            k,
            positive_only: false,
        }
    }

    /// Checks the strategy's parameter.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] for `ratio` not finite and > 0,
    /// `fraction` outside (0, 1], or `k == 0`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Selection::AllPositive => Ok(()),
            Selection::GtRatio { ratio, .. } => positive_param("ratio", ratio),
            Selection::MassFraction { fraction } => {
                if fraction > 0.0 && fraction <= 1.0 {
                    Ok(())
                } else {
                    Err(MetricsError::invalid(
                        "fraction",
                        fraction,
                        "must lie in (0, 1]",
                    ))
                }
            }
            Selection::TopK { k, .. } => {
                if k >= 1 {
                    Ok(())
                } else {
                    Err(MetricsError::invalid("k", k, "must be at least 1"))
                }
            }
        }
    }

    /// Picks the predicted set from a ranking, in rank order.
    ///
    /// `n_truth` is the ground-truth size; only `GtRatio` uses it.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] from [`validate`](Self::validate);
    /// [`MetricsError::EmptyGroundTruth`] for `GtRatio` with `n_truth == 0`.
    pub fn select(&self, ranking: &Ranking, n_truth: usize) -> Result<Vec<usize>> {
        self.validate()?;
        let order = ranking.order();
        let n_pos = ranking.n_positive();
        let candidates = |positive_only: bool| if positive_only { n_pos } else { order.len() };
        let len = match *self {
            Selection::AllPositive => n_pos,
            Selection::GtRatio {
                ratio,
                positive_only,
            } => {
                if n_truth == 0 {
                    return Err(MetricsError::EmptyGroundTruth);
                }
                ceil_guarded(ratio * n_truth as f64).min(candidates(positive_only))
            }
            Selection::TopK { k, positive_only } => k.min(candidates(positive_only)),
            Selection::MassFraction { fraction } => {
                mass_prefix(ranking.scores(), &order[..n_pos], fraction)
            }
        };
        Ok(order[..len].to_vec())
    }

    /// [`select`](Self::select) straight from a score vector.
    ///
    /// ```
    /// use loc_metrics::Selection;
    /// use ndarray::array;
    ///
    /// let scores = array![0.3_f32, -0.35, 1.5, 0.1, -0.3, 0.2, 0.23];
    /// assert_eq!(Selection::AT_80.select_scores(scores.view(), 4)?, vec![2, 0, 6]);
    /// assert_eq!(Selection::top_k(2).select_scores(scores.view(), 4)?, vec![2, 0]);
    /// # Ok::<(), loc_metrics::MetricsError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Ranking::new`] and [`select`](Self::select).
    pub fn select_scores<S: ScoreValue>(
        &self,
        scores: ArrayView1<'_, S>,
        n_truth: usize,
    ) -> Result<Vec<usize>> {
        self.select(&Ranking::new(scores)?, n_truth)
    }

    /// The size of the set this strategy picks from an uninformative
    /// explanation: `n_features` equal positive scores. This is the set size
    /// used by the chance scores in [`chance`](crate::chance).
    ///
    /// # Errors
    /// As [`select`](Self::select); [`MetricsError::EmptyInput`] for `n_features == 0`.
    pub fn uninformative_set_size(&self, n_features: usize, n_truth: usize) -> Result<usize> {
        if n_features == 0 {
            return Err(MetricsError::EmptyInput {
                what: "feature list",
            });
        }
        let flat = Ranking::from_checked(vec![1.0; n_features]);
        Ok(self.select(&flat, n_truth)?.len())
    }
}

/// Length of the shortest prefix of `positive` (features in rank order, all
/// with score > 0) whose scores reach `fraction` of their sum.
fn mass_prefix(scores: &[f64], positive: &[usize], fraction: f64) -> usize {
    // The slack is relative to the mass, so it means the same at any score scale.
    // A consequence: with `fraction = 1`, trailing features holding less than
    // `MASS_TOLERANCE` of the mass are left out.
    let total: f64 = positive.iter().map(|&f| scores[f]).sum();
    let target = (fraction - MASS_TOLERANCE) * total;
    let mut cum = 0.0;
    for (i, &f) in positive.iter().enumerate() {
        cum += scores[f];
        if cum >= target {
            return i + 1;
        }
    }
    positive.len()
}

/// Formats a ratio as a percentage without trailing zeros (1.2 → "120").
pub(crate) fn percent_label(ratio: f64) -> String {
    let p = ratio * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round())
    } else {
        let s = format!("{p:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Parses "120%" (or "120") as the ratio 1.2.
pub(crate) fn parse_percent(text: &str) -> Option<f64> {
    let p: f64 = text.strip_suffix('%').unwrap_or(text).trim().parse().ok()?;
    p.is_finite().then_some(p / 100.0)
}

const UNFILTERED: &str = " (unfiltered)";

/// Paper-style labels: `AllPos`, `GT@120%`, `AT@80%`, `AT@5`; the variants
/// without the positive filter get the suffix ` (unfiltered)`.
impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |positive_only: bool| if positive_only { "" } else { UNFILTERED };
        match *self {
            Selection::AllPositive => f.write_str("AllPos"),
            Selection::GtRatio {
                ratio,
                positive_only,
            } => {
                write!(f, "GT@{}%{}", percent_label(ratio), suffix(positive_only))
            }
            Selection::MassFraction { fraction } => write!(f, "AT@{}%", percent_label(fraction)),
            Selection::TopK { k, positive_only } => write!(f, "AT@{k}{}", suffix(positive_only)),
        }
    }
}

/// The inverse of `Display`: `AllPos`, `GT@<p>%`, `AT@<p>%`, `AT@<k>`, and
/// `FA@...` as a synonym of `AT@...`, each optionally followed by ` (unfiltered)`
/// (not allowed for `AT@<p>%`, which ranks positive mass by definition).
impl FromStr for Selection {
    type Err = MetricsError;

    fn from_str(text: &str) -> Result<Self> {
        const EXPECTED: &str = "AllPos, GT@<percent>%, AT@<percent>%, AT@<k> or FA@..., \
                                optionally followed by \" (unfiltered)\"";
        let unknown = || MetricsError::UnknownName {
            what: "selection",
            text: text.into(),
            expected: EXPECTED,
        };
        let t = text.trim();
        let (body, positive_only) = match t.strip_suffix(UNFILTERED) {
            Some(body) => (body.trim_end(), false),
            None => (t, true),
        };
        let sel = if body.eq_ignore_ascii_case("AllPos") || body.eq_ignore_ascii_case("AllPositive")
        {
            if !positive_only {
                return Err(unknown());
            }
            Selection::AllPositive
        } else if let Some(p) = body.strip_prefix("GT@") {
            Selection::GtRatio {
                ratio: parse_percent(p).ok_or_else(unknown)?,
                positive_only,
            }
        } else if let Some(rest) = body
            .strip_prefix("AT@")
            .or_else(|| body.strip_prefix("FA@"))
        {
            if rest.ends_with('%') {
                if !positive_only {
                    return Err(unknown());
                }
                Selection::MassFraction {
                    fraction: parse_percent(rest).ok_or_else(unknown)?,
                }
            } else {
                Selection::TopK {
                    k: rest.parse().map_err(|_| unknown())?,
                    positive_only,
                }
            }
        } else {
            return Err(unknown());
        };
        sel.validate()?;
        Ok(sel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The paper's example, 0-based: sensor i is feature i - 1.
    fn paper_scores() -> ndarray::Array1<f32> {
        array![0.3, -0.35, 1.5, 0.1, -0.3, 0.2, 0.23]
    }

    fn sel(s: Selection, n: usize) -> Vec<usize> {
        s.select_scores(paper_scores().view(), n).unwrap()
    }

    #[test]
    fn all_positive_takes_positive_scores_in_rank_order() {
        assert_eq!(sel(Selection::AllPositive, 4), vec![2, 0, 6, 5, 3]);
    }

    #[test]
    fn gt_ratio_rounds_up_and_is_clipped_by_the_filter() {
        // n = 4: ceil(4.8) = 5.
        assert_eq!(sel(Selection::GT_120, 4), vec![2, 0, 6, 5, 3]);
        // n = 1: ceil(1.2) = 2.
        assert_eq!(sel(Selection::GT_120, 1), vec![2, 0]);
        // ratio 1.5, n = 4: 6 wanted, only 5 positive.
        assert_eq!(sel(Selection::gt_ratio(1.5), 4).len(), 5);
        assert_eq!(
            sel(Selection::gt_ratio_unfiltered(1.5), 4),
            vec![2, 0, 6, 5, 3, 4]
        );
        // 8 wanted, 7 exist.
        assert_eq!(sel(Selection::gt_ratio_unfiltered(2.0), 4).len(), 7);
    }

    #[test]
    fn gt_ratio_does_not_round_up_binary_noise() {
        // 1.1 * 50 = 55.00000000000001 in f64; the set must have 55 features, not 56.
        assert_eq!(1.1_f64 * 50.0, 55.00000000000001);
        let scores = ndarray::Array1::from_iter((0..100).map(|i| 100.0 - i as f64));
        let s = Selection::gt_ratio(1.1)
            .select_scores(scores.view(), 50)
            .unwrap();
        assert_eq!(s.len(), 55);
    }

    #[test]
    fn mass_fraction_stops_at_the_first_prefix_reaching_the_share() {
        // Positive mass 2.33; 80% = 1.864; 1.5 + 0.3 = 1.8 < 1.864 <= 2.03.
        assert_eq!(sel(Selection::AT_80, 4), vec![2, 0, 6]);
        assert_eq!(sel(Selection::mass_fraction(1.0), 4), vec![2, 0, 6, 5, 3]);
        assert_eq!(sel(Selection::mass_fraction(0.5), 4), vec![2]);
    }

    #[test]
    fn mass_fraction_boundary_is_decimal_exact_for_f32_input() {
        // 0.5 + 0.3 is exactly 80% of 1.0 in decimals; as f32 the sums miss by ulps.
        let scores = array![0.5_f32, 0.3, 0.2];
        let s = Selection::AT_80.select_scores(scores.view(), 1).unwrap();
        assert_eq!(s, vec![0, 1]);
    }

    #[test]
    fn mass_fraction_of_no_positive_mass_is_empty() {
        let scores = array![-1.0_f32, 0.0, -0.5];
        assert!(Selection::AT_80
            .select_scores(scores.view(), 1)
            .unwrap()
            .is_empty());
        assert!(Selection::AllPositive
            .select_scores(scores.view(), 1)
            .unwrap()
            .is_empty());
        assert!(Selection::GT_120
            .select_scores(scores.view(), 1)
            .unwrap()
            .is_empty());
        assert_eq!(
            Selection::AT_5_UNFILTERED
                .select_scores(scores.view(), 1)
                .unwrap(),
            vec![1, 2, 0]
        );
    }

    #[test]
    fn top_k_with_and_without_filter() {
        assert_eq!(sel(Selection::top_k(2), 4), vec![2, 0]);
        assert_eq!(sel(Selection::top_k(6), 4), vec![2, 0, 6, 5, 3]);
        assert_eq!(
            sel(Selection::top_k_unfiltered(6), 4),
            vec![2, 0, 6, 5, 3, 4]
        );
    }

    #[test]
    fn invalid_parameters_are_rejected_by_name() {
        let bad = [
            (Selection::gt_ratio(0.0), "ratio"),
            (Selection::gt_ratio(f64::NAN), "ratio"),
            (Selection::mass_fraction(0.0), "fraction"),
            (Selection::mass_fraction(1.5), "fraction"),
            (Selection::top_k(0), "k"),
        ];
        for (s, name) in bad {
            match s.select_scores(paper_scores().view(), 4) {
                Err(MetricsError::InvalidParameter { param, .. }) => assert_eq!(param, name),
                other => panic!("{s:?}: expected InvalidParameter, got {other:?}"),
            }
        }
        assert!(matches!(
            Selection::GT_120.select_scores(paper_scores().view(), 0),
            Err(MetricsError::EmptyGroundTruth)
        ));
    }

    #[test]
    fn labels_round_trip() {
        let all = [
            Selection::AllPositive,
            Selection::GT_120,
            Selection::GT_120_UNFILTERED,
            Selection::AT_80,
            Selection::AT_5,
            Selection::AT_5_UNFILTERED,
            Selection::gt_ratio(1.25),
            Selection::mass_fraction(0.855),
        ];
        let labels: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            labels[..6],
            [
                "AllPos",
                "GT@120%",
                "GT@120% (unfiltered)",
                "AT@80%",
                "AT@5",
                "AT@5 (unfiltered)"
            ]
        );
        assert_eq!(labels[6], "GT@125%");
        assert_eq!(labels[7], "AT@85.5%");
        for (s, l) in all.iter().zip(&labels) {
            assert_eq!(&l.parse::<Selection>().unwrap(), s, "{l}");
        }
        assert_eq!("FA@5".parse::<Selection>().unwrap(), Selection::AT_5);
        for bad in [
            "GT@",
            "AT@x",
            "AT@80% (unfiltered)",
            "top5",
            "AT@0",
            "GT@-5%",
        ] {
            assert!(bad.parse::<Selection>().is_err(), "{bad}");
        }
    }

    #[test]
    fn uninformative_set_sizes() {
        assert_eq!(Selection::GT_120.uninformative_set_size(38, 4).unwrap(), 5);
        assert_eq!(
            Selection::GT_120.uninformative_set_size(38, 35).unwrap(),
            38
        );
        assert_eq!(Selection::AT_80.uninformative_set_size(38, 4).unwrap(), 31); // ceil(30.4)
        assert_eq!(Selection::AT_80.uninformative_set_size(10, 4).unwrap(), 8);
        assert_eq!(
            Selection::AllPositive
                .uninformative_set_size(38, 4)
                .unwrap(),
            38
        );
        assert_eq!(Selection::AT_5.uninformative_set_size(3, 1).unwrap(), 3);
    }
}
