//! Targets: which output of a multi-output model is explained (Captum's `target`).
//!
//! Methods explain one number per sample. A classifier or a multi-head detector answers
//! `[B, K]`; a [`TargetScorer`] wraps it with a [`Target`], one column for every sample or
//! one column per sample (`t_i` for sample `i`), and is a [`Scorer`] every method takes.
//! Because methods tell a scorer which explained sample each of their rows stems from
//! ([`Scorer::score_rows`]), a per-sample target follows its sample through perturbed
//! rows and path points, however they are batched.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, XaiError};
use crate::scorer::{FnScorer, Scorer};

/// Which output column is explained: one for every sample, or one per sample. In JSON
/// `2` or `[0, 2, 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// The same column for every sample (Captum's `target=t`).
    Index(i64),
    /// Column `t_i` for sample `i` of the explained batch (Captum's `target=[t_0, ..]`).
    PerSample(Vec<i64>),
}

impl From<i64> for Target {
    fn from(t: i64) -> Self {
        Target::Index(t)
    }
}

impl From<Vec<i64>> for Target {
    fn from(t: Vec<i64>) -> Self {
        Target::PerSample(t)
    }
}

impl<const N: usize> From<[i64; N]> for Target {
    fn from(t: [i64; N]) -> Self {
        Target::PerSample(t.to_vec())
    }
}

fn invalid(value: String, rule: &'static str) -> XaiError {
    XaiError::InvalidParam {
        method: "target",
        param: "target",
        value,
        rule,
    }
}

/// A multi-output model `[R, ..] -> [R, K]` with the [`Target`] to explain: a [`Scorer`]
/// for every method.
///
/// ```
/// use tch::{Kind, Tensor};
/// use xai_attrib::{Attribution, Request, Saliency, TargetScorer};
/// // Two outputs: y = x W with W = [[1, 0], [0, 2]]; sample 0 explains column 0, sample 1
/// // column 1, so their gradients are W's columns.
/// let w = Tensor::from_slice(&[1.0f64, 0.0, 0.0, 2.0]).reshape([2, 2]);
/// let model = TargetScorer::new("linear", move |x: &Tensor| Ok(x.f_matmul(&w)?), [0, 1])?;
/// let x = Tensor::from_slice(&[1.0f64, 1.0, 1.0, 1.0]).reshape([2, 2]);
/// let a = Saliency::default().attribute(&model, &x, &Request::default())?;
/// assert_eq!(Vec::<f64>::try_from(a.scores.flatten(0, -1)).unwrap(), vec![1.0, 0.0, 0.0, 2.0]);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
pub struct TargetScorer<F> {
    inner: FnScorer<F>,
    target: Target,
}

