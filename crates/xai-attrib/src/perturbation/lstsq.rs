//! Weighted least squares in `f64`, the surrogate fit of Kernel SHAP.
//!
//! Solves `min_β Σ_i w_i ‖y_i − x_iᵀ β‖²` for several right-hand sides at once through
//! the normal equations `(Xᵀ W X) β = Xᵀ W Y` and a Cholesky factorisation. The systems
//! here are small (one unknown per feature group) and well scaled (0/1 designs), so the
//! normal equations are accurate in `f64` even with Captum's `10⁶` end-point weights.
//!
//! When `Xᵀ W X` is singular (fewer distinct coalitions than unknowns, or a group that
//! never varies), the minimum-norm least-squares solution is returned, as NumPy's and
//! scikit-learn's solvers do: `Xᵀ W X` is diagonalised (cyclic Jacobi) and eigenvalues
//! below `10⁻¹⁰` of the largest are treated as zero. [`Wls::rank`] reports the rank used.
//! Above [`MAX_EIGEN_UNKNOWNS`] unknowns that would be slow, and a tiny ridge `λ I`
//! (`λ = 10⁻¹⁰ · max_j (Xᵀ W X)_jj`, grown a hundredfold up to three times) is added
//! instead; [`Wls::ridge`] reports it.

use crate::error::{Result, XaiError};

/// Singular systems with at most this many unknowns get the exact minimum-norm solution;
/// larger ones a tiny ridge.
pub const MAX_EIGEN_UNKNOWNS: usize = 512;

/// Relative size below which an eigenvalue of `Xᵀ W X` counts as zero.
const RANK_TOLERANCE: f64 = 1e-10;

/// A weighted least-squares solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Wls {
    /// `p × q` coefficients, row-major (one column per right-hand side).
    pub beta: Vec<f64>,
    /// The rank of `Xᵀ W X` used (`p` when it is non-singular).
    pub rank: usize,
    /// The ridge added to make large singular systems solvable (0 if none).
    pub ridge: f64,
}

/// Fits `p` coefficients to `n` rows: `x` is `n × p` row-major, `w` has `n` non-negative
/// weights, `y` is `n × q` row-major.
///
/// ```
/// use xai_attrib::perturbation::lstsq::weighted_least_squares;
/// // y = 1 + 2 t, observed without noise at t = 0, 1, 2.
/// let x = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0];
/// let fit = weighted_least_squares(&x, &[1.0, 1.0, 1.0], &[1.0, 3.0, 5.0], 2, 1)?;
/// assert!((fit.beta[0] - 1.0).abs() < 1e-12 && (fit.beta[1] - 2.0).abs() < 1e-12);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
pub fn weighted_least_squares(x: &[f64], w: &[f64], y: &[f64], p: usize, q: usize) -> Result<Wls> {
    let n = w.len();
    if p == 0 || x.len() != n * p || y.len() != n * q {
        return Err(XaiError::ShapeMismatch {
            what: "weighted least squares".into(),
            expected: format!("x of {n}×{p} and y of {n}×{q} values"),
            got: vec![x.len() as i64, y.len() as i64],
        });
    }
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(XaiError::NonFinite {
            what: "least-squares weights (must be finite and ≥ 0)".into(),
            index: i,
        });
    }
    let mut a = vec![0.0; p * p];
    let mut rhs = vec![0.0; p * q];
    for i in 0..n {
        let row = &x[i * p..(i + 1) * p];
        let yi = &y[i * q..(i + 1) * q];
        let wi = w[i];
        if wi == 0.0 {
            continue;
        }
        for r in 0..p {
            let wr = wi * row[r];
            if wr == 0.0 {
                continue;
            }
            for c in 0..=r {
                a[r * p + c] += wr * row[c];
            }
            for k in 0..q {
                rhs[r * q + k] += wr * yi[k];
            }
        }
    }
    for r in 0..p {
        for c in 0..r {
            a[c * p + r] = a[r * p + c];
        }
    }
    let scale = (0..p)
        .map(|j| a[j * p + j])
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    if let Some(l) = cholesky(&a, p, scale) {
        return Ok(Wls {
            beta: solve(&l, &rhs, p, q),
            rank: p,
            ridge: 0.0,
        });
    }
    if p <= MAX_EIGEN_UNKNOWNS {
        let (beta, rank) = min_norm(a, &rhs, p, q);
        return Ok(Wls {
            beta,
            rank,
            ridge: 0.0,
        });
    }
    let mut ridge = scale * 1e-10;
    for _ in 0..3 {
        let mut m = a.clone();
        for j in 0..p {
            m[j * p + j] += ridge;
        }
        if let Some(l) = cholesky(&m, p, scale) {
            return Ok(Wls {
                beta: solve(&l, &rhs, p, q),
                rank: p,
                ridge,
            });
        }
        ridge *= 100.0;
    }
    Err(XaiError::InvalidInput {
        what: "weighted least squares".into(),
        reason: "the normal equations stay singular even with a ridge".into(),
    })
}

