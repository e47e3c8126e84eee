//! Pixel scores for image explanations: average precision (exact, and with
//! the LRP paper's 1000 evenly spaced thresholds) and AUROC, over all pixels
//! of a group of images.

use std::cmp::Ordering;

use ndarray::{ArrayView, Dimension, IntoDimension};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::ScoreValue;

/// The LRP paper's number of thresholds.
pub const PAPER_THRESHOLDS: usize = 1000;

/// Collects the pixels of a group of images (e.g. one defect class): their
/// relevance and whether the ground-truth mask marks them as defective.
///
/// A pixel is positive when its mask value is `>= mask_threshold`, which
/// handles soft (anti-aliased) masks: 128 for 8-bit masks, 0.5 for `[0, 1]`.
///
/// ```
/// use loc_metrics::PixelGroup;
/// use ndarray::array;
///
/// let mut group = PixelGroup::new(128.0)?;
/// group.push(array![[0.9_f32, 0.1], [0.8, 0.2]].view(), array![[255_u8, 0], [200, 90]].view())?;
/// group.push(array![0.5_f32, 0.0].view(), array![0_u8, 0].view())?;
/// let ranked = group.rank();
/// assert_eq!(ranked.average_precision()?, 1.0);
/// assert_eq!(ranked.auroc()?, 1.0);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PixelGroup {
    mask_threshold: f64,
    positive: Vec<f64>,
    negative: Vec<f64>,
    images: usize,
}

impl PixelGroup {
    /// An empty group.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] for a non-finite threshold.
    pub fn new(mask_threshold: f64) -> Result<Self> {
        if !mask_threshold.is_finite() {
            return Err(MetricsError::invalid(
                "mask_threshold",
                mask_threshold,
                "must be finite",
            ));
        }
        Ok(PixelGroup {
            mask_threshold,
            positive: vec![],
            negative: vec![],
            images: 0,
        })
    }

    /// Adds one image (any dimensionality; relevance and mask of equal shape).
    ///
    /// # Errors
    /// [`MetricsError::ShapeMismatch`] for different shapes;
    /// [`MetricsError::NonFinite`] for a NaN or infinite relevance or mask
    /// value, whose `index` is `[image, position...]` with `image` counted
    /// from 0 in push order. On error the group is left unchanged.
    pub fn push<S, M, D>(
        &mut self,
        relevance: ArrayView<'_, S, D>,
        mask: ArrayView<'_, M, D>,
    ) -> Result<()>
    where
        S: ScoreValue,
        M: ScoreValue,
        D: Dimension,
    {
        if relevance.shape() != mask.shape() {
            return Err(MetricsError::ShapeMismatch {
                what: "mask vs relevance",
                expected: relevance.shape().to_vec(),
                got: mask.shape().to_vec(),
            });
        }
        if let Some(e) = self.first_non_finite("relevance", &relevance) {
            return Err(e);
        }
        if let Some(e) = self.first_non_finite("mask", &mask) {
            return Err(e);
        }
        for (&r, &m) in relevance.iter().zip(mask.iter()) {
            let r = r.into() + 0.0;
            if m.into() >= self.mask_threshold {
                self.positive.push(r);
            } else {
                self.negative.push(r);
            }
        }
        self.images += 1;
        Ok(())
    }

    fn first_non_finite<T: ScoreValue, D: Dimension>(
        &self,
        what: &'static str,
        a: &ArrayView<'_, T, D>,
    ) -> Option<MetricsError> {
        // The plain scan is several times faster than `indexed_iter`, which
        // only runs once a bad value is known to exist.
        if a.iter().all(|&x| x.into().is_finite()) {
            return None;
        }
        let (idx, &v) = a.indexed_iter().find(|(_, &x)| !x.into().is_finite())?;
        let mut index = vec![self.images];
        index.extend_from_slice(idx.into_dimension().slice());
        Some(MetricsError::NonFinite {
            what,
            index,
            value: v.into(),
        })
    }

    /// Number of images pushed.
    pub fn n_images(&self) -> usize {
        self.images
    }

    /// Number of positive (defective) pixels.
    pub fn n_positive(&self) -> usize {
        self.positive.len()
    }

    /// Number of negative pixels.
    pub fn n_negative(&self) -> usize {
        self.negative.len()
    }