impl<F> TargetScorer<F>
where
    F: Fn(&Tensor) -> Result<Tensor>,
{
    /// Wraps the model `f` (`[R, ..] -> [R, K]`), described as `name`, explaining
    /// `target`.
    ///
    /// # Errors
    /// [`XaiError::InvalidParam`] for a negative column or an empty per-sample list
    /// (a column beyond the model's `K` is found when the model answers).
    pub fn new(name: impl Into<String>, f: F, target: impl Into<Target>) -> Result<Self> {
        let target = target.into();
        match &target {
            Target::Index(t) if *t < 0 => return Err(invalid(t.to_string(), "must be ≥ 0")),
            Target::PerSample(ts) if ts.is_empty() => {
                return Err(invalid("[]".into(), "needs one column per sample"))
            }
            Target::PerSample(ts) if ts.iter().any(|&t| t < 0) => {
                return Err(invalid(format!("{ts:?}"), "must be ≥ 0 for every sample"))
            }
            _ => {}
        }
        Ok(TargetScorer {
            inner: FnScorer::new(name, f),
            target,
        })
    }

    /// Declares that `f` cannot be differentiated (gradient methods then refuse it).
    pub fn non_differentiable(mut self) -> Self {
        self.inner = self.inner.non_differentiable();
        self
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The model's answer `[R, K]`, checked.
    fn outputs(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.inner.score(x)?;
        let rows = x.size().first().copied().unwrap_or(0);
        let size = y.size();
        if size.len() != 2 || size[0] != rows {
            return Err(XaiError::ShapeMismatch {
                what: format!("output of multi-output model `{}`", self.inner.name),
                expected: format!("[{rows}, outputs]"),
                got: size,
            });
        }
        Ok(y)
    }

    /// The error for column `column` of a model with `k` outputs.
    fn beyond_outputs(&self, column: i64, k: i64) -> XaiError {
        invalid(
            format!("{column} for `{}` with {k} outputs", self.inner.name),
            "must be below the number of outputs",
        )
    }

    /// Picks column `columns[r]` of row `r`, checking each against the `K` outputs.
    fn pick(&self, y: &Tensor, columns: &Tensor) -> Result<Tensor> {
        let k = y.size()[1];
        let max = columns.f_max()?.f_int64_value(&[])?;
        if max >= k {
            return Err(self.beyond_outputs(max, k));
        }
        Ok(y.f_gather(1, &columns.f_unsqueeze(1)?, false)?
            .f_squeeze_dim(1)?)
    }

    /// Picks column `t` of every row, checked against the `K` outputs on the host (no
    /// index tensor, no device sync); contiguous, as [`Self::pick`]'s gather is.
    fn pick_one(&self, y: &Tensor, t: i64) -> Result<Tensor> {
        let size = y.size();
        let (rows, k) = (size[0], size[1]);
        if rows == 0 {
            return Ok(y.f_sum_dim_intlist(1, false, y.kind())?);
        }
        if t >= k {
            return Err(self.beyond_outputs(t, k));
        }
        Ok(y.f_select(1, t)?.f_contiguous()?)
    }
}

impl<F> Scorer for TargetScorer<F>
where
    F: Fn(&Tensor) -> Result<Tensor>,
{
    /// Scores a batch of explained samples themselves (row `i` is sample `i`).
    fn score(&self, x: &Tensor) -> Result<Tensor> {
        let rows = x.size().first().copied().unwrap_or(0);
        let samples = Tensor::f_arange(rows, (Kind::Int64, x.device()))?;
        self.check_input(x)?;
        self.score_rows(x, &samples)
    }

    fn score_rows(&self, x: &Tensor, samples: &Tensor) -> Result<Tensor> {
        let y = self.outputs(x)?;
        let rows = y.size()[0];
        let columns = match &self.target {
            Target::Index(t) => return self.pick_one(&y, *t),
            Target::PerSample(ts) => {
                let n = ts.len() as i64;
                if rows > 0 && samples.f_max()?.f_int64_value(&[])? >= n {
                    return Err(invalid(
                        format!("{ts:?}"),
                        "has fewer entries than the explained batch has samples",
                    ));
                }
                Tensor::f_from_slice(ts)?
                    .f_to_device(x.device())?
                    .f_index_select(0, samples)?
            }
        };
        if rows == 0 {
            return Ok(y.f_sum_dim_intlist(1, false, y.kind())?);
        }
        self.pick(&y, &columns)
    }

    fn per_sample(&self) -> bool {
        matches!(self.target, Target::PerSample(_))
    }

    fn check_input(&self, x: &Tensor) -> Result<()> {
        if let Target::PerSample(ts) = &self.target {
            let b = x.size().first().copied().unwrap_or(0);
            if ts.len() as i64 != b {
                return Err(invalid(
                    format!("{ts:?} ({} targets) for a batch of {b}", ts.len()),
                    "must name one column per sample",
                ));
            }
        }
        Ok(())
    }

    fn differentiable(&self) -> bool {
        self.inner.differentiable
    }

    fn describe(&self) -> String {
        match &self.target {
            Target::Index(t) => format!("{} [target {t}]", self.inner.name),
            Target::PerSample(ts) => format!("{} [targets {ts:?}]", self.inner.name),
        }
    }
}

impl<F> std::fmt::Debug for TargetScorer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetScorer")
            .field("name", &self.inner.name)
            .field("target", &self.target)
            .field("differentiable", &self.inner.differentiable)
            .finish()
    }
}
