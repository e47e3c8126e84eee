//! A user's detector that answers wrongly stops the pipeline with an error naming what it
//! answered, and a method it cannot serve is refused before any work.

use anomaly_xai::attrib::{IntegratedGradients, KernelShap, Occlusion};
use anomaly_xai::data::synthetic::{generate, SyntheticConfig};
use anomaly_xai::localizer::{Localizer, LocalizerConfig, Normalization};
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::metrics::Protocol;
use anomaly_xai::models::{ArrayDetector, Detector, ErrorNorm};
use anomaly_xai::Error;
use ndarray::{ArrayD, ArrayViewD, Axis};
use tch::{Device, Tensor};

fn localizer(method: MethodSpec) -> Localizer {
    let config = LocalizerConfig {
        window: 16,
        max_windows: 2,
        progress: false,
        // No normal windows here: the errors under test come from the detector.
        normalization: Normalization::None,
        ..LocalizerConfig::default()
    };
    Localizer::new(config, vec![method])
}

fn occlusion() -> MethodSpec {
    MethodSpec::attrib(
        Occlusion::params()
            .window([16, 1])
            .strides([16, 1])
            .check()
            .unwrap(),
    )
}

#[test]
fn a_detector_that_answers_wrongly_stops_the_run_naming_it() {
    let m = generate(&SyntheticConfig::default()).unwrap();
    // Answers one sample short.
    let short = ArrayDetector::new("one short", vec![16, 8], |x: ArrayViewD<'_, f32>| {
        let n = x.len_of(Axis(0));
        x.slice_axis(Axis(0), (1..n).into()).to_owned()
    })
    .unwrap();
    let err = localizer(MethodSpec::residual(ErrorNorm::L1))
        .run(
            &Context::new(&short),
            m.test.view(),
            &m.regions,
            &Protocol::paper(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("one short") && err.contains("[1, 16, 8]"),
        "{err}"
    );
    // Answers NaN in one cell: no NaN score comes back.
    let nan = ArrayDetector::new("nan", vec![16, 8], |x: ArrayViewD<'_, f32>| {
        let mut y = ArrayD::<f32>::zeros(x.shape());
        y[[0, 4, 5]] = f32::NAN;
        y
    })
    .unwrap();
    let err = localizer(occlusion())
        .run(
            &Context::new(&nan),
            m.test.view(),
            &m.regions,
            &Protocol::paper(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`nan`") && err.contains("sample 0, cell [4, 5]"),
        "{err}"
    );
}

#[test]
fn gradients_through_a_closure_are_refused_before_any_work() {
    let m = generate(&SyntheticConfig::default()).unwrap();
    let d = ArrayDetector::new("closure", vec![16, 8], |_: ArrayViewD<'_, f32>| {
        unreachable!("refused before the detector runs")
    })
    .unwrap();
    let ig = MethodSpec::attrib(IntegratedGradients::params().n_steps(4).check().unwrap());
    let err = localizer(ig)
        .run(
            &Context::new(&d),
            m.test.view(),
            &m.regions,
            &Protocol::paper(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::MissingCapability { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("Integrated Gradients")
            && msg.contains("closure")
            && msg.contains("gradients"),
        "{msg}"
    );
}

#[test]
fn a_window_setting_or_windows_that_do_not_fit_the_detector_are_named() {
    let m = generate(&SyntheticConfig::default()).unwrap();
    let d = ArrayDetector::new("sixteen", vec![16, 8], |x: ArrayViewD<'_, f32>| {
        x.to_owned()
    })
    .unwrap();
    // The window setting.
    let mut l = localizer(MethodSpec::residual(ErrorNorm::L1));
    l.config.window = 40;
    let err = l
        .run(
            &Context::new(&d),
            m.test.view(),
            &m.regions,
            &Protocol::paper(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("LocalizerConfig::window") && err.contains("[16, 8]"),
        "{err}"
    );
    // Reference windows transposed, training windows of another length.
    let transposed = tch::Tensor::zeros([3, 8, 16], (tch::Kind::Float, tch::Device::Cpu));
    let ctx = Context {
        reference: Some(&transposed),
        ..Context::new(&d)
    };
    let err = localizer(MethodSpec::residual(ErrorNorm::L1))
        .run(&ctx, m.test.view(), &m.regions, &Protocol::paper())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Context::reference") && err.contains("[3, 8, 16]"),
        "{err}"
    );
    let short = tch::Tensor::zeros([3, 40, 8], (tch::Kind::Float, tch::Device::Cpu));
    let ctx = Context {
        train: Some(&short),
        ..Context::new(&d)
    };
    let err = localizer(MethodSpec::residual(ErrorNorm::L1))
        .run(&ctx, m.test.view(), &m.regions, &Protocol::paper())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Context::train") && err.contains("[3, 40, 8]"),
        "{err}"
    );
}

/// A differentiable detector that returns its input: every cell error is 0.
struct Identity;

impl Detector for Identity {
    fn sample_shape(&self) -> Vec<i64> {
        vec![16, 8]
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
    fn cell_errors(&self, x: &Tensor, _: ErrorNorm) -> anomaly_xai::models::Result<Tensor> {
        Ok(x.f_sub(x)?.f_abs()?)
    }
    fn describe(&self) -> String {
        "identity".into()
    }
}

#[test]
fn a_detector_that_returns_its_input_explains_nothing_for_every_method() {
    let m = generate(&SyntheticConfig::default()).unwrap();
    let methods = [
        MethodSpec::residual(ErrorNorm::L1),
        occlusion(),
        MethodSpec::attrib(KernelShap::params().n_samples(16).check().unwrap()),
        MethodSpec::attrib(IntegratedGradients::params().n_steps(4).check().unwrap()),
    ];
    for method in methods {
        let label = method.label();
        let err = localizer(method)
            .run(
                &Context::new(&Identity),
                m.test.view(),
                &m.regions,
                &Protocol::paper(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, Error::NothingExplained { max_error, .. } if *max_error == 0.0),
            "{label}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&label) && msg.contains("explained error is 0"),
            "{msg}"
        );
    }
    // A plain-Rust detector that returns its input, too.
    let copy =
        ArrayDetector::new("copy", vec![16, 8], |x: ArrayViewD<'_, f32>| x.to_owned()).unwrap();
    let err = localizer(occlusion())
        .run(
            &Context::new(&copy),
            m.test.view(),
            &m.regions,
            &Protocol::paper(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NothingExplained { .. }), "{err:?}");
}
