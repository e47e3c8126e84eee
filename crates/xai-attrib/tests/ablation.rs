//! Feature Ablation: exact on additive scorers, batched, one group at a time.

mod common;

use common::{additive, additive_terms, assert_close, linear, t64, values, wave, Counting};
use tch::Kind;
use xai_attrib::{Attribution, Baseline, FeatureAblation, FeatureMask, Request};

#[test]
fn per_cell_ablation_of_a_linear_scorer_is_x_minus_baseline_times_w() {
    let w = t64(&wave(12, 0.5), &[4, 3]);
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let xp = t64(&wave(12, 3.0), &[4, 3]);
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    let a = FeatureAblation::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    assert_close(&a.scores, &((&x - &xp) * &w), 1e-12);
    assert_eq!((a.forward_evals, a.backward_evals), (13, 0));
}

#[test]
fn per_sensor_ablation_gives_every_cell_its_groups_effect() {
    let w = t64(&wave(12, 0.5), &[4, 3]);
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let req = Request::with_baseline(Baseline::Constant(0.25))
        .mask(FeatureMask::per_sensor(4, 3).unwrap());
    let a = FeatureAblation::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    let per_sensor = ((&x - 0.25) * &w)
        .sum_dim_intlist(1, true, Kind::Double)
        .expand([2, 4, 3], false);
    assert_close(&a.scores, &per_sensor, 1e-12);
    assert_eq!(a.forward_evals, 4);
}

#[test]
fn additive_scorers_get_their_per_feature_terms() {
    let x = t64(&wave(15, 0.1), &[3, 5]);
    let xp = t64(&wave(15, 2.1), &[3, 5]);
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    let a = FeatureAblation::default()
        .attribute(&additive(), &x, &req)
        .unwrap();
    assert_close(&a.scores, &additive_terms(&x, &xp), 1e-12);
}

#[test]
fn perturbations_are_stacked_into_few_model_calls_and_batch_size_is_invisible() {
    let w = t64(&wave(30, 0.5), &[30]);
    let x = t64(&wave(90, 1.0), &[3, 30]);
    let f = Counting::new(linear(&w));
    let all = FeatureAblation::params()
        .batch_size(10_000)
        .check()
        .unwrap();
    let full = all.attribute(&f, &x, &Request::default()).unwrap();
    // One call for f(x), one for all 30 × 3 ablated rows.
    assert_eq!(f.calls.get(), 2);
    assert_eq!(f.rows.get(), 3 + 90);
    for bs in [1, 2, 3, 7] {
        let m = FeatureAblation::params().batch_size(bs).check().unwrap();
        assert_eq!(
            values(&m.attribute(&f, &x, &Request::default()).unwrap().scores),
            values(&full.scores)
        );
    }
}
