//! The methods a [`Localizer`](super::Localizer) can run, as serialisable data.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attrib::{
    AttentionReadout, Attribution, Baseline, BaselineSpec, FeatureAblation, FeatureMask,
    FeaturePermutation, GradientShap, InputXGradient, IntegratedGradients, KernelShap, Norm,
    Occlusion, OutputSelection, ReconstructionError, Request, Residual, Saliency,
    ShapleyValueSampling,
};
use crate::localizer::{Detector, LocalizeError};
use crate::lrp::{Lrp, OutputSeed, Preset};
use crate::models::Autoencoder;

/// One explanation method and its settings. Every variant explains the detector's
/// reconstruction error (L1 unless the localizer says otherwise) of a batch of windows
/// `[W, T, F]` and returns cell attributions of the same shape.
///
/// Perturbation methods work on per-sensor groups (all time steps of one sensor are
/// perturbed together), so every cell of a sensor carries that sensor's attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum MethodSpec {
    /// Per-cell reconstruction error (`|x − x̂|` or `(x − x̂)²`): the baseline of both papers.
    Residual {
        /// The norm of the per-cell error.
        norm: Norm,
    },
    /// Occlusion with a sliding window of `steps` time steps × 1 sensor (`None`: the whole
    /// window, i.e. one occlusion per sensor).
    Occlusion {
        /// Time extent of the occluding patch; `None` for the whole window.
        steps: Option<i64>,
        /// Time stride of the patch; `None` for `steps` (non-overlapping patches).
        stride: Option<i64>,
        /// The reference values put in place of the occluded cells.
        baseline: BaselineSpec,
    },
    /// Feature ablation of each sensor (all its time steps) in turn.
    FeatureAblation {
        /// The reference values.
        baseline: BaselineSpec,
    },
    /// Feature permutation: each sensor shuffled across the batch of windows.
    FeaturePermutation {
        /// Seed of the shuffles.
        seed: u64,
    },
    /// Shapley value sampling over sensors.
    ShapleySampling {
        /// Random permutations per window.
        n_permutations: usize,
        /// Seed.
        seed: u64,
        /// The reference values.
        baseline: BaselineSpec,
    },
    /// Kernel SHAP over sensors.
    KernelShap {
        /// Coalitions (model evaluations) per window.
        n_samples: usize,
        /// Seed.
        seed: u64,
        /// The reference values or background set.
        baseline: BaselineSpec,
    },
    /// Integrated Gradients (Gauss-Legendre).
    IntegratedGradients {
        /// Quadrature points.
        n_steps: usize,
        /// The reference input.
        baseline: BaselineSpec,
    },
    /// Gradient SHAP.
    GradientShap {
        /// Noisy samples per window.
        n_samples: usize,
        /// Standard deviation of the input noise.
        stdevs: f64,
        /// Seed.
        seed: u64,
        /// The reference distribution.
        baseline: BaselineSpec,
    },
    /// Gradient magnitude.
    Saliency,
    /// Gradient times input.
    InputXGradient,
    /// The feature-attention weights of the attention model.
    Attention,
    /// LRP through the autoencoder with the Deep-Taylor reconstruction rule.
    Lrp {
        /// Which rule goes on which layer.
        preset: Preset,
    },
}

impl MethodSpec {
    /// The default set of paper 1 plus LRP, with settings that follow common practice:
    /// zero baselines (the per-sensor minimum of min-max scaled data), Kernel SHAP with
    /// `kernel_shap_samples` coalitions, 50 IG steps.
    pub fn paper_set(kernel_shap_samples: usize, shapley_permutations: usize) -> Vec<MethodSpec> {
        vec![
            MethodSpec::Residual { norm: Norm::L1 },
            MethodSpec::Residual { norm: Norm::L2 },
            MethodSpec::Occlusion {
                steps: None,
                stride: None,
                baseline: BaselineSpec::Zero,
            },
            MethodSpec::FeatureAblation {
                baseline: BaselineSpec::FeatureMeans,
            },
            MethodSpec::FeaturePermutation { seed: 0 },
            MethodSpec::ShapleySampling {
                n_permutations: shapley_permutations,
                seed: 0,
                baseline: BaselineSpec::Zero,
            },
            MethodSpec::KernelShap {
                n_samples: kernel_shap_samples,
                seed: 0,
                baseline: BaselineSpec::Zero,
            },
            MethodSpec::IntegratedGradients {
                n_steps: 50,
                baseline: BaselineSpec::Zero,
            },
            MethodSpec::GradientShap {
                n_samples: 20,
                stdevs: 0.0,
                seed: 0,
                baseline: BaselineSpec::Background { n: 64 },
            },
            MethodSpec::Saliency,
            MethodSpec::InputXGradient,
            MethodSpec::Attention,
            MethodSpec::Lrp {
                preset: Preset::LstmDefault,
            },
        ]
    }