    /// Sorts the pixels by relevance (in parallel) so that the scores can be computed.
    pub fn rank(self) -> RankedPixels {
        let PixelGroup {
            mut positive,
            mut negative,
            ..
        } = self;
        let desc = |a: &f64, b: &f64| b.total_cmp(a);
        rayon::join(
            || positive.par_sort_unstable_by(desc),
            || negative.par_sort_unstable_by(desc),
        );
        RankedPixels { positive, negative }
    }
}

/// A group's pixels sorted by descending relevance, positives and negatives apart.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedPixels {
    positive: Vec<f64>,
    negative: Vec<f64>,
}

impl RankedPixels {
    /// Number of positive pixels.
    pub fn n_positive(&self) -> usize {
        self.positive.len()
    }

    /// Number of negative pixels.
    pub fn n_negative(&self) -> usize {
        self.negative.len()
    }

    /// Share of positive pixels: the AP of a ranking that carries no information.
    pub fn prevalence(&self) -> f64 {
        self.positive.len() as f64 / (self.positive.len() + self.negative.len()).max(1) as f64
    }

    fn need_positives(&self, what: &'static str) -> Result<()> {
        if self.positive.is_empty() {
            return Err(MetricsError::DegenerateLabels {
                what,
                positives: 0,
                negatives: self.negative.len(),
            });
        }
        Ok(())
    }

    /// Exact average precision, as scikit-learn's `average_precision_score`:
    /// `AP = Σ_n (R_n − R_{n−1}) P_n` over every distinct relevance value `t_n`
    /// taken as a threshold (predicted positive: relevance `>= t_n`), from the
    /// highest down, with `R_0 = 0`. Tied pixels enter together; no interpolation.
    ///
    /// # Errors
    /// [`MetricsError::DegenerateLabels`] if the group has no positive pixel.
    pub fn average_precision(&self) -> Result<f64> {
        self.need_positives("average precision")?;
        let p = self.positive.len() as f64;
        let mut ap = 0.0;
        let mut last_recall = 0.0;
        for (tp, fp) in self.cumulative_counts() {
            if tp == 0 {
                continue;
            }
            let recall = tp as f64 / p;
            ap += (recall - last_recall) * tp as f64 / (tp + fp) as f64;
            last_recall = recall;
        }
        Ok(ap)
    }

    /// Average precision over `n_thresholds` evenly spaced thresholds, as in
    /// the LRP-for-autoencoders paper (with [`PAPER_THRESHOLDS`] = 1000).
    ///
    /// Thresholds are `t_i = lo + (hi − lo) · i / (n − 1)`, `i = 0..n`, where
    /// `lo`/`hi` are the group's minimum/maximum relevance (numpy's
    /// `linspace(lo, hi, n)`); a pixel is predicted positive when its relevance
    /// is strictly greater than `t_i` (the paper's "higher than"). The area
    /// under the resulting precision–recall points is taken as in
    /// [`average_precision`](Self::average_precision), from the highest
    /// threshold down. Pixels at the minimum are never predicted positive, so
    /// a constant relevance map scores 0.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] for `n_thresholds < 2`;
    /// [`MetricsError::DegenerateLabels`] if the group has no positive pixel.
    pub fn average_precision_thresholds(&self, n_thresholds: usize) -> Result<f64> {
        if n_thresholds < 2 {
            return Err(MetricsError::invalid(
                "n_thresholds",
                n_thresholds,
                "must be at least 2",
            ));
        }
        self.need_positives("average precision")?;
        let (pos, neg) = (&self.positive, &self.negative);
        let hi = pos
            .first()
            .into_iter()
            .chain(neg.first())
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let lo = pos
            .last()
            .into_iter()
            .chain(neg.last())
            .fold(f64::INFINITY, |a, &b| a.min(b));
        let p = self.positive.len() as f64;
        let step = (hi - lo) / (n_thresholds - 1) as f64;
        let above = |v: &[f64], t: f64| v.partition_point(|&x| x > t);
        let mut ap = 0.0;
        let mut last_recall = 0.0;
        for i in (0..n_thresholds).rev() {
            // The last threshold is `hi` itself rather than `lo + (n-1)·step`,
            // which rounding can put a hair below `hi`.
            let t = if i == n_thresholds - 1 {
                hi
            } else {
                lo + step * i as f64
            };
            let tp = above(&self.positive, t);
            if tp == 0 {
                continue;
            }
            let fp = above(&self.negative, t);
            let recall = tp as f64 / p;
            ap += (recall - last_recall) * tp as f64 / (tp + fp) as f64;
            last_recall = recall;
        }
        Ok(ap)
    }

