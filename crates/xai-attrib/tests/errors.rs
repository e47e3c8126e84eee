//! Bad input is a clear error naming the value, for every method, never a panic.

mod common;

use common::{linear, t64, wave};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, FeatureAblation, FeatureMask, FeaturePermutation, FnScorer,
    GradientShap, InputXGradient, IntegratedGradients, KernelShap, Occlusion, Request, Saliency,
    Scorer, ShapleyValueSampling, XaiError,
};

type Method = Box<dyn Attribution<dyn Scorer>>;

fn all() -> Vec<Method> {
    vec![
        Box::new(Saliency::default()),
        Box::new(InputXGradient::default()),
        Box::new(IntegratedGradients::default()),
        Box::new(GradientShap::default()),
        Box::new(FeatureAblation::default()),
        Box::new(Occlusion::params().window([1, 1]).check().unwrap()),
        Box::new(FeaturePermutation::default()),
        Box::new(
            ShapleyValueSampling::params()
                .n_permutations(2)
                .check()
                .unwrap(),
        ),
        Box::new(KernelShap::params().n_samples(10).check().unwrap()),
    ]
}

/// The methods that use the request's baseline.
fn with_baselines() -> Vec<Method> {
    all()
        .into_iter()
        .filter(|m| !["saliency", "input_x_gradient", "feature_permutation"].contains(&m.name()))
        .collect()
}

fn setup() -> (Box<dyn Scorer>, Tensor) {
    (
        Box::new(linear(&t64(&wave(12, 0.5), &[4, 3]))),
        t64(&wave(24, 1.0), &[2, 4, 3]),
    )
}

#[test]
fn non_finite_integer_and_shapeless_inputs_are_rejected_by_every_method() {
    let (f, x) = setup();
    let nan = x.copy();
    let _ = nan.get(1).get(2).get(0).fill_(f64::NAN);
    let ints = x.to_kind(Kind::Int64);
    let flat = Tensor::zeros([5], (Kind::Double, Device::Cpu));
    for m in all() {
        let err = m
            .attribute(f.as_ref(), &nan, &Request::default())
            .unwrap_err();
        assert!(
            matches!(err, XaiError::NonFinite { index: 18, .. }),
            "{}: {err}",
            m.name()
        );
        assert!(err.to_string().contains(m.name()), "{err}");
        let err = m
            .attribute(f.as_ref(), &ints, &Request::default())
            .unwrap_err();
        assert!(err.to_string().contains("Int64"), "{}: {err}", m.name());
        let err = m
            .attribute(f.as_ref(), &flat, &Request::default())
            .unwrap_err();
        assert!(
            matches!(err, XaiError::ShapeMismatch { .. }),
            "{}: {err}",
            m.name()
        );
    }
}

#[test]
fn baselines_of_the_wrong_shape_or_with_nan_are_rejected() {
    let (f, x) = setup();
    for m in with_baselines() {
        let req = Request::with_baseline(Baseline::Tensor(Tensor::zeros(
            [3, 4],
            (Kind::Double, Device::Cpu),
        )));
        let err = m.attribute(f.as_ref(), &x, &req).unwrap_err();
        assert!(
            matches!(err, XaiError::ShapeMismatch { .. }),
            "{}: {err}",
            m.name()
        );
        assert!(
            err.to_string().contains("baseline") && err.to_string().contains("[3, 4]"),
            "{err}"
        );
        let req = Request::with_baseline(Baseline::Distribution(Tensor::zeros(
            [5, 4, 2],
            (Kind::Double, Device::Cpu),
        )));
        let err = m.attribute(f.as_ref(), &x, &req).unwrap_err();
        assert!(
            err.to_string().contains("distribution") && err.to_string().contains("[5, 4, 2]"),
            "{err}"
        );
        let req = Request::with_baseline(Baseline::Constant(f64::INFINITY));
        assert!(matches!(
            m.attribute(f.as_ref(), &x, &req).unwrap_err(),
            XaiError::NonFinite { .. }
        ));
        let req = Request::with_baseline(Baseline::Tensor(Tensor::full(
            [3],
            f64::NAN,
            (Kind::Double, Device::Cpu),
        )));
        assert!(matches!(
            m.attribute(f.as_ref(), &x, &req).unwrap_err(),
            XaiError::NonFinite { .. }
        ));
    }
}