    /// A short label for tables, with the settings that distinguish variants.
    pub fn label(&self) -> String {
        let b = |b: &BaselineSpec| match b {
            BaselineSpec::Zero => "zero".to_string(),
            BaselineSpec::Constant(c) => format!("{c}"),
            BaselineSpec::FeatureMeans => "train mean".to_string(),
            BaselineSpec::SampleMeans => "train window mean".to_string(),
            BaselineSpec::Background { n } => format!("{n} train windows"),
        };
        match self {
            MethodSpec::Residual { norm } => format!("Residual {norm:?}"),
            MethodSpec::Occlusion {
                steps: None,
                baseline,
                ..
            } => {
                format!("Occlusion ({})", b(baseline))
            }
            MethodSpec::Occlusion {
                steps: Some(s),
                stride,
                baseline,
            } => {
                format!("Occlusion {s}x1/{} ({})", stride.unwrap_or(*s), b(baseline))
            }
            MethodSpec::FeatureAblation { baseline } => {
                format!("Feature Ablation ({})", b(baseline))
            }
            MethodSpec::FeaturePermutation { .. } => "Feature Permutation".into(),
            MethodSpec::ShapleySampling {
                n_permutations,
                baseline,
                ..
            } => {
                format!("Shapley Sampling {n_permutations} ({})", b(baseline))
            }
            MethodSpec::KernelShap {
                n_samples,
                baseline,
                ..
            } => {
                format!("Kernel SHAP {n_samples} ({})", b(baseline))
            }
            MethodSpec::IntegratedGradients { n_steps, baseline } => {
                format!("Integrated Gradients {n_steps} ({})", b(baseline))
            }
            MethodSpec::GradientShap {
                n_samples,
                baseline,
                ..
            } => {
                format!("Gradient SHAP {n_samples} ({})", b(baseline))
            }
            MethodSpec::Saliency => "Saliency".into(),
            MethodSpec::InputXGradient => "Input x Gradient".into(),
            MethodSpec::Attention => "Attention".into(),
            MethodSpec::Lrp { preset } => format!("LRP ({preset:?})"),
        }
    }

    /// Whether results depend on a random seed (such methods are run with several seeds).
    pub fn is_stochastic(&self) -> bool {
        self.seed().is_some()
    }

    /// The method's seed, for stochastic methods.
    pub fn seed(&self) -> Option<u64> {
        match self {
            MethodSpec::FeaturePermutation { seed }
            | MethodSpec::ShapleySampling { seed, .. }
            | MethodSpec::KernelShap { seed, .. }
            | MethodSpec::GradientShap { seed, .. } => Some(*seed),
            _ => None,
        }
    }

    /// The same method with another seed (unchanged for deterministic methods).
    pub fn with_seed(&self, new: u64) -> MethodSpec {
        let mut m = self.clone();
        match &mut m {
            MethodSpec::FeaturePermutation { seed }
            | MethodSpec::ShapleySampling { seed, .. }
            | MethodSpec::KernelShap { seed, .. }
            | MethodSpec::GradientShap { seed, .. } => *seed = new,
            _ => {}
        }
        m
    }

    fn baseline_spec(&self) -> Option<&BaselineSpec> {
        match self {
            MethodSpec::Occlusion { baseline, .. }
            | MethodSpec::FeatureAblation { baseline }
            | MethodSpec::ShapleySampling { baseline, .. }
            | MethodSpec::KernelShap { baseline, .. }
            | MethodSpec::IntegratedGradients { baseline, .. }
            | MethodSpec::GradientShap { baseline, .. } => Some(baseline),
            _ => None,
        }
    }

    /// Checks the settings and resolves the baseline against the detector's training
    /// windows, once, so that many regions can be explained without redoing either.
    pub fn prepare(&self, det: &Detector<'_>) -> Result<PreparedMethod, LocalizeError> {
        let baseline = match self.baseline_spec() {
            None | Some(BaselineSpec::Zero) => Baseline::Zero,
            Some(BaselineSpec::Constant(c)) => Baseline::Constant(*c),
            Some(spec) => spec.build(det.train.ok_or(LocalizeError::MissingTrainingData {
                method: self.label(),
            })?)?,
        };
        if matches!(self, MethodSpec::Attention) && det.attention.is_none() {
            return Err(LocalizeError::MissingAttentionModel);
        }
        Ok(PreparedMethod {
            spec: self.clone(),
            baseline,
        })
    }
}

/// A [`MethodSpec`] with its baseline resolved; see [`MethodSpec::prepare`].
#[derive(Debug)]
pub struct PreparedMethod {
    spec: MethodSpec,
    baseline: Baseline,
}

fn copy_baseline(b: &Baseline) -> Baseline {
    match b {
        Baseline::Zero => Baseline::Zero,
        Baseline::Constant(c) => Baseline::Constant(*c),
        Baseline::Tensor(t) => Baseline::Tensor(t.shallow_clone()),
        Baseline::Distribution(t) => Baseline::Distribution(t.shallow_clone()),
    }
}

