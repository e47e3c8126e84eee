//! Which windows of a series explain a labelled region, and how their cell attributions
//! are folded back onto the region's time steps.

use std::ops::Range;

use ndarray::{Array1, ArrayView3};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::Region;

/// A span of steps, read like a region without its labels.
struct Span(Range<usize>);

impl Span {
    fn contains(&self, t: usize) -> bool {
        self.0.contains(&t)
    }
}

impl std::ops::Deref for Span {
    type Target = Range<usize>;
    fn deref(&self) -> &Range<usize> {
        &self.0
    }
}

/// Which windows represent a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WindowPolicy {
    /// Windows whose **last** step lies in the region: the anomaly is what the model has
    /// just seen, as in online detection (and in the protocol of DESIGN §7b).
    #[default]
    EndingInRegion,
    /// Every window that overlaps the region.
    Overlapping,
}

/// Start indices of the windows of length `window` that represent `region` in a series of
/// `n_steps` steps, at most `max_windows` of them, spread evenly over the candidates (the
/// first and last candidates are always kept when `max_windows >= 2`).
///
/// A region that ends before the first full window (`end < window`) is represented by the
/// first window, `[0, window)`, which is the only one that sees it.
pub fn region_windows(
    region: &Region,
    n_steps: usize,
    window: usize,
    policy: WindowPolicy,
    max_windows: usize,
) -> Result<Vec<usize>> {
    span_windows(region.span(), n_steps, window, policy, max_windows)
}

/// [`region_windows`] of a span of steps `[start, end)` that carries no labels (a live
/// alarm's span).
///
/// # Errors
/// As [`region_windows`].
pub fn span_windows(
    span: Range<usize>,
    n_steps: usize,
    window: usize,
    policy: WindowPolicy,
    max_windows: usize,
) -> Result<Vec<usize>> {
    let region = Span(span);
    if window == 0 || window > n_steps {
        return Err(Error::InvalidSetting {
            setting: "window",
            value: window.to_string(),
            rule: format!("must be in 1..={n_steps} (the series length)"),
        });
    }
    if max_windows == 0 {
        return Err(Error::InvalidSetting {
            setting: "max_windows",
            value: "0".into(),
            rule: "must be at least 1".into(),
        });
    }
    if region.start >= region.end || region.end > n_steps {
        return Err(Error::RegionOutOfRange {
            start: region.start,
            end: region.end,
            n_steps,
        });
    }
    let last_start = n_steps - window;
    let (lo, hi) = match policy {
        // Window [s, s + window) ends at s + window - 1 ∈ [start, end).
        WindowPolicy::EndingInRegion => (
            (region.start + 1).saturating_sub(window).min(last_start),
            (region.end - 1).saturating_sub(window - 1).min(last_start),
        ),
        // Window overlaps [start, end) when s < end and s + window > start.
        WindowPolicy::Overlapping => (
            (region.start + 1).saturating_sub(window).min(last_start),
            (region.end - 1).min(last_start),
        ),
    };
    let candidates = hi - lo + 1;
    if candidates <= max_windows {
        return Ok((lo..=hi).collect());
    }
    if max_windows == 1 {
        return Ok(vec![hi]);
    }
    // Evenly spaced, rounded to the nearest start, both ends included.
    let span = (candidates - 1) as f64;
    let step = span / (max_windows - 1) as f64;
    let mut starts: Vec<usize> = (0..max_windows)
        .map(|i| lo + (i as f64 * step).round() as usize)
        .collect();
    starts.dedup();
    Ok(starts)
}

/// Per-feature region score from cell attributions of windows: the mean, over every
/// (window, step) pair whose absolute time lies in the region, of the attribution of that
/// cell. `attributions` is `[windows, window_len, features]`, `starts[w]` the absolute
/// start of window `w`.
///
/// Cells outside the region are ignored, so a window only speaks for the region's steps
/// it contains. With per-sensor groups (every step of a sensor shares one attribution) the
/// result is the mean over windows, weighted by how many region steps each window holds.
pub fn region_scores(
    attributions: ArrayView3<'_, f32>,
    starts: &[usize],
    region: &Region,
) -> Result<Array1<f64>> {
    span_scores(attributions, starts, region.span())
}