    /// Area under the ROC curve: the probability that a random positive pixel
    /// has a higher relevance than a random negative one, ties counting one
    /// half (Mann–Whitney U / (P·N); equal to scikit-learn's `roc_auc_score`).
    ///
    /// # Errors
    /// [`MetricsError::DegenerateLabels`] unless there are pixels of both classes.
    pub fn auroc(&self) -> Result<f64> {
        let (p, n) = (self.positive.len(), self.negative.len());
        if p == 0 || n == 0 {
            return Err(MetricsError::DegenerateLabels {
                what: "AUROC",
                positives: p,
                negatives: n,
            });
        }
        let mut wins = 0.0;
        let (mut last_tp, mut last_fp) = (0, 0);
        for (tp, fp) in self.cumulative_counts() {
            let (dp, dn) = (tp - last_tp, fp - last_fp);
            // Positives of this value beat every negative below it and tie with dn.
            wins += dp as f64 * ((n - fp) as f64 + 0.5 * dn as f64);
            (last_tp, last_fp) = (tp, fp);
        }
        Ok(wins / (p as f64 * n as f64))
    }

    /// `(true positives, false positives)` with each distinct relevance value
    /// as a threshold (`>=`), highest first.
    fn cumulative_counts(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (pos, neg) = (&self.positive, &self.negative);
        let (mut i, mut j) = (0, 0);
        std::iter::from_fn(move || {
            let v = match (pos.get(i), neg.get(j)) {
                (Some(a), Some(b)) => match a.total_cmp(b) {
                    Ordering::Less => *b,
                    _ => *a,
                },
                (Some(a), None) => *a,
                (None, Some(b)) => *b,
                (None, None) => return None,
            };
            while pos.get(i) == Some(&v) {
                i += 1;
            }
            while neg.get(j) == Some(&v) {
                j += 1;
            }
            Some((i, j))
        })
    }
}

/// Scores one relevance map against its mask; a shortcut for a one-image [`PixelGroup`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelScores {
    /// Exact average precision.
    pub average_precision: f64,
    /// Average precision at [`PAPER_THRESHOLDS`] thresholds.
    pub average_precision_1000: f64,
    /// AUROC (`None` when the mask has no negative pixel).
    pub auroc: Option<f64>,
}

impl RankedPixels {
    /// All three scores at once.
    ///
    /// # Errors
    /// [`MetricsError::DegenerateLabels`] if the group has no positive pixel.
    pub fn scores(&self) -> Result<PixelScores> {
        Ok(PixelScores {
            average_precision: self.average_precision()?,
            average_precision_1000: self.average_precision_thresholds(PAPER_THRESHOLDS)?,
            auroc: if self.negative.is_empty() {
                None
            } else {
                Some(self.auroc()?)
            },
        })
    }
}

/// Exact average precision of one relevance map (or of pre-flattened pixels).
///
/// # Errors
/// As [`PixelGroup::new`], [`PixelGroup::push`] and [`RankedPixels::average_precision`].
pub fn average_precision<S: ScoreValue, M: ScoreValue, D: Dimension>(
    relevance: ArrayView<'_, S, D>,
    mask: ArrayView<'_, M, D>,
    mask_threshold: f64,
) -> Result<f64> {
    let mut g = PixelGroup::new(mask_threshold)?;
    g.push(relevance, mask)?;
    g.rank().average_precision()
}

