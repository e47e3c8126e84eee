//! Scores comparing a predicted feature set with the ground truth.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{feature_mask, truth_mask};

/// The sizes that every set score is computed from: `|y'|`, `|y|`, `|y' ∩ y|`.
///
/// Built only through [`Overlap::new`], which guarantees `|y| ≥ 1` and sets
/// without duplicates, so every score is a number in [0, 1].
///
/// ```
/// use loc_metrics::Overlap;
///
/// // The paper's example: y' = {3,1,7,6,4}, y = {1,2,6,7} (sensor s is feature s-1).
/// let o = Overlap::new(&[2, 0, 6, 5, 3], &[0, 1, 5, 6], 7)?;
/// assert_eq!((o.hits(), o.predicted(), o.truth()), (3, 5, 4));
/// assert_eq!(o.iou(), 0.5);
/// assert_eq!(o.acc(), 0.75);
/// assert_eq!(o.precision(), 0.6);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Overlap {
    predicted: usize,
    truth: usize,
    hits: usize,
}

impl Overlap {
    /// Counts the overlap of a predicted set with a ground-truth set over
    /// features `0..n_features`.
    ///
    /// # Errors
    /// [`MetricsError::EmptyGroundTruth`] for an empty `truth`;
    /// [`MetricsError::FeatureOutOfRange`] or [`MetricsError::DuplicateFeature`]
    /// for a bad index in either set.
    pub fn new(predicted: &[usize], truth: &[usize], n_features: usize) -> Result<Self> {
        let truth_mask = truth_mask(truth, n_features)?;
        Self::with_truth_mask(predicted, &truth_mask, truth.len())
    }

    /// As [`new`](Self::new), with the ground truth already checked and
    /// expanded into a mask (shared by the strategies scored on one vector).
    pub(crate) fn with_truth_mask(
        predicted: &[usize],
        truth: &[bool],
        n_truth: usize,
    ) -> Result<Self> {
        feature_mask("predicted set", predicted, truth.len())?;
        let hits = predicted.iter().filter(|&&f| truth[f]).count();
        Ok(Overlap {
            predicted: predicted.len(),
            truth: n_truth,
            hits,
        })
    }

    /// `|y'|`, the size of the predicted set.
    pub fn predicted(&self) -> usize {
        self.predicted
    }

    /// `|y|`, the size of the ground truth (≥ 1).
    pub fn truth(&self) -> usize {
        self.truth
    }

    /// `|y' ∩ y|`.
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// Jaccard index `|y' ∩ y| / |y' ∪ y|`.
    pub fn iou(&self) -> f64 {
        self.hits as f64 / (self.predicted + self.truth - self.hits) as f64
    }

    /// Sørensen–Dice coefficient `2|y' ∩ y| / (|y'| + |y|)`, the set F1 score.
    pub fn f1(&self) -> f64 {
        2.0 * self.hits as f64 / (self.predicted + self.truth) as f64
    }

    /// `|y' ∩ y| / |y'|`; 0 for an empty prediction (it found nothing).
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            0.0
        } else {
            self.hits as f64 / self.predicted as f64
        }
    }

    /// `|y' ∩ y| / |y|`.
    pub fn recall(&self) -> f64 {
        self.hits as f64 / self.truth as f64
    }

    /// Paper 1's "Acc", defined as [`recall`](Self::recall): the value its
    /// worked example reports (0.75), not its printed formula `|y' ∩ y| / |y'|`
    /// (which gives 0.6 there and is [`precision`](Self::precision)).
    pub fn acc(&self) -> f64 {
        self.recall()
    }

    /// The value of `score` for this overlap.
    pub fn score(&self, score: SetScore) -> f64 {
        match score {
            SetScore::Iou => self.iou(),
            SetScore::F1 => self.f1(),
            SetScore::Acc => self.acc(),
            SetScore::Precision => self.precision(),
            SetScore::Recall => self.recall(),
        }
    }
}

/// A score of a predicted set against the ground truth; see [`Overlap`] for the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetScore {
    /// Jaccard index (IoU).
    Iou,
    /// Sørensen–Dice coefficient (F1).
    F1,
    /// Paper 1's "Acc" (= recall, see [`Overlap::acc`]).
    Acc,
    /// `|y' ∩ y| / |y'|` (0 for an empty prediction).
    Precision,
    /// `|y' ∩ y| / |y|`.
    Recall,
}

