//! The reconstruction-error wrapper: what paper 1 explains ("features contributing to the
//! reconstruction error"), as a [`Scorer`] any method can take.
//!
//! For an autoencoder `AE` and a sample `x` with cells `i` in a selected set `S`,
//!
//! ```text
//! L1:  f(x) = 1/|S| Σ_{i∈S} |x_i − AE(x)_i|        (MAE, paper 1, eq. 1)
//! L2:  f(x) = 1/|S| Σ_{i∈S} (x_i − AE(x)_i)²       (MSE)
//! ```
//!
//! one number per sample. `S` is every cell by default; an [`OutputSelection`] restricts
//! it to some time steps and/or features (e.g. only the last step of a window, or only
//! the sensors of interest). The input is never restricted: every input cell can still
//! receive attribution for the selected part of the error.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use ae_models::Autoencoder;

use crate::error::{Result, XaiError};
use crate::scorer::Scorer;

/// The norm of the per-cell reconstruction error: [`ae_models::ErrorNorm`], re-exported
/// so that a detector and its explanation share one type.
pub use ae_models::recon_error::ErrorNorm as Norm;

/// The per-cell error of `diff = x − x̂` in `norm`.
pub(crate) fn cell_error(norm: Norm, diff: &Tensor) -> Result<Tensor> {
    Ok(match norm {
        Norm::L1 => diff.f_abs()?,
        Norm::L2 => diff.f_square()?,
    })
}

fn norm_name(norm: Norm) -> &'static str {
    match norm {
        Norm::L1 => "L1",
        Norm::L2 => "L2",
    }
}

/// Which output cells enter the error: the second-to-last dimension of a sample is read as
/// time steps and the last as features (`[T, F]` windows). `None` keeps the whole
/// dimension. Indices may be negative, counting from the end (`-1` is the last step).
/// For samples with one dimension (`[F]`, tabular), only `features` may be set.
///
/// ```
/// use xai_attrib::OutputSelection;
/// // The error of the last time step only, over all sensors.
/// let last = OutputSelection::steps([-1]);
/// let m = last.mask(&[4, 3])?;
/// assert_eq!(i64::try_from(m.sum(tch::Kind::Int64))?, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutputSelection {
    /// Selected indices of the second-to-last dimension (time steps).
    pub steps: Option<Vec<i64>>,
    /// Selected indices of the last dimension (features / sensors).
    pub features: Option<Vec<i64>>,
}

impl OutputSelection {
    /// Every cell.
    pub fn all() -> Self {
        OutputSelection::default()
    }

    /// Only these time steps, all features.
    pub fn steps(steps: impl IntoIterator<Item = i64>) -> Self {
        OutputSelection {
            steps: Some(steps.into_iter().collect()),
            features: None,
        }
    }

    /// Only these features, all time steps.
    pub fn features(features: impl IntoIterator<Item = i64>) -> Self {
        OutputSelection {
            steps: None,
            features: Some(features.into_iter().collect()),
        }
    }

    /// Whether every cell is selected.
    pub fn is_all(&self) -> bool {
        self.steps.is_none() && self.features.is_none()
    }

    /// The selection as a boolean tensor of `sample_shape` (on the CPU), after checking
    /// every index against the shape.
    pub fn mask(&self, sample_shape: &[i64]) -> Result<Tensor> {
        let rank = sample_shape.len();
        if rank == 0 {
            return Err(XaiError::ShapeMismatch {
                what: "output selection".into(),
                expected: "a sample with at least one dimension".into(),
                got: sample_shape.to_vec(),
            });
        }
        let mut mask = Tensor::f_ones(sample_shape, (Kind::Bool, tch::Device::Cpu))?;
        if let Some(steps) = &self.steps {
            if rank < 2 {
                return Err(XaiError::InvalidParam {
                    method: "reconstruction_error",
                    param: "selection.steps",
                    value: format!("{steps:?}"),
                    rule:
                        "needs samples with a time dimension ([.., T, F]); these have one dimension",
                });
            }
            let keep = axis_mask("selection.steps", steps, sample_shape[rank - 2])?;
            let mut shape = vec![1; rank];
            shape[rank - 2] = sample_shape[rank - 2];
            mask = mask.f_logical_and(&keep.f_reshape(&shape)?)?;
        }
        if let Some(features) = &self.features {
            let keep = axis_mask("selection.features", features, sample_shape[rank - 1])?;
            let mut shape = vec![1; rank];
            shape[rank - 1] = sample_shape[rank - 1];
            mask = mask.f_logical_and(&keep.f_reshape(&shape)?)?;
        }
        Ok(mask)
    }
}

