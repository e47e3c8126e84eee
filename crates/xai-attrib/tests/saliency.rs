//! Saliency and Input × Gradient on scorers whose gradients are known.

mod common;

use common::{assert_close, interacting, linear, t64, values, wave};
use tch::{Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, FeatureMask, FnScorer, InputXGradient, Request, Saliency, Scorer,
    XaiError,
};

fn setup() -> (Tensor, Tensor, Tensor) {
    let w = t64(&wave(6, 0.3), &[2, 3]);
    let x = t64(&wave(24, 1.1), &[4, 2, 3]);
    let xp = t64(&wave(24, 2.9), &[4, 2, 3]);
    (w, x, xp)
}

#[test]
fn saliency_of_a_linear_scorer_is_its_weights_and_times_the_difference_gives_ig() {
    let (w, x, xp) = setup();
    let f = linear(&w);
    let signed = Saliency::params().abs(false).check().unwrap();
    let a = signed.attribute(&f, &x, &Request::default()).unwrap();
    assert_close(&a.scores, &w.expand([4, 2, 3], false), 1e-12);
    // Saliency × (x − x') = (x − x')·w, the linear IG.
    assert_close(&(&a.scores * (&x - &xp)), &((&x - &xp) * &w), 1e-12);
    let abs = Saliency::default()
        .attribute(&f, &x, &Request::default())
        .unwrap();
    assert_close(&abs.scores, &w.abs().expand([4, 2, 3], false), 1e-12);
    assert_eq!((abs.forward_evals, abs.backward_evals), (1, 1));
    assert!(abs.delta.is_none());
}

#[test]
fn saliency_matches_central_finite_differences_on_a_non_linear_scorer() {
    let f = interacting();
    let x = t64(&wave(16, 0.4), &[2, 8]);
    let a = Saliency::params()
        .abs(false)
        .check()
        .unwrap()
        .attribute(&f, &x, &Request::default())
        .unwrap();
    let h = 1e-6;
    for i in 0..8 {
        let mut e = vec![0.0; 8];
        e[i] = h;
        let e = t64(&e, &[1, 8]);
        let fd = (f.score(&(&x + &e)).unwrap() - f.score(&(&x - &e)).unwrap()) / (2.0 * h);
        assert_close(&a.scores.select(1, i as i64), &fd, 1e-7);
    }
}

#[test]
fn input_x_gradient_of_a_linear_scorer_is_x_times_w() {
    let (w, x, _) = setup();
    let a = InputXGradient::default()
        .attribute(&linear(&w), &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &(&x * &w), 1e-12);
    assert!(
        <InputXGradient as Attribution<dyn Scorer>>::multiplies_by_inputs(
            &InputXGradient::default()
        )
    );
    assert!(!<Saliency as Attribution<dyn Scorer>>::multiplies_by_inputs(&Saliency::default()));
}

#[test]
fn with_a_mask_every_cell_carries_its_groups_sum() {
    let (w, x, _) = setup();
    let mask = FeatureMask::per_sensor(2, 3).unwrap();
    let req = Request::with_baseline(Baseline::Zero).mask(mask.clone());
    let a = InputXGradient::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    let per_sensor = (&x * &w)
        .sum_dim_intlist(1, true, Kind::Double)
        .expand([4, 2, 3], false);
    assert_close(&a.scores, &per_sensor, 1e-12);
    assert_close(
        &mask.group_means(&a.scores).unwrap(),
        &per_sensor.select(1, 0),
        1e-12,
    );
}

#[test]
fn batch_size_never_changes_the_result() {
    let f = interacting();
    let x = t64(&wave(40, 0.2), &[5, 8]);
    let full = Saliency::default()
        .attribute(&f, &x, &Request::default())
        .unwrap()
        .scores;
    let ixg = InputXGradient::default()
        .attribute(&f, &x, &Request::default())
        .unwrap()
        .scores;
    for bs in [1, 2, 3] {
        let s = Saliency::params().batch_size(bs).check().unwrap();
        assert_eq!(
            values(&s.attribute(&f, &x, &Request::default()).unwrap().scores),
            values(&full)
        );
        let m = InputXGradient::params().batch_size(bs).check().unwrap();
        assert_eq!(
            values(&m.attribute(&f, &x, &Request::default()).unwrap().scores),
            values(&ixg)
        );
    }
}

#[test]
fn non_differentiable_scorers_are_refused_by_name() {
    let x = t64(&wave(6, 0.0), &[2, 3]);
    let opaque = FnScorer::new("opaque", |x: &Tensor| {
        Ok(x.f_sum_dim_intlist(1, false, x.kind())?)
    })
    .non_differentiable();
    let err = Saliency::default()
        .attribute(&opaque, &x, &Request::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            XaiError::NotDifferentiable {
                method: "saliency",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("opaque"), "{err}");
    // A scorer that claims to be differentiable but detaches its output is caught too.
    let detached = FnScorer::new("detached", |x: &Tensor| {
        Ok(x.f_sum_dim_intlist(1, false, x.kind())?.f_detach()?)
    });
    let err = InputXGradient::default()
        .attribute(&detached, &x, &Request::default())
        .unwrap_err();
    assert!(matches!(err, XaiError::NotDifferentiable { .. }), "{err}");
}

#[test]
fn settings_are_checked_and_round_trip_through_json() {
    let err = Saliency::params()
        .batch_size(0)
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("saliency: batch_size = 0 must be at least 1"),
        "{err}"
    );
    let s = Saliency::params().abs(false).batch_size(7).check().unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Saliency>(&json).unwrap(), s);
    assert!(serde_json::from_str::<Saliency>(r#"{"abs": true, "batch_size": 0}"#).is_err());
}
