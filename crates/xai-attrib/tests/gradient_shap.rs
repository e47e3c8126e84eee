//! Gradient SHAP: exact per draw on linear scorers, seeded, batched.

mod common;

use common::{assert_close, interacting, linear, t64, values, wave};
use tch::Kind;
use xai_attrib::{Attribution, Baseline, GradientShap, Request};

#[test]
fn a_single_reference_on_a_linear_scorer_gives_the_exact_answer() {
    let w = t64(&wave(8, 0.2), &[8]);
    let x = t64(&wave(24, 1.0), &[3, 8]);
    let xp = t64(&wave(8, 2.0), &[8]);
    let m = GradientShap::params()
        .convergence_delta(true)
        .n_samples(4)
        .check()
        .unwrap();
    let a = m
        .attribute(
            &linear(&w),
            &x,
            &Request::with_baseline(xai_attrib::Baseline::Tensor(xp.shallow_clone())),
        )
        .unwrap();
    assert_close(&a.scores, &((&x - &xp) * &w), 1e-12);
    assert!(a.delta.unwrap().abs().max().double_value(&[]) < 1e-12);
    assert_eq!((a.forward_evals, a.backward_evals), (12, 4));
}

#[test]
fn with_a_distribution_and_noise_it_converges_to_the_expected_value() {
    let w = t64(&wave(5, 0.3), &[5]);
    let x = t64(&wave(10, 1.5), &[2, 5]);
    let dist = t64(&wave(40, 0.9), &[8, 5]);
    let mean = dist.mean_dim(0, true, Kind::Double);
    let m = GradientShap::params()
        .convergence_delta(true)
        .n_samples(4000)
        .stdevs(0.05)
        .seed(3)
        .check()
        .unwrap();
    let a = m
        .attribute(
            &linear(&w),
            &x,
            &Request::with_baseline(Baseline::Distribution(dist)),
        )
        .unwrap();
    assert_close(&a.scores, &((&x - &mean) * &w), 0.02);
    // Every draw is exact for a linear scorer, noise or not, so the delta vanishes.
    assert!(a.delta.unwrap().abs().max().double_value(&[]) < 1e-12);
}

#[test]
fn the_seed_fixes_the_draws_and_batch_size_does_not_change_them() {
    let f = interacting();
    let x = t64(&wave(24, 0.4), &[3, 8]);
    let dist = t64(&wave(48, 2.2), &[6, 8]);
    let req = Request::with_baseline(Baseline::Distribution(dist));
    let run = |seed: u64, bs: usize| {
        let m = GradientShap::params()
            .convergence_delta(true)
            .n_samples(6)
            .stdevs(0.1)
            .seed(seed)
            .batch_size(bs)
            .check()
            .unwrap();
        m.attribute(&f, &x, &req).unwrap()
    };
    let first = run(11, 512);
    assert_eq!(values(&run(11, 512).scores), values(&first.scores));
    for bs in [1, 2, 3] {
        let other = run(11, bs);
        assert_close(&other.scores, &first.scores, 1e-13);
        assert_close(
            other.delta.as_ref().unwrap(),
            first.delta.as_ref().unwrap(),
            1e-13,
        );
    }
    assert!(common::max_abs_diff(&run(12, 512).scores, &first.scores) > 1e-6);
}

#[test]
fn bad_settings_name_their_rule() {
    let err = GradientShap::params()
        .convergence_delta(true)
        .stdevs(-1.0)
        .check()
        .unwrap_err()
        .to_string();
    assert!(err.contains("stdevs = -1 must be finite and ≥ 0"), "{err}");
    let err = GradientShap::params()
        .convergence_delta(true)
        .n_samples(0)
        .check()
        .unwrap_err()
        .to_string();
    assert!(err.contains("n_samples = 0"), "{err}");
    let m = GradientShap::params()
        .convergence_delta(true)
        .n_samples(3)
        .seed(9)
        .check()
        .unwrap();
    let back: GradientShap = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn without_multiplying_by_inputs_a_linear_scorer_gives_its_weights() {
    let w = t64(&wave(8, 0.2), &[8]);
    let x = t64(&wave(24, 1.0), &[3, 8]);
    let refs = t64(&wave(40, 2.0), &[5, 8]);
    let m = GradientShap::params()
        .n_samples(6)
        .stdevs(0.3)
        .multiply_by_inputs(false)
        .check()
        .unwrap();
    let a = m
        .attribute(
            &linear(&w),
            &x,
            &Request::with_baseline(Baseline::Distribution(refs)),
        )
        .unwrap();
    assert_close(&a.scores, &w.expand([3, 8], false), 1e-12);
    let err = GradientShap::params()
        .multiply_by_inputs(false)
        .convergence_delta(true)
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("convergence_delta = true needs multiply_by_inputs"),
        "{err}"
    );
    let back: GradientShap =
        serde_json::from_str(r#"{"n_samples": 6, "stdevs": 0.3, "multiply_by_inputs": false}"#)
            .unwrap();
    assert_eq!(back, m);
}
