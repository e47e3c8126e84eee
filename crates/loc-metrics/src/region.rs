//! Labelled anomalous regions and the per-region averaging of scores.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::{feature_mask, finite, truth_mask, ScoreValue};

/// An anomalous time range `[start, end)` (0-based, end-exclusive) and the
/// 0-based features labelled as its cause.
///
/// Fields are public so regions can be built and deserialized freely; every
/// function that uses one checks it (see [`Region::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    /// First anomalous time step.
    pub start: usize,
    /// One past the last anomalous time step.
    pub end: usize,
    /// Ground-truth features, 0-based, distinct, non-empty.
    pub features: Vec<usize>,
}

impl Region {
    /// A checked region.
    ///
    /// # Errors
    /// [`MetricsError::EmptyRegion`] if `start >= end`;
    /// [`MetricsError::EmptyGroundTruth`] for no features;
    /// [`MetricsError::DuplicateFeature`] for a repeated feature.
    pub fn new(start: usize, end: usize, features: Vec<usize>) -> Result<Self> {
        let r = Region {
            start,
            end,
            features,
        };
        r.check_shape_free()?;
        Ok(r)
    }

    /// The number of time steps.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the region holds no time step (only possible for a region not
    /// built with [`Region::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `start..end`.
    pub fn span(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether time step `t` lies in the region.
    pub fn contains(&self, t: usize) -> bool {
        self.span().contains(&t)
    }

    fn check_shape_free(&self) -> Result<()> {
        if self.start >= self.end {
            return Err(MetricsError::EmptyRegion {
                start: self.start,
                end: self.end,
            });
        }
        if self.features.is_empty() {
            return Err(MetricsError::EmptyGroundTruth);
        }
        let max = self.features.iter().copied().max().map_or(0, |m| m + 1);
        feature_mask("region features", &self.features, max).map(drop)
    }

    /// Checks the region against a score matrix of `n_steps × n_features`.
    ///
    /// # Errors
    /// As [`Region::new`], plus [`MetricsError::RegionOutOfBounds`] and
    /// [`MetricsError::FeatureOutOfRange`].
    pub fn check(&self, n_steps: usize, n_features: usize) -> Result<()> {
        self.check_shape_free()?;
        if self.end > n_steps {
            return Err(MetricsError::RegionOutOfBounds {
                start: self.start,
                end: self.end,
                n_steps,
            });
        }
        truth_mask(&self.features, n_features).map(drop)
    }
}

/// The mean score of each feature over the region's time steps.
///
/// `scores` is time × features. The mean is taken in `f64`.
///
/// ```
/// use loc_metrics::{region_mean, Region};
/// use ndarray::array;
///
/// let scores = array![[1.0_f32, 0.0], [3.0, 2.0], [5.0, 4.0]];
/// let m = region_mean(scores.view(), &Region::new(1, 3, vec![0])?)?;
/// assert_eq!(m, array![4.0, 3.0]);
/// # Ok::<(), loc_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// An invalid region for the matrix (see [`Region::check`]) or a non-finite
/// score inside it ([`MetricsError::NonFinite`] with `[t, feature]`).
pub fn region_mean<S: ScoreValue>(
    scores: ArrayView2<'_, S>,
    region: &Region,
) -> Result<Array1<f64>> {
    let (n_steps, n_features) = scores.dim();
    region.check(n_steps, n_features)?;
    let mut sum = Array1::<f64>::zeros(n_features);
    for (dt, row) in scores
        .slice_axis(Axis(0), Slice::from(region.span()))
        .axis_iter(Axis(0))
        .enumerate()
    {
        for ((f, acc), &v) in sum.iter_mut().enumerate().zip(row.iter()) {
            *acc += finite("scores", v, &[region.start + dt, f])?;
        }
    }
    sum /= region.len() as f64;
    Ok(sum)
}

/// [`region_mean`] for every region, in parallel: row `i` of the result
/// belongs to `regions[i]`.
///
/// # Errors
/// The first failing region's error, wrapped in [`MetricsError::InRegion`].
pub fn region_means<S: ScoreValue>(
    scores: ArrayView2<'_, S>,
    regions: &[Region],
) -> Result<Array2<f64>> {
    let rows: Vec<Array1<f64>> = regions
        .par_iter()
        .enumerate()
        .map(|(i, r)| region_mean(scores, r).map_err(|e| e.in_region(i, r.start, r.end)))
        .collect::<Result<_>>()?;
    let mut out = Array2::zeros((regions.len(), scores.ncols()));
    for (mut dst, src) in out.axis_iter_mut(Axis(0)).zip(rows) {
        dst.assign(&src);
    }
    Ok(out)
}

/// The maximal runs of `true` in a point-label vector, as `[start, end)` ranges.
///
/// ```
/// use loc_metrics::ranges_from_points;
///
/// let labels = [false, true, true, false, true];
/// assert_eq!(ranges_from_points(&labels), vec![1..3, 4..5]);
/// ```
pub fn ranges_from_points(labels: &[bool]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (t, &l) in labels.iter().enumerate() {
        match (l, start) {
            (true, None) => start = Some(t),
            (false, Some(s)) => {
                out.push(s..t);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..labels.len());
    }
    out
}

/// The point labels of `n_steps` time steps: `true` where some region covers the step.
///
/// # Errors
/// [`MetricsError::EmptyRegion`] or [`MetricsError::RegionOutOfBounds`]
/// (in [`MetricsError::InRegion`]) for a region that is empty or ends after `n_steps`.
pub fn points_from_regions(regions: &[Region], n_steps: usize) -> Result<Vec<bool>> {
    let mut labels = vec![false; n_steps];
    for (i, r) in regions.iter().enumerate() {
        let wrap = |e: MetricsError| e.in_region(i, r.start, r.end);
        if r.start >= r.end {
            return Err(wrap(MetricsError::EmptyRegion {
                start: r.start,
                end: r.end,
            }));
        }
        let span = labels.get_mut(r.span()).ok_or_else(|| {
            wrap(MetricsError::RegionOutOfBounds {
                start: r.start,
                end: r.end,
                n_steps,
            })
        })?;
        span.fill(true);
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn new_rejects_empty_and_duplicate() {
        assert!(matches!(
            Region::new(3, 3, vec![0]),
            Err(MetricsError::EmptyRegion { start: 3, end: 3 })
        ));
        assert!(matches!(
            Region::new(0, 3, vec![]),
            Err(MetricsError::EmptyGroundTruth)
        ));
        assert!(matches!(
            Region::new(0, 3, vec![4, 2, 4]),
            Err(MetricsError::DuplicateFeature { feature: 4, .. })
        ));
        let r = Region::new(2, 5, vec![1]).unwrap();
        assert_eq!((r.len(), r.contains(2), r.contains(5)), (3, true, false));
    }

    #[test]
    fn check_against_the_matrix() {
        let r = Region::new(2, 5, vec![1, 3]).unwrap();
        assert!(r.check(5, 4).is_ok());
        assert!(matches!(
            r.check(4, 4),
            Err(MetricsError::RegionOutOfBounds { n_steps: 4, .. })
        ));
        assert!(matches!(
            r.check(5, 3),
            Err(MetricsError::FeatureOutOfRange {
                feature: 3,
                n_features: 3,
                ..
            })
        ));
    }

    #[test]
    fn means_per_region_in_parallel_keep_order() {
        let scores = array![[1.0_f32, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, -8.0]];
        let regions = [
            Region::new(3, 4, vec![1]).unwrap(),
            Region::new(0, 4, vec![0]).unwrap(),
        ];
        let m = region_means(scores.view(), &regions).unwrap();
        assert_eq!(m, array![[7.0, -8.0], [4.0, -0.5]]);
    }

    #[test]
    fn nan_inside_a_region_names_row_and_column() {
        let scores = array![[1.0_f32, f32::NAN], [3.0, 2.0]];
        // The NaN is outside region 0 and inside region 1.
        assert!(region_mean(scores.view(), &Region::new(1, 2, vec![0]).unwrap()).is_ok());
        let regions = [
            Region::new(1, 2, vec![0]).unwrap(),
            Region::new(0, 2, vec![0]).unwrap(),
        ];
        let err = region_means(scores.view(), &regions).unwrap_err();
        match err {
            MetricsError::InRegion {
                index: 1, source, ..
            } => {
                assert!(
                    matches!(*source, MetricsError::NonFinite { ref index, .. } if index == &[0, 1])
                )
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn points_and_ranges_round_trip() {
        assert!(ranges_from_points(&[]).is_empty());
        assert_eq!(ranges_from_points(&[true, true]), vec![0..2]);
        let regions = [
            Region::new(5, 7, vec![0]).unwrap(),
            Region::new(1, 3, vec![1]).unwrap(),
            Region::new(2, 4, vec![1]).unwrap(),
        ];
        let labels = points_from_regions(&regions, 8).unwrap();
        assert_eq!(labels, [false, true, true, true, false, true, true, false]);
        assert_eq!(ranges_from_points(&labels), vec![1..4, 5..7]);
        assert!(matches!(
            points_from_regions(&regions, 6),
            Err(MetricsError::InRegion { index: 0, .. })
        ));
    }
}
