//! The one list of methods every pipeline runs: the scorer-generic methods of `xai-attrib`
//! with their checked settings, plus the three that need more than a scorer (the residual,
//! the attention read-out and LRP), each with the reference input it compares against, the
//! seeds it is repeated with and its label.
//!
//! A [`MethodSpec`] is data (serde, checked when read); [`MethodSpec::prepare`] checks it
//! against a [`Context`] (is the detector differentiable, does it have layers, is there
//! an attention model, are there training windows for the baseline) and an
//! [`ExplainedError`], and resolves the baseline, once, before any work. The
//! [`PreparedMethod`] then explains any batch.
//!
//! ```
//! use anomaly_xai::attrib::{BaselineSpec, KernelShap, Occlusion};
//! use anomaly_xai::method::MethodSpec;
//! use anomaly_xai::models::ErrorNorm;
//! let methods = vec![
//!     MethodSpec::residual(ErrorNorm::L1),
//!     MethodSpec::attrib(Occlusion::params().window([50, 1]).strides([50, 1]).check()?),
//!     MethodSpec::attrib(KernelShap::params().n_samples(200).check()?)
//!         .baseline(BaselineSpec::FeatureMeans)
//!         .seeds([0, 1, 2]),
//! ];
//! assert_eq!(methods[2].label(), "Kernel SHAP 200 (train mean)");
//! let json = serde_json::to_string(&methods)?;
//! assert_eq!(serde_json::from_str::<Vec<MethodSpec>>(&json)?, methods);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attrib::{
    AttentionReadout, Attribution, Baseline, BaselineSpec, Batching, ErrorScorer, Family,
    FeatureMask, Request, Residual, Scorer,
};
use crate::error::{Error, Result};
use crate::lrp::{Lrp, Preset, RootPoint, DEVIATION_EPSILON};
use crate::models::{AttentionLstmAe, Detector, ErrorNorm, ExplainedError, LayerModel};

/// Which method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A scorer-generic method of `xai-attrib` with its settings: it explains the
    /// pipeline's explained error of the detector.
    Attrib(crate::attrib::MethodSpec),
    /// The per-cell error itself (the baseline of both papers).
    Residual,
    /// The feature-attention weights of the attention model ([`Context::attention`]).
    Attention,
    /// LRP of the explained error through the detector's layers, rules per `preset`.
    Lrp {
        /// Which rule goes on which layer.
        preset: Preset,
    },
}

crate::models::checked_settings! {
/// One method with everything a pipeline needs to run and report it. Checked when read
/// from JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSpec with serde(deny_unknown_fields) {
    /// The method and its settings.
    pub method: Method,
    /// The norm of the error this method explains, when it is not the pipeline's (paper 2
    /// reports LRP of the L1 and of the L2 error side by side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm: Option<ErrorNorm>,
    /// The reference input, for the methods that take one (ignored by the others).
    #[serde(default)]
    pub baseline: BaselineSpec,
    /// Seeds a method that draws random numbers is repeated with (results are reported as
    /// mean ± std over them); empty: once, with the method's own seed. Deterministic
    /// methods take none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<u64>,
    /// The label in tables; by default one made from the settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}
}

impl MethodSpec {
    /// The most seeds a method may be repeated with: each is a whole run of the method.
    pub const MAX_SEEDS: usize = 1000;

    /// Checks what can be checked without a detector: seeds only on methods that draw
    /// random numbers, at most [`MethodSpec::MAX_SEEDS`] of them (the method's own
    /// settings are checked when it is built).
    ///
    /// # Errors
    /// As [`MethodSpec::runs`].
    pub fn check(&self) -> Result<()> {
        self.runs().map(|_| ())
    }

    /// `method` with a zero baseline, no repetition and the default label.
    pub fn new(method: Method) -> Self {
        MethodSpec {
            method,
            norm: None,
            baseline: BaselineSpec::Zero,
            seeds: Vec::new(),
            label: None,
        }
    }

    /// A scorer-generic method (e.g. `KernelShap::params().check()?`).
    pub fn attrib(method: impl Into<crate::attrib::MethodSpec>) -> Self {
        MethodSpec::new(Method::Attrib(method.into()))
    }

    /// The residual in `norm`.
    pub fn residual(norm: ErrorNorm) -> Self {
        MethodSpec::new(Method::Residual).norm(norm)
    }

