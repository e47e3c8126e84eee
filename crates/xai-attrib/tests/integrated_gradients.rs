//! Integrated Gradients: exact on linear scorers, complete on non-linear ones.

mod common;

use common::{assert_close, interacting, linear, t64, values, wave};
use tch::{Kind, Tensor};
use xai_attrib::{
    convergence_delta, Attribution, Baseline, FeatureMask, IntegratedGradients, Quadrature,
    Request, Scorer,
};

fn ig(n: usize, q: Quadrature) -> IntegratedGradients {
    IntegratedGradients::params()
        .convergence_delta(true)
        .n_steps(n)
        .method(q)
        .check()
        .unwrap()
}

#[test]
fn on_a_linear_scorer_every_rule_gives_x_minus_baseline_times_w() {
    let w = t64(&wave(12, 0.5), &[3, 4]);
    let x = t64(&wave(36, 1.0), &[3, 3, 4]);
    let xp = t64(&wave(36, 4.0), &[3, 3, 4]);
    let want = (&x - &xp) * &w;
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    for q in [
        Quadrature::GaussLegendre,
        Quadrature::RiemannLeft,
        Quadrature::RiemannRight,
        Quadrature::RiemannMiddle,
    ] {
        let a = ig(7, q).attribute(&linear(&w), &x, &req).unwrap();
        assert_close(&a.scores, &want, 1e-12);
        assert!(a.delta.unwrap().abs().max().double_value(&[]) < 1e-12);
    }
    // Captum's trapezoid weights sum to (n − 1)/n, and so does its linear IG.
    let a = ig(5, Quadrature::RiemannTrapezoid)
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    assert_close(&a.scores, &(&want * 0.8), 1e-12);
}

#[test]
fn completeness_holds_on_a_non_linear_scorer_and_delta_is_the_gap() {
    let f = interacting();
    let x = t64(&wave(24, 0.7), &[3, 8]);
    let req = Request::with_baseline(Baseline::Constant(0.1));
    let a = ig(64, Quadrature::GaussLegendre)
        .attribute(&f, &x, &req)
        .unwrap();
    let xp = Tensor::full([3, 8], 0.1, (Kind::Double, tch::Device::Cpu));
    let gap = a.scores.sum_dim_intlist(1, false, Kind::Double)
        - (f.score(&x).unwrap() - f.score(&xp).unwrap());
    assert!(gap.abs().max().double_value(&[]) < 1e-8, "{gap}");
    assert_close(a.delta.as_ref().unwrap(), &gap, 1e-12);
    // The free function computes the same delta.
    let d = convergence_delta(&f, &a.scores, &xp, &x).unwrap();
    assert_close(&d, &gap, 1e-12);
    // Few steps leave a visible gap that the delta reports.
    let coarse = ig(2, Quadrature::RiemannLeft)
        .attribute(&f, &x, &req)
        .unwrap();
    assert!(coarse.delta.unwrap().abs().max().double_value(&[]) > 1e-3);
}

#[test]
fn a_distribution_baseline_means_its_mean_and_masks_sum_groups() {
    let w = t64(&wave(6, 0.1), &[2, 3]);
    let x = t64(&wave(12, 0.2), &[2, 2, 3]);
    let dist = t64(&wave(30, 3.0), &[5, 2, 3]);
    let mean = dist.mean_dim(0, true, Kind::Double);
    let mask = FeatureMask::per_sensor(2, 3).unwrap();
    let req = Request::with_baseline(Baseline::Distribution(dist)).mask(mask);
    let a = IntegratedGradients::params()
        .convergence_delta(true)
        .check()
        .unwrap()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    let want = ((&x - &mean) * &w)
        .sum_dim_intlist(1, true, Kind::Double)
        .expand([2, 2, 3], false);
    assert_close(&a.scores, &want, 1e-12);
    // Completeness at the group level: the delta is computed from per-cell attributions.
    assert!(a.delta.unwrap().abs().max().double_value(&[]) < 1e-12);
}

