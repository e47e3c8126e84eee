//! Paper 1's Table 1 as settings of the series pipeline: its methods and the columns it
//! reports, so that examples, benches and tests run the same set. The library's default
//! set, a subset of these with the reasons for each choice, is
//! [`anomaly_xai::defaults::methods`].

use anomaly_xai::attrib::{
    BaselineSpec, FeatureAblation, FeaturePermutation, GradientShap, InputXGradient, Saliency,
};
use anomaly_xai::defaults::{shapley_kernel_ig, whole_sensor_occlusion};
use anomaly_xai::lrp::Preset;
use anomaly_xai::method::MethodSpec;
use anomaly_xai::metrics::{Protocol, RankMetric, Selection, SetScore};
use anomaly_xai::models::ErrorNorm;
use anomaly_xai::Result;

/// The methods of paper 1's Table 1 plus LRP, for windows of `window` steps, each
/// stochastic one repeated with `seeds`: the residual (L1, L2), whole-window Occlusion
/// per sensor (zero and training-mean baselines), Feature Ablation (training mean),
/// Feature Permutation, Shapley Value Sampling (`shapley_permutations`, zero), Kernel
/// SHAP (`kernel_shap_samples` coalitions, zero), Integrated Gradients (50 steps, zero),
/// Gradient SHAP (20 draws from 64 training windows), Saliency, Input × Gradient, the
/// attention read-out and LRP (`lstm-default`).
///
/// The zero baseline is each sensor's training minimum on min-max scaled data.
///
/// # Errors
/// [`anomaly_xai::Error::Attribution`] for settings a method rejects (e.g. 2 coalitions).
pub fn methods(
    window: i64,
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Vec<MethodSpec>> {
    let whole = || whole_sensor_occlusion(window);
    let mut m = vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::residual(ErrorNorm::SquaredL2),
        MethodSpec::attrib(whole()?),
        MethodSpec::attrib(whole()?).baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(FeaturePermutation::default()).seeds(seeds.iter().copied()),
    ];
    m.extend(shapley_kernel_ig(
        kernel_shap_samples,
        shapley_permutations,
        seeds,
    )?);
    m.extend([
        MethodSpec::attrib(GradientShap::params().n_samples(20).check()?)
            .baseline(BaselineSpec::Background { n: 64 })
            .seeds(seeds.iter().copied()),
        MethodSpec::attrib(Saliency::default()),
        MethodSpec::attrib(InputXGradient::default()),
        MethodSpec::attention(),
        MethodSpec::lrp(Preset::LstmDefault),
    ]);
    Ok(m)
}

/// The reference-taking methods of [`methods`] that paper 1 ran with a zero baseline,
/// with the training mean as baseline instead: Shapley Value Sampling, Kernel SHAP and
/// Integrated Gradients (Occlusion and Feature Ablation with the training mean are in
/// [`methods`] already). On min-max scaled data zero is each sensor's training minimum,
/// a point the detector never saw as normal for most sensors; the training mean is.
///
/// # Errors
/// As [`methods`].
pub fn train_mean_variants(
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Vec<MethodSpec>> {
    Ok(
        shapley_kernel_ig(kernel_shap_samples, shapley_permutations, seeds)?
            .map(|m| m.baseline(BaselineSpec::FeatureMeans))
            .into(),
    )
}

/// The columns reported: paper 1's three strategies × IoU/F1/Acc, GT@120% without the
/// positive filter, and HitRate/NDCG@150%.
pub fn protocol() -> Protocol {
    Protocol::new(
        vec![
            Selection::GT_120,
            Selection::GT_120_UNFILTERED,
            Selection::AT_80,
            Selection::AT_5,
        ],
        SetScore::PAPER.to_vec(),
        vec![RankMetric::HIT_150, RankMetric::NDCG_150],
    )
}

#[cfg(test)]
mod tests {
    use super::{methods, train_mean_variants};
    use anomaly_xai::defaults;

    #[test]
    fn the_default_set_is_paper_methods_without_the_ones_left_out() {
        let default = defaults::methods(50, 200, 5, &[0, 1]).unwrap();
        let mut all = methods(50, 200, 5, &[0, 1]).unwrap();
        all.extend(train_mean_variants(200, 5, &[0, 1]).unwrap());
        all.extend(defaults::deviation_lrp());
        for m in &default {
            assert!(
                all.contains(m),
                "{} is not one of paper 1's methods",
                m.label()
            );
            let label = m.label();
            for left_out in [
                "(zero)",
                "Saliency",
                "Input x Gradient",
                "Attention",
                "LRP (",
                "Feature Ablation",
            ] {
                assert!(!label.contains(left_out), "{label} is left out by design");
            }
        }
        assert_eq!(default.len(), 10);
    }
}