fn axis_mask(param: &'static str, idx: &[i64], len: i64) -> Result<Tensor> {
    if idx.is_empty() {
        return Err(XaiError::InvalidParam {
            method: "reconstruction_error",
            param,
            value: "[]".into(),
            rule: "must select at least one index (use None for all)",
        });
    }
    let mut keep = vec![false; len as usize];
    for &i in idx {
        let j = if i < 0 { i + len } else { i };
        if !(0..len).contains(&j) {
            return Err(XaiError::InvalidParam {
                method: "reconstruction_error",
                param,
                value: i.to_string(),
                rule: "is out of range for the sample's dimension",
            });
        }
        keep[j as usize] = true;
    }
    Ok(Tensor::f_from_slice(&keep)?)
}

/// Per-sample reconstruction error of an autoencoder, `[B, ..] -> [B]`, differentiable.
///
/// Holds a reference to the model, so one model can be wrapped in several scorers (e.g.
/// L1 and L2) without copying it.
pub struct ReconstructionError<'m, A: ?Sized> {
    model: &'m A,
    norm: Norm,
    selection: OutputSelection,
    /// `None` for all cells; otherwise the selection mask of one sample and its count.
    mask: Option<(Tensor, i64)>,
}

impl<'m, A: Autoencoder + ?Sized> ReconstructionError<'m, A> {
    /// The mean `norm` error over all cells of each sample.
    pub fn new(model: &'m A, norm: Norm) -> Self {
        ReconstructionError {
            model,
            norm,
            selection: OutputSelection::all(),
            mask: None,
        }
    }

    /// Restricts the error to `selection`, checked against the model's sample shape.
    pub fn with_selection(mut self, selection: OutputSelection) -> Result<Self> {
        self.mask = if selection.is_all() {
            None
        } else {
            let mask = selection.mask(&self.model.sample_shape())?;
            let count = mask.f_sum(Kind::Int64)?.f_int64_value(&[])?;
            Some((mask.f_to_device(self.model.device())?, count))
        };
        self.selection = selection;
        Ok(self)
    }

    /// The wrapped model.
    pub fn model(&self) -> &'m A {
        self.model
    }

    /// The norm.
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// The output selection.
    pub fn selection(&self) -> &OutputSelection {
        &self.selection
    }

    /// Per-cell errors `[B, ..]` (zero outside the selection), scaled by `1/|S|` so that
    /// they sum to the score of each sample.
    pub fn per_cell(&self, x: &Tensor) -> Result<Tensor> {
        let recon = self.model.forward(x)?;
        let err = cell_error(self.norm, &x.f_sub(&recon)?)?;
        match &self.mask {
            None => Ok(err.f_div_scalar(x.size()[1..].iter().product::<i64>() as f64)?),
            Some((mask, count)) => Ok(err
                .f_mul(&mask.f_to_kind(err.kind())?.f_to_device(err.device())?)?
                .f_div_scalar(*count as f64)?),
        }
    }
}

impl<A: Autoencoder + ?Sized> Scorer for ReconstructionError<'_, A> {
    fn score(&self, x: &Tensor) -> Result<Tensor> {
        let per_cell = self.per_cell(x)?;
        Ok(per_cell
            .f_flatten(1, -1)?
            .f_sum_dim_intlist(1, false, per_cell.kind())?)
    }

    fn describe(&self) -> String {
        let what = if self.selection.is_all() {
            ""
        } else {
            " over selected cells"
        };
        format!("mean {} reconstruction error{what}", norm_name(self.norm))
    }
}

impl<A: ?Sized> std::fmt::Debug for ReconstructionError<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconstructionError")
            .field("norm", &self.norm)
            .field("selection", &self.selection)
            .finish_non_exhaustive()
    }
}