/// The minimum-norm solution of the singular symmetric system `a β = rhs` through the
/// eigendecomposition of `a`, and the number of eigenvalues kept.
fn min_norm(mut a: Vec<f64>, rhs: &[f64], p: usize, q: usize) -> (Vec<f64>, usize) {
    let v = jacobi_eigen(&mut a, p);
    let largest = (0..p).map(|i| a[i * p + i].abs()).fold(0.0f64, f64::max);
    let mut beta = vec![0.0; p * q];
    let mut rank = 0;
    for e in 0..p {
        let lambda = a[e * p + e];
        if lambda <= RANK_TOLERANCE * largest {
            continue;
        }
        rank += 1;
        for k in 0..q {
            let proj: f64 = (0..p).map(|i| v[i * p + e] * rhs[i * q + k]).sum::<f64>() / lambda;
            for i in 0..p {
                beta[i * q + k] += v[i * p + e] * proj;
            }
        }
    }
    (beta, rank)
}

/// Diagonalises the symmetric `a` in place (its diagonal becomes the eigenvalues) by
/// cyclic Jacobi rotations and returns the eigenvectors as the columns of `V`.
fn jacobi_eigen(a: &mut [f64], p: usize) -> Vec<f64> {
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    let norm: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j].powi(2))
            .sum();
        if off <= 1e-30 * norm {
            break;
        }
        for r in 0..p {
            for c in r + 1..p {
                let arc = a[r * p + c];
                if arc == 0.0 {
                    continue;
                }
                let theta = (a[c * p + c] - a[r * p + r]) / (2.0 * arc);
                let t = if theta >= 0.0 { 1.0 } else { -1.0 }
                    / (theta.abs() + (theta * theta + 1.0).sqrt());
                let cos = 1.0 / (t * t + 1.0).sqrt();
                let sin = t * cos;
                for k in 0..p {
                    let (akr, akc) = (a[k * p + r], a[k * p + c]);
                    a[k * p + r] = cos * akr - sin * akc;
                    a[k * p + c] = sin * akr + cos * akc;
                }
                for k in 0..p {
                    let (ark, ack) = (a[r * p + k], a[c * p + k]);
                    a[r * p + k] = cos * ark - sin * ack;
                    a[c * p + k] = sin * ark + cos * ack;
                }
                for k in 0..p {
                    let (vkr, vkc) = (v[k * p + r], v[k * p + c]);
                    v[k * p + r] = cos * vkr - sin * vkc;
                    v[k * p + c] = sin * vkr + cos * vkc;
                }
            }
        }
    }
    v
}

