//! One serialisable list of the scorer-generic methods: a run configuration names its
//! methods and their settings with it, and every harness builds them from it.

use serde::{Deserialize, Serialize};

use crate::attribution::{Attribution, Family};
use crate::deviation::Deviation;
use crate::error::Result;
use crate::gradient::gradient_shap::GradientShap;
use crate::gradient::input_x_gradient::InputXGradient;
use crate::gradient::integrated_gradients::IntegratedGradients;
use crate::gradient::saliency::Saliency;
use crate::params::Batching;
use crate::perturbation::ablation::FeatureAblation;
use crate::perturbation::kernel_shap::KernelShap;
use crate::perturbation::occlusion::Occlusion;
use crate::perturbation::permutation::FeaturePermutation;
use crate::perturbation::shapley_sampling::ShapleyValueSampling;
use crate::scorer::Scorer;

/// Any scorer-generic method with its checked settings. In JSON a spec is
/// `{"<method name>": {settings}}`, e.g. `{"occlusion": {"window": [50, 1]}}`, checked
/// when it is read. (The residual and the attention read-out explain a detector rather
/// than a scorer, and LRP walks layers; pipelines list them beside these.) [`Deviation`]
/// evaluates no model; it is listed here so that it runs through the same path as the
/// methods it is compared with.
///
/// ```
/// use xai_attrib::{Attribution, MethodSpec, Scorer};
/// let specs: Vec<MethodSpec> = serde_json::from_str(
///     r#"[{"kernel_shap": {"n_samples": 100}}, {"occlusion": {"window": [50, 1]}}, {"saliency": {}}]"#,
/// ).unwrap();
/// assert_eq!(specs[1].name(), "occlusion");
/// assert_eq!(specs[0].label(), "Kernel SHAP 100");
/// assert!(serde_json::from_str::<MethodSpec>(r#"{"kernel_shap": {"n_samples": 1}}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodSpec {
    /// [`crate::Saliency`].
    Saliency(Saliency),
    /// [`crate::InputXGradient`].
    InputXGradient(InputXGradient),
    /// [`crate::IntegratedGradients`].
    IntegratedGradients(IntegratedGradients),
    /// [`crate::GradientShap`].
    GradientShap(GradientShap),
    /// [`crate::FeatureAblation`].
    FeatureAblation(FeatureAblation),
    /// [`crate::Occlusion`].
    Occlusion(Occlusion),
    /// [`crate::FeaturePermutation`].
    FeaturePermutation(FeaturePermutation),
    /// [`crate::ShapleyValueSampling`].
    ShapleyValueSampling(ShapleyValueSampling),
    /// [`crate::KernelShap`].
    KernelShap(KernelShap),
    /// [`crate::Deviation`].
    Deviation(Deviation),
}

/// Runs `$body` with `$m` bound to the method of any variant that evaluates a model (all
/// but [`Deviation`], which has no batching settings), `$other` for the deviation.
macro_rules! each {
    ($spec:expr, $m:ident => $body:expr, $dev:ident => $other:expr) => {
        match $spec {
            MethodSpec::Deviation($dev) => $other,
            MethodSpec::Saliency($m) => $body,
            MethodSpec::InputXGradient($m) => $body,
            MethodSpec::IntegratedGradients($m) => $body,
            MethodSpec::GradientShap($m) => $body,
            MethodSpec::FeatureAblation($m) => $body,
            MethodSpec::Occlusion($m) => $body,
            MethodSpec::FeaturePermutation($m) => $body,
            MethodSpec::ShapleyValueSampling($m) => $body,
            MethodSpec::KernelShap($m) => $body,
        }
    };
}

impl MethodSpec {
    /// The method, ready to attribute any scorer.
    pub fn attribution<S: Scorer + ?Sized>(&self) -> &dyn Attribution<S> {
        each!(self, m => m as &dyn Attribution<S>, m => m as &dyn Attribution<S>)
    }