impl SetScore {
    /// Paper 1's Table 1 columns: IoU, F1, Acc.
    pub const PAPER: [SetScore; 3] = [SetScore::Iou, SetScore::F1, SetScore::Acc];
    /// Every set score.
    pub const ALL: [SetScore; 5] = [
        SetScore::Iou,
        SetScore::F1,
        SetScore::Acc,
        SetScore::Precision,
        SetScore::Recall,
    ];

    /// Short column label: `IoU`, `F1`, `Acc`, `Precision`, `Recall`.
    pub fn label(&self) -> &'static str {
        match self {
            SetScore::Iou => "IoU",
            SetScore::F1 => "F1",
            SetScore::Acc => "Acc",
            SetScore::Precision => "Precision",
            SetScore::Recall => "Recall",
        }
    }
}

impl fmt::Display for SetScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Parses the labels of `Display`, case-insensitively, plus the synonyms
/// `Jaccard` (IoU) and `Dice` (F1).
impl FromStr for SetScore {
    type Err = MetricsError;

    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "iou" | "jaccard" => SetScore::Iou,
            "f1" | "dice" => SetScore::F1,
            "acc" => SetScore::Acc,
            "precision" => SetScore::Precision,
            "recall" => SetScore::Recall,
            _ => {
                return Err(MetricsError::UnknownName {
                    what: "set score",
                    text: text.into(),
                    expected: "IoU, F1, Acc, Precision or Recall",
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn paper_worked_example_counts() {
        let o = Overlap::new(&[2, 0, 6, 5, 3], &[0, 1, 5, 6], 7).unwrap();
        close(o.iou(), 0.5);
        close(o.f1(), 6.0 / 9.0);
        close(o.acc(), 0.75);
        close(o.precision(), 0.6);
        close(o.recall(), 0.75);
    }

    #[test]
    fn hand_computed_partial_overlap() {
        // y' = {0, 1, 2}, y = {2, 3}: one hit, union 4.
        let o = Overlap::new(&[0, 1, 2], &[2, 3], 5).unwrap();
        close(o.iou(), 0.25);
        close(o.f1(), 2.0 / 5.0);
        close(o.precision(), 1.0 / 3.0);
        close(o.recall(), 0.5);
        // Disjoint sets score zero everywhere.
        let o = Overlap::new(&[0, 1], &[2, 3], 5).unwrap();
        for s in SetScore::ALL {
            assert_eq!(o.score(s), 0.0, "{s}");
        }
        // Perfect prediction scores one everywhere.
        let o = Overlap::new(&[3, 2], &[2, 3], 5).unwrap();
        for s in SetScore::ALL {
            assert_eq!(o.score(s), 1.0, "{s}");
        }
    }

    #[test]
    fn empty_prediction_scores_zero() {
        let o = Overlap::new(&[], &[1], 3).unwrap();
        for s in SetScore::ALL {
            assert_eq!(o.score(s), 0.0, "{s}");
        }
    }

    #[test]
    fn bad_sets_are_errors_naming_the_feature() {
        assert!(matches!(
            Overlap::new(&[0], &[], 3),
            Err(MetricsError::EmptyGroundTruth)
        ));
        assert!(matches!(
            Overlap::new(&[0], &[3], 3),
            Err(MetricsError::FeatureOutOfRange {
                what: "ground truth",
                feature: 3,
                n_features: 3
            })
        ));
        assert!(matches!(
            Overlap::new(&[7], &[0], 3),
            Err(MetricsError::FeatureOutOfRange {
                what: "predicted set",
                feature: 7,
                ..
            })
        ));
        assert!(matches!(
            Overlap::new(&[1, 1], &[0], 3),
            Err(MetricsError::DuplicateFeature {
                what: "predicted set",
                feature: 1
            })
        ));
        assert!(matches!(
            Overlap::new(&[1], &[0, 2, 0], 3),
            Err(MetricsError::DuplicateFeature {
                what: "ground truth",
                feature: 0
            })
        ));
    }

    #[test]
    fn labels_round_trip() {
        for s in SetScore::ALL {
            assert_eq!(s.to_string().parse::<SetScore>().unwrap(), s);
        }
        assert_eq!("dice".parse::<SetScore>().unwrap(), SetScore::F1);
        assert!("accuracy".parse::<SetScore>().is_err());
    }
}
