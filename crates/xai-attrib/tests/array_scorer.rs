//! A detector written in plain Rust (a closure over ndarray) explained by every
//! perturbation method, and refused by every gradient method.

mod common;

use common::{assert_close, t64, wave};
use ndarray::{Array1, ArrayViewD, Axis};
use tch::Tensor;
use xai_attrib::{
    ArrayScorer, Attribution, Baseline, FeatureAblation, FeatureMask, FeaturePermutation,
    GradientShap, InputXGradient, IntegratedGradients, KernelShap, Occlusion, Request, Saliency,
    Scorer, ShapleyValueSampling, XaiError,
};

/// Σ (t + 1) · x[t, f] · c_f over a window: linear, so every method's answer is known.
fn detector() -> ArrayScorer<impl Fn(ArrayViewD<'_, f32>) -> Array1<f32>> {
    ArrayScorer::new("weighted sum", |x: ArrayViewD<'_, f32>| {
        x.axis_iter(Axis(0))
            .map(|w| {
                w.indexed_iter()
                    .map(|(i, v)| (i[0] as f32 + 1.0) * v * [1.0, -2.0, 0.5][i[1]])
                    .sum()
            })
            .collect()
    })
}

fn weights() -> Tensor {
    let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([4, 1]);
    t * Tensor::from_slice(&[1.0f32, -2.0, 0.5]).reshape([1, 3])
}

#[test]
fn every_perturbation_method_explains_a_plain_rust_detector() {
    let x = t64(&wave(24, 0.3), &[2, 4, 3]).to_kind(tch::Kind::Float);
    let f = detector();
    let per_cell = &x * weights();
    let mask = FeatureMask::per_sensor(4, 3).unwrap();
    let per_sensor = mask
        .expand(&mask.group_sums(&per_cell).unwrap(), &[4, 3])
        .unwrap();
    let req = Request::with_baseline(Baseline::Zero).mask(mask.clone());
    let tol = 1e-4;
    assert_close(
        &FeatureAblation::default()
            .attribute(&f, &x, &req)
            .unwrap()
            .scores,
        &per_sensor,
        tol,
    );
    let occ = Occlusion::params().window([1, 1]).check().unwrap();
    assert_close(
        &occ.attribute(&f, &x, &Request::default()).unwrap().scores,
        &per_cell,
        tol,
    );
    assert_close(
        &ShapleyValueSampling::default()
            .attribute(&f, &x, &req)
            .unwrap()
            .scores,
        &per_sensor,
        tol,
    );
    assert_close(
        &KernelShap::default()
            .attribute(&f, &x, &req)
            .unwrap()
            .scores,
        &per_sensor,
        tol,
    );
    let perm = FeaturePermutation::default()
        .attribute(&f, &x, &req)
        .unwrap();
    assert_close(&perm.scores, &(&per_sensor - per_sensor.flip([0])), tol);
}

#[test]
fn gradient_methods_refuse_it_and_bad_outputs_are_errors() {
    let x = t64(&wave(12, 0.3), &[1, 4, 3]).to_kind(tch::Kind::Float);
    let f = detector();
    assert!(!f.differentiable());
    let req = Request::default();
    for err in [
        Saliency::default().attribute(&f, &x, &req).unwrap_err(),
        InputXGradient::default()
            .attribute(&f, &x, &req)
            .unwrap_err(),
        IntegratedGradients::default()
            .attribute(&f, &x, &req)
            .unwrap_err(),
        GradientShap::default().attribute(&f, &x, &req).unwrap_err(),
    ] {
        assert!(matches!(err, XaiError::NotDifferentiable { .. }), "{err}");
        assert!(err.to_string().contains("weighted sum"), "{err}");
    }
    let short = ArrayScorer::new("short", |_x: ArrayViewD<'_, f32>| Array1::zeros(1));
    let err = short
        .score(&t64(&wave(6, 0.0), &[2, 3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`short`") && err.contains("[2]"), "{err}");
}
