//! The methods the library runs when a user names none: [`methods`], with the reasons for
//! what is in it and what is left out, [`for_detector`], the part of it that one detector
//! can serve, and the building blocks it shares with paper 1's
//! full list (the reproduction package's `paper1::methods`).

use crate::attrib::{
    BaselineSpec, FeaturePermutation, GradientShap, IntegratedGradients, KernelShap, Occlusion,
    ShapleyValueSampling,
};
use crate::error::Result;
use crate::lrp::RootPoint;
use crate::method::{Context, MethodSpec};
use crate::models::{Detector, ErrorNorm};
use serde::{Deserialize, Serialize};

/// The methods the main job runs by default: every method of paper 1's Table 1 (and its
/// training-mean variants) that beats the chance row on both kinds of system measured in
/// `docs/reproduction/regimes.md` (few independent sensors per fault; many correlated
/// sensors per fault, most of them labelled) and on the 15 shared SMD machines, under the
/// default normalization, with and without GT@120%'s positive filter, plus
/// [`deviation_lrp`]: the residual (L1, L2), whole-window Occlusion per sensor with the
/// training mean, Feature Permutation, Gradient SHAP (20 draws from 64 training windows),
/// Shapley Value Sampling (`shapley_permutations`), Kernel SHAP (`kernel_shap_samples`
/// coalitions) and Integrated Gradients (50 steps) with the training mean, and deviation
/// LRP. Each stochastic method is repeated with `seeds`.
///
/// Left out, with the reason (numbers: GT@120% IoU with the positive filter, default
/// normalization, `docs/reproduction/regimes.md`):
/// - the zero baseline (Occlusion, Shapley Value Sampling, Kernel SHAP, Integrated
///   Gradients): on min-max scaled data zero is each sensor's training minimum, so
///   `error(x) − error(0)` is negative for almost every sensor and the positive filter
///   drops them: 11 to 35 where a fault moves a correlated group (chance 40). The training
///   mean replaces it;
/// - Input × Gradient: `x · ∇`, the first-order term of `error(x) − error(0)`, so the same
///   zero baseline in disguise. It stays above chance, but barely: 15 against 8 on few
///   independent sensors (the methods kept score 37 to 49) and 48 against 40 on a
///   correlated group. The held-out system of correlated faults put it below chance;
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
/// ```
/// let methods = anomaly_xai::defaults::methods(50, 200, 5, &[0, 1])?;
/// assert_eq!(methods.len(), 10);
/// # Ok::<(), anomaly_xai::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::Attribution`] for settings a method rejects (e.g. 2 coalitions).
pub fn methods(
    window: i64,
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Vec<MethodSpec>> {
    let mut m = vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::residual(ErrorNorm::SquaredL2),
        MethodSpec::attrib(whole_sensor_occlusion(window)?).baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(FeaturePermutation::default()).seeds(seeds.iter().copied()),
        MethodSpec::attrib(GradientShap::params().n_samples(20).check()?)
            .baseline(BaselineSpec::Background { n: 64 })
            .seeds(seeds.iter().copied()),
    ];
    m.extend(
        shapley_kernel_ig(kernel_shap_samples, shapley_permutations, seeds)?
            .map(|m| m.baseline(BaselineSpec::FeatureMeans)),
    );
    m.extend(deviation_lrp());
    Ok(m)
}