/// AUROC of one relevance map (or of pre-flattened pixels).
///
/// # Errors
/// As [`PixelGroup::new`], [`PixelGroup::push`] and [`RankedPixels::auroc`].
pub fn auroc<S: ScoreValue, M: ScoreValue, D: Dimension>(
    relevance: ArrayView<'_, S, D>,
    mask: ArrayView<'_, M, D>,
    mask_threshold: f64,
) -> Result<f64> {
    let mut g = PixelGroup::new(mask_threshold)?;
    g.push(relevance, mask)?;
    g.rank().auroc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn ranked(rel: &[f64], lab: &[u8]) -> RankedPixels {
        let mut g = PixelGroup::new(1.0).unwrap();
        g.push(ndarray::aview1(rel), ndarray::aview1(lab)).unwrap();
        g.rank()
    }

    #[test]
    fn exact_ap_by_hand() {
        // Order: + - + - ; precision at the positives: 1, 2/3 → AP = (1 + 2/3) / 2.
        let r = ranked(&[0.9, 0.8, 0.7, 0.1], &[1, 0, 1, 0]);
        assert!((r.average_precision().unwrap() - 5.0 / 6.0).abs() < 1e-12);
        // AUROC: pairs (0.9 > 0.8, 0.9 > 0.1, 0.7 < 0.8, 0.7 > 0.1) → 3/4.
        assert_eq!(r.auroc().unwrap(), 0.75);
    }

    #[test]
    fn ties_enter_together() {
        // All tied: one threshold, precision = prevalence, AUROC = 1/2.
        let r = ranked(&[0.5; 4], &[1, 0, 0, 0]);
        assert_eq!(r.average_precision().unwrap(), 0.25);
        assert_eq!(r.auroc().unwrap(), 0.5);
        // The constant map never exceeds its minimum: thresholded AP is 0.
        assert_eq!(r.average_precision_thresholds(1000).unwrap(), 0.0);
    }

    #[test]
    fn thresholded_ap_by_hand() {
        // Relevance 0..=3, thresholds linspace(0, 3, 4) = {0, 1, 2, 3}, "> t".
        // t=3: nothing; t=2: {3}, + → R=1/2, P=1; t=1: {3,2}, 2 is − → R stays;
        // t=0: {3,2,1}, 1 is + → R=1, P=2/3.
        let r = ranked(&[3.0, 2.0, 1.0, 0.0], &[1, 0, 1, 0]);
        let ap = r.average_precision_thresholds(4).unwrap();
        assert!((ap - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
        // With thresholds between every pair of values it equals exact AP.
        assert!(
            (r.average_precision_thresholds(1000).unwrap() - r.average_precision().unwrap()).abs()
                < 1e-12
        );
        assert!(matches!(
            r.average_precision_thresholds(1),
            Err(MetricsError::InvalidParameter {
                param: "n_thresholds",
                ..
            })
        ));
    }

    #[test]
    fn soft_masks_use_the_threshold() {
        let rel = array![[0.9_f32, 0.8], [0.1, 0.2]];
        let mask = array![[1.0_f32, 0.4], [0.6, 0.0]];
        // >= 0.5: positives at 0.9 and 0.1.
        let ap = average_precision(rel.view(), mask.view(), 0.5).unwrap();
        assert!((ap - (1.0 + 2.0 / 4.0) / 2.0).abs() < 1e-12);
        // >= 0.3: positives 0.9, 0.8, 0.1.
        let ap = average_precision(rel.view(), mask.view(), 0.3).unwrap();
        assert!((ap - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn errors_name_image_and_position() {
        let mut g = PixelGroup::new(0.5).unwrap();
        g.push(array![[0.0_f32, 1.0]].view(), array![[0.0_f32, 1.0]].view())
            .unwrap();
        let err = g.push(
            array![[0.0_f32, 1.0], [f32::NAN, 0.0]].view(),
            array![[0.0_f32, 1.0], [0.0, 0.0]].view(),
        );
        assert!(
            matches!(err, Err(MetricsError::NonFinite { what: "relevance", ref index, .. }) if index == &[1, 1, 0])
        );
        let err = g.push(
            array![0.0_f32, 1.0].view(),
            array![0.0_f32, f32::INFINITY].view(),
        );
        assert!(
            matches!(err, Err(MetricsError::NonFinite { what: "mask", ref index, .. }) if index == &[1, 1])
        );
        let err = g.push(array![0.0_f32, 1.0].view(), array![0.0_f32].view());
        assert!(matches!(err, Err(MetricsError::ShapeMismatch { .. })));
        assert_eq!((g.n_images(), g.n_positive(), g.n_negative()), (1, 1, 1));
        assert!(PixelGroup::new(f64::NAN).is_err());
        let neg_only = ranked(&[0.1, 0.2], &[0, 0]);
        assert!(matches!(
            neg_only.average_precision(),
            Err(MetricsError::DegenerateLabels { positives: 0, .. })
        ));
        let pos_only = ranked(&[0.1, 0.2], &[1, 1]);
        assert_eq!(pos_only.average_precision().unwrap(), 1.0);
        assert!(matches!(
            pos_only.auroc(),
            Err(MetricsError::DegenerateLabels { negatives: 0, .. })
        ));
        assert_eq!(pos_only.scores().unwrap().auroc, None);
    }
}
