//! The deviation from normal: the distance of every cell from the baseline, by hand, and
//! never a model evaluation.

mod common;

use std::cell::Cell;

use ae_models::ErrorNorm;
use common::{assert_close, t64, wave};
use tch::{Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, Deviation, Family, FeatureMask, FnScorer, MethodSpec, Request, Scorer,
    XaiError,
};

/// A scorer that counts its evaluations (the deviation must make none) and knows its
/// sample shape `[4, 3]`.
struct Counting {
    calls: Cell<usize>,
}

impl Scorer for Counting {
    fn score(&self, x: &Tensor) -> xai_attrib::Result<Tensor> {
        self.calls.set(self.calls.get() + 1);
        Ok(x.f_sum_dim_intlist([1, 2].as_slice(), false, x.kind())?)
    }
    fn sample_shape(&self) -> Option<Vec<i64>> {
        Some(vec![4, 3])
    }
}

fn counting() -> Counting {
    Counting {
        calls: Cell::new(0),
    }
}

#[test]
fn the_deviation_is_the_distance_from_the_training_mean_in_either_norm() {
    let train = t64(&wave(5 * 4 * 3, 0.7), &[5, 4, 3]);
    let x = t64(&wave(2 * 4 * 3, 0.2), &[2, 4, 3]) * 3.0;
    let means = train.mean_dim([0, 1].as_slice(), false, Kind::Double);
    let req = Request::with_baseline(Baseline::feature_means(&train).unwrap());
    let scorer = counting();
    let a = Deviation::default().attribute(&scorer, &x, &req).unwrap();
    assert_close(&a.scores, &(&x - &means).abs(), 1e-12);
    assert_eq!((a.forward_evals, a.backward_evals), (0, 0));
    assert!(a.delta.is_none());
    let l2 = Deviation::params()
        .norm(ErrorNorm::SquaredL2)
        .check()
        .unwrap();
    let b = l2.attribute(&scorer, &x, &req).unwrap();
    assert_close(&b.scores, &(&x - &means).square(), 1e-12);
    assert_eq!(scorer.calls.get(), 0, "the deviation evaluated the model");
    // The model plays no part: another scorer gives the same attributions.
    let other = FnScorer::new("other", |x: &Tensor| {
        Ok(x.f_square()?
            .f_sum_dim_intlist([1, 2].as_slice(), false, x.kind())?)
    });
    let c = Deviation::default().attribute(&other, &x, &req).unwrap();
    assert_close(&c.scores, &a.scores, 0.0);
    assert_eq!(
        Attribution::<Counting>::family(&Deviation::default()),
        Family::ModelFree
    );
}

#[test]
fn a_mask_gives_group_means_and_a_distribution_is_replaced_by_its_mean() {
    let x = t64(&wave(2 * 4 * 3, 0.2), &[2, 4, 3]);
    let normal = t64(&wave(6 * 4 * 3, 1.9), &[6, 4, 3]);
    let mean_window = normal.mean_dim(0, false, Kind::Double);
    let scorer = counting();
    // The mean normal sample per cell, given as a distribution or as its mean.
    let a = Deviation::default()
        .attribute(
            &scorer,
            &x,
            &Request::with_baseline(Baseline::Distribution(normal.shallow_clone())),
        )
        .unwrap();
    assert_close(&a.scores, &(&x - &mean_window).abs(), 1e-12);
    let b = Deviation::default()
        .attribute(
            &scorer,
            &x,
            &Request::with_baseline(Baseline::sample_means(&normal).unwrap()),
        )
        .unwrap();
    assert_close(&b.scores, &a.scores, 1e-12);
    let mask = FeatureMask::per_sensor(4, 3).unwrap();
    let c = Deviation::default()
        .attribute(
            &scorer,
            &x,
            &Request::with_baseline(Baseline::Distribution(normal)).mask(mask.clone()),
        )
        .unwrap();
    let per_sensor = (&x - &mean_window).abs().mean_dim(1, false, Kind::Double);
    assert_close(&mask.group_means(&c.scores).unwrap(), &per_sensor, 1e-12);
    // Every cell of a sensor carries the sensor's mean.
    assert_close(&c.scores.select(1, 0), &c.scores.select(1, 3), 0.0);
}

#[test]
fn bad_input_and_bad_settings_are_errors_naming_the_value() {
    let scorer = counting();
    let x = t64(&wave(24, 0.2), &[2, 4, 3]);
    // A baseline that does not broadcast to the samples.
    let err = Deviation::default()
        .attribute(
            &scorer,
            &x,
            &Request::with_baseline(Baseline::Tensor(t64(&[0.0, 1.0], &[2]))),
        )
        .unwrap_err();
    assert!(matches!(err, XaiError::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("deviation baseline"), "{err}");
    // A NaN in the input.
    let mut v = wave(24, 0.2);
    v[7] = f64::NAN;
    let err = Deviation::default()
        .attribute(&scorer, &t64(&v, &[2, 4, 3]), &Request::default())
        .unwrap_err();
    assert!(matches!(err, XaiError::NonFinite { .. }), "{err}");
    // Samples of another shape than the detector's.
    let err = Deviation::default()
        .attribute(&scorer, &t64(&wave(10, 0.0), &[2, 5]), &Request::default())
        .unwrap_err();
    assert!(err.to_string().contains("[2, 5]"), "{err}");
    // Settings read from JSON: the norm, and nothing else.
    let spec: MethodSpec = serde_json::from_str(r#"{"deviation": {"norm": "L2"}}"#).unwrap();
    assert_eq!(spec.label(), "Deviation from normal L2");
    assert_eq!(spec.seed(), None);
    let err = serde_json::from_str::<MethodSpec>(r#"{"deviation": {"n_samples": 3}}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("n_samples"), "{err}");
}
