//! Scorers: what black-box methods explain, a batch in, one number per sample out.

use tch::Tensor;

use crate::error::Result;

/// A function from a batch `[B, ..]` to one score per sample `[B]`, built from tch ops.
///
/// Perturbation methods only evaluate it (under no-grad, in large batches); gradient
/// methods also differentiate it, which needs [`Scorer::differentiable`].
///
/// Samples must be scored independently: the score of row `i` may depend only on row
/// `i`. Methods stack perturbations of many samples into one call and differentiate the
/// sum of the scores, which is only correct for such scorers (batch norm in training
/// mode, for example, breaks this).
pub trait Scorer {
    /// Scores a batch: `[B, ..] -> [B]` (`[B, 1]` is accepted too).
    fn score(&self, x: &Tensor) -> Result<Tensor>;

    /// Whether `score` is built from differentiable tch ops (default: yes).
    fn differentiable(&self) -> bool {
        true
    }

    /// A short description for error messages and reports.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }

    /// The shape of one sample, when the scorer knows it (`None` by default); methods then
    /// check their input against it before building any row.
    fn sample_shape(&self) -> Option<Vec<i64>> {
        None
    }

    /// Scores rows that a method built from the batch it explains: row `r` of `x` stems
    /// from sample `samples[r]` (`[R]`, Int64) of that batch. Every method calls this
    /// rather than [`Scorer::score`], so a scorer whose answer depends on the sample a row
    /// explains (one target per sample, [`crate::TargetScorer`]) can tell. By default the
    /// samples are ignored.
    fn score_rows(&self, x: &Tensor, samples: &Tensor) -> Result<Tensor> {
        let _ = samples;
        self.score(x)
    }

    /// Whether [`Scorer::score_rows`] uses the samples (default `false`). A method that
    /// would score rows shared by all samples (Kernel SHAP's background set) then scores
    /// them once per sample.
    fn per_sample(&self) -> bool {
        false
    }

    /// Checks the batch `x` a method is about to explain, beyond its shape (e.g. that
    /// there is one target per sample); `Ok` by default.
    fn check_input(&self, x: &Tensor) -> Result<()> {
        let _ = x;
        Ok(())
    }
}

/// A reference or a box to a scorer is that scorer.
macro_rules! delegate_scorer {
    ($($ptr:ty),*) => {$(
        impl<S: Scorer + ?Sized> Scorer for $ptr {
            fn score(&self, x: &Tensor) -> Result<Tensor> {
                (**self).score(x)
            }
            fn score_rows(&self, x: &Tensor, samples: &Tensor) -> Result<Tensor> {
                (**self).score_rows(x, samples)
            }
            fn per_sample(&self) -> bool {
                (**self).per_sample()
            }
            fn check_input(&self, x: &Tensor) -> Result<()> {
                (**self).check_input(x)
            }
            fn differentiable(&self) -> bool {
                (**self).differentiable()
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
            fn sample_shape(&self) -> Option<Vec<i64>> {
                (**self).sample_shape()
            }
        }
    )*};
}

delegate_scorer!(&S, Box<S>);

/// A scorer from a closure over tensors, e.g. a hand-written detector or a toy model in a
/// test. It is differentiable exactly when the closure uses differentiable tch ops; say
/// otherwise with [`FnScorer::non_differentiable`].
///
/// ```
/// use tch::{Kind, Tensor};
/// use xai_attrib::{FnScorer, Scorer};
/// // f(x) = Σ_i w_i x_i per sample
/// let w = Tensor::from_slice(&[1.0f32, -2.0, 0.5]);
/// let f = FnScorer::new("linear", move |x: &Tensor| Ok(x.f_mul(&w)?.f_sum_dim_intlist(1, false, Kind::Float)?));
/// let s = f.score(&Tensor::from_slice(&[1.0f32, 1.0, 2.0]).reshape([1, 3]))?;
/// assert_eq!(s.double_value(&[0]), 0.0);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
pub struct FnScorer<F> {
    pub(crate) name: String,
    f: F,
    pub(crate) differentiable: bool,
}

impl<F> FnScorer<F>
where
    F: Fn(&Tensor) -> Result<Tensor>,
{
    /// Wraps `f`, described as `name` in reports and errors.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnScorer {
            name: name.into(),
            f,
            differentiable: true,
        }
    }

    /// Declares that `f` cannot be differentiated (gradient methods then refuse it with
    /// [`crate::XaiError::NotDifferentiable`] instead of failing inside libtorch).
    pub fn non_differentiable(mut self) -> Self {
        self.differentiable = false;
        self
    }
}

impl<F> Scorer for FnScorer<F>
where
    F: Fn(&Tensor) -> Result<Tensor>,
{
    fn score(&self, x: &Tensor) -> Result<Tensor> {
        (self.f)(x)
    }
    fn differentiable(&self) -> bool {
        self.differentiable
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}

impl<F> std::fmt::Debug for FnScorer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnScorer")
            .field("name", &self.name)
            .field("differentiable", &self.differentiable)
            .finish()
    }
}
