//! An evaluation protocol (strategies × set scores, plus rank scores) and the
//! per-region report it produces.

use std::fmt;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chance::{chance_rank_metric, chance_set_score};
use crate::error::{MetricsError, Result};
use crate::input::{checked_vector, truth_mask, ScoreValue};
use crate::rank_metrics::{RankMetric, RankOptions};
use crate::ranking::Ranking;
use crate::region::{region_means, Region};
use crate::selection::Selection;
use crate::set_scores::{Overlap, SetScore};
use crate::table::{Table, TableRow};

/// One column of a [`Report`]: a set score under a selection strategy, or a rank score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Column {
    /// `score` of the set picked by `selection`.
    Set {
        /// The strategy.
        selection: Selection,
        /// The score.
        score: SetScore,
    },
    /// A rank score of the whole vector.
    Rank {
        /// The score.
        metric: RankMetric,
    },
}

/// Labels such as `GT@120% IoU` and `HitRate@150%`.
impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Set { selection, score } => write!(f, "{selection} {score}"),
            Column::Rank { metric } => write!(f, "{metric}"),
        }
    }
}

/// What to compute for every region: each selection strategy paired with
/// each set score, then each rank score.
///
/// Fields are public; every evaluation validates them first.
///
/// ```
/// use loc_metrics::{Protocol, Region, Selection, SetScore};
/// use ndarray::array;
///
/// // Paper 1's worked example as a one-region evaluation.
/// let protocol = Protocol::new(vec![Selection::AllPositive], SetScore::PAPER.to_vec(), vec![]);
/// let scores = array![0.3_f32, -0.35, 1.5, 0.1, -0.3, 0.2, 0.23];
/// let v = protocol.score_vector(scores.view(), &[0, 1, 5, 6])?;
/// assert_eq!(v.selected[0], vec![2, 0, 6, 5, 3]);
/// assert_eq!(v.values[0], 0.5); // IoU
/// assert_eq!(v.values[2], 0.75); // Acc
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// Selection strategies, in column order.
    pub selections: Vec<Selection>,
    /// Set scores computed for every strategy.
    pub set_scores: Vec<SetScore>,
    /// Rank scores of the whole vector (after the set-score columns).
    pub rank_metrics: Vec<RankMetric>,
    /// Rounding and tie handling of the rank scores.
    pub rank_options: RankOptions,
}

impl Default for Protocol {
    /// [`Protocol::paper`].
    fn default() -> Self {
        Self::paper()
    }
}

/// The per-feature result of one score vector under a [`Protocol`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorScores {
    /// The set picked by each selection strategy, in rank order.
    pub selected: Vec<Vec<usize>>,
    /// One value per column of [`Protocol::columns`].
    pub values: Vec<f64>,
}

impl Protocol {
    /// A protocol with default rank options.
    pub fn new(
        selections: Vec<Selection>,
        set_scores: Vec<SetScore>,
        rank_metrics: Vec<RankMetric>,
    ) -> Self {
        Protocol {
            selections,
            set_scores,
            rank_metrics,
            rank_options: RankOptions::default(),
        }
    }

    /// Paper 1's Table 1: GT@120%, AT@80%, AT@5 × IoU, F1, Acc.
    pub fn paper() -> Self {
        Self::new(Selection::PAPER.to_vec(), SetScore::PAPER.to_vec(), vec![])
    }

