//! Reference inputs: what "absence of a feature" means for a method.
//!
//! Paper 1 credits Occlusion's good results to reference values taken from clean training
//! data; [`Baseline::feature_means`] and [`Baseline::sample_means`] build those, and
//! [`BaselineSpec`] names the choice in a serialisable run configuration.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{Result, XaiError};
use crate::validate::{broadcasts_to, check_finite, is_float, shape_str};

/// The reference a method compares the input with.
#[derive(Debug, Default)]
pub enum Baseline {
    /// All zeros (Captum's default). On min-max scaled data this is each sensor's
    /// training minimum.
    #[default]
    Zero,
    /// One constant everywhere.
    Constant(f64),
    /// A tensor broadcastable to one sample (e.g. `[T, F]`, or `[F]` per-feature means
    /// of the training data) or to the whole batch `[B, ..]`.
    Tensor(Tensor),
    /// A set of reference samples `[N, ..]` (Gradient SHAP draws from it, Kernel SHAP
    /// averages over it as its background set; single-reference methods use its mean).
    Distribution(Tensor),
}

impl Clone for Baseline {
    fn clone(&self) -> Self {
        match self {
            Baseline::Zero => Baseline::Zero,
            Baseline::Constant(c) => Baseline::Constant(*c),
            Baseline::Tensor(t) => Baseline::Tensor(t.shallow_clone()),
            Baseline::Distribution(t) => Baseline::Distribution(t.shallow_clone()),
        }
    }
}

/// The reference values of a batch as methods consume them.
#[derive(Debug)]
pub(crate) enum References {
    /// One reference per sample, `[B, ..]`.
    PerSample(Tensor),
    /// A background set shared by all samples, `[N, ..]`.
    Shared(Tensor),
}

impl Baseline {
    /// Per-feature means of training data `[N, .., F]`: the mean over every dimension but
    /// the last, a `[F]` baseline that broadcasts to windows `[T, F]` and tables `[F]`.
    ///
    /// ```
    /// use tch::Tensor;
    /// use xai_attrib::Baseline;
    /// let train = Tensor::from_slice(&[0.0f32, 10.0, 2.0, 20.0]).reshape([2, 1, 2]);
    /// let Baseline::Tensor(m) = Baseline::feature_means(&train)? else { unreachable!() };
    /// assert_eq!(Vec::<f32>::try_from(m).unwrap(), vec![1.0, 15.0]);
    /// # Ok::<(), xai_attrib::XaiError>(())
    /// ```
    pub fn feature_means(train: &Tensor) -> Result<Baseline> {
        check_training(train)?;
        let dims: Vec<i64> = (0..train.dim() as i64 - 1).collect();
        Ok(Baseline::Tensor(train.f_mean_dim(
            dims.as_slice(),
            false,
            train.kind(),
        )?))
    }

