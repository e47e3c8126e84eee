//! Which error is explained: the norm of the per-cell error and the output cells it covers.
//!
//! Every explanation in the workspace explains one number per sample, the mean error of
//! some of a detector's output cells,
//!
//! ```text
//! e(x) = 1/|S| Σ_{i∈S} |x_i − x̂_i|      (L1)      e(x) = 1/|S| Σ_{i∈S} (x_i − x̂_i)²      (L2)
//! ```
//!
//! with `S` every cell by default, or the cells that survive a list of restrictions
//! ([`OutputCells`]): some time steps, some sensors, a pixel mask. The restrictions
//! intersect, so "the last step of sensors 3 and 7" is two restrictions. This one type is
//! what the scorer of the attribution methods (`xai_attrib::ErrorScorer`) and LRP's
//! Deep-Taylor seed (`lrp_ae::Lrp`) both take, so a method's explained error is named
//! the same way everywhere.
//!
//! ```
//! use ae_models::{ErrorNorm, ExplainedError};
//! use tch::Tensor;
//! // The L1 error of the last time step of sensor 1, in windows [2 steps, 2 sensors].
//! let e = ExplainedError::new(ErrorNorm::L1).steps([-1]).features([1]);
//! let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 2, 2]);
//! let x_hat = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 1.0]).reshape([1, 2, 2]);
//! let cells = e.cell_errors(&x, &x_hat)?;
//! assert_eq!(Vec::<f32>::try_from(cells.flatten(0, -1)).unwrap(), vec![0.0, 0.0, 0.0, 3.0]);
//! assert_eq!(e.sample_errors(&x, &x_hat)?.double_value(&[0]), 3.0);
//! # Ok::<(), ae_models::ModelError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result};
use crate::recon_error::{cell_errors, ErrorNorm};

/// One restriction of a sample's cells. A cell is kept when every restriction keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellRestriction {
    /// Positions along one sample axis: axis 0 is the first after the batch, negative
    /// axes count from the end (`-1`: the sensors of a `[T, F]` window, `-2`: its time
    /// steps). Negative indices count from the end of the axis; duplicates count once.
    Axis {
        /// The sample axis.
        axis: i64,
        /// Positions along it.
        indices: Vec<i64>,
    },
    /// A boolean mask of one sample's cells, broadcast to the sample with NumPy's rules
    /// (e.g. `[H, W]` pixels of `[1, H, W]` images).
    Mask {
        /// The mask's shape.
        shape: Vec<i64>,
        /// The mask in row-major order.
        cells: Vec<bool>,
    },
}

/// A subset of one sample's cells: the intersection of its restrictions (every cell when
/// there is none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OutputCells(Vec<CellRestriction>);

impl OutputCells {
    /// Every cell.
    pub fn all() -> Self {
        OutputCells::default()
    }

    /// Whether no restriction applies.
    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    /// The restrictions, in the order they were added.
    pub fn restrictions(&self) -> &[CellRestriction] {
        &self.0
    }

    /// These cells, further restricted by `r`.
    pub fn and(mut self, r: CellRestriction) -> Self {
        self.0.push(r);
        self
    }

    /// The cells both `self` and `other` keep.
    pub fn intersect(mut self, other: &OutputCells) -> Self {
        self.0.extend(other.0.iter().cloned());
        self
    }

    /// The kept cells as a boolean tensor of `sample` shape on the CPU, after checking
    /// every restriction against the shape; `None` when every cell is kept.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] naming the restriction for an axis outside the sample,
    /// an index outside its axis, an empty index list or a selection that keeps no cell;
    /// [`ModelError::ShapeMismatch`] for a mask that does not broadcast to the sample.
    pub fn mask(&self, sample: &[i64]) -> Result<Option<Tensor>> {
        if self.is_all() {
            return Ok(None);
        }
        let mut keep = Tensor::f_ones(sample, (Kind::Bool, Device::Cpu))?;
        for r in &self.0 {
            keep = keep.f_logical_and(&restriction_mask(r, sample)?)?;
        }
        if keep.f_any()?.f_int64_value(&[])? == 0 {
            return Err(ModelError::InvalidParam {
                what: "explained error",
                param: "cells",
                value: format!("{self} on samples {sample:?}"),
                rule: "must keep at least one output cell",
            });
        }
        Ok(Some(keep))
    }
}

