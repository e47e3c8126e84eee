//! A serialisable choice of method and settings, for run configurations that list the
//! methods to compare.

use serde::{Deserialize, Serialize};

use crate::attribution::Attribution;
use crate::error::Result;
use crate::gradient::gradient_shap::GradientShapParams;
use crate::gradient::input_x_gradient::InputXGradientParams;
use crate::gradient::integrated_gradients::IntegratedGradientsParams;
use crate::gradient::saliency::SaliencyParams;
use crate::perturbation::ablation::FeatureAblationParams;
use crate::perturbation::kernel_shap::KernelShapParams;
use crate::perturbation::occlusion::OcclusionParams;
use crate::perturbation::permutation::FeaturePermutationParams;
use crate::perturbation::shapley_sampling::ShapleyValueSamplingParams;
use crate::scorer::Scorer;

/// Any scorer-generic method with its (unchecked) settings; [`MethodSpec::build`] checks
/// them. In JSON a spec is `{"<method name>": {settings}}`, e.g.
/// `{"occlusion": {"window": [50, 1]}}`. (The residual and the attention read-out explain
/// a model rather than a scorer and are built directly.)
///
/// ```
/// use xai_attrib::{Attribution, MethodSpec, Scorer};
/// let specs: Vec<MethodSpec> = serde_json::from_str(
///     r#"[{"kernel_shap": {"n_samples": 100}}, {"occlusion": {"window": [50, 1]}}, {"saliency": {}}]"#,
/// ).unwrap();
/// let methods: Vec<Box<dyn Attribution<dyn Scorer>>> =
///     specs.iter().map(MethodSpec::build).collect::<Result<_, _>>()?;
/// assert_eq!(methods[1].name(), "occlusion");
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodSpec {
    /// [`crate::Saliency`].
    Saliency(SaliencyParams),
    /// [`crate::InputXGradient`].
    InputXGradient(InputXGradientParams),
    /// [`crate::IntegratedGradients`].
    IntegratedGradients(IntegratedGradientsParams),
    /// [`crate::GradientShap`].
    GradientShap(GradientShapParams),
    /// [`crate::FeatureAblation`].
    FeatureAblation(FeatureAblationParams),
    /// [`crate::Occlusion`].
    Occlusion(OcclusionParams),
    /// [`crate::FeaturePermutation`].
    FeaturePermutation(FeaturePermutationParams),
    /// [`crate::ShapleyValueSampling`].
    ShapleyValueSampling(ShapleyValueSamplingParams),
    /// [`crate::KernelShap`].
    KernelShap(KernelShapParams),
}

impl MethodSpec {
    /// Checks the settings and builds the method for scorers of type `S`.
    pub fn build<S: Scorer + ?Sized>(&self) -> Result<Box<dyn Attribution<S>>> {
        Ok(match self {
            MethodSpec::Saliency(p) => Box::new(p.check()?),
            MethodSpec::InputXGradient(p) => Box::new(p.check()?),
            MethodSpec::IntegratedGradients(p) => Box::new(p.check()?),
            MethodSpec::GradientShap(p) => Box::new(p.check()?),
            MethodSpec::FeatureAblation(p) => Box::new(p.check()?),
            MethodSpec::Occlusion(p) => Box::new(p.check()?),
            MethodSpec::FeaturePermutation(p) => Box::new(p.check()?),
            MethodSpec::ShapleyValueSampling(p) => Box::new(p.check()?),
            MethodSpec::KernelShap(p) => Box::new(p.check()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::FnScorer;
    use tch::Tensor;

    type Toy = FnScorer<fn(&Tensor) -> Result<Tensor>>;

    #[test]
    fn every_spec_builds_the_method_it_names_and_bad_settings_fail() {
        let specs = [
            (MethodSpec::Saliency(SaliencyParams::default()), "saliency"),
            (
                MethodSpec::InputXGradient(InputXGradientParams::default()),
                "input_x_gradient",
            ),
            (
                MethodSpec::IntegratedGradients(IntegratedGradientsParams::default()),
                "integrated_gradients",
            ),
            (
                MethodSpec::GradientShap(GradientShapParams::default()),
                "gradient_shap",
            ),
            (
                MethodSpec::FeatureAblation(FeatureAblationParams::default()),
                "feature_ablation",
            ),
            (
                MethodSpec::Occlusion(OcclusionParams::default().window([2])),
                "occlusion",
            ),
            (
                MethodSpec::FeaturePermutation(FeaturePermutationParams::default()),
                "feature_permutation",
            ),
            (
                MethodSpec::ShapleyValueSampling(ShapleyValueSamplingParams::default()),
                "shapley_value_sampling",
            ),
            (
                MethodSpec::KernelShap(KernelShapParams::default()),
                "kernel_shap",
            ),
        ];
        for (spec, name) in specs {
            assert_eq!(spec.build::<Toy>().unwrap().name(), name);
            let json = serde_json::to_string(&spec).unwrap();
            assert!(json.starts_with(&format!("{{\"{name}\"")), "{json}");
            assert_eq!(serde_json::from_str::<MethodSpec>(&json).unwrap(), spec);
        }
        let bad = MethodSpec::Occlusion(OcclusionParams::default());
        assert!(bad.build::<Toy>().is_err());
    }
}
