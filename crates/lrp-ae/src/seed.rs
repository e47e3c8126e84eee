//! The reconstruction rule: how the reconstruction error becomes relevance of the output
//! layer (paper 2, §3.4).
//!
//! The error `e(x, x̂)` depends on the output `x̂` only (the input `x` is a constant of the
//! explanation), and its only root, `e = 0`, is `x̂ = x`. A Taylor expansion of `e` at that
//! root is exact for both losses: the second-order term for L2 (its gradient vanishes at
//! the root), the first-order term for L1. Every output neuron receives its own term,
//!
//! ```text
//! L2: R_i = (x_i − x̂_i)² / m          L1: R_i = |x_i − x̂_i| / m,
//! ```
//!
//! so `Σ_i R_i = e(x, x̂)` exactly. This is the relevance Zennit would take as
//! `attr_output`.
//!
//! A [`Selection`] restricts the error to a subset of the output cells (some time steps,
//! some sensors, some pixels): then `m` is the number of selected cells and the seed sums
//! to the mean error over the selection, the other cells get zero.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{LrpError, Result};

/// The reconstruction loss whose error is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputSeed {
    /// Mean absolute error; `R_i = |x_i − x̂_i| / m`.
    DeepTaylorL1,
    /// Mean squared error; `R_i = (x_i − x̂_i)² / m`.
    DeepTaylorL2,
}

/// Which output cells the explained error covers, per sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// Every cell.
    All,
    /// The given positions along one axis of a sample: axis 0 is the first axis after the
    /// batch (time steps of a window `[T, F]`), negative axes count from the end (`-1`:
    /// sensors of a window). Negative indices count from the end of the axis.
    Index {
        /// The sample axis.
        axis: i64,
        /// Positions along it (duplicates count once).
        indices: Vec<i64>,
    },
    /// A boolean mask of one sample's cells, broadcast to the sample with numpy's rules
    /// (e.g. `[H, W]` pixels of `[1, H, W]` images).
    Mask {
        /// The mask's shape.
        shape: Vec<i64>,
        /// The mask in row-major order.
        cells: Vec<bool>,
    },
}

impl Selection {
    /// Time steps `indices` of windows `[T, F]` (sample axis 0).
    pub fn steps(indices: Vec<i64>) -> Self {
        Selection::Index { axis: 0, indices }
    }

    /// Sensors / features `indices` (the last sample axis).
    pub fn features(indices: Vec<i64>) -> Self {
        Selection::Index { axis: -1, indices }
    }

    /// The selection as a 0/1 tensor of one sample's shape, in `kind` on `x`'s device.
    fn mask(&self, sample: &[i64], x: &Tensor, kind: Kind) -> Result<Option<Tensor>> {
        let opts = (kind, x.device());
        match self {
            Selection::All => Ok(None),
            Selection::Index { axis, indices } => {
                let nd = sample.len() as i64;
                let ax = if *axis < 0 { axis + nd } else { *axis };
                if !(0..nd).contains(&ax) {
                    return Err(LrpError::InvalidParam {
                        what: "output selection",
                        param: "axis",
                        value: format!("{axis} for samples of shape {sample:?}"),
                        rule: "must name a sample axis (0 is the first after the batch)",
                    });
                }
                let len = sample[ax as usize];
                let mut keep = vec![0f64; len as usize];
                for &i in indices {
                    let j = if i < 0 { i + len } else { i };
                    if !(0..len).contains(&j) {
                        return Err(LrpError::InvalidParam {
                            what: "output selection",
                            param: "index",
                            value: format!("{i} on axis {axis} of length {len}"),
                            rule: "must lie inside the axis",
                        });
                    }
                    keep[j as usize] = 1.0;
                }
                let mut shape = vec![1i64; sample.len()];
                shape[ax as usize] = len;
                let m = Tensor::f_from_slice(&keep)?
                    .f_reshape(&shape)?
                    .f_to_kind(kind)?;
                Ok(Some(m.f_to_device(x.device())?.f_expand(sample, false)?))
            }
            Selection::Mask { shape, cells } => {
                let n: i64 = shape.iter().product();
                if shape.iter().any(|&d| d < 0) || n as usize != cells.len() {
                    return Err(LrpError::ShapeMismatch {
                        what: "output selection mask".into(),
                        expected: format!("{} cells for shape {shape:?}", n.max(0)),
                        got: vec![cells.len() as i64],
                    });
                }
                let fits = shape.len() <= sample.len()
                    && shape
                        .iter()
                        .rev()
                        .zip(sample.iter().rev())
                        .all(|(&m, &s)| m == 1 || m == s);
                if !fits {
                    return Err(LrpError::ShapeMismatch {
                        what: "output selection mask".into(),
                        expected: format!("a shape that broadcasts to one sample {sample:?}"),
                        got: shape.clone(),
                    });
                }
                let v: Vec<f64> = cells.iter().map(|&c| if c { 1.0 } else { 0.0 }).collect();
                let m = Tensor::f_from_slice(&v)?
                    .f_reshape(shape)?
                    .f_to_kind(kind)?;
                Ok(Some(m.f_to_device(opts.1)?.f_expand(sample, false)?))
            }
        }
    }
}