    /// The deviation from normal, no detector involved ([`crate::attrib::Deviation`]):
    /// every cell's absolute distance from its feature's training mean
    /// ([`BaselineSpec::FeatureMeans`]), so that a pipeline folds, averages and normalizes
    /// it exactly like the methods it is the reference row for. Another reference (the
    /// mean normal image, [`BaselineSpec::SampleMeans`]) with [`MethodSpec::baseline`].
    ///
    /// ```
    /// use anomaly_xai::attrib::BaselineSpec;
    /// use anomaly_xai::method::MethodSpec;
    /// assert_eq!(MethodSpec::deviation().label(), "Deviation from normal (no detector)");
    /// assert_eq!(
    ///     MethodSpec::deviation().baseline(BaselineSpec::SampleMeans).label(),
    ///     "Deviation from normal (no detector, train window mean)"
    /// );
    /// ```
    pub fn deviation() -> Self {
        MethodSpec::attrib(crate::attrib::Deviation::default()).baseline(BaselineSpec::FeatureMeans)
    }

    /// The attention read-out.
    pub fn attention() -> Self {
        MethodSpec::new(Method::Attention)
    }

    /// LRP with `preset`.
    pub fn lrp(preset: Preset) -> Self {
        MethodSpec::new(Method::Lrp { preset })
    }

    /// Deviation LRP ([`Preset::Deviation`] with [`DEVIATION_EPSILON`]): the relevance of
    /// the input's deviation from `root`, the window's own reconstruction or, with
    /// [`RootPoint::Baseline`], the training mean ([`BaselineSpec::FeatureMeans`]; another
    /// reference with [`MethodSpec::baseline`]). A sensor that drops is seen as clearly as
    /// one that rises, which paper 2's rules do not do (docs/lrp.md).
    ///
    /// ```
    /// use anomaly_xai::lrp::RootPoint;
    /// use anomaly_xai::method::MethodSpec;
    /// assert_eq!(MethodSpec::lrp_deviation(RootPoint::Reconstruction).label(), "LRP deviation (reconstruction)");
    /// assert_eq!(MethodSpec::lrp_deviation(RootPoint::Baseline).label(), "LRP deviation (train mean)");
    /// ```
    pub fn lrp_deviation(root: RootPoint) -> Self {
        let spec = MethodSpec::lrp(Preset::Deviation {
            eps: DEVIATION_EPSILON,
            root,
        });
        match root {
            RootPoint::Baseline => spec.baseline(BaselineSpec::FeatureMeans),
            RootPoint::Reconstruction => spec,
        }
    }

    /// Explaining the error in `norm` instead of the pipeline's norm (same cells).
    pub fn norm(mut self, norm: ErrorNorm) -> Self {
        self.norm = Some(norm);
        self
    }

    /// With the reference input `baseline`.
    pub fn baseline(mut self, baseline: BaselineSpec) -> Self {
        self.baseline = baseline;
        self
    }