    /// Per-cell means of training samples `[N, ..]` over `N`: a baseline of one sample's
    /// shape (e.g. the mean training window `[T, F]`).
    pub fn sample_means(train: &Tensor) -> Result<Baseline> {
        check_training(train)?;
        Ok(Baseline::Tensor(train.f_mean_dim(
            0,
            false,
            train.kind(),
        )?))
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Baseline::Zero => "zero".into(),
            Baseline::Constant(c) => format!("constant {c}"),
            Baseline::Tensor(t) => format!("tensor {:?}", t.size()),
            Baseline::Distribution(t) => format!("distribution of {} samples", t.size()[0]),
        }
    }

    /// One reference per sample, `[B, ..]` in `x`'s dtype and device. A distribution is
    /// replaced by its mean (what single-reference methods such as Occlusion use).
    pub fn reference(&self, x: &Tensor, method: &str) -> Result<Tensor> {
        match self.references(x, method)? {
            References::PerSample(r) => Ok(r),
            References::Shared(d) => {
                let mean = d.f_mean_dim(0, true, d.kind())?;
                Ok(mean.f_expand(x.size(), false)?.f_contiguous()?)
            }
        }
    }

    /// The references of `x` without averaging a distribution.
    pub(crate) fn references(&self, x: &Tensor, method: &str) -> Result<References> {
        let opts = (x.kind(), x.device());
        let size = x.size();
        match self {
            Baseline::Zero => Ok(References::PerSample(Tensor::f_zeros(&size, opts)?)),
            Baseline::Constant(c) => {
                if !c.is_finite() {
                    return Err(XaiError::NonFinite {
                        what: format!("{method} baseline constant"),
                        index: 0,
                    });
                }
                Ok(References::PerSample(Tensor::f_full(&size, *c, opts)?))
            }
            Baseline::Tensor(t) => {
                let what = format!("{method} baseline");
                check_tensor(&what, t)?;
                if !broadcasts_to(&t.size(), &size) {
                    return Err(XaiError::ShapeMismatch {
                        what,
                        expected: format!(
                            "a shape that broadcasts to the input {} (one sample's shape, its trailing dimensions, or the batch's)",
                            shape_str(&size)
                        ),
                        got: t.size(),
                    });
                }
                let t = t.f_to_kind(x.kind())?.f_to_device(x.device())?;
                Ok(References::PerSample(
                    t.f_expand(&size, false)?.f_contiguous()?,
                ))
            }
            Baseline::Distribution(d) => {
                let what = format!("{method} baseline distribution");
                check_tensor(&what, d)?;
                let ds = d.size();
                let sample = &size[1..];
                if ds.is_empty() || ds[0] < 1 || !broadcasts_to(&ds[1..], sample) {
                    return Err(XaiError::ShapeMismatch {
                        what,
                        expected: format!(
                            "[N ≥ 1, ..] with samples broadcastable to {}",
                            shape_str(sample)
                        ),
                        got: ds,
                    });
                }
                let mut target = vec![ds[0]];
                target.extend_from_slice(sample);
                // A distribution of fewer dimensions ([N, F] for [T, F] samples) gets unit
                // dimensions inserted after N so its samples broadcast from the right.
                let mut view = vec![ds[0]];
                view.extend(std::iter::repeat_n(1, sample.len() - (ds.len() - 1)));
                view.extend_from_slice(&ds[1..]);
                let d = d
                    .f_reshape(&view)?
                    .f_to_kind(x.kind())?
                    .f_to_device(x.device())?;
                Ok(References::Shared(
                    d.f_expand(&target, false)?.f_contiguous()?,
                ))
            }
        }
    }
}

fn check_tensor(what: &str, t: &Tensor) -> Result<()> {
    if !is_float(t.kind()) {
        return Err(XaiError::InvalidInput {
            what: what.into(),
            reason: format!("dtype {:?} is not a floating-point type", t.kind()),
        });
    }
    if t.numel() == 0 {
        return Err(XaiError::InvalidInput {
            what: what.into(),
            reason: format!("shape {:?} holds no values", t.size()),
        });
    }
    check_finite(what, t)
}

fn check_training(train: &Tensor) -> Result<()> {
    check_tensor("training data for a baseline", train)?;
    if train.dim() < 2 {
        return Err(XaiError::ShapeMismatch {
            what: "training data for a baseline".into(),
            expected: "[N, ..] with at least one dimension after N".into(),
            got: train.size(),
        });
    }
    Ok(())
}

/// A serialisable name for a baseline choice, turned into a [`Baseline`] with the
/// training data at hand.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum BaselineSpec {
    /// [`Baseline::Zero`].
    #[default]
    Zero,
    /// [`Baseline::Constant`].
    Constant(f64),
    /// [`Baseline::feature_means`] of the training data.
    FeatureMeans,
    /// [`Baseline::sample_means`] of the training data.
    SampleMeans,
    /// A background set of up to `n` training samples, evenly spaced through the
    /// training data (deterministic), as [`Baseline::Distribution`].
    Background {
        /// The largest number of background samples.
        n: i64,
    },
}

impl BaselineSpec {
    /// Builds the baseline from training samples `[N, ..]` (ignored by `Zero` and
    /// `Constant`).
    pub fn build(&self, train: &Tensor) -> Result<Baseline> {
        match self {
            BaselineSpec::Zero => Ok(Baseline::Zero),
            BaselineSpec::Constant(c) => Ok(Baseline::Constant(*c)),
            BaselineSpec::FeatureMeans => Baseline::feature_means(train),
            BaselineSpec::SampleMeans => Baseline::sample_means(train),
            BaselineSpec::Background { n } => {
                check_training(train)?;
                if *n < 1 {
                    return Err(XaiError::InvalidParam {
                        method: "baseline",
                        param: "background.n",
                        value: n.to_string(),
                        rule: "must be at least 1",
                    });
                }
                let total = train.size()[0];
                let take = (*n).min(total);
                let idx: Vec<i64> = (0..take).map(|i| i * total / take).collect();
                let idx = Tensor::f_from_slice(&idx)?.f_to_device(train.device())?;
                Ok(Baseline::Distribution(train.f_index_select(0, &idx)?))
            }
        }
    }
}