/// The default methods ([`methods`]) that `detector` can serve, with the window taken from
/// the detector (the first axis of its [`Detector::sample_shape`]), and the ones left out,
/// each with what the detector lacks: a black-box detector (TorchScript, a closure) loses
/// the gradient methods and deviation LRP, a differentiable one without a layer list
/// loses deviation LRP. Nothing is an error the user filters by hand; nothing is guessed.
///
/// `kernel_shap_samples`, `shapley_permutations` and `seeds` are as in [`methods`].
///
/// ```
/// use anomaly_xai::models::ArrayDetector;
/// use ndarray::ArrayViewD;
/// // A plain-Rust detector that predicts every cell as 0.5: not differentiable, no layers.
/// let detector = ArrayDetector::new("constant", vec![20, 4], |x: ArrayViewD<'_, f32>| x.mapv(|_| 0.5))?;
/// let served = anomaly_xai::defaults::for_detector(&detector, 200, 5, &[0])?;
/// assert_eq!(served.methods.len(), 6); // residual L1 and L2, Occlusion, Permutation, Shapley, Kernel SHAP
/// assert_eq!(served.left_out.len(), 4); // Gradient SHAP, IG, and both deviation LRPs
/// assert!(served.left_out[0].reason.contains("not differentiable"));
/// # Ok::<(), anomaly_xai::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::Shape`] unless the detector's samples are `[window, sensors]`; as
/// [`methods`] for the method settings.
pub fn for_detector(
    detector: &dyn Detector,
    kernel_shap_samples: usize,
    shapley_permutations: usize,
    seeds: &[u64],
) -> Result<Served> {
    let (window, _) = series_shape(detector)?;
    let ctx = Context::new(detector);
    let mut served = Served {
        methods: Vec::new(),
        left_out: Vec::new(),
    };
    for m in methods(
        window as i64,
        kernel_shap_samples,
        shapley_permutations,
        seeds,
    )? {
        match m.missing_capability(&ctx) {
            Some(what) => served.left_out.push(LeftOut {
                method: m.label(),
                reason: format!("{} lacks {what}", detector.describe()),
            }),
            None => served.methods.push(m),
        }
    }
    Ok(served)
}

/// The window length and the sensor count of a detector of multi-sensor series: its
/// samples are `[window, sensors]`.
///
/// # Errors
/// [`crate::Error::Shape`] naming the detector's sample shape otherwise.
pub fn series_shape(detector: &dyn Detector) -> Result<(usize, usize)> {
    match detector.sample_shape()[..] {
        [w, f] if w > 0 && f > 0 => Ok((w as usize, f as usize)),
        ref other => Err(crate::Error::Shape {
            what: "detector sample shape (Detector::sample_shape)",
            expected: "[window, sensors], both positive, for a multi-sensor series".into(),
            got: other.iter().map(|&d| d.max(0) as usize).collect(),
        }),
    }
}

/// What [`for_detector`] chose: the methods the detector can serve, and the ones it
/// left out with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Served {
    /// The methods kept, in [`methods`]' order.
    pub methods: Vec<MethodSpec>,
    /// The methods left out, in [`methods`]' order.
    pub left_out: Vec<LeftOut>,
}

/// A default method left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The method's label.
    pub method: String,
    /// What the detector lacks for it.
    pub reason: String,
}

/// Deviation LRP (not in either paper) from each window's reconstruction and from the
/// training mean: relevance of the error's deviation from a root point, so a sensor that
/// drops counts as one that rises ([`MethodSpec::lrp_deviation`]).
pub fn deviation_lrp() -> [MethodSpec; 2] {
    [RootPoint::Reconstruction, RootPoint::Baseline].map(MethodSpec::lrp_deviation)
}

/// Shapley Value Sampling (`shapley_permutations`) and Kernel SHAP (`kernel_shap_samples`
/// coalitions), each repeated with `seeds`, and Integrated Gradients (50 steps), with the
/// zero baseline: paper 1's settings. [`methods`] runs them with the training mean
/// instead ([`MethodSpec::baseline`]).
///
/// # Errors
/// As [`methods`].
pub fn shapley_kernel_ig(
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

/// Occlusion of one sensor over the whole window at a time (paper 1's `50x1` for windows
/// of 50 steps).
///
/// # Errors
/// [`crate::attrib::XaiError`] when `window` is not positive.
pub fn whole_sensor_occlusion(window: i64) -> crate::attrib::Result<Occlusion> {
    Occlusion::params()
        .window([window, 1])
        .strides([window, 1])
        .check()
}
