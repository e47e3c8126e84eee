//! Occlusion (Zeiler & Fergus 2014): slide a window over the sample, replace the cells
//! under it by the baseline, and credit the change of the score to those cells.
//!
//! Windows follow Captum exactly: along dimension `d` (size `D`, window `W`, stride `S`)
//! there are `ceil((D − W)/S) + 1` positions starting at `0, S, 2S, ..`, the last one
//! clipped at the edge. Each cell gets the *mean* effect `f(x) − f(x with the window set
//! to x')` over the windows that cover it. For windows `[T, F]`, a window `[T, 1]`
//! occludes one whole sensor (the same as Feature Ablation per sensor); `[w, 1]` with
//! stride `[s, 1]` localises in time as well. With a window of ones, Occlusion equals
//! per-cell Feature Ablation, `(x − x')·w` for a linear scorer.
//!
//! The windows define the perturbations; a feature mask in the request does not change
//! them. With a mask, every cell then carries the mean over its group's cells (e.g. the
//! per-sensor average of a time-localised occlusion).
//!
//! Cost per sample: `1 + Π_d positions_d` forward passes, `batch_size` rows per call.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::engine::{batch_samples, Engine};
use crate::error::{Result, XaiError};
use crate::feature_mask::Groups;
use crate::params::{Batching, UnknownKeys};
use crate::perturbation::stack_rows;
use crate::scorer::Scorer;
use crate::validate::{cells, check_scorer_input, sample_shape};

const NAME: &str = "occlusion";

/// Unchecked settings of [`Occlusion`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OcclusionParams {
    window: Vec<i64>,
    strides: Option<Strides>,
    #[serde(flatten)]
    batching: Batching,
    #[serde(flatten, skip_serializing)]
    unknown: UnknownKeys,
}

impl OcclusionParams {
    /// The sliding window shape, one entry per dimension of a sample (e.g. `[T, 1]` for
    /// `[T, F]` windows). Required.
    pub fn window(mut self, window: impl Into<Vec<i64>>) -> Self {
        self.window = window.into();
        self
    }

    /// Strides: one per dimension (`[2, 1]`), or one number for every dimension (`2`, as
    /// Captum accepts). Default 1 everywhere; each ≥ 1 and ≤ the window's size in its
    /// dimension unless the window spans the whole dimension, as in Captum.
    pub fn strides(mut self, strides: impl Into<Strides>) -> Self {
        self.strides = Some(strides.into());
        self
    }

    /// Checks the settings that do not depend on the input (window and strides are
    /// checked against each sample shape when attributing).
    pub fn check(&self) -> Result<Occlusion> {
        self.unknown.reject(NAME)?;
        let bad = |param, value: &Vec<i64>, rule| XaiError::InvalidParam {
            method: NAME,
            param,
            value: format!("{value:?}"),
            rule,
        };
        if self.window.is_empty() {
            return Err(bad(
                "window",
                &self.window,
                "must be given, one size per sample dimension",
            ));
        }
        if self.window.iter().any(|&w| w < 1) {
            return Err(bad(
                "window",
                &self.window,
                "must be ≥ 1 in every dimension",
            ));
        }
        let strides = match &self.strides {
            None => vec![1; self.window.len()],
            Some(Strides::All(s)) => vec![*s; self.window.len()],
            Some(Strides::PerDim(s)) => s.clone(),
        };
        if let Some(Strides::All(s)) = self.strides {
            if s < 1 {
                return Err(XaiError::InvalidParam {
                    method: NAME,
                    param: "strides",
                    value: s.to_string(),
                    rule: "must be ≥ 1",
                });
            }
        }
        if strides.len() != self.window.len() {
            return Err(bad(
                "strides",
                &strides,
                "must have one entry per window dimension",
            ));
        }
        if strides.iter().any(|&s| s < 1) {
            return Err(bad("strides", &strides, "must be ≥ 1 in every dimension"));
        }
        self.batching.check(NAME)?;
        Ok(Occlusion {
            params: self.clone(),
            strides,
        })
    }
}

/// Occlusion's strides: one number for every dimension, or one per dimension. In JSON
/// `2` or `[2, 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Strides {
    /// The same stride along every dimension of the window.
    All(i64),
    /// One stride per window dimension.
    PerDim(Vec<i64>),
}

impl From<i64> for Strides {
    fn from(s: i64) -> Self {
        Strides::All(s)
    }
}

impl From<Vec<i64>> for Strides {
    fn from(s: Vec<i64>) -> Self {
        Strides::PerDim(s)
    }
}

impl From<&[i64]> for Strides {
    fn from(s: &[i64]) -> Self {
        Strides::PerDim(s.to_vec())
    }
}

impl<const N: usize> From<[i64; N]> for Strides {
    fn from(s: [i64; N]) -> Self {
        Strides::PerDim(s.to_vec())
    }
}

/// Occlusion (see the module docs).
///
/// ```
/// use tch::{Kind, Tensor};
/// use xai_attrib::{Attribution, FnScorer, Occlusion, Request};
/// // f(x) = Σ x over a [4] sample; windows of 2 with stride 1 cover cells 1 and 2 twice.
/// let f = FnScorer::new("sum", |x: &Tensor| Ok(x.f_sum_dim_intlist(1, false, Kind::Float)?));
/// let occ = Occlusion::params().window([2]).check()?;
/// let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 4]);
/// let a = occ.attribute(&f, &x, &Request::default())?;
/// // windows {0,1}: 3, {1,2}: 5, {2,3}: 7 → cell means 3, 4, 6, 7
/// assert_eq!(Vec::<f32>::try_from(a.scores.flatten(0, -1)).unwrap(), vec![3.0, 4.0, 6.0, 7.0]);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OcclusionParams", into = "OcclusionParams")]
pub struct Occlusion {
    params: OcclusionParams,
    /// The strides, one per window dimension (the default of 1 filled in).
    strides: Vec<i64>,
}

