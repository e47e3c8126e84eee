//! The methods every measurement runs, written with the facade's one method list, and the
//! runner that explains a batch of the reference model with each of them.
//!
//! Settings mirror the common defaults (and `xtask/bench/captum_bench.py`, which times
//! Captum on the same model, windows and settings): Occlusion with a window of one sensor
//! over the whole window, Feature Ablation and Feature Permutation per sensor, Shapley
//! Value Sampling with 25 permutations, Kernel SHAP with 1000 samples, all with a zero
//! baseline; Integrated Gradients with 50 steps and Gradient SHAP with 50 samples over a
//! background of 16 training windows, both without the convergence delta (Captum's
//! default); Saliency, Input × Gradient, the per-sensor residual and LRP
//! (`lstm-default` preset). All of them explain the mean L1 reconstruction error of each
//! window, as paper 1 does.

use anomaly_xai::attrib::{
    Attribution, Attributions, BaselineSpec, Batching, ErrorScorer, Family, FeatureAblation,
    FeatureMask, FeaturePermutation, GradientShap, InputXGradient, IntegratedGradients, KernelShap,
    Occlusion, Residual, Saliency, ShapleyValueSampling,
};
use anomaly_xai::lrp::Preset;
use anomaly_xai::method::{Context, Method, MethodSpec, PreparedMethod};
use anomaly_xai::models::{ErrorNorm, ExplainedError, LstmAe};
use anomaly_xai::{Error, Result};
use tch::{Device, Tensor};

use crate::reference::Size;
use crate::timing::Timed;

/// The settings of the methods that have any.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Integrated Gradients' steps.
    pub ig_steps: usize,
    /// Gradient SHAP's samples.
    pub gradient_shap_samples: usize,
    /// Training windows in Gradient SHAP's background set.
    pub background: i64,
    /// Shapley Value Sampling's permutations.
    pub permutations: usize,
    /// Kernel SHAP's samples.
    pub kernel_shap_samples: usize,
    /// Whether IG and Gradient SHAP also compute their convergence delta (2 extra forward
    /// passes per window for IG, 2 per sample for Gradient SHAP).
    pub convergence_delta: bool,
}

impl Settings {
    /// The common defaults, which Captum's bench takes too.
    pub const PAPER1: Settings = Settings {
        ig_steps: 50,
        gradient_shap_samples: 50,
        background: 16,
        permutations: 25,
        kernel_shap_samples: 1000,
        convergence_delta: false,
    };

    /// Cheap settings for smoke checks.
    pub const SMALL: Settings = Settings {
        ig_steps: 4,
        gradient_shap_samples: 4,
        background: 4,
        permutations: 2,
        kernel_shap_samples: 20,
        convergence_delta: false,
    };
}

/// Every method's stable name, in the order the harness runs them; `captum_bench.py` and
/// `compare.py` match rows on these names.
pub const NAMES: [&str; 11] = [
    "residual",
    "lrp",
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "gradient_shap",
    "feature_ablation",
    "occlusion",
    "feature_permutation",
    "shapley_value_sampling",
    "kernel_shap",
];

/// The stable name of a method ("occlusion", "residual", "lrp", ...).
pub fn name(spec: &MethodSpec) -> &'static str {
    match &spec.method {
        Method::Attrib(m) => m.name(),
        Method::Residual => "residual",
        Method::Attention => "attention",
        Method::Lrp { .. } => "lrp",
    }
}

/// The method list for a model of `size`, in the order of [`NAMES`].
///
/// # Errors
/// A method's own error for a setting it refuses (e.g. Kernel SHAP with 1 sample).
pub fn method_list(size: Size, s: &Settings) -> Result<Vec<MethodSpec>> {
    Ok(vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::lrp(Preset::LstmDefault),
        MethodSpec::attrib(Saliency::default()),
        MethodSpec::attrib(InputXGradient::default()),
        MethodSpec::attrib(
            IntegratedGradients::params()
                .n_steps(s.ig_steps)
                .convergence_delta(s.convergence_delta)
                .check()?,
        ),
        MethodSpec::attrib(
            GradientShap::params()
                .n_samples(s.gradient_shap_samples)
                .convergence_delta(s.convergence_delta)
                .check()?,
        )
        .baseline(BaselineSpec::Background { n: s.background }),
        MethodSpec::attrib(FeatureAblation::default()),
        MethodSpec::attrib(Occlusion::params().window([size.steps, 1]).check()?),
        MethodSpec::attrib(FeaturePermutation::default()),
        MethodSpec::attrib(
            ShapleyValueSampling::params()
                .n_permutations(s.permutations)
                .check()?,
        ),
        MethodSpec::attrib(
            KernelShap::params()
                .n_samples(s.kernel_shap_samples)
                .check()?,
        ),
    ])
}

/// What every method explains: the mean L1 reconstruction error of each window.
pub fn explained_error() -> ExplainedError {
    ExplainedError::new(ErrorNorm::L1)
}

/// The reference model with what its methods need: the timed scorer of its explained
/// error, the training windows baselines are built from, the per-sensor grouping and the
/// rows per model call.
pub struct Harness<'a> {
    model: &'a LstmAe,
    scorer: Timed<ErrorScorer<'a, LstmAe>>,
    train: &'a Tensor,
    mask: FeatureMask,
    batch_size: usize,
}

/// A method checked and prepared against the harness ([`MethodSpec::prepare`]).
pub struct Prepared {
    method: PreparedMethod,
}

impl Prepared {
    /// The method, with the harness's batching.
    pub fn spec(&self) -> &MethodSpec {
        self.method.spec()
    }