    /// Repeated with these seeds.
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }

    /// The label in tables: the one given with [`MethodSpec::labelled`], or one made from
    /// the settings ("Kernel SHAP 200 (zero)", "Residual L1", "LRP (LstmDefault)",
    /// "LRP deviation (reconstruction)", "LRP deviation (train mean)", "Deviation from
    /// normal (no detector)").
    pub fn label(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        let label = match &self.method {
            Method::Residual => return format!("Residual {}", self.norm.unwrap_or_default()),
            Method::Attention => "Attention".into(),
            Method::Lrp {
                preset: Preset::Deviation { eps, root },
            } => {
                let from = match root {
                    RootPoint::Reconstruction => "reconstruction".to_string(),
                    RootPoint::Baseline => describe(&self.baseline),
                };
                if *eps == DEVIATION_EPSILON {
                    format!("LRP deviation ({from})")
                } else {
                    format!("LRP deviation ε {eps} ({from})")
                }
            }
            Method::Lrp { preset } => format!("LRP ({preset:?})"),
            Method::Attrib(m @ crate::attrib::MethodSpec::Deviation(_)) => match &self.baseline {
                BaselineSpec::FeatureMeans => format!("{} (no detector)", m.label()),
                b => format!("{} (no detector, {})", m.label(), describe(b)),
            },
            Method::Attrib(m) if self.uses_baseline() => {
                format!("{} ({})", m.label(), describe(&self.baseline))
            }
            Method::Attrib(m) => m.label(),
        };
        match self.norm {
            Some(n) => format!("{label}, {n} error"),
            None => label,
        }
    }

    /// With this label in tables instead of the one made from the settings.
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Whether the method compares the input with [`MethodSpec::baseline`]: a deviation
    /// LRP from a given reference point (`deviation:baseline`) takes it as that point.
    pub fn uses_baseline(&self) -> bool {
        match &self.method {
            Method::Lrp { preset } => preset.root() == Some(RootPoint::Baseline),
            Method::Attrib(m) => !matches!(
                m,
                crate::attrib::MethodSpec::Saliency(_)
                    | crate::attrib::MethodSpec::InputXGradient(_)
                    | crate::attrib::MethodSpec::FeaturePermutation(_)
            ),
            _ => false,
        }
    }

    /// Whether results depend on a random seed.
    pub fn is_stochastic(&self) -> bool {
        matches!(&self.method, Method::Attrib(m) if m.seed().is_some())
    }

    /// One spec per run: one per seed for a stochastic method with seeds, else itself.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when a deterministic method is given seeds, or more than
    /// [`MethodSpec::MAX_SEEDS`].
    pub fn runs(&self) -> Result<Vec<MethodSpec>> {
        if self.seeds.len() > MethodSpec::MAX_SEEDS {
            return Err(Error::InvalidSetting {
                setting: "seeds",
                value: format!("{} seeds for {}", self.seeds.len(), self.label()),
                rule: format!(
                    "must be at most {} (each seed is a whole run of the method)",
                    MethodSpec::MAX_SEEDS
                ),
            });
        }
        match &self.method {
            _ if self.seeds.is_empty() => Ok(vec![self.clone()]),
            Method::Attrib(m) if m.seed().is_some() => Ok(self
                .seeds
                .iter()
                .map(|&s| MethodSpec {
                    method: Method::Attrib(m.with_seed(s)),
                    seeds: Vec::new(),
                    ..self.clone()
                })
                .collect()),
            _ => Err(Error::InvalidSetting {
                setting: "seeds",
                value: format!("{:?} for {}", self.seeds, self.label()),
                rule: "only methods that draw random numbers take seeds".into(),
            }),
        }
    }

    /// The method's own seed, for a stochastic method.
    pub fn seed(&self) -> Option<u64> {
        match &self.method {
            Method::Attrib(m) => m.seed(),
            _ => None,
        }
    }

    /// What the detector of `ctx` lacks for this method, if anything: gradients (the
    /// gradient methods), a layer list (LRP), an attention model (the attention read-out).
    /// [`MethodSpec::prepare`] refuses a method for this reason, and
    /// [`crate::defaults::for_detector`] leaves it out with it.
    pub fn missing_capability(&self, ctx: &Context<'_>) -> Option<&'static str> {
        match &self.method {
            Method::Attrib(m)
                if m.family() == Family::Gradient && !ctx.detector.differentiable() =>
            {
                Some("gradients (the detector is not differentiable)")
            }
            Method::Lrp { .. } if ctx.detector.layer_model().is_none() => {
                Some("a layer list (LRP walks the detector's layers)")
            }
            Method::Attention if ctx.attention.is_none() => {
                Some("an attention model (Context::attention)")
            }
            _ => None,
        }
    }

    /// Checks the method against `ctx` and resolves its baseline, so that many batches
    /// can be explained without redoing either.
    ///
    /// `batching` replaces the method's own batching settings when given (a pipeline that
    /// draws its own progress bar silences the methods'). `mask` is the pipeline's grouping
    /// of input cells, used by the perturbation methods that perturb groups (Feature
    /// Ablation, Feature Permutation, Shapley Value Sampling, Kernel SHAP); Occlusion
    /// slides its own window, and gradient methods, LRP and the read-outs attribute every
    /// cell.
    ///
    /// # Errors
    /// [`Error::MissingCapability`] naming the method and what the detector lacks
    /// (gradients, layers, an attention model); [`Error::MissingTrainingData`] for a
    /// baseline built from training windows without any.
    pub fn prepare(
        &self,
        ctx: &Context<'_>,
        error: &ExplainedError,
        batching: Option<Batching>,
        mask: Option<&FeatureMask>,
    ) -> Result<PreparedMethod> {
        let missing = |what: &str| Error::MissingCapability {
            method: self.label(),
            detector: ctx.detector.describe(),
            missing: what.to_string(),
        };
        let method = match (&self.method, batching) {
            (Method::Attrib(m), Some(b)) => Method::Attrib(m.with_batching(b)?),
            (m, _) => m.clone(),
        };
        // Which methods perturb the pipeline's groups: every perturbation method but
        // Occlusion, which slides its own window.
        let grouped = matches!(&method, Method::Attrib(m)
            if m.family() == Family::Perturbation
                && !matches!(m, crate::attrib::MethodSpec::Occlusion(_)));
        if let Some(what) = self.missing_capability(ctx) {
            return Err(missing(what));
        }
        let baseline = match &self.baseline {
            _ if !self.uses_baseline() => Baseline::Zero,
            BaselineSpec::Zero => Baseline::Zero,
            BaselineSpec::Constant(c) => Baseline::Constant(*c),
            spec => spec.build(ctx.train.ok_or(Error::MissingTrainingData {
                method: self.label(),
            })?)?,
        };
        let error = ExplainedError {
            norm: self.norm.unwrap_or(error.norm),
            cells: error.cells.clone(),
        };
        let lrp = match &method {
            Method::Lrp { preset } => Some(Lrp::new(error.clone(), *preset)?),
            _ => None,
        };
        // The explained cells are checked against the detector here, not at the first batch.
        ErrorScorer::new(ctx.detector, error.clone())?;
        Ok(PreparedMethod {
            spec: MethodSpec {
                method,
                ..self.clone()
            },
            error,
            request: Request {
                baseline,
                mask: if grouped { mask.cloned() } else { None },
            },
            lrp,
        })
    }
}

