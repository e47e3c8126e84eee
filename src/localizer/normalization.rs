//! Comparing a method's sensor scores with the scores it gives normal data.

use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::stats::median;

/// Whether sensor scores are compared with the scores the same method gives normal data.
///
/// A sensor that is always hard to reconstruct (a noisy counter, a sensor the model never
/// learned) gets large attributions in every window, normal or not, and crowds the top of
/// every ranking. Standardizing each sensor's region score by the mean and standard
/// deviation of its score on normal reference windows asks instead "which sensors are
/// explained *more than usual*", which is what localization means. It costs one extra
/// explanation of the reference windows per method and machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Raw region scores (the papers' protocol).
    #[default]
    None,
    /// `(score − μ_f) / σ_f`, with `μ_f`, `σ_f` the mean and standard deviation of sensor
    /// `f`'s window score over the reference windows (σ floored at 1e-12 · max σ).
    Standardize,
    /// The same with robust statistics: `(score − m_f) / s_f`, with `m_f` the median of
    /// sensor `f`'s window score over the reference windows and `s_f = 1.4826 · MAD`
    /// (the median absolute deviation, scaled to equal σ for normal data). Reconstruction
    /// errors are heavy-tailed: one odd reference window inflates σ and hides its sensor,
    /// while the median and MAD ignore up to half of the windows being odd. Where the MAD
    /// is 0 (a sensor constant on most windows), `1.2533 ·` the mean absolute deviation
    /// from the median takes its place (the same scaling to σ); the floor is as above.
    Robust,
}

impl Normalization {
    /// Centre and scale of every sensor from its window scores `[windows, sensors]` on
    /// normal data: mean and standard deviation (`None` and `Standardize`), or median and
    /// scaled MAD (`Robust`); scales floored at `1e-12 ·` the largest.
    pub fn centre_scale(self, per_window: ArrayView2<'_, f64>) -> (Array1<f64>, Array1<f64>) {
        let (centre, scale) = match self {
            Normalization::Robust => robust_centre_scale(per_window),
            Normalization::None | Normalization::Standardize => (
                per_window.mean_axis(Axis(0)).expect("at least one window"),
                per_window.std_axis(Axis(0), 1.0),
            ),
        };
        let floor = 1e-12
            * scale
                .iter()
                .cloned()
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE);
        (centre, scale.mapv(|s| s.max(floor)))
    }
}

/// Per column of `[windows, sensors]`: the median, and `1.4826 · MAD` (or, where the MAD
/// is 0, `1.2533 ·` the mean absolute deviation from the median), both consistent
/// estimators of σ for normal data.
fn robust_centre_scale(per_window: ArrayView2<'_, f64>) -> (Array1<f64>, Array1<f64>) {
    let (mut centre, mut scale) = (Vec::new(), Vec::new());
    for col in per_window.columns() {
        let m = median(col.to_vec()).expect("at least one reference window");
        let dev: Vec<f64> = col.iter().map(|v| (v - m).abs()).collect();
        let mean_dev = dev.iter().sum::<f64>() / dev.len() as f64;
        let mad = median(dev).expect("at least one reference window");
        centre.push(m);
        scale.push(if mad > 0.0 {
            1.4826 * mad
        } else {
            1.2533 * mean_dev
        });
    }
    (centre.into(), scale.into())
}

#[cfg(test)]
mod tests {
    use super::robust_centre_scale;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn robust_scale_ignores_an_outlier_and_falls_back_when_the_mad_is_zero() {
        // Column 0: median 3, |deviations| 2 1 0 1 97, MAD 1. Column 1: MAD 0, mean
        // absolute deviation from the median 0 is 5 / 5 = 1.
        let w = array![[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [100.0, 5.0]];
        let (centre, scale) = robust_centre_scale(w.view());
        assert_abs_diff_eq!(centre[0], 3.0);
        assert_abs_diff_eq!(scale[0], 1.4826, epsilon = 1e-12);
        assert_abs_diff_eq!(centre[1], 0.0);
        assert_abs_diff_eq!(scale[1], 1.2533, epsilon = 1e-12);
        // An even count takes the mean of the middle two.
        let (centre, _) = robust_centre_scale(array![[1.0], [2.0], [4.0], [9.0]].view());
        assert_abs_diff_eq!(centre[0], 3.0);
    }
}