    /// The method's stable name ("occlusion", "kernel_shap", ...).
    pub fn name(&self) -> &'static str {
        self.attribution::<dyn Scorer>().name()
    }

    /// The method's family.
    pub fn family(&self) -> Family {
        self.attribution::<dyn Scorer>().family()
    }

    /// A short label for tables, with the settings that distinguish variants
    /// ("Kernel SHAP 200", "Occlusion 50x1", "Integrated Gradients 50").
    pub fn label(&self) -> String {
        let dims = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join("x");
        match self {
            MethodSpec::Saliency(_) => "Saliency".into(),
            MethodSpec::InputXGradient(_) => "Input x Gradient".into(),
            MethodSpec::IntegratedGradients(m) => format!("Integrated Gradients {}", m.n_steps()),
            MethodSpec::GradientShap(m) => format!("Gradient SHAP {}", m.n_samples()),
            MethodSpec::FeatureAblation(_) => "Feature Ablation".into(),
            MethodSpec::Occlusion(m) if m.strides() == m.window() => {
                format!("Occlusion {}", dims(m.window()))
            }
            MethodSpec::Occlusion(m) => {
                format!("Occlusion {}/{}", dims(m.window()), dims(m.strides()))
            }
            MethodSpec::FeaturePermutation(_) => "Feature Permutation".into(),
            MethodSpec::ShapleyValueSampling(m) => {
                format!("Shapley Sampling {}", m.n_permutations())
            }
            MethodSpec::KernelShap(m) => format!("Kernel SHAP {}", m.n_samples()),
            MethodSpec::Deviation(m) => match m.norm() {
                ae_models::ErrorNorm::L1 => "Deviation from normal".into(),
                ae_models::ErrorNorm::SquaredL2 => "Deviation from normal L2".into(),
            },
        }
    }

    /// The seed of a method that draws random numbers; `None` for deterministic ones.
    pub fn seed(&self) -> Option<u64> {
        match self {
            MethodSpec::GradientShap(m) => Some(m.seed()),
            MethodSpec::FeaturePermutation(m) => Some(m.seed()),
            MethodSpec::ShapleyValueSampling(m) => Some(m.seed()),
            MethodSpec::KernelShap(m) => Some(m.seed()),
            _ => None,
        }
    }

    /// The same method with another seed (unchanged for deterministic methods).
    pub fn with_seed(&self, seed: u64) -> MethodSpec {
        match self {
            MethodSpec::GradientShap(m) => MethodSpec::GradientShap(m.with_seed(seed)),
            MethodSpec::FeaturePermutation(m) => MethodSpec::FeaturePermutation(m.with_seed(seed)),
            MethodSpec::ShapleyValueSampling(m) => {
                MethodSpec::ShapleyValueSampling(m.with_seed(seed))
            }
            MethodSpec::KernelShap(m) => MethodSpec::KernelShap(m.with_seed(seed)),
            other => other.clone(),
        }
    }

    /// The batching settings; the default ones for [`Deviation`], which evaluates no model
    /// and so has none.
    pub fn batching(&self) -> Batching {
        each!(self, m => m.batching(), _m => Batching::default())
    }

    /// The same method with other batching settings (checked); [`Deviation`] unchanged
    /// once they are checked.
    pub fn with_batching(&self, batching: Batching) -> Result<MethodSpec> {
        Ok(each!(
            self,
            m => m.with_batching(batching)?.into(),
            m => {
                batching.check("deviation")?;
                MethodSpec::Deviation(m.clone())
            }
        ))
    }
}

macro_rules! spec_from {
    ($($variant:ident),*) => {$(
        impl From<$variant> for MethodSpec {
            fn from(m: $variant) -> Self {
                MethodSpec::$variant(m)
            }
        }
    )*};
}

spec_from!(
    Saliency,
    InputXGradient,
    IntegratedGradients,
    GradientShap,
    FeatureAblation,
    Occlusion,
    FeaturePermutation,
    ShapleyValueSampling,
    KernelShap,
    Deviation
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::FnScorer;
    use tch::Tensor;

    type Toy = FnScorer<fn(&Tensor) -> Result<Tensor>>;

    #[test]
    fn every_spec_names_its_method_round_trips_and_bad_settings_fail_on_reading() {
        let specs: [(MethodSpec, &str); 10] = [
            (Saliency::default().into(), "saliency"),
            (InputXGradient::default().into(), "input_x_gradient"),
            (
                IntegratedGradients::default().into(),
                "integrated_gradients",
            ),
            (GradientShap::default().into(), "gradient_shap"),
            (FeatureAblation::default().into(), "feature_ablation"),
            (
                Occlusion::params().window([2]).check().unwrap().into(),
                "occlusion",
            ),
            (FeaturePermutation::default().into(), "feature_permutation"),
            (
                ShapleyValueSampling::default().into(),
                "shapley_value_sampling",
            ),
            (KernelShap::default().into(), "kernel_shap"),
            (Deviation::default().into(), "deviation"),
        ];
        for (spec, name) in specs {
            assert_eq!(spec.attribution::<Toy>().name(), name);
            assert_eq!(spec.name(), name);
            let json = serde_json::to_string(&spec).unwrap();
            assert!(json.starts_with(&format!("{{\"{name}\"")), "{json}");
            assert_eq!(serde_json::from_str::<MethodSpec>(&json).unwrap(), spec);
        }
        for bad in [
            r#"{"occlusion": {}}"#,
            r#"{"kernel_shap": {"n_samples": 1}}"#,
            r#"{"feature_ablation": {"batch_size": 0}}"#,
            r#"{"saliency": {"abs": true, "batch_sise": 8}}"#,
            r#"{"deviation": {"batch_size": 8}}"#,
        ] {
            let err = serde_json::from_str::<MethodSpec>(bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("window")
                    || err.contains("n_samples")
                    || err.contains("batch_size")
                    || err.contains("batch_sise"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn seeds_and_batching_reach_the_method() {
        let ks: MethodSpec = KernelShap::params().seed(3).check().unwrap().into();
        assert_eq!(ks.seed(), Some(3));
        assert_eq!(ks.with_seed(7).seed(), Some(7));
        assert_eq!(MethodSpec::from(Saliency::default()).seed(), None);
        let b = Batching {
            batch_size: 16,
            progress: false,
        };
        assert_eq!(ks.with_batching(b).unwrap().batching(), b);
        assert!(ks
            .with_batching(Batching {
                batch_size: 0,
                progress: false
            })
            .is_err());
        let occ: MethodSpec = Occlusion::params()
            .window([50, 1])
            .strides([50, 1])
            .check()
            .unwrap()
            .into();
        assert_eq!(occ.label(), "Occlusion 50x1");
    }
}
