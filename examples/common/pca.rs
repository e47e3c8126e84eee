//! PCA reconstruction in plain Rust on `ndarray`, the model of
//! `examples/plain_rust_detector.rs`: nothing here knows about anomaly-xai but its error type.

use anomaly_xai::{Error, Result};
use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayViewD, Axis};

/// PCA reconstruction of the last axis: `x̂ = μ + (x − μ) V Vᵀ`.
pub struct Pca {
    mean: Array1<f32>,
    projection: Array2<f32>,
    /// Components kept.
    pub k: usize,
}

impl Pca {
    /// The mean and the fewest leading components of the rows of `x` that explain `share`
    /// of their variance.
    pub fn fit(x: ArrayView2<'_, f32>, share: f64) -> Result<Pca> {
        let x = x.mapv(f64::from);
        let mean = x.mean_axis(Axis(0)).expect("rows");
        let c = &x - &mean;
        let cov = c.t().dot(&c) / (x.nrows().max(2) - 1) as f64;
        let (values, vectors) = symmetric_eigen(cov.clone());
        // Checked against the definition: C v = λ v for every pair.
        let residual = (cov.dot(&vectors) - &vectors * &values)
            .mapv(f64::abs)
            .fold(0.0, |a: f64, &b| a.max(b));
        if residual > 1e-9 * values.iter().fold(1e-12, |a: f64, &b| a.max(b)) {
            return Err(Error::InvalidSetting {
                setting: "PCA",
                value: format!("residual {residual:e}"),
                rule: "eigen-decomposition did not converge".into(),
            });
        }
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let (mut k, mut kept) = (0, 0.0);
        while k < order.len() && kept < share * total {
            kept += values[order[k]].max(0.0);
            k += 1;
        }
        let v = Array2::from_shape_fn((values.len(), k), |(i, j)| vectors[[i, order[j]]]);
        Ok(Pca {
            mean: mean.mapv(|m| m as f32),
            projection: v.dot(&v.t()).mapv(|p| p as f32),
            k,
        })
    }

    /// The reconstruction of every row of the last axis, same shape as `x`.
    pub fn reconstruct(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        let f = self.mean.len();
        let rows = x
            .to_shape((x.len() / f, f))
            .expect("last axis of the features");
        let out = (&rows - &self.mean).dot(&self.projection) + &self.mean;
        out.into_shape_with_order(x.shape())
            .expect("same size")
            .into_dyn()
    }
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut v = Array2::<f64>::eye(n);
    let scale = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (0..n).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[[p, q]].powi(2))
            .sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]] == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for m in [&mut a, &mut v] {
                    for k in 0..n {
                        let (kp, kq) = (m[[k, p]], m[[k, q]]);
                        (m[[k, p]], m[[k, q]]) = (c * kp - s * kq, s * kp + c * kq);
                    }
                }
                for k in 0..n {
                    let (pk, qk) = (a[[p, k]], a[[q, k]]);
                    (a[[p, k]], a[[q, k]]) = (c * pk - s * qk, s * pk + c * qk);
                }
            }
        }
    }
    (a.diag().to_owned(), v)
}