/// A short description of a baseline for labels.
fn describe(b: &BaselineSpec) -> String {
    match b {
        BaselineSpec::Zero => "zero".to_string(),
        BaselineSpec::Constant(c) => format!("{c}"),
        BaselineSpec::FeatureMeans => "train mean".to_string(),
        BaselineSpec::SampleMeans => "train window mean".to_string(),
        BaselineSpec::Background { n } => format!("{n} train windows"),
    }
}

/// What is explained, and the data that baselines and comparisons come from.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The detector whose error is explained.
    pub detector: &'a dyn Detector,
    /// An attention model trained on the same data, for [`Method::Attention`].
    pub attention: Option<&'a AttentionLstmAe>,
    /// Training samples `[N, ..]`, for baselines built from training data (feature means,
    /// background sets).
    pub train: Option<&'a Tensor>,
    /// Normal samples `[N, ..]` the training never fitted (e.g. its validation part):
    /// pipelines compare explanations with theirs, and Feature Permutation draws its
    /// replacement values from them.
    pub reference: Option<&'a Tensor>,
}

impl<'a> Context<'a> {
    /// A context of `detector` alone (no attention model, no training or reference data).
    pub fn new(detector: &'a dyn Detector) -> Self {
        Context {
            detector,
            attention: None,
            train: None,
            reference: None,
        }
    }
}

/// A [`MethodSpec`] checked against a [`Context`], with its baseline resolved.
#[derive(Debug)]
pub struct PreparedMethod {
    spec: MethodSpec,
    error: ExplainedError,
    request: Request,
    lrp: Option<Lrp>,
}

impl PreparedMethod {
    /// The method's settings (with the pipeline's batching).
    pub fn spec(&self) -> &MethodSpec {
        &self.spec
    }

    /// The explained error.
    pub fn error(&self) -> &ExplainedError {
        &self.error
    }

    /// What every batch is explained with: the resolved baseline, and the pipeline's
    /// grouping for the perturbation methods that perturb groups (none for the others).
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The LRP of the explained error (in the spec's norm), for an LRP method.
    pub fn lrp(&self) -> Option<&Lrp> {
        self.lrp.as_ref()
    }

    /// Attributions `[B, ..]` of the explained error of the batch `x: [B, ..]`, with the
    /// detector and attention model of `ctx` (the context it was prepared with).
    ///
    /// # Errors
    /// The method's own errors, and [`Error::NothingExplained`] when every attribution
    /// of a non-empty batch is exactly 0 (the same rule for every method), naming the
    /// largest explained error of the batch.
    pub fn explain(&self, ctx: &Context<'_>, x: &Tensor) -> Result<Tensor> {
        let request = &self.request;
        let scorer = ErrorScorer::new(ctx.detector, self.error.clone())?;
        let a = match &self.spec.method {
            Method::Attrib(m) => m.attribution().attribute(&scorer, x, request)?,
            Method::Residual => Residual::new(self.error.norm).attribute(&scorer, x, request)?,
            Method::Attention => {
                let att = ctx.attention.ok_or_else(|| Error::MissingCapability {
                    method: self.spec.label(),
                    detector: ctx.detector.describe(),
                    missing: "an attention model (Context::attention)".into(),
                })?;
                AttentionReadout.attribute(
                    &ErrorScorer::new(att, self.error.clone())?,
                    x,
                    request,
                )?
            }
            Method::Lrp { .. } => {
                let (lrp, ae) = self
                    .lrp
                    .as_ref()
                    .zip(ctx.detector.layer_model())
                    .ok_or_else(|| Error::MissingCapability {
                        method: self.spec.label(),
                        detector: ctx.detector.describe(),
                        missing: "a layer list (LRP walks the detector's layers)".into(),
                    })?;
                Attribution::<dyn LayerModel>::attribute(lrp, ae, x, request)?
            }
        };
        if a.scores.numel() > 0 && a.scores.f_abs()?.f_max()?.f_double_value(&[])? == 0.0 {
            let max_error = scorer.score(x)?.f_max()?.f_double_value(&[])?;
            return Err(Error::NothingExplained {
                method: self.spec.label(),
                samples: x.size().first().copied().unwrap_or(0) as usize,
                max_error,
            });
        }
        Ok(a.scores)
    }
}
