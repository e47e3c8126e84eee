//! A TorchScript model and a native `LstmAe` holding the same weights localize the embedded
//! SMD machine identically: the same attributions (gradient and perturbation methods) and
//! the same tables to the last printed digit.
//!
//! The fixture (`tests/fixtures/torchscript/lstm_ae_identity.*`) is a small LSTM autoencoder
//! (38 sensors, windows of 50, 2+2 layers of 16) trained briefly in PyTorch on machine-1-2 by
//! `xtask/torchscript/make_models.py`: the `.pt` is its TorchScript export, the
//! `.safetensors` its `state_dict` under the names of `ae_models::LstmAe`.

use std::path::{Path, PathBuf};

use anomaly_xai::attrib::{
    Attribution, BaselineSpec, ErrorScorer, FeaturePermutation, IntegratedGradients, Occlusion,
    Request, Saliency,
};
use anomaly_xai::data::SmdMachine;
use anomaly_xai::localizer::{Localizer, LocalizerConfig, Normalization};
use anomaly_xai::lrp::Preset;
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::state_dict::StateDict;
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{
    ErrorNorm, ExplainedError, LstmAe, LstmAeConfig, MinMaxScaler, TorchScriptDetector,
};
use anomaly_xai::Error;
use anomaly_xai_repro::paper1;
use ndarray::Array2;
use tch::{Device, Tensor};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(ext: &str) -> PathBuf {
    root().join(format!("tests/fixtures/torchscript/lstm_ae_identity.{ext}"))
}

/// The two detectors, the scaled test half, training windows and reference windows.
fn setup() -> (
    TorchScriptDetector,
    LstmAe,
    SmdMachine,
    Array2<f32>,
    Tensor,
    Tensor,
) {
    tch::set_num_threads(1);
    let ts = TorchScriptDetector::autoencoder(fixture("pt"), vec![50, 38], Device::Cpu).unwrap();
    let sd = StateDict::read_safetensors(fixture("safetensors")).unwrap();
    let native = LstmAe::from_state_dict(&LstmAeConfig::new(38, 50, 16), sd, Device::Cpu).unwrap();
    let machine = SmdMachine::load(&root().join("data/smd"), "machine-1-2").unwrap();
    let scaler = MinMaxScaler::fit(&machine.train.view()).unwrap();
    let test = scaler
        .with_clip(-3.0, 3.0)
        .unwrap()
        .transform(&machine.test.view())
        .unwrap();
    let train = scaler.transform(&machine.train.view()).unwrap();
    let w = sliding_windows(&train.view(), 50, 10).unwrap();
    let windows = array_to_tensor(&w.data.view().into_dyn(), Device::Cpu).unwrap();
    let n = windows.size()[0];
    let reference = windows.slice(0, n - n / 5, n, n / 5 / 16);
    (ts, native, machine, test, windows, reference)
}

#[test]
fn attributions_through_torchscript_equal_the_native_models() {
    let (ts, native, _, _, windows, _) = setup();
    let x = windows.slice(0, 0, 400, 100);
    let error = ExplainedError::new(ErrorNorm::L1);
    let (a, b) = (
        ErrorScorer::new(&ts, error.clone()).unwrap(),
        ErrorScorer::new(&native, error).unwrap(),
    );
    let occlusion = Occlusion::params()
        .window([50, 1])
        .strides([50, 1])
        .check()
        .unwrap();
    let ig = IntegratedGradients::params().n_steps(8).check().unwrap();
    let zero = Request::default();
    let same = |what: &str, p: Tensor, q: Tensor| {
        let diff = (p - q).abs().max().double_value(&[]);
        assert_eq!(diff, 0.0, "{what}: max |difference| {diff:e}");
    };
    same(
        "Saliency",
        Saliency::default().attribute(&a, &x, &zero).unwrap().scores,
        Saliency::default().attribute(&b, &x, &zero).unwrap().scores,
    );
    same(
        "Integrated Gradients",
        ig.attribute(&a, &x, &zero).unwrap().scores,
        ig.attribute(&b, &x, &zero).unwrap().scores,
    );
    same(
        "Occlusion",
        occlusion.attribute(&a, &x, &zero).unwrap().scores,
        occlusion.attribute(&b, &x, &zero).unwrap().scores,
    );
}

#[test]
fn the_localization_tables_agree_to_the_last_digit() {
    let (ts, native, machine, test, windows, reference) = setup();
    let methods = vec![
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::attrib(
            Occlusion::params()
                .window([50, 1])
                .strides([50, 1])
                .check()
                .unwrap(),
        ),
        MethodSpec::attrib(FeaturePermutation::default()).seeds([0]),
        MethodSpec::attrib(
            Occlusion::params()
                .window([50, 1])
                .strides([50, 1])
                .check()
                .unwrap(),
        )
        .baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(IntegratedGradients::params().n_steps(8).check().unwrap()),
        MethodSpec::attrib(Saliency::default()),
    ];
    let config = LocalizerConfig {
        max_windows: 2,
        normalization: Normalization::Standardize,
        progress: false,
        ..LocalizerConfig::default()
    };
    let localizer = Localizer::new(config, methods);
    let run = |detector: &dyn anomaly_xai::models::Detector| {
        let ctx = Context {
            detector,
            attention: None,
            train: Some(&windows),
            reference: Some(&reference),
        };
        localizer
            .run(&ctx, test.view(), &machine.regions, &paper1::protocol())
            .unwrap()
    };
    let (a, b) = (run(&ts), run(&native));
    let (ta, tb) = (
        a.table().unwrap().to_markdown(),
        b.table().unwrap().to_markdown(),
    );
    assert_eq!(ta, tb);
    // Not by accident: the sensor scores themselves are equal, and the tables say something.
    for (ra, rb) in a.runs.iter().zip(&b.runs) {
        assert_eq!(ra.scores, rb.scores, "{}", ra.method.label());
    }
    // Header, rule, six methods, the deviation-from-normal row and chance.
    assert!(ta.lines().count() == 2 + 8, "{ta}");
    // LRP needs a layer list: refused for the module before any work, run for the native model.
    let refused = MethodSpec::lrp(Preset::LstmDefault)
        .prepare(&Context::new(&ts), &ExplainedError::default(), None, None)
        .unwrap_err();
    assert!(
        matches!(refused, Error::MissingCapability { .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("lstm_ae_identity.pt"),
        "{refused}"
    );
    MethodSpec::lrp(Preset::LstmDefault)
        .prepare(
            &Context::new(&native),
            &ExplainedError::default(),
            None,
            None,
        )
        .unwrap();
}