impl fmt::Display for OutputCells {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all cells");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| match r {
                CellRestriction::Axis { axis: -2, indices } => format!("steps {indices:?}"),
                CellRestriction::Axis { axis: -1, indices } => format!("features {indices:?}"),
                CellRestriction::Axis { axis, indices } => format!("axis {axis} {indices:?}"),
                CellRestriction::Mask { shape, cells } => format!(
                    "mask {shape:?} ({} of {} cells)",
                    cells.iter().filter(|&&c| c).count(),
                    cells.len()
                ),
            })
            .collect();
        f.write_str(&parts.join(" and "))
    }
}

/// An axis restriction that lists no position.
fn empty_indices(axis: i64) -> ModelError {
    ModelError::InvalidParam {
        what: "explained error",
        param: "cells.indices",
        value: format!("[] on axis {axis}"),
        rule: "must list at least one position (leave the axis out for all)",
    }
}

/// A mask must hold as many cells as its shape.
fn check_mask_len(shape: &[i64], cells: &[bool]) -> Result<()> {
    let n: i64 = shape.iter().product();
    if shape.iter().any(|&d| d < 0) || n as usize != cells.len() {
        return Err(ModelError::ShapeMismatch {
            what: "explained error mask".into(),
            expected: format!("{} cells for shape {shape:?}", n.max(0)),
            got: vec![cells.len() as i64],
        });
    }
    Ok(())
}

/// The cells kept by one restriction, as a boolean tensor of `sample` shape.
fn restriction_mask(r: &CellRestriction, sample: &[i64]) -> Result<Tensor> {
    let nd = sample.len() as i64;
    match r {
        CellRestriction::Axis { axis, indices } => {
            let ax = if *axis < 0 { axis + nd } else { *axis };
            if !(0..nd).contains(&ax) {
                return Err(ModelError::InvalidParam {
                    what: "explained error",
                    param: "cells.axis",
                    value: format!("{axis} for samples of shape {sample:?}"),
                    rule: "must name a sample axis (0 is the first after the batch)",
                });
            }
            if indices.is_empty() {
                return Err(empty_indices(*axis));
            }
            let len = sample[ax as usize];
            let mut keep = vec![false; len as usize];
            for &i in indices {
                let j = if i < 0 { i + len } else { i };
                if !(0..len).contains(&j) {
                    return Err(ModelError::InvalidParam {
                        what: "explained error",
                        param: "cells.indices",
                        value: format!("{i} on axis {axis} of length {len}"),
                        rule: "must lie inside the axis",
                    });
                }
                keep[j as usize] = true;
            }
            let mut shape = vec![1i64; sample.len()];
            shape[ax as usize] = len;
            Ok(Tensor::f_from_slice(&keep)?
                .f_reshape(&shape)?
                .f_expand(sample, false)?)
        }
        CellRestriction::Mask { shape, cells } => {
            check_mask_len(shape, cells)?;
            let fits = shape.len() <= sample.len()
                && shape
                    .iter()
                    .rev()
                    .zip(sample.iter().rev())
                    .all(|(&m, &s)| m == 1 || m == s);
            if !fits {
                return Err(ModelError::ShapeMismatch {
                    what: "explained error mask".into(),
                    expected: format!("a shape that broadcasts to one sample {sample:?}"),
                    got: shape.clone(),
                });
            }
            Ok(Tensor::f_from_slice(cells)?
                .f_reshape(shape)?
                .f_expand(sample, false)?)
        }
    }
}

crate::checked_settings! {
/// Which error is explained: a norm and the output cells whose mean error is explained.
///
/// Build one with [`ExplainedError::new`] (or `From<ErrorNorm>`) and restrict it with
/// [`ExplainedError::steps`], [`ExplainedError::features`], [`ExplainedError::axis`] or
/// [`ExplainedError::mask`]; every restriction adds to the others. What does not depend on
/// a sample shape is checked when read from JSON ([`ExplainedError::check`]), the rest when
/// it is resolved against a detector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExplainedError with serde(deny_unknown_fields) {
    /// The per-cell error: `|x − x̂|` or `(x − x̂)²`.
    pub norm: ErrorNorm,
    /// The output cells whose mean error is explained.
    #[serde(default, skip_serializing_if = "OutputCells::is_all")]
    pub cells: OutputCells,
}
}

impl From<ErrorNorm> for ExplainedError {
    fn from(norm: ErrorNorm) -> Self {
        ExplainedError::new(norm)
    }
}

impl fmt::Display for ExplainedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mean {} error over {}", self.norm, self.cells)
    }
}