/// [`region_scores`] of a span of steps `[start, end)` that carries no labels.
///
/// # Errors
/// As [`region_scores`].
pub fn span_scores(
    attributions: ArrayView3<'_, f32>,
    starts: &[usize],
    span: Range<usize>,
) -> Result<Array1<f64>> {
    let region = Span(span);
    let (n_windows, len, n_features) = attributions.dim();
    if n_windows != starts.len() {
        return Err(Error::Shape {
            what: "window attributions",
            expected: format!("{} windows (one per start index)", starts.len()),
            got: vec![n_windows, len, n_features],
        });
    }
    let mut sum = Array1::<f64>::zeros(n_features);
    let mut count = 0usize;
    for (w, &s) in starts.iter().enumerate() {
        for t in 0..len {
            if !region.contains(s + t) {
                continue;
            }
            for f in 0..n_features {
                let v = attributions[[w, t, f]];
                if !v.is_finite() {
                    return Err(Error::NonFinite {
                        what: "window attributions".into(),
                        index: vec![w, t, f],
                    });
                }
                sum[f] += f64::from(v);
            }
            count += 1;
        }
    }
    if count == 0 {
        return Err(Error::Shape {
            what: "windows",
            expected: format!(
                "at least one window overlapping [{}, {})",
                region.start, region.end
            ),
            got: starts.to_vec(),
        });
    }
    Ok(sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn region(s: usize, e: usize) -> Region {
        Region::new(s, e, vec![0]).unwrap()
    }

    #[test]
    fn ending_in_region_windows_end_inside_it() {
        let starts = region_windows(
            &region(100, 105),
            1000,
            50,
            WindowPolicy::EndingInRegion,
            64,
        )
        .unwrap();
        assert_eq!(starts, vec![51, 52, 53, 54, 55]);
        for s in starts {
            assert!((100..105).contains(&(s + 49)));
        }
    }

    #[test]
    fn overlapping_windows_touch_the_region() {
        let starts =
            region_windows(&region(100, 102), 1000, 50, WindowPolicy::Overlapping, 1000).unwrap();
        assert_eq!(starts.first(), Some(&51));
        assert_eq!(starts.last(), Some(&101));
    }

    #[test]
    fn early_regions_use_the_first_window_and_late_ones_the_last() {
        let early = region_windows(&region(3, 5), 100, 50, WindowPolicy::EndingInRegion, 8);
        assert_eq!(early.unwrap(), vec![0]);
        let late = region_windows(&region(98, 100), 100, 50, WindowPolicy::EndingInRegion, 8);
        assert_eq!(late.unwrap(), vec![49, 50]);
    }

    #[test]
    fn subsampling_is_even_and_keeps_both_ends() {
        let starts =
            region_windows(&region(100, 200), 1000, 50, WindowPolicy::EndingInRegion, 5).unwrap();
        assert_eq!(starts, vec![51, 76, 101, 125, 150]);
    }

    #[test]
    fn bad_settings_are_errors_naming_the_value() {
        let e = region_windows(&region(0, 5), 10, 11, WindowPolicy::EndingInRegion, 4);
        assert!(e.unwrap_err().to_string().contains("11"));
        let e = region_windows(&region(5, 20), 10, 5, WindowPolicy::EndingInRegion, 4);
        assert!(e.unwrap_err().to_string().contains("20"));
    }

    #[test]
    fn region_scores_average_only_region_cells() {
        // Two windows of 4 steps, 2 features; region [3, 5).
        let mut a = Array3::<f32>::zeros((2, 4, 2));
        // Window 0 starts at 0: only step 3 is in the region.
        a[[0, 3, 0]] = 4.0;
        a[[0, 0, 0]] = 100.0; // outside the region: ignored
                              // Window 1 starts at 2: steps 1 and 2 (times 3, 4) are in the region.
        a[[1, 1, 0]] = 1.0;
        a[[1, 2, 1]] = 3.0;
        let s = region_scores(a.view(), &[0, 2], &Region::new(3, 5, vec![1]).unwrap()).unwrap();
        assert_eq!(s.to_vec(), vec![5.0 / 3.0, 1.0]);
    }
}