#[test]
fn steps_are_batched_and_the_cost_is_reported() {
    let f = interacting();
    let x = t64(&wave(40, 0.9), &[5, 8]);
    let full = ig(10, Quadrature::GaussLegendre)
        .attribute(&f, &x, &Request::default())
        .unwrap();
    assert_eq!((full.forward_evals, full.backward_evals), (12, 10));
    for bs in [1, 2, 3, 7] {
        let m = IntegratedGradients::params()
            .convergence_delta(true)
            .n_steps(10)
            .batch_size(bs)
            .check()
            .unwrap();
        let a = m.attribute(&f, &x, &Request::default()).unwrap();
        assert_close(&a.scores, &full.scores, 1e-14);
    }
    // Without the delta (the default, as in Captum) the two extra passes are not paid.
    let quiet = IntegratedGradients::params().n_steps(10).check().unwrap();
    let a = quiet.attribute(&f, &x, &Request::default()).unwrap();
    assert!(a.delta.is_none());
    assert_eq!(a.forward_evals, 10);
    assert_eq!(values(&a.scores), values(&full.scores));
}

#[test]
fn float32_inputs_work_and_too_few_riemann_steps_are_rejected() {
    let w = Tensor::from_slice(&[1.0f32, -2.0, 3.0]);
    let x = Tensor::from_slice(&[1.0f32, 1.0, 1.0]).reshape([1, 3]);
    let a = IntegratedGradients::params()
        .convergence_delta(true)
        .check()
        .unwrap()
        .attribute(&linear(&w), &x, &Request::default())
        .unwrap();
    assert_eq!(a.scores.kind(), Kind::Float);
    assert_close(&a.scores, &w.reshape([1, 3]), 1e-5);
    let err = IntegratedGradients::params()
        .convergence_delta(true)
        .n_steps(1)
        .method(Quadrature::RiemannRight)
        .check()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("n_steps = 1 must be at least 2 for Riemann rules"),
        "{err}"
    );
    let json = serde_json::to_string(&ig(9, Quadrature::RiemannMiddle)).unwrap();
    assert!(json.contains("RiemannMiddle"), "{json}");
    let back: IntegratedGradients = serde_json::from_str(&json).unwrap();
    assert_eq!(back.n_steps(), 9);
}

#[test]
fn without_multiplying_by_inputs_it_is_the_path_averaged_gradient() {
    // Linear scorer: the averaged gradient is w for every sample, whatever the baseline.
    let w = t64(&wave(12, 0.5), &[3, 4]);
    let x = t64(&wave(36, 1.0), &[3, 3, 4]);
    let xp = t64(&wave(36, 4.0), &[3, 3, 4]);
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    let m = IntegratedGradients::params()
        .n_steps(5)
        .multiply_by_inputs(false)
        .check()
        .unwrap();
    assert!(!Attribution::<dyn Scorer>::multiplies_by_inputs(&m));
    let a = m.attribute(&linear(&w), &x, &req).unwrap();
    assert_close(&a.scores, &w.expand([3, 3, 4], false), 1e-12);
    assert!(a.delta.is_none());
    // f(x) = x₀² + x₁ from 0: ∫₀¹ (2αx₀, 1) dα = (x₀, 1).
    let f = xai_attrib::FnScorer::new("quad", |x: &Tensor| {
        Ok(x.f_select(1, 0)?.f_square()?.f_add(&x.f_select(1, 1)?)?)
    });
    let x = t64(&[3.0, 2.0, -1.5, 4.0], &[2, 2]);
    let a = m
        .attribute(&f, &x, &Request::with_baseline(Baseline::Zero))
        .unwrap();
    assert_close(&a.scores, &t64(&[3.0, 1.0, -1.5, 1.0], &[2, 2]), 1e-12);
    // The delta measures completeness, which only holds with the factor: refused.
    let err = IntegratedGradients::params()
        .multiply_by_inputs(false)
        .convergence_delta(true)
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("convergence_delta = true needs multiply_by_inputs"),
        "{err}"
    );
    let spec: xai_attrib::MethodSpec = serde_json::from_str(
        r#"{"integrated_gradients": {"n_steps": 5, "multiply_by_inputs": false}}"#,
    )
    .unwrap();
    assert_eq!(spec, m.into());
}