#[test]
fn broadcastable_baselines_are_accepted() {
    let (f, x) = setup();
    let shapes: [&[i64]; 4] = [&[3], &[4, 3], &[1, 4, 3], &[2, 4, 3]];
    for m in with_baselines() {
        for shape in shapes {
            let req = Request::with_baseline(Baseline::Tensor(Tensor::zeros(
                shape,
                (Kind::Double, Device::Cpu),
            )));
            assert!(
                m.attribute(f.as_ref(), &x, &req).is_ok(),
                "{} with a baseline of {shape:?}",
                m.name()
            );
        }
        let req = Request::with_baseline(Baseline::Distribution(Tensor::zeros(
            [3, 3],
            (Kind::Double, Device::Cpu),
        )));
        assert!(
            m.attribute(f.as_ref(), &x, &req).is_ok(),
            "{} with a [N, F] distribution",
            m.name()
        );
    }
}

#[test]
fn masks_of_the_wrong_shape_or_with_gaps_are_rejected() {
    let (f, x) = setup();
    for m in all() {
        let req = Request::default().mask(FeatureMask::per_sensor(3, 3).unwrap());
        let err = m.attribute(f.as_ref(), &x, &req).unwrap_err();
        assert!(
            err.to_string().contains("feature mask") && err.to_string().contains("[3, 3]"),
            "{}: {err}",
            m.name()
        );
        // Ids with a gap never become a mask, so no method can be handed one.
        let gappy = FeatureMask::from_tensor(&Tensor::from_slice(&[0i64, 2, 2])).unwrap_err();
        assert!(matches!(gappy, XaiError::InvalidMask { .. }), "{gappy}");
        assert!(
            gappy.to_string().contains("group 1 has no cells"),
            "{gappy}"
        );
    }
}

#[test]
fn scorers_that_answer_with_the_wrong_shape_are_named() {
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let bad = FnScorer::new("per-cell scorer", |x: &Tensor| Ok(x.f_flatten(1, -1)?));
    for m in all() {
        let err = m
            .attribute(&bad as &dyn Scorer, &x, &Request::default())
            .unwrap_err();
        assert!(
            matches!(err, XaiError::ShapeMismatch { .. }),
            "{}: {err}",
            m.name()
        );
        assert!(
            err.to_string().contains("per-cell scorer"),
            "{}: {err}",
            m.name()
        );
    }
}

#[test]
fn every_invalid_setting_names_its_rule() {
    let cases: Vec<(String, &str)> = vec![
        (
            Saliency::params()
                .batch_size(0)
                .check()
                .unwrap_err()
                .to_string(),
            "saliency: batch_size = 0",
        ),
        (
            InputXGradient::params()
                .batch_size(0)
                .check()
                .unwrap_err()
                .to_string(),
            "input_x_gradient: batch_size = 0",
        ),
        (
            IntegratedGradients::params()
                .n_steps(0)
                .check()
                .unwrap_err()
                .to_string(),
            "n_steps = 0 must be at least 1",
        ),
        (
            GradientShap::params()
                .stdevs(f64::NAN)
                .check()
                .unwrap_err()
                .to_string(),
            "stdevs = NaN",
        ),
        (
            FeatureAblation::params()
                .batch_size(0)
                .check()
                .unwrap_err()
                .to_string(),
            "feature_ablation: batch_size = 0",
        ),
        (
            Occlusion::params()
                .window([2])
                .strides([0])
                .check()
                .unwrap_err()
                .to_string(),
            "strides = [0]",
        ),
        (
            FeaturePermutation::params()
                .batch_size(0)
                .check()
                .unwrap_err()
                .to_string(),
            "feature_permutation: batch_size",
        ),
        (
            ShapleyValueSampling::params()
                .n_permutations(0)
                .check()
                .unwrap_err()
                .to_string(),
            "n_permutations = 0",
        ),
        (
            KernelShap::params()
                .batch_size(0)
                .check()
                .unwrap_err()
                .to_string(),
            "kernel_shap: batch_size = 0",
        ),
    ];
    for (err, want) in cases {
        assert!(err.contains(want), "`{err}` should contain `{want}`");
    }
    // Deserialising goes through the same checks.
    let err = serde_json::from_str::<KernelShap>(r#"{"n_samples": 1}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("n_samples = 1"), "{err}");
    let err = serde_json::from_str::<Occlusion>(r#"{"window": [2, 0]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("window = [2, 0]"), "{err}");
}
