//! Targets (Captum's `target`): one output column of a multi-output model, the same for
//! every sample or one per sample, followed through every method's batched rows.

mod common;

use common::{assert_close, t64, wave};
use tch::Tensor;
use xai_attrib::{
    Attribution, Baseline, FeatureAblation, FeaturePermutation, GradientShap, InputXGradient,
    IntegratedGradients, KernelShap, Occlusion, Request, Saliency, Scorer, ShapleyValueSampling,
    Target, TargetScorer, XaiError,
};

/// `y = x W` with `W: [4, 3]`, three outputs.
fn weights() -> Tensor {
    t64(&wave(12, 0.7), &[4, 3])
}

fn model(target: impl Into<Target>) -> impl Scorer {
    let w = weights();
    TargetScorer::new("linear3", move |x: &Tensor| Ok(x.f_matmul(&w)?), target).unwrap()
}

/// Row `i` is column `targets[i]` of `W`, transposed: `[B, 4]`.
fn picked(targets: &[i64]) -> Tensor {
    let idx = Tensor::from_slice(targets);
    weights().index_select(1, &idx).transpose(0, 1)
}

type Method = Box<dyn for<'s> Attribution<dyn Scorer + 's>>;

/// Every method that is exact on a linear scorer, batched in rows that do not align with
/// the batch of 3 (2 or 5 rows per call).
fn exact_methods() -> Vec<Method> {
    vec![
        Box::new(FeatureAblation::params().batch_size(2).check().unwrap()),
        Box::new(
            Occlusion::params()
                .window([1])
                .batch_size(5)
                .check()
                .unwrap(),
        ),
        Box::new(
            ShapleyValueSampling::params()
                .n_permutations(2)
                .batch_size(5)
                .check()
                .unwrap(),
        ),
        Box::new(KernelShap::params().batch_size(5).check().unwrap()),
        Box::new(
            IntegratedGradients::params()
                .n_steps(4)
                .batch_size(5)
                .check()
                .unwrap(),
        ),
        Box::new(
            GradientShap::params()
                .n_samples(3)
                .batch_size(2)
                .check()
                .unwrap(),
        ),
    ]
}

#[test]
fn saliency_picks_the_targets_row_of_the_weights() {
    let x = t64(&wave(12, 0.1), &[3, 4]);
    let plain = Saliency::params().abs(false).check().unwrap();
    let a = plain.attribute(&model(1), &x, &Request::default()).unwrap();
    assert_close(&a.scores, &picked(&[1, 1, 1]), 1e-12);
    let a = plain
        .attribute(&model([2, 0, 1]), &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &picked(&[2, 0, 1]), 1e-12);
    let a = InputXGradient::default()
        .attribute(&model([2, 0, 1]), &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &(&x * picked(&[2, 0, 1])), 1e-12);
}

#[test]
fn per_sample_targets_are_exact_through_every_batched_method() {
    // Linear: every method gives (x − x') ∘ w_{t_i} for sample i.
    let x = t64(&wave(12, 0.1), &[3, 4]);
    let reference = t64(&wave(4, 1.3), &[4]);
    let targets = [2, 0, 1];
    let want = (&x - &reference) * picked(&targets);
    let req = Request::with_baseline(Baseline::Tensor(reference.shallow_clone()));
    for m in exact_methods() {
        let a = m.attribute(&model(targets), &x, &req).unwrap();
        assert_close(&a.scores, &want, 1e-12);
    }
    // Kernel SHAP's background set is scored once per sample, for that sample's target.
    let refs = t64(&wave(20, 2.1), &[5, 4]);
    let want = (&x - refs.mean_dim(0, true, refs.kind())) * picked(&targets);
    let a = KernelShap::params()
        .batch_size(3)
        .check()
        .unwrap()
        .attribute(
            &model(targets),
            &x,
            &Request::with_baseline(Baseline::Distribution(refs)),
        )
        .unwrap();
    assert_close(&a.scores, &want, 1e-12);
}

#[test]
fn a_per_sample_target_equals_each_sample_alone_with_its_column() {
    let x = t64(&wave(8, 0.4), &[2, 4]);
    let req = Request::with_baseline(Baseline::Zero);
    let m = FeaturePermutation::params().seed(1).check().unwrap();
    // Permutation mixes samples, but each row is still scored for its own sample's target.
    let both = m.attribute(&model([0, 2]), &x, &req).unwrap();
    let swapped = x.flip([0]);
    for (i, t) in [(0i64, 0i64), (1, 2)] {
        let mixed = Tensor::stack(&[x.get(i), swapped.get(i)], 0);
        let alone = m.attribute(&model(t), &mixed, &req).unwrap();
        assert_close(&both.scores.get(i), &alone.scores.get(0), 1e-12);
    }
}

#[test]
fn bad_targets_are_errors_naming_the_value() {
    let x = t64(&wave(12, 0.1), &[3, 4]);
    let req = Request::default();
    let err = Saliency::default()
        .attribute(&model([0, 1]), &x, &req)
        .unwrap_err();
    assert!(matches!(err, XaiError::InvalidParam { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("[0, 1] (2 targets) for a batch of 3"),
        "{err}"
    );
    let err = FeatureAblation::default()
        .attribute(&model(3), &x, &req)
        .unwrap_err()
        .to_string();
    assert!(err.contains("3 for `linear3` with 3 outputs"), "{err}");
    let err = FeatureAblation::default()
        .attribute(&model([0, 5, 1]), &x, &req)
        .unwrap_err()
        .to_string();
    assert!(err.contains("5 for `linear3` with 3 outputs"), "{err}");
    let w = weights();
    let err = TargetScorer::new("m", move |x: &Tensor| Ok(x.f_matmul(&w)?), -1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("target = -1 must be ≥ 0"), "{err}");
    let flat = TargetScorer::new(
        "flat",
        |x: &Tensor| Ok(x.f_sum_dim_intlist(1, false, x.kind())?),
        0,
    )
    .unwrap();
    let err = Saliency::default().attribute(&flat, &x, &req).unwrap_err();
    assert!(matches!(err, XaiError::ShapeMismatch { .. }), "{err}");
    // JSON: a number or a list.
    assert_eq!(
        serde_json::from_str::<Target>("2").unwrap(),
        Target::Index(2)
    );
    assert_eq!(
        serde_json::from_str::<Target>("[0, 2]").unwrap(),
        Target::PerSample(vec![0, 2])
    );
}
