//! Quadrature rules for the path integral of Integrated Gradients, with Captum's exact
//! conventions (`captum/attr/_utils/approximation_methods.py`).

use serde::{Deserialize, Serialize};

use crate::error::{Result, XaiError};

/// How `∫₀¹ g(α) dα` is approximated with `n` evaluation points `α_k` and weights `w_k`.
///
/// | rule | `α_k` | `w_k` | Σ w |
/// |---|---|---|---|
/// | `GaussLegendre` (default) | Legendre roots mapped to (0, 1) | Legendre weights / 2 | 1 |
/// | `RiemannLeft` | `k/n`, k = 0..n-1 | `1/n` | 1 |
/// | `RiemannRight` | `(k+1)/n` | `1/n` | 1 |
/// | `RiemannMiddle` | `(k+½)/n` | `1/n` | 1 |
/// | `RiemannTrapezoid` | `k/(n-1)` | `1/(2n)` at both ends, `1/n` inside | `(n-1)/n` |
///
/// The trapezoid weights are Captum's: they sum to `(n − 1)/n`, not 1, so IG with this
/// rule under-counts by a factor `(n − 1)/n` (visible in the convergence delta). Kept for
/// parity; prefer Gauss-Legendre. Riemann rules need `n ≥ 2` (as in Captum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Quadrature {
    /// Gauss-Legendre: exact for polynomials of degree `2n − 1`.
    #[default]
    GaussLegendre,
    /// Left Riemann sum.
    RiemannLeft,
    /// Right Riemann sum.
    RiemannRight,
    /// Midpoint rule.
    RiemannMiddle,
    /// Captum's trapezoid variant (weights sum to `(n − 1)/n`).
    RiemannTrapezoid,
}

impl Quadrature {
    /// The smallest number of points the rule accepts.
    pub fn min_steps(self) -> usize {
        match self {
            Quadrature::GaussLegendre => 1,
            _ => 2,
        }
    }

    /// The points `α_k ∈ [0, 1]` (ascending) and weights `w_k` of an `n`-point rule.
    ///
    /// ```
    /// use xai_attrib::Quadrature;
    /// let (a, w) = Quadrature::RiemannTrapezoid.nodes(3)?;
    /// assert_eq!(a, vec![0.0, 0.5, 1.0]);
    /// assert_eq!(w, vec![1.0 / 6.0, 1.0 / 3.0, 1.0 / 6.0]);
    /// # Ok::<(), xai_attrib::XaiError>(())
    /// ```
    pub fn nodes(self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        if n < self.min_steps() {
            return Err(XaiError::InvalidParam {
                method: "integrated_gradients",
                param: "n_steps",
                value: n.to_string(),
                rule: if self == Quadrature::GaussLegendre {
                    "must be at least 1"
                } else {
                    "must be at least 2 for Riemann rules"
                },
            });
        }
        let nf = n as f64;
        let uniform = vec![1.0 / nf; n];
        Ok(match self {
            Quadrature::GaussLegendre => {
                let (x, w) = gauss_legendre(n);
                (
                    x.iter().map(|v| 0.5 * (1.0 + v)).collect(),
                    w.iter().map(|v| 0.5 * v).collect(),
                )
            }
            Quadrature::RiemannLeft => ((0..n).map(|k| k as f64 / nf).collect(), uniform),
            Quadrature::RiemannRight => ((0..n).map(|k| (k + 1) as f64 / nf).collect(), uniform),
            Quadrature::RiemannMiddle => ((0..n).map(|k| (k as f64 + 0.5) / nf).collect(), uniform),
            Quadrature::RiemannTrapezoid => {
                let mut w = uniform;
                w[0] /= 2.0;
                w[n - 1] /= 2.0;
                ((0..n).map(|k| k as f64 / (nf - 1.0)).collect(), w)
            }
        })
    }
}

/// Roots (ascending) and weights of the `n`-point Gauss-Legendre rule on `[-1, 1]`, by
/// Newton's method on the Legendre recurrence (machine precision for any practical `n`).
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let nf = n as f64;
    for i in 0..n.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (p, d) = legendre(n, z);
            dp = d;
            let step = p / d;
            z -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        let (_, d) = legendre(n, z);
        if d.is_finite() {
            dp = d;
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        let wi = 2.0 / ((1.0 - z * z) * dp * dp);
        w[i] = wi;
        w[n - 1 - i] = wi;
    }
    (x, w)
}

/// `P_n(z)` and `P_n'(z)`.
fn legendre(n: usize, z: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, z);
    if n == 0 {
        return (1.0, 0.0);
    }
    for j in 2..=n {
        let jf = j as f64;
        let p2 = ((2.0 * jf - 1.0) * z * p1 - (jf - 1.0) * p0) / jf;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (z * p1 - p0) / (z * z - 1.0);
    (p1, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_matches_numpy_leggauss() {
        // numpy.polynomial.legendre.leggauss(3): x = ±sqrt(3/5), 0; w = 5/9, 8/9, 5/9.
        let (x, w) = gauss_legendre(3);
        let r = (0.6f64).sqrt();
        for (a, b) in x.iter().zip([-r, 0.0, r]) {
            assert!((a - b).abs() < 1e-15, "{x:?}");
        }
        for (a, b) in w.iter().zip([5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0]) {
            assert!((a - b).abs() < 1e-15, "{w:?}");
        }
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_of_degree_2n_minus_1_exactly() {
        for n in [1usize, 2, 5, 16, 50, 128] {
            let (a, w) = Quadrature::GaussLegendre.nodes(n).unwrap();
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-13, "n = {n}");
            assert!(a.windows(2).all(|p| p[0] < p[1]) && a[0] > 0.0 && a[n - 1] < 1.0);
            let deg = (2 * n - 1).min(30) as i32;
            let integral: f64 = a.iter().zip(&w).map(|(x, w)| w * x.powi(deg)).sum();
            assert!(
                (integral - 1.0 / (deg as f64 + 1.0)).abs() < 1e-12,
                "n = {n}: {integral}"
            );
        }
    }

    #[test]
    fn riemann_rules_follow_captum() {
        let (a, w) = Quadrature::RiemannLeft.nodes(4).unwrap();
        assert_eq!(a, vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(w, vec![0.25; 4]);
        let (a, _) = Quadrature::RiemannRight.nodes(4).unwrap();
        assert_eq!(a, vec![0.25, 0.5, 0.75, 1.0]);
        let (a, _) = Quadrature::RiemannMiddle.nodes(4).unwrap();
        assert_eq!(a, vec![0.125, 0.375, 0.625, 0.875]);
        let (_, w) = Quadrature::RiemannTrapezoid.nodes(4).unwrap();
        assert!((w.iter().sum::<f64>() - 0.75).abs() < 1e-15);
    }

    #[test]
    fn too_few_steps_are_rejected_with_the_rule() {
        let err = Quadrature::RiemannLeft.nodes(1).unwrap_err().to_string();
        assert!(
            err.contains("n_steps = 1") && err.contains("at least 2"),
            "{err}"
        );
        assert!(Quadrature::GaussLegendre.nodes(0).is_err());
        assert!(Quadrature::GaussLegendre.nodes(1).is_ok());
    }
}
