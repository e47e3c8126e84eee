//! Paper 1's Table 1 as settings of the series pipeline: its methods and the columns it
//! reports, so that examples, benches and tests run the same set.

use crate::attrib::{
    BaselineSpec, FeatureAblation, FeaturePermutation, GradientShap, InputXGradient,
    IntegratedGradients, KernelShap, Occlusion, Saliency, ShapleyValueSampling,
};
use crate::error::Result;
use crate::lrp::{Preset, RootPoint};
use crate::method::MethodSpec;
use crate::metrics::{Protocol, RankMetric, Selection, SetScore};
use crate::models::ErrorNorm;

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
/// [`crate::Error::Attribution`] for settings a method rejects (e.g. 2 coalitions).
pub fn methods(
    window: i64,
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Vec<MethodSpec>> {
    let whole = || whole_sensor_occlusion(window);
    let mut m = vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::residual(ErrorNorm::L2),
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

/// Shapley Value Sampling (`shapley_permutations`) and Kernel SHAP (`kernel_shap_samples`
/// coalitions), each repeated with `seeds`, and Integrated Gradients (50 steps), with the
/// zero baseline: paper 1's settings, which [`methods`] runs as they are and
/// [`train_mean_variants`] with the training mean.
fn shapley_kernel_ig(
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<[MethodSpec; 3]> {
    Ok([
        MethodSpec::attrib(
            ShapleyValueSampling::params()
                .n_permutations(shapley_permutations)
                .check()?,
        )
        .seeds(seeds.iter().copied()),
        MethodSpec::attrib(
            KernelShap::params()
                .n_samples(kernel_shap_samples)
                .check()?,
        )
        .seeds(seeds.iter().copied()),
        MethodSpec::attrib(IntegratedGradients::params().n_steps(50).check()?),
    ])
}

/// The methods the main job runs by default: every method of [`methods`] and
/// [`train_mean_variants`] that beats the chance row on both kinds of system measured in
/// `docs/reproduction.md` (few independent sensors per fault; many correlated sensors per
/// fault, most of them labelled) and on the 15 shared SMD machines, under the default
/// normalization, with and without GT@120%'s positive filter, plus [`deviation_lrp`].
///
/// Left out, with the reason (numbers: GT@120% IoU with the positive filter, default
/// normalization, `docs/reproduction.md` §1c):
/// - the zero baseline (Occlusion, Shapley Value Sampling, Kernel SHAP, Integrated
///   Gradients): on min-max scaled data zero is each sensor's training minimum, so
///   `error(x) − error(0)` is negative for almost every sensor and the positive filter
///   drops them: 11 to 35 where a fault moves a correlated group (chance 40). The training
///   mean replaces it;
/// - Input × Gradient: `x · ∇`, the first-order term of `error(x) − error(0)`, so the same
///   zero baseline in disguise. It stays above chance, but barely: 15 against 8 on few
///   independent sensors (the methods kept score 37 to 49) and 48 against 40 on a
///   correlated group. Issue 18's held-out system of that kind put it below chance;
/// - Feature Ablation with the training mean: with one group per sensor it is the same
///   computation as whole-window Occlusion with the training mean (equal rows);
/// - Saliency: |gradient| carries no sign and measures sensitivity, not deviation. It is
///   at chance: 12 against 8, and 42 against 40;
/// - the attention read-out: where the model looks, not what deviates; below chance on
///   a correlated group (39 against 40) and on machine-1-2;
/// - LRP (`lstm-default`): follows the signal that is present, so a sensor that drops
///   gets less relevance. Below chance on a correlated group (37 against 40). Deviation
///   LRP, which is in the set, sees both signs.
///
/// # Errors
/// As [`methods`].
pub fn default_methods(
    window: i64,
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Vec<MethodSpec>> {
    let whole = || whole_sensor_occlusion(window);
    let mut m = vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::residual(ErrorNorm::L2),
        MethodSpec::attrib(whole()?).baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(FeaturePermutation::default()).seeds(seeds.iter().copied()),
        MethodSpec::attrib(GradientShap::params().n_samples(20).check()?)
            .baseline(BaselineSpec::Background { n: 64 })
            .seeds(seeds.iter().copied()),
    ];
    m.extend(train_mean_variants(
        kernel_shap_samples,
        shapley_permutations,
        seeds,
    )?);
    m.extend(deviation_lrp());
    Ok(m)
}

/// Deviation LRP (not in either paper) from each window's reconstruction and from the
/// training mean: relevance of the error's deviation from a root point, so a sensor that
/// drops counts as one that rises ([`MethodSpec::lrp_deviation`]).
pub fn deviation_lrp() -> [MethodSpec; 2] {
    [RootPoint::Reconstruction, RootPoint::Baseline].map(MethodSpec::lrp_deviation)
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

/// Occlusion of one sensor over the whole window at a time (paper 1's `50x1`).
fn whole_sensor_occlusion(window: i64) -> crate::attrib::Result<Occlusion> {
    Occlusion::params()
        .window([window, 1])
        .strides([window, 1])
        .check()
}

#[cfg(test)]
mod tests {
    use super::{default_methods, deviation_lrp, methods, train_mean_variants};

    #[test]
    fn the_default_set_is_paper_methods_without_the_ones_left_out() {
        let default = default_methods(50, 200, 5, &[0, 1]).unwrap();
        let mut all = methods(50, 200, 5, &[0, 1]).unwrap();
        all.extend(train_mean_variants(200, 5, &[0, 1]).unwrap());
        all.extend(deviation_lrp());
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