    /// Paper 1's columns, the same strategies without the positive filter,
    /// precision and recall, and HitRate/NDCG at 100% and 150% (DESIGN §7b's
    /// "report with and without the filter").
    pub fn extended() -> Self {
        Self::new(
            vec![
                Selection::GT_120,
                Selection::GT_120_UNFILTERED,
                Selection::AT_80,
                Selection::AT_5,
                Selection::AT_5_UNFILTERED,
            ],
            SetScore::ALL.to_vec(),
            RankMetric::DEFAULT.to_vec(),
        )
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for no columns at all, else the first
    /// invalid strategy or rank score.
    pub fn validate(&self) -> Result<()> {
        if self.n_columns() == 0 {
            return Err(MetricsError::EmptyInput {
                what: "protocol columns",
            });
        }
        self.selections.iter().try_for_each(Selection::validate)?;
        self.rank_metrics.iter().try_for_each(RankMetric::validate)
    }

    fn n_columns(&self) -> usize {
        self.selections.len() * self.set_scores.len() + self.rank_metrics.len()
    }

    /// The columns, in the order of [`VectorScores::values`]: strategy-major
    /// set scores, then rank scores.
    pub fn columns(&self) -> Vec<Column> {
        let set = self.selections.iter().flat_map(|&selection| {
            self.set_scores
                .iter()
                .map(move |&score| Column::Set { selection, score })
        });
        let rank = self
            .rank_metrics
            .iter()
            .map(|&metric| Column::Rank { metric });
        set.chain(rank).collect()
    }

    /// Scores one per-feature vector against its ground truth with every
    /// strategy and score.
    ///
    /// # Errors
    /// Non-finite or empty scores, an empty or invalid ground truth, or an
    /// invalid protocol.
    pub fn score_vector<S: ScoreValue>(
        &self,
        scores: ArrayView1<'_, S>,
        truth: &[usize],
    ) -> Result<VectorScores> {
        self.validate()?;
        self.score_checked(
            Ranking::from_checked(checked_vector("scores", scores)?),
            truth,
        )
    }

    fn score_checked(&self, ranking: Ranking, truth: &[usize]) -> Result<VectorScores> {
        let mask = truth_mask(truth, ranking.len())?;
        let mut values = Vec::with_capacity(self.n_columns());
        let mut selected = Vec::with_capacity(self.selections.len());
        for s in &self.selections {
            let set = s.select(&ranking, truth.len())?;
            let overlap = Overlap::with_truth_mask(&set, &mask, truth.len())?;
            values.extend(self.set_scores.iter().map(|&score| overlap.score(score)));
            selected.push(set);
        }
        for m in &self.rank_metrics {
            values.push(m.on_ranking(&ranking, &mask, truth.len(), self.rank_options));
        }
        Ok(VectorScores { selected, values })
    }

    /// Scores per-region vectors: row `i` of `vectors` (regions × features) is
    /// the explanation of `regions[i]`, e.g. attributions already averaged
    /// over the region's windows. Regions are scored in parallel.
    ///
    /// # Errors
    /// [`MetricsError::ShapeMismatch`] if the row count differs from the
    /// region count; [`MetricsError::EmptyInput`] for no regions; else the first
    /// failing region's error in [`MetricsError::InRegion`].
    pub fn evaluate_vectors<S: ScoreValue>(
        &self,
        regions: &[Region],
        vectors: ArrayView2<'_, S>,
    ) -> Result<Report> {
        self.validate()?;
        if regions.is_empty() {
            return Err(MetricsError::EmptyInput {
                what: "region list",
            });
        }
        if vectors.nrows() != regions.len() {
            return Err(MetricsError::ShapeMismatch {
                what: "per-region score vectors (regions × features)",
                expected: vec![regions.len(), vectors.ncols()],
                got: vectors.shape().to_vec(),
            });
        }
        let results = regions
            .par_iter()
            .enumerate()
            .map(|(i, region)| {
                let wrap = |e: MetricsError| e.in_region(i, region.start, region.end);
                let values = checked_vector("scores", vectors.row(i)).map_err(wrap)?;
                let v = self
                    .score_checked(Ranking::from_checked(values), &region.features)
                    .map_err(wrap)?;
                Ok(RegionResult {
                    region: region.clone(),
                    selected: v.selected,
                    values: v.values,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Report::from_results(self.columns(), results)
    }

    /// Averages a time × features score matrix over each region
    /// ([`region_means`]) and scores the averages ([`evaluate_vectors`](Self::evaluate_vectors)).
    ///
    /// # Errors
    /// As [`region_means`] and [`evaluate_vectors`](Self::evaluate_vectors).
    pub fn evaluate_regions<S: ScoreValue>(
        &self,
        scores: ArrayView2<'_, S>,
        regions: &[Region],
    ) -> Result<Report> {
        self.validate()?;
        let means = region_means(scores, regions)?;
        self.evaluate_vectors(regions, means.view())
    }

    /// The chance report: every column's expected value for an uninformative
    /// explanation of each region (see [`chance`](crate::chance)), with the
    /// same layout as a real report so that it renders as a "chance" row.
    /// Its `selected` sets are empty (no concrete set is picked).
    ///
    /// # Errors
    /// An invalid protocol, no regions, or a region whose features are not
    /// below `n_features` (in [`MetricsError::InRegion`]).
    pub fn chance(&self, regions: &[Region], n_features: usize) -> Result<Report> {
        self.validate()?;
        if regions.is_empty() {
            return Err(MetricsError::EmptyInput {
                what: "region list",
            });
        }
        let columns = self.columns();
        let results = regions
            .iter()
            .enumerate()
            .map(|(i, region)| {
                let n = region.features.len();
                let values = truth_mask(&region.features, n_features)
                    .and_then(|_| {
                        columns
                            .iter()
                            .map(|c| match *c {
                                Column::Set { selection, score } => {
                                    chance_set_score(selection, score, n_features, n)
                                }
                                Column::Rank { metric } => chance_rank_metric(
                                    metric,
                                    n_features,
                                    n,
                                    self.rank_options.rounding,
                                ),
                            })
                            .collect::<Result<Vec<f64>>>()
                    })
                    .map_err(|e| e.in_region(i, region.start, region.end))?;
                Ok(RegionResult {
                    region: region.clone(),
                    selected: vec![],
                    values,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Report::from_results(columns, results)
    }
}

/// The result for one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionResult {
    /// The region.
    pub region: Region,
    /// The set picked by each strategy, in rank order (empty in chance reports).
    pub selected: Vec<Vec<usize>>,
    /// One value per column of the report.
    pub values: Vec<f64>,
}

/// Per-region values and their mean over regions (paper 1's `1/K Σ`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What each value is.
    pub columns: Vec<Column>,
    /// One entry per region, in input order.
    pub regions: Vec<RegionResult>,
    /// Mean of each column over the regions.
    pub mean: Vec<f64>,
}

impl Report {
    /// Builds a report from per-region results, computing the means.
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for no regions;
    /// [`MetricsError::ShapeMismatch`] if a region has the wrong number of values.
    pub fn from_results(columns: Vec<Column>, regions: Vec<RegionResult>) -> Result<Report> {
        if regions.is_empty() {
            return Err(MetricsError::EmptyInput {
                what: "region list",
            });
        }
        let mut sum = vec![0.0; columns.len()];
        for r in &regions {
            if r.values.len() != columns.len() {
                return Err(MetricsError::ShapeMismatch {
                    what: "values of a region result",
                    expected: vec![columns.len()],
                    got: vec![r.values.len()],
                });
            }
            for (s, v) in sum.iter_mut().zip(&r.values) {
                *s += v;
            }
        }
        let k = regions.len() as f64;
        let mean = sum.into_iter().map(|s| s / k).collect();
        Ok(Report {
            columns,
            regions,
            mean,
        })
    }

    /// Pools reports over several series (e.g. machines): all their regions,
    /// one mean over all of them.
    ///
    /// # Errors
    /// [`MetricsError::EmptyInput`] for no reports;
    /// [`MetricsError::IncompatibleResults`] if the columns differ.
    pub fn pool(reports: &[Report]) -> Result<Report> {
        let first = reports
            .first()
            .ok_or(MetricsError::EmptyInput { what: "reports" })?;
        if let Some(other) = reports.iter().find(|r| r.columns != first.columns) {
            return Err(MetricsError::IncompatibleResults {
                what: format!(
                    "columns {:?} vs {:?}",
                    first.column_labels(),
                    other.column_labels()
                ),
            });
        }
        let regions = reports
            .iter()
            .flat_map(|r| r.regions.iter().cloned())
            .collect();
        Self::from_results(first.columns.clone(), regions)
    }

    /// The mean of one column, if the report has it.
    pub fn mean_of(&self, column: Column) -> Option<f64> {
        let i = self.columns.iter().position(|c| *c == column)?;
        self.mean.get(i).copied()
    }

    /// Column labels such as `GT@120% IoU`.
    pub fn column_labels(&self) -> Vec<String> {
        self.columns.iter().map(ToString::to_string).collect()
    }

    /// The means as one table row.
    pub fn table_row(&self, method: impl Into<String>) -> TableRow {
        TableRow::new(method, self.mean.clone())
    }

    /// A one-row markdown table of the means, in percent with two decimals,
    /// like paper 1's Table 1. For several methods build a [`Table`].
    pub fn to_markdown(&self, method: &str) -> String {
        let mut t = Table::new(self.column_labels());
        t.rows.push(self.table_row(method));
        t.to_markdown()
    }

    /// A markdown table with one row per region (`[start, end)` and the
    /// ground-truth size), in percent with two decimals.
    pub fn regions_markdown(&self) -> String {
        let mut t = Table::new(self.column_labels());
        t.first_header = "region (n)".into();
        for r in &self.regions {
            let name = format!(
                "[{}, {}) ({})",
                r.region.start,
                r.region.end,
                r.region.features.len()
            );
            t.rows.push(TableRow::new(name, r.values.clone()));
        }
        t.rows.push(self.table_row("mean"));
        t.to_markdown()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn paper_scores() -> ndarray::Array1<f32> {
        array![0.3, -0.35, 1.5, 0.1, -0.3, 0.2, 0.23]
    }

    #[test]
    fn columns_are_strategy_major_then_rank() {
        let p = Protocol::new(
            vec![Selection::GT_120, Selection::AT_5],
            vec![SetScore::Iou, SetScore::F1],
            vec![RankMetric::HIT_150],
        );
        let labels: Vec<String> = p.columns().iter().map(ToString::to_string).collect();
        assert_eq!(
            labels,
            [
                "GT@120% IoU",
                "GT@120% F1",
                "AT@5 IoU",
                "AT@5 F1",
                "HitRate@150%"
            ]
        );
    }

    #[test]
    fn score_vector_hand_computed_for_every_strategy() {
        let p = Protocol::new(
            vec![
                Selection::GT_120,
                Selection::gt_ratio_unfiltered(1.5),
                Selection::AT_80,
                Selection::top_k(2),
            ],
            SetScore::ALL.to_vec(),
            vec![],
        );
        let v = p
            .score_vector(paper_scores().view(), &[0, 1, 5, 6])
            .unwrap();
        // [IoU, F1, Acc, Precision, Recall] per strategy, from hits h, |y'| = k, |y| = 4.
        let expect = |h: f64, k: f64| {
            [
                h / (k + 4.0 - h),
                2.0 * h / (k + 4.0),
                h / 4.0,
                h / k,
                h / 4.0,
            ]
        };
        let want: Vec<f64> = [
            expect(3.0, 5.0),
            expect(3.0, 6.0),
            expect(2.0, 3.0),
            expect(1.0, 2.0),
        ]
        .concat();
        for (i, (g, w)) in v.values.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-12, "column {i}: {g} vs {w}");
        }
        assert_eq!(v.selected[1], vec![2, 0, 6, 5, 3, 4]);
    }

    #[test]
    fn regions_report_means_over_regions() {
        // 6 steps × 3 features; region A favours feature 0, region B feature 2.
        let scores = array![
            [1.0_f32, 0.0, 0.0],
            [1.0, 0.5, 0.0],
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0],
        ];
        let regions = [
            Region::new(0, 2, vec![0]).unwrap(),
            Region::new(3, 5, vec![1]).unwrap(),
        ];
        let p = Protocol::new(
            vec![Selection::top_k(1)],
            vec![SetScore::Iou],
            vec![RankMetric::HIT_100],
        );
        let r = p.evaluate_regions(scores.view(), &regions).unwrap();
        assert_eq!(r.regions[0].values, vec![1.0, 1.0]);
        assert_eq!(r.regions[1].values, vec![0.0, 0.0]);
        assert_eq!(r.regions[1].selected, vec![vec![2]]);
        assert_eq!(r.mean, vec![0.5, 0.5]);
        let col = Column::Set {
            selection: Selection::top_k(1),
            score: SetScore::Iou,
        };
        assert_eq!(r.mean_of(col), Some(0.5));
        let pooled = Report::pool(&[r.clone(), r.clone()]).unwrap();
        assert_eq!(
            (pooled.regions.len(), pooled.mean.clone()),
            (4, vec![0.5, 0.5])
        );
        let other = Protocol::paper()
            .evaluate_regions(scores.view(), &regions)
            .unwrap();
        assert!(matches!(
            Report::pool(&[r, other]),
            Err(MetricsError::IncompatibleResults { .. })
        ));
    }

    #[test]
    fn evaluate_errors_name_the_region() {
        let vectors = array![[0.1_f32, 0.2], [0.3, f32::NAN]];
        let regions = [
            Region::new(0, 1, vec![0]).unwrap(),
            Region::new(5, 9, vec![1]).unwrap(),
        ];
        let err = Protocol::paper()
            .evaluate_vectors(&regions, vectors.view())
            .unwrap_err();
        assert!(
            matches!(
                err,
                MetricsError::InRegion {
                    index: 1,
                    start: 5,
                    end: 9,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("region 1 [5, 9)"), "{err}");
        let err = Protocol::paper()
            .evaluate_vectors(&regions[..1], vectors.view())
            .unwrap_err();
        assert!(matches!(err, MetricsError::ShapeMismatch { .. }));
        let empty = Protocol::new(vec![], vec![], vec![]);
        assert!(matches!(
            empty.evaluate_vectors(&regions, vectors.view()),
            Err(MetricsError::EmptyInput {
                what: "protocol columns"
            })
        ));
    }

    #[test]
    fn chance_report_has_the_same_layout() {
        let regions = [
            Region::new(0, 1, vec![0, 1, 2, 3]).unwrap(),
            Region::new(1, 2, vec![5]).unwrap(),
        ];
        let p = Protocol::extended();
        let c = p.chance(&regions, 38).unwrap();
        assert_eq!(c.columns, p.columns());
        // GT@120% Acc: k = 5 and 2 → (5/38 + 2/38) / 2.
        let col = Column::Set {
            selection: Selection::GT_120,
            score: SetScore::Acc,
        };
        assert!((c.mean_of(col).unwrap() - 3.5 / 38.0).abs() < 1e-12);
        assert!(matches!(
            p.chance(&regions, 5),
            Err(MetricsError::InRegion { index: 1, .. })
        ));
    }

    #[test]
    fn markdown_rendering() {
        let p = Protocol::new(
            vec![Selection::AllPositive],
            SetScore::PAPER.to_vec(),
            vec![],
        );
        let r = p
            .evaluate_vectors(
                &[Region::new(0, 1, vec![0, 1, 5, 6]).unwrap()],
                paper_scores().view().insert_axis(ndarray::Axis(0)),
            )
            .unwrap();
        assert_eq!(
            r.to_markdown("example"),
            "| method | AllPos IoU | AllPos F1 | AllPos Acc |\n\
             |---|---:|---:|---:|\n\
             | example | 50.00 | 66.67 | 75.00 |\n"
        );
        assert!(r
            .regions_markdown()
            .contains("| [0, 1) (4) | 50.00 | 66.67 | 75.00 |"));
        let json = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