/// Lower-triangular `L` with `L Lᵀ = m`, or `None` when a pivot is not clearly positive.
fn cholesky(m: &[f64], p: usize, scale: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for j in 0..p {
        let mut d = m[j * p + j];
        for k in 0..j {
            d -= l[j * p + k] * l[j * p + k];
        }
        if d.is_nan() || d <= scale * 1e-13 {
            return None;
        }
        let d = d.sqrt();
        l[j * p + j] = d;
        for i in j + 1..p {
            let mut s = m[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            l[i * p + j] = s / d;
        }
    }
    Some(l)
}

/// Solves `L Lᵀ β = rhs` for `q` right-hand sides.
fn solve(l: &[f64], rhs: &[f64], p: usize, q: usize) -> Vec<f64> {
    let mut z = rhs.to_vec();
    for k in 0..q {
        for i in 0..p {
            let mut s = z[i * q + k];
            for j in 0..i {
                s -= l[i * p + j] * z[j * q + k];
            }
            z[i * q + k] = s / l[i * p + i];
        }
        for i in (0..p).rev() {
            let mut s = z[i * q + k];
            for j in i + 1..p {
                s -= l[j * p + i] * z[j * q + k];
            }
            z[i * q + k] = s / l[i * p + i];
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_pull_the_fit_towards_heavy_rows() {
        // Fit a constant to y = 0 (weight 1) and y = 1 (weight 3): the weighted mean 0.75.
        let fit = weighted_least_squares(&[1.0, 1.0], &[1.0, 3.0], &[0.0, 1.0], 1, 1).unwrap();
        assert!((fit.beta[0] - 0.75).abs() < 1e-15);
        assert_eq!(fit.ridge, 0.0);
    }

    #[test]
    fn several_right_hand_sides_are_solved_at_once() {
        // Columns y₁ = 2 t and y₂ = −t + 4 on t = 0, 1, 2, 3 with an intercept.
        let x: Vec<f64> = (0..4).flat_map(|t| [1.0, t as f64]).collect();
        let y: Vec<f64> = (0..4)
            .flat_map(|t| [2.0 * t as f64, 4.0 - t as f64])
            .collect();
        let fit = weighted_least_squares(&x, &[1.0; 4], &y, 2, 2).unwrap();
        let want = [0.0, 4.0, 2.0, -1.0];
        for (a, b) in fit.beta.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{:?}", fit.beta);
        }
    }

    #[test]
    fn a_rank_deficient_design_gets_the_minimum_norm_answer() {
        // Two identical columns: any β₁ + β₂ = 2 fits; the minimum-norm answer is (1, 1).
        let x = [1.0, 1.0, 2.0, 2.0];
        let fit = weighted_least_squares(&x, &[1.0, 1.0], &[2.0, 4.0], 2, 1).unwrap();
        assert_eq!((fit.rank, fit.ridge), (1, 0.0));
        assert!(
            (fit.beta[0] - 1.0).abs() < 1e-12 && (fit.beta[1] - 1.0).abs() < 1e-12,
            "{:?}",
            fit.beta
        );
        // Three unknowns, one never varies: it gets 0, the others their exact values.
        let x = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 2.0, 0.0];
        let fit = weighted_least_squares(&x, &[1.0; 3], &[3.0, 5.0, 7.0], 3, 1).unwrap();
        assert_eq!(fit.rank, 2);
        let want = [3.0, 2.0, 0.0];
        assert!(
            fit.beta
                .iter()
                .zip(want)
                .all(|(a, b)| (a - b).abs() < 1e-12),
            "{:?}",
            fit.beta
        );
    }

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let mut a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let orig = a.clone();
        let v = jacobi_eigen(&mut a, 3);
        // A V = V Λ column by column.
        for e in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|k| orig[i * 3 + k] * v[k * 3 + e]).sum();
                assert!((av - a[e * 3 + e] * v[i * 3 + e]).abs() < 1e-12);
            }
        }
        let trace: f64 = (0..3).map(|i| a[i * 3 + i]).sum();
        assert!((trace - 12.0).abs() < 1e-12);
    }

    #[test]
    fn large_end_point_weights_stay_accurate() {
        // Captum's 1e6 weights on two rows plus unit rows: the exact line still comes out.
        let x: Vec<f64> = (0..6).flat_map(|t| [1.0, t as f64]).collect();
        let y: Vec<f64> = (0..6).map(|t| 3.0 - 0.5 * t as f64).collect();
        let w = [1e6, 1.0, 1.0, 1.0, 1.0, 1e6];
        let fit = weighted_least_squares(&x, &w, &y, 2, 1).unwrap();
        assert!(
            (fit.beta[0] - 3.0).abs() < 1e-9 && (fit.beta[1] + 0.5).abs() < 1e-9,
            "{:?}",
            fit.beta
        );
    }

    #[test]
    fn bad_sizes_and_weights_are_errors() {
        assert!(weighted_least_squares(&[1.0], &[1.0, 1.0], &[1.0, 1.0], 1, 1).is_err());
        let err =
            weighted_least_squares(&[1.0, 1.0], &[1.0, f64::NAN], &[1.0, 1.0], 1, 1).unwrap_err();
        assert!(matches!(err, XaiError::NonFinite { index: 1, .. }), "{err}");
    }
}