    /// The method's stable name.
    pub fn name(&self) -> &'static str {
        name(self.spec())
    }

    /// The method's family, as the method itself reports it.
    pub fn family(&self) -> Family {
        match (&self.spec().method, self.method.lrp()) {
            (Method::Attrib(m), _) => m.family(),
            (Method::Residual, _) => Attribution::<LstmAe>::family(&Residual::new(self.norm())),
            (_, Some(lrp)) => Attribution::<LstmAe>::family(lrp),
            _ => Family::Readout,
        }
    }

    /// The norm of the explained error: the spec's, else the harness's.
    fn norm(&self) -> ErrorNorm {
        self.method.error().norm
    }

    /// Whether the method explains the scorer (and so its scorer time is measured);
    /// the residual and LRP take the model itself.
    pub fn uses_scorer(&self) -> bool {
        matches!(self.spec().method, Method::Attrib(_))
    }
}

impl<'a> Harness<'a> {
    /// The harness of `model` (of `size`, on `device`) with training windows `train`
    /// and `batch_size` rows per model call.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a batch size of 0; the mask's error for a size it
    /// cannot group.
    pub fn new(
        model: &'a LstmAe,
        size: Size,
        device: Device,
        train: &'a Tensor,
        batch_size: usize,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::InvalidSetting {
                setting: "batch_size",
                value: "0".into(),
                rule: "must be at least 1".into(),
            });
        }
        Ok(Harness {
            model,
            scorer: Timed::new(ErrorScorer::new(model, explained_error())?, device),
            train,
            mask: FeatureMask::per_sensor(size.steps, size.sensors)?,
            batch_size,
        })
    }

    /// The model.
    pub fn model(&self) -> &'a LstmAe {
        self.model
    }

    /// The rows per model call.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Seconds the methods spent in the scorer since the last call.
    pub fn take_scorer_seconds(&self) -> f64 {
        self.scorer.take()
    }

    /// Checks and prepares `spec` as the pipelines do ([`MethodSpec::prepare`]:
    /// capabilities, settings, the explained cells, the baseline for the methods that use
    /// one, the per-sensor grouping for the perturbation methods that perturb groups),
    /// with the harness's batch size and no progress bar.
    ///
    /// # Errors
    /// The facade's error for a method the model cannot serve or a bad setting.
    pub fn prepare(&self, spec: &MethodSpec) -> Result<Prepared> {
        let ctx = Context {
            train: Some(self.train),
            ..Context::new(self.model)
        };
        let batching = Batching {
            batch_size: self.batch_size,
            progress: false,
        };
        Ok(Prepared {
            method: spec.prepare(&ctx, &explained_error(), Some(batching), Some(&self.mask))?,
        })
    }

    /// Explains the batch `x: [W, steps, sensors]` with a prepared method: the
    /// scorer-generic methods through the harness's timed scorer, the residual and LRP
    /// through the model.
    ///
    /// # Errors
    /// The method's error.
    pub fn attribute(&self, method: &Prepared, x: &Tensor) -> Result<Attributions> {
        let req = method.method.request();
        Ok(match (&method.spec().method, method.method.lrp()) {
            (Method::Attrib(m), _) => m.attribution().attribute(&self.scorer, x, req)?,
            (Method::Residual, _) => Residual::new(method.norm()).attribute(self.model, x, req)?,
            (Method::Lrp { .. }, Some(lrp)) => lrp.attribute(self.model, x, req)?,
            _ => {
                return Err(Error::MissingCapability {
                    method: method.spec().label(),
                    detector: "the bench harness".into(),
                    missing: "an attention model".into(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{model, noise_windows};

    #[test]
    fn the_list_holds_every_method_once_in_the_order_of_the_names() {
        let list = method_list(Size::PAPER1, &Settings::PAPER1).unwrap();
        let names: Vec<&str> = list.iter().map(name).collect();
        assert_eq!(names, NAMES);
        assert_eq!(list[7].label(), "Occlusion 50x1/1x1 (zero)");
        assert_eq!(list[10].label(), "Kernel SHAP 1000 (zero)");
        assert_eq!(list[5].label(), "Gradient SHAP 50 (16 train windows)");
    }

    #[test]
    fn every_method_explains_the_small_model_and_reports_its_evaluations() {
        let size = Size::SMALL;
        let ae = model(size, Device::Cpu).unwrap();
        let x = noise_windows(size, 2, 1, Device::Cpu).unwrap();
        let train = noise_windows(size, 6, 2, Device::Cpu).unwrap();
        let h = Harness::new(&ae, size, Device::Cpu, &train, 16).unwrap();
        for spec in method_list(size, &Settings::SMALL).unwrap() {
            let m = h.prepare(&spec).unwrap();
            if let Method::Attrib(a) = &m.spec().method {
                assert_eq!(a.batching().batch_size, 16, "{}", m.name());
            }
            h.take_scorer_seconds();
            let a = h.attribute(&m, &x).unwrap();
            let in_scorer = h.take_scorer_seconds();
            assert_eq!(a.scores.size(), vec![2, 8, 5], "{}", m.name());
            assert!(a.forward_evals >= 1, "{}", m.name());
            let gradient =
                matches!(&spec.method, Method::Attrib(s) if s.family() == Family::Gradient);
            assert_eq!(
                a.backward_evals >= 1,
                gradient || m.name() == "lrp",
                "{}",
                m.name()
            );
            assert_eq!(in_scorer > 0.0, m.uses_scorer(), "{}", m.name());
        }
        assert!(Harness::new(&ae, size, Device::Cpu, &train, 0).is_err());
    }
}