impl PreparedMethod {
    /// The method's settings.
    pub fn spec(&self) -> &MethodSpec {
        &self.spec
    }

    /// Cell attributions `[W, T, F]` of the reconstruction error (`norm`, restricted to
    /// `output`) of the windows `x: [W, T, F]`.
    pub fn explain(
        &self,
        det: &Detector<'_>,
        x: &Tensor,
        norm: Norm,
        output: &OutputSelection,
    ) -> Result<Tensor, LocalizeError> {
        let size = x.size();
        let (steps, sensors) = (size[1], size[2]);
        let grouped = || -> Result<Request, LocalizeError> {
            Ok(Request::with_baseline(copy_baseline(&self.baseline))
                .mask(FeatureMask::per_sensor(steps, sensors)?))
        };
        let plain = || Request::with_baseline(copy_baseline(&self.baseline));
        let scorer = ReconstructionError::new(det.model, norm).with_selection(output.clone())?;
        let a = match &self.spec {
            MethodSpec::Residual { norm } => {
                let s =
                    ReconstructionError::new(det.model, *norm).with_selection(output.clone())?;
                Residual::new(*norm).attribute(&s, x, &plain())?
            }
            MethodSpec::Occlusion {
                steps: patch,
                stride,
                ..
            } => {
                let w = patch.unwrap_or(steps).min(steps);
                let s = stride.unwrap_or(w);
                let occ = Occlusion::params().window([w, 1]).strides([s, 1]).check()?;
                occ.attribute(&scorer, x, &plain())?
            }
            MethodSpec::FeatureAblation { .. } => {
                FeatureAblation::params()
                    .check()?
                    .attribute(&scorer, x, &grouped()?)?
            }
            MethodSpec::FeaturePermutation { seed } => {
                // Permutation draws a sensor's replacement values from the other samples of
                // the batch. The few windows of one region are nearly copies of each other
                // (stride 1), so shuffling among them changes little; the normal reference
                // windows, when there are some, join the batch as the pool of replacement
                // values, and only the region's windows are kept.
                let n = size[0];
                let pool = match det.reference {
                    Some(r) => Tensor::f_cat(&[x, &r.f_to_device(x.device())?], 0)?,
                    None => x.shallow_clone(),
                };
                let fp = FeaturePermutation::params().seed(*seed).check()?;
                let mut a = fp.attribute(&scorer, &pool, &grouped()?)?;
                a.scores = a.scores.f_narrow(0, 0, n)?;
                a
            }
            MethodSpec::ShapleySampling {
                n_permutations,
                seed,
                ..
            } => ShapleyValueSampling::params()
                .n_permutations(*n_permutations)
                .seed(*seed)
                .check()?
                .attribute(&scorer, x, &grouped()?)?,
            MethodSpec::KernelShap {
                n_samples, seed, ..
            } => KernelShap::params()
                .n_samples(*n_samples)
                .seed(*seed)
                .check()?
                .attribute(&scorer, x, &grouped()?)?,
            MethodSpec::IntegratedGradients { n_steps, .. } => IntegratedGradients::params()
                .n_steps(*n_steps)
                .check()?
                .attribute(&scorer, x, &plain())?,
            MethodSpec::GradientShap {
                n_samples,
                stdevs,
                seed,
                ..
            } => GradientShap::params()
                .n_samples(*n_samples)
                .stdevs(*stdevs)
                .seed(*seed)
                .check()?
                .attribute(&scorer, x, &plain())?,
            MethodSpec::Saliency => Saliency::params()
                .check()?
                .attribute(&scorer, x, &plain())?,
            MethodSpec::InputXGradient => {
                InputXGradient::params()
                    .check()?
                    .attribute(&scorer, x, &plain())?
            }
            MethodSpec::Attention => {
                let att = det.attention.ok_or(LocalizeError::MissingAttentionModel)?;
                let s = ReconstructionError::new(att, norm).with_selection(output.clone())?;
                AttentionReadout.attribute(&s, x, &plain())?
            }
            MethodSpec::Lrp { preset } => {
                let seed = match norm {
                    Norm::L1 => OutputSeed::DeepTaylorL1,
                    Norm::L2 => OutputSeed::DeepTaylorL2,
                };
                let mut lrp = Lrp::new(seed, *preset)?;
                if let Some(steps) = &output.steps {
                    lrp = lrp.select(crate::lrp::Selection::steps(steps.clone()));
                }
                if let Some(features) = &output.features {
                    lrp = lrp.select(crate::lrp::Selection::features(features.clone()));
                }
                Attribution::<dyn Autoencoder>::attribute(&lrp, det.model, x, &plain())?
            }
        };
        Ok(a.scores)
    }
}
