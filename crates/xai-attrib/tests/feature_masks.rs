//! Feature masks in Captum's forms: a leading batch dimension `[1, ..]` (one mask for every
//! sample) and one mask per example `[B, ..]` (groups differ between samples).

mod common;

use common::{assert_close, interacting, linear, t64, values, wave};
use tch::Tensor;
use xai_attrib::{
    Attribution, Baseline, FeatureAblation, FeatureMask, FeaturePermutation, IntegratedGradients,
    KernelShap, Occlusion, Request, Saliency, Scorer, ShapleyValueSampling, XaiError,
};

type Method = Box<dyn for<'s> Attribution<dyn Scorer + 's>>;

fn methods() -> Vec<Method> {
    vec![
        Box::new(FeatureAblation::params().batch_size(3).check().unwrap()),
        Box::new(Occlusion::params().window([2]).check().unwrap()),
        Box::new(
            ShapleyValueSampling::params()
                .n_permutations(3)
                .seed(4)
                .batch_size(5)
                .check()
                .unwrap(),
        ),
        Box::new(KernelShap::params().n_samples(40).seed(2).check().unwrap()),
        Box::new(IntegratedGradients::params().n_steps(8).check().unwrap()),
        Box::new(Saliency::default()),
    ]
}

fn ids(v: &[i64], shape: &[i64]) -> FeatureMask {
    FeatureMask::from_tensor(&Tensor::from_slice(v).reshape(shape)).unwrap()
}

#[test]
fn a_leading_batch_dimension_of_one_is_the_same_mask() {
    let x = t64(&wave(21, 0.3), &[3, 7]);
    let req = |m| Request::with_baseline(Baseline::Constant(0.2)).mask(m);
    let groups = [0, 0, 1, 1, 2, 2, 2];
    let f = interacting();
    for m in methods() {
        let plain = m.attribute(&f, &x, &req(ids(&groups, &[7]))).unwrap();
        let batch1 = m.attribute(&f, &x, &req(ids(&groups, &[1, 7]))).unwrap();
        assert_eq!(
            values(&plain.scores),
            values(&batch1.scores),
            "{}",
            m.name()
        );
    }
}

#[test]
fn one_mask_per_example_gives_each_sample_what_its_own_mask_gives_it_alone() {
    let x = t64(&wave(21, 0.3), &[3, 7]);
    let per_example = [
        [0, 0, 1, 1, 2, 2, 2],
        [2, 1, 0, 2, 1, 0, 0],
        [0, 1, 2, 2, 2, 2, 1],
    ];
    let flat: Vec<i64> = per_example.concat();
    let f = interacting();
    let reference = t64(&wave(7, 2.0), &[7]);
    let req = |m| Request::with_baseline(Baseline::Tensor(reference.shallow_clone())).mask(m);
    for m in methods() {
        let together = m.attribute(&f, &x, &req(ids(&flat, &[3, 7]))).unwrap();
        for (i, own) in per_example.iter().enumerate() {
            let alone = m
                .attribute(&f, &x.narrow(0, i as i64, 1), &req(ids(own, &[7])))
                .unwrap();
            assert_close(
                &together.scores.narrow(0, i as i64, 1),
                &alone.scores,
                1e-12,
            );
        }
    }
}

#[test]
fn per_example_groups_on_a_linear_scorer_are_exact() {
    // f(x) = w·x: ablating group g of sample b changes f by Σ_{i ∈ g_b} (x_i − x'_i) w_i.
    let w = t64(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let x = t64(&[1.0, 1.0, 1.0, 1.0, 2.0, 0.0, 1.0, -1.0], &[2, 4]);
    let m = ids(&[0, 0, 1, 1, 1, 0, 0, 1], &[2, 4]);
    let req = Request::with_baseline(Baseline::Zero).mask(m.clone());
    let a = FeatureAblation::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    // Sample 0: groups {0,1} → 3, {2,3} → 7. Sample 1: {1,2} → 0 + 3, {0,3} → 2 − 4.
    assert_eq!(values(&a.scores), vec![3., 3., 7., 7., -2., 3., 3., -2.]);
    assert_eq!(
        values(&m.group_means(&a.scores).unwrap()),
        vec![3., 7., 3., -2.]
    );
    // Feature Permutation swaps each sample's own group with the other sample's cells.
    let p = FeaturePermutation::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    // Sample 0, group {0,1}: (1 − 2)·1 + (1 − 0)·2 = 1; group {2,3}: 0·3 + 2·4 = 8.
    // Sample 1, group {1,2}: (0 − 1)·2 + 0 = −2; group {0,3}: (2 − 1)·1 + (−1 − 1)·4 = −7.
    assert_eq!(values(&p.scores), vec![1., 1., 8., 8., -7., -2., -2., -7.]);
}

#[test]
fn a_group_missing_from_one_example_gets_nothing_there() {
    let w = t64(&[1.0, 2.0, 3.0], &[3]);
    let x = t64(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], &[2, 3]);
    // Sample 1 has no group 2.
    let m = ids(&[0, 1, 2, 0, 1, 1], &[2, 3]);
    let req = Request::with_baseline(Baseline::Zero).mask(m.clone());
    let a = ShapleyValueSampling::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    assert_close(&a.scores, &t64(&[1., 2., 3., 1., 5., 5.], &[2, 3]), 1e-12);
    assert_eq!(
        values(&m.group_means(&a.scores).unwrap()),
        vec![1., 2., 3., 1., 5., 0.]
    );
    // Kernel SHAP fits one design for the batch; it refuses such a mask, saying why.
    let err = KernelShap::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap_err();
    assert!(matches!(err, XaiError::InvalidMask { .. }), "{err}");
    assert!(err.to_string().contains("all 3 groups"), "{err}");
}

#[test]
fn a_mask_for_another_batch_size_is_an_error_naming_both() {
    let x = t64(&wave(12, 0.1), &[3, 4]);
    let m = ids(&[0, 1, 1, 0, 0, 0, 1, 1], &[2, 4]);
    let req = Request::with_baseline(Baseline::Zero).mask(m);
    let err = FeatureAblation::default()
        .attribute(&linear(&t64(&wave(4, 0.0), &[4])), &x, &req)
        .unwrap_err();
    assert!(matches!(err, XaiError::ShapeMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("batch dimension of 2 for a batch of 3") && msg.contains("[3, ..]"),
        "{msg}"
    );
}