impl Occlusion {
    /// Settings to adjust (the window is required) and [`OcclusionParams::check`].
    pub fn params() -> OcclusionParams {
        OcclusionParams::default()
    }

    /// The window shape.
    pub fn window(&self) -> &[i64] {
        &self.params.window
    }

    /// The strides, one per window dimension (a single number given as the setting is
    /// repeated for every dimension).
    pub fn strides(&self) -> &[i64] {
        &self.strides
    }

    /// Window positions per dimension for samples of `shape`, after checking the window
    /// against the shape: `ceil((D − W)/S) + 1`.
    pub fn positions(&self, shape: &[i64]) -> Result<Vec<i64>> {
        if shape.len() != self.params.window.len() {
            return Err(XaiError::ShapeMismatch {
                what: format!("occlusion input (window {:?})", self.params.window),
                expected: format!("samples with {} dimensions", self.params.window.len()),
                got: shape.to_vec(),
            });
        }
        let mut counts = Vec::with_capacity(shape.len());
        for ((&d, &w), &s) in shape.iter().zip(&self.params.window).zip(&self.strides) {
            if w > d {
                return Err(XaiError::InvalidParam {
                    method: NAME,
                    param: "window",
                    value: format!("{:?} for samples {shape:?}", self.params.window),
                    rule: "must not exceed the sample's size in any dimension",
                });
            }
            if d > w && s > w {
                return Err(XaiError::InvalidParam {
                    method: NAME,
                    param: "strides",
                    value: format!("{:?} with window {:?}", self.strides, self.params.window),
                    rule: "must be ≤ the window size wherever the window is smaller than the sample (or cells go uncovered)",
                });
            }
            counts.push((d - w + s - 1) / s + 1);
        }
        Ok(counts)
    }
}

method_params!(Occlusion, OcclusionParams);

impl<S: Scorer + ?Sized> Attribution<S> for Occlusion {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Perturbation
    }

    fn attribute(&self, model: &S, x: &Tensor, req: &Request) -> Result<Attributions> {
        check_scorer_input(NAME, model, x)?;
        let shape = sample_shape(x);
        let counts = self.positions(&shape)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let (b, n_cells) = (x.size()[0], cells(x));
        let device = x.device();
        let flat_x = x.f_reshape([1, b, n_cells])?;
        let flat_ref = req
            .baseline
            .reference(x, NAME)?
            .f_reshape([1, b, n_cells])?;
        // The coordinate of every cell along every dimension, `[cells]` each.
        let cell_index = Tensor::f_arange(n_cells, (Kind::Int64, device))?;
        let mut coords = Vec::with_capacity(shape.len());
        let mut inner = n_cells;
        for &d in &shape {
            inner /= d;
            coords.push(
                cell_index
                    .f_floor_divide_scalar(inner)?
                    .f_remainder(d)?
                    .f_unsqueeze(0)?,
            );
        }
        let n_windows: i64 = counts.iter().product();
        // Window `j` in Captum's order: the first dimension varies fastest.
        let bounds = |j: i64| -> Vec<(i64, i64)> {
            let mut rest = j;
            counts
                .iter()
                .zip(&self.strides)
                .zip(&self.params.window)
                .map(|((&c, &s), &w)| {
                    let start = (rest % c) * s;
                    rest /= c;
                    (start, start + w)
                })
                .collect()
        };
        let windows = |first: i64, k: i64| -> Result<Tensor> {
            let mut mask = Tensor::f_ones([k, n_cells], (Kind::Bool, device))?;
            for (d, coord) in coords.iter().enumerate() {
                let (lo, hi): (Vec<i64>, Vec<i64>) =
                    (first..first + k).map(|j| bounds(j)[d]).unzip();
                let lo = Tensor::f_from_slice(&lo)?
                    .f_to_device(device)?
                    .f_unsqueeze(1)?;
                let hi = Tensor::f_from_slice(&hi)?
                    .f_to_device(device)?
                    .f_unsqueeze(1)?;
                mask = mask.f_logical_and(
                    &coord
                        .f_ge_tensor(&lo)?
                        .f_logical_and(&coord.f_lt_tensor(&hi)?)?,
                )?;
            }
            Ok(mask)
        };
        let engine = Engine::new(model, NAME, self.params.batching);
        let f_x = engine.eval_batch(x)?;
        let mut total = Tensor::f_zeros([b, n_cells], (x.kind(), device))?;
        let mut covered = Tensor::f_zeros([n_cells], (x.kind(), device))?;
        engine.run(
            n_windows,
            b,
            |jobs| {
                let occluded = windows(jobs.start, jobs.end - jobs.start)?.f_unsqueeze(1)?;
                let rows = stack_rows(&occluded, &flat_ref, &flat_x, &shape)?;
                Ok((rows, batch_samples(b, jobs.end - jobs.start, device)?))
            },
            |jobs, scores| {
                let mask = windows(jobs.start, jobs.end - jobs.start)?.f_to_kind(x.kind())?;
                let effects = f_x.f_unsqueeze(0)?.f_sub(scores)?;
                total = total.f_add(&effects.f_transpose(0, 1)?.f_matmul(&mask)?)?;
                covered = covered.f_add(&mask.f_sum_dim_intlist(0, false, x.kind())?)?;
                Ok(())
            },
        )?;
        let per_cell = total.f_div(&covered.f_unsqueeze(0)?)?.f_reshape(x.size())?;
        let scores = groups.mean_cells(&per_cell)?;
        Ok(Attributions {
            scores,
            delta: None,
            forward_evals: 1 + n_windows as usize,
            backward_evals: 0,
        })
    }
}
