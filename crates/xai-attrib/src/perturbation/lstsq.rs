//! Weighted least squares in `f64`, the surrogate fit of Kernel SHAP, on `nalgebra`.
//!
//! Solves `min_β Σ_i w_i ‖y_i − x_iᵀ β‖²` for several right-hand sides at once through
//! the normal equations `(Xᵀ W X) β = Xᵀ W Y`: the products are `nalgebra`'s `gemm`
//! (matrixmultiply's blocked, vectorised kernels), the system its Cholesky factorisation. The systems
//! here are small (one unknown per feature group) and well scaled (0/1 designs), so the
//! normal equations are accurate in `f64` even with Captum's `10⁶` end-point weights.
//!
//! When `Xᵀ W X` is singular (fewer distinct coalitions than unknowns, or a group that
//! never varies), or a Cholesky pivot falls below `10⁻¹³` of the largest diagonal entry,
//! the minimum-norm least-squares solution is returned, as NumPy's and scikit-learn's
//! solvers do: `Xᵀ W X` is diagonalised (`nalgebra`'s symmetric eigendecomposition) and
//! eigenvalues below `10⁻¹⁰` of the largest are treated as zero. [`Wls::rank`] reports
//! the rank used. This holds for any number of unknowns.

use nalgebra::{DMatrix, DMatrixView, SymmetricEigen};

use crate::error::{Result, XaiError};

/// Relative size below which an eigenvalue of `Xᵀ W X` counts as zero.
const RANK_TOLERANCE: f64 = 1e-10;

/// Relative size below which a Cholesky pivot counts as zero (the system is then solved
/// as a singular one).
const PIVOT_TOLERANCE: f64 = 1e-13;

/// A weighted least-squares solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Wls {
    /// `p × q` coefficients, row-major (one column per right-hand side).
    pub beta: Vec<f64>,
    /// The rank of `Xᵀ W X` used (`p` when it is non-singular).
    pub rank: usize,
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
    // Xᵀ and Yᵀ are the row-major inputs read column-major: no transposing copy. Their
    // columns scaled by √w give (√W X)ᵀ; the products run through nalgebra's `gemm`
    // (matrixmultiply's blocked kernels), the second operand a strided view of the first.
    let mut xt = DMatrix::from_column_slice(p, n, x);
    let mut yt = DMatrix::from_column_slice(q, n, y);
    for (i, wi) in w.iter().enumerate() {
        let s = wi.sqrt();
        xt.column_mut(i).scale_mut(s);
        yt.column_mut(i).scale_mut(s);
    }
    let xw = DMatrixView::from_slice_with_strides(xt.as_slice(), n, p, p, 1);
    let yw = DMatrixView::from_slice_with_strides(yt.as_slice(), n, q, q, 1);
    let mut a = DMatrix::zeros(p, p);
    a.gemm(1.0, &xt, &xw, 0.0);
    let mut rhs = DMatrix::zeros(p, q);
    rhs.gemm(1.0, &xt, &yw, 0.0);
    let scale = a.diagonal().max().max(f64::MIN_POSITIVE);
    let (beta, rank) = match a.clone().cholesky() {
        Some(c)
            if c.l_dirty()
                .diagonal()
                .iter()
                .all(|d| d * d > scale * PIVOT_TOLERANCE) =>
        {
            (c.solve(&rhs), p)
        }
        _ => min_norm(a, &rhs),
    };
    if let Some(i) = beta.iter().position(|v| !v.is_finite()) {
        return Err(XaiError::NonFinite {
            what: "weighted least-squares coefficients".into(),
            index: i,
        });
    }
    // Row-major p × q, as the callers index it.
    Ok(Wls {
        beta: beta.transpose().as_slice().to_vec(),
        rank,
    })
}

/// The minimum-norm solution of the singular symmetric system `a β = rhs` through the
/// eigendecomposition of `a`, and the number of eigenvalues kept.
fn min_norm(a: DMatrix<f64>, rhs: &DMatrix<f64>) -> (DMatrix<f64>, usize) {
    let eigen = SymmetricEigen::new(a);
    let largest = eigen.eigenvalues.amax();
    let v = &eigen.eigenvectors;
    // β = V Λ⁺ Vᵀ rhs, with Λ⁺ inverting the eigenvalues above the tolerance.
    let mut projected = v.tr_mul(rhs);
    let mut rank = 0;
    for (e, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if lambda > RANK_TOLERANCE * largest {
            rank += 1;
            projected.row_mut(e).scale_mut(1.0 / lambda);
        } else {
            projected.row_mut(e).fill(0.0);
        }
    }
    (v * projected, rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_pull_the_fit_towards_heavy_rows() {
        // Fit a constant to y = 0 (weight 1) and y = 1 (weight 3): the weighted mean 0.75.
        let fit = weighted_least_squares(&[1.0, 1.0], &[1.0, 3.0], &[0.0, 1.0], 1, 1).unwrap();
        assert!((fit.beta[0] - 0.75).abs() < 1e-15);
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
        assert_eq!(fit.rank, 1);
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
    fn a_singular_system_of_many_unknowns_gets_the_minimum_norm_answer() {
        // 120 unknowns, the last two columns identical: they share their coefficient,
        // the others come out exactly (no ridge, whatever the size).
        let (n, p) = (140, 120);
        let mut x = vec![0.0; n * p];
        let mut y = vec![0.0; n];
        for i in 0..n {
            for j in 0..p - 1 {
                let on = (i * 7 + j * 13) % 5 == 0;
                x[i * p + j] = f64::from(u8::from(on)) + if i == j { 1.0 } else { 0.0 };
            }
            x[i * p + p - 1] = x[i * p + p - 2];
            y[i] = (0..p - 2)
                .map(|j| x[i * p + j] * (j as f64 / 100.0))
                .sum::<f64>()
                + 2.0 * x[i * p + p - 2];
        }
        let fit = weighted_least_squares(&x, &vec![1.0; n], &y, p, 1).unwrap();
        assert_eq!(fit.rank, p - 1);
        for j in 0..p - 2 {
            assert!(
                (fit.beta[j] - j as f64 / 100.0).abs() < 1e-9,
                "{j}: {}",
                fit.beta[j]
            );
        }
        assert!((fit.beta[p - 2] - 1.0).abs() < 1e-9 && (fit.beta[p - 1] - 1.0).abs() < 1e-9);
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