impl OutputSeed {
    /// Per-cell error `|x − x̂|` or `(x − x̂)²`.
    fn cell_error(&self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        let d = x.f_sub(x_hat)?;
        Ok(match self {
            OutputSeed::DeepTaylorL1 => d.f_abs()?,
            OutputSeed::DeepTaylorL2 => d.f_square()?,
        })
    }

    /// The output-layer relevance `[B, ..]` for input `x` and reconstruction `x_hat` (same
    /// shape): the selected cells' errors divided by the number of selected cells.
    ///
    /// ```
    /// use lrp_ae::{OutputSeed, Selection};
    /// use tch::Tensor;
    /// let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0]).reshape([1, 2, 2]);
    /// let x_hat = Tensor::from_slice(&[1.0f64, 0.0, 3.5, 4.0]).reshape([1, 2, 2]);
    /// let r = OutputSeed::DeepTaylorL2.relevance(&x, &x_hat, &Selection::All)?;
    /// assert_eq!(Vec::<f64>::try_from(r.flatten(0, -1)).unwrap(), vec![0.0, 1.0, 0.0625, 0.0]);
    /// let last = OutputSeed::DeepTaylorL1.relevance(&x, &x_hat, &Selection::steps(vec![-1]))?;
    /// assert_eq!(Vec::<f64>::try_from(last.flatten(0, -1)).unwrap(), vec![0.0, 0.0, 0.25, 0.0]);
    /// # Ok::<(), lrp_ae::LrpError>(())
    /// ```
    pub fn relevance(&self, x: &Tensor, x_hat: &Tensor, selection: &Selection) -> Result<Tensor> {
        let (cells, count) = self.selected(x, x_hat, selection)?;
        let shape: Vec<i64> = std::iter::once(-1)
            .chain(std::iter::repeat(1).take(x.dim() - 1))
            .collect();
        Ok(cells.f_div(&count.f_reshape(&shape)?)?)
    }

    /// The explained error per sample `[B]`: the mean of the selected cells' errors. The
    /// relevance of [`OutputSeed::relevance`] sums to it.
    pub fn error(&self, x: &Tensor, x_hat: &Tensor, selection: &Selection) -> Result<Tensor> {
        let (cells, count) = self.selected(x, x_hat, selection)?;
        let dims: Vec<i64> = (1..x.dim() as i64).collect();
        Ok(cells
            .f_sum_dim_intlist(dims.as_slice(), false, cells.kind())?
            .f_div(&count)?)
    }

    /// Masked per-cell errors and the number of selected cells per sample `[B]`.
    fn selected(
        &self,
        x: &Tensor,
        x_hat: &Tensor,
        selection: &Selection,
    ) -> Result<(Tensor, Tensor)> {
        let size = x.size();
        if size.len() < 2 || x_hat.size() != size {
            return Err(LrpError::ShapeMismatch {
                what: "reconstruction".into(),
                expected: format!("the input's shape {size:?} (at least [B, ..])"),
                got: x_hat.size(),
            });
        }
        let cells = self.cell_error(x, x_hat)?;
        let per_sample: i64 = size[1..].iter().product();
        match selection.mask(&size[1..], x, cells.kind())? {
            None => {
                let count =
                    Tensor::f_full([size[0]], per_sample as f64, (cells.kind(), x.device()))?;
                Ok((cells, count))
            }
            Some(mask) => {
                let n = mask.f_sum(mask.kind())?.f_double_value(&[])?;
                if n == 0.0 {
                    return Err(LrpError::InvalidParam {
                        what: "output selection",
                        param: "selected cells",
                        value: "0".into(),
                        rule: "must select at least one output cell",
                    });
                }
                let count = Tensor::f_full([size[0]], n, (cells.kind(), x.device()))?;
                Ok((cells.f_mul(&mask)?, count))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(v: &[f64], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn selections_are_checked() {
        let x = Tensor::zeros([2, 3, 4], (Kind::Double, Device::Cpu));
        let s = OutputSeed::DeepTaylorL1;
        let e = s.error(&x, &x, &Selection::steps(vec![3])).unwrap_err();
        assert!(e.to_string().contains("3 on axis 0 of length 3"), "{e}");
        let e = s
            .error(
                &x,
                &x,
                &Selection::Index {
                    axis: 2,
                    indices: vec![0],
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("axis = 2"), "{e}");
        let e = s.error(&x, &x, &Selection::features(vec![])).unwrap_err();
        assert!(e.to_string().contains("at least one"), "{e}");
        let m = Selection::Mask {
            shape: vec![2],
            cells: vec![true, false],
        };
        assert!(s.error(&x, &x, &m).is_err());
        let e = s
            .error(&x, &t(&[0.0; 6], &[2, 3]), &Selection::All)
            .unwrap_err();
        assert!(e.to_string().contains("[2, 3]"), "{e}");
    }

    #[test]
    fn a_mask_broadcasts_to_the_sample() {
        let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 2, 3]);
        let x_hat = x.zeros_like();
        let m = Selection::Mask {
            shape: vec![3],
            cells: vec![false, true, false],
        };
        let e = OutputSeed::DeepTaylorL1.error(&x, &x_hat, &m).unwrap();
        assert_eq!(e.double_value(&[0]), (2.0 + 5.0) / 2.0);
    }
}