impl ExplainedError {
    /// Checks every restriction that does not depend on a sample's shape: no empty index
    /// list, and a mask with as many cells as its shape holds.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] or [`ModelError::ShapeMismatch`] naming the restriction.
    pub fn check(&self) -> Result<()> {
        for r in self.cells.restrictions() {
            match r {
                CellRestriction::Axis { axis, indices } if indices.is_empty() => {
                    return Err(empty_indices(*axis))
                }
                CellRestriction::Mask { shape, cells } => check_mask_len(shape, cells)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The mean `norm` error over every output cell.
    pub fn new(norm: ErrorNorm) -> Self {
        ExplainedError {
            norm,
            cells: OutputCells::all(),
        }
    }

    /// Only these time steps: the second-to-last sample axis (`-1` is the last step of a
    /// `[T, F]` window).
    pub fn steps(self, steps: impl IntoIterator<Item = i64>) -> Self {
        self.axis(-2, steps)
    }

    /// Only these features / sensors: the last sample axis.
    pub fn features(self, features: impl IntoIterator<Item = i64>) -> Self {
        self.axis(-1, features)
    }

    /// Only these positions along sample axis `axis` (negative axes count from the end).
    pub fn axis(mut self, axis: i64, indices: impl IntoIterator<Item = i64>) -> Self {
        self.cells = self.cells.and(CellRestriction::Axis {
            axis,
            indices: indices.into_iter().collect(),
        });
        self
    }

    /// Only the cells where `cells` (row-major, of `shape`, broadcast to a sample) is true.
    pub fn mask(mut self, shape: impl Into<Vec<i64>>, cells: impl Into<Vec<bool>>) -> Self {
        self.cells = self.cells.and(CellRestriction::Mask {
            shape: shape.into(),
            cells: cells.into(),
        });
        self
    }

    /// The same error, further restricted to `cells` (e.g. the steps a forecaster
    /// predicts).
    pub fn within(mut self, cells: &OutputCells) -> Self {
        self.cells = self.cells.intersect(cells);
        self
    }

    /// The explained error resolved against one sample shape on `device`: checked once,
    /// then applied to many batches.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] for a sample shape without dimensions or with one
    /// below 1 (a sample of no cells has no error to average: its mean would be NaN);
    /// otherwise as [`OutputCells::mask`].
    pub fn resolve(&self, sample: &[i64], device: Device) -> Result<ResolvedError> {
        if sample.is_empty() || sample.iter().any(|&d| d < 1) {
            return Err(ModelError::ShapeMismatch {
                what: "explained error: the detector's sample shape".into(),
                expected: "at least one dimension, every one at least 1".into(),
                got: sample.to_vec(),
            });
        }
        let (mask, count) = match self.cells.mask(sample)? {
            None => (None, sample.iter().product::<i64>()),
            Some(m) => {
                let count = m.f_sum(Kind::Int64)?.f_int64_value(&[])?;
                (Some(m.f_to_device(device)?), count)
            }
        };
        Ok(ResolvedError {
            norm: self.norm,
            mask,
            count,
        })
    }

    /// The explained error of every cell `[B, ..]` for input `x` and prediction `x_hat`
    /// (same shape): the selected cells' errors divided by their number, zero elsewhere,
    /// so that the cells of a sample sum to its explained error.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] when the shapes differ, and as [`OutputCells::mask`].
    pub fn cell_errors(&self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        self.resolve(&x.size()[1.min(x.dim())..], x.device())?
            .cell_errors(x, x_hat)
    }

    /// The explained error per sample `[B]`.
    ///
    /// # Errors
    /// As [`ExplainedError::cell_errors`].
    pub fn sample_errors(&self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        per_sample_sum(&self.cell_errors(x, x_hat)?)
    }
}

/// An [`ExplainedError`] checked against one sample shape: the selected cells and their
/// count.
#[derive(Debug)]
pub struct ResolvedError {
    norm: ErrorNorm,
    /// `None` for every cell; otherwise the kept cells of one sample (bool).
    mask: Option<Tensor>,
    count: i64,
}

impl ResolvedError {
    /// The norm.
    pub fn norm(&self) -> ErrorNorm {
        self.norm
    }

    /// Number of explained cells per sample.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The kept cells of one sample (bool), or `None` for every cell.
    pub fn mask(&self) -> Option<&Tensor> {
        self.mask.as_ref()
    }

    /// Zeroes the cells of `cells: [B, ..]` that are not explained (no scaling).
    pub fn keep(&self, cells: &Tensor) -> Result<Tensor> {
        match &self.mask {
            None => Ok(cells.shallow_clone()),
            Some(m) => Ok(cells.f_mul(&m.f_to_kind(cells.kind())?.f_to_device(cells.device())?)?),
        }
    }

    /// Per-cell errors `[B, ..]` already in `norm` (e.g. a detector's own), kept where
    /// explained and divided by the count, so that they sum to the explained error.
    pub fn scale(&self, errors: &Tensor) -> Result<Tensor> {
        Ok(self.keep(errors)?.f_div_scalar(self.count as f64)?)
    }

    /// As [`ExplainedError::cell_errors`], for a batch of the resolved shape.
    pub fn cell_errors(&self, x: &Tensor, x_hat: &Tensor) -> Result<Tensor> {
        self.scale(&cell_errors(x, x_hat, self.norm)?)
    }
}

/// The sum over every dimension but the first, `[B, ..] -> [B]`: the explained error of a
/// sample from its cells.
pub fn per_sample_sum(t: &Tensor) -> Result<Tensor> {
    Ok(t.f_flatten(1, -1)?.f_sum_dim_intlist(1, false, t.kind())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn restrictions_intersect_instead_of_replacing_each_other() {
        // Steps then features keeps one cell, not a whole column.
        let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 3, 2]);
        let zero = x.zeros_like();
        let e = ExplainedError::new(ErrorNorm::L1).steps([2]).features([0]);
        assert_eq!(e.sample_errors(&x, &zero).unwrap().double_value(&[0]), 5.0);
        let r = e.resolve(&[3, 2], Device::Cpu).unwrap();
        assert_eq!(r.count(), 1);
    }

    #[test]
    fn every_cell_is_the_mean_error_and_cells_sum_to_it() {
        let x = t(&[1.0, -2.0, 3.0, 0.0], &[2, 2]);
        let zero = x.zeros_like();
        let e = ExplainedError::new(ErrorNorm::SquaredL2);
        let s = e.sample_errors(&x, &zero).unwrap();
        assert_eq!(Vec::<f64>::try_from(s).unwrap(), vec![2.5, 4.5]);
    }

    #[test]
    fn bad_selections_are_errors_naming_the_value() {
        let x = Tensor::zeros([2, 3, 4], (Kind::Double, Device::Cpu));
        let e = ExplainedError::new(ErrorNorm::L1).steps([3]);
        let err = e.sample_errors(&x, &x).unwrap_err().to_string();
        assert!(err.contains("3 on axis -2 of length 3"), "{err}");
        let err = ExplainedError::new(ErrorNorm::L1)
            .axis(2, [0])
            .sample_errors(&x, &x)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 for samples of shape [3, 4]"), "{err}");
        let err = ExplainedError::new(ErrorNorm::L1)
            .features([])
            .sample_errors(&x, &x)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least one position"), "{err}");
        let err = ExplainedError::new(ErrorNorm::L1)
            .mask([2], [true, false])
            .sample_errors(&x, &x)
            .unwrap_err()
            .to_string();
        assert!(err.contains("broadcasts"), "{err}");
        let err = ExplainedError::new(ErrorNorm::L1)
            .steps([0])
            .steps([1])
            .sample_errors(&x, &x)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least one output cell"), "{err}");
        let short = Tensor::zeros([2, 3], (Kind::Double, Device::Cpu));
        assert!(ExplainedError::default().sample_errors(&x, &short).is_err());
    }

    #[test]
    fn a_mask_broadcasts_to_the_sample() {
        let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 2, 3]);
        let e = ExplainedError::new(ErrorNorm::L1).mask([3], [false, true, false]);
        assert_eq!(
            e.sample_errors(&x, &x.zeros_like())
                .unwrap()
                .double_value(&[0]),
            (2.0 + 5.0) / 2.0
        );
    }

    #[test]
    fn serde_round_trips_and_displays() {
        let e = ExplainedError::new(ErrorNorm::SquaredL2)
            .steps([-1])
            .features([0, 3]);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<ExplainedError>(&json).unwrap(), e);
        assert_eq!(
            e.to_string(),
            "mean L2 error over steps [-1] and features [0, 3]"
        );
        let plain: ExplainedError = serde_json::from_str(r#"{"norm": "L1"}"#).unwrap();
        assert!(plain.cells.is_all());
        assert!(serde_json::from_str::<ExplainedError>(r#"{"norm": "L1", "x": 1}"#).is_err());
    }
}
