//! The TorchScript adapter: a module with the weights of a native model computes the same
//! errors and gradients, and every bad file or module is a typed error naming it.
//!
//! The fixtures are made by `xtask/torchscript/make_models.py` (`cargo xtask torchscript`).

use std::path::PathBuf;

use ae_models::state_dict::StateDict;
use ae_models::{
    Detector, ErrorNorm, LstmAe, LstmAeConfig, LstmForecaster, LstmForecasterConfig, ModelError,
    TorchScriptDetector,
};
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torchscript")
        .join(name)
}

fn weights(name: &str) -> StateDict {
    StateDict::read_safetensors(fixture(name)).unwrap()
}

/// The per-cell errors of `x` and their input gradient (of their sum).
fn errors_and_gradient(d: &dyn Detector, x: &Tensor, norm: ErrorNorm) -> (Tensor, Tensor) {
    let x = x.copy().set_requires_grad(true);
    let e = d.cell_errors(&x, norm).unwrap();
    e.sum(Kind::Float).backward();
    (e.detach(), x.grad())
}

#[test]
fn a_module_with_native_weights_gives_the_native_errors_and_gradients() {
    let ts =
        TorchScriptDetector::autoencoder(fixture("tiny_ae.pt"), vec![6, 4], Device::Cpu).unwrap();
    let native = LstmAe::from_state_dict(
        &LstmAeConfig::with_depths(4, 6, 5, 1, 1),
        weights("tiny_ae.safetensors"),
        Device::Cpu,
    )
    .unwrap();
    tch::manual_seed(0);
    let x = Tensor::rand([3, 6, 4], (Kind::Float, Device::Cpu));
    // Several calls: TorchScript's profiling executor optimises the graph after the first
    // runs, and the optimised graph must still compute what the native model does.
    for norm in [
        ErrorNorm::L1,
        ErrorNorm::SquaredL2,
        ErrorNorm::L1,
        ErrorNorm::SquaredL2,
        ErrorNorm::L1,
    ] {
        let (e_ts, g_ts) = errors_and_gradient(&ts, &x, norm);
        let (e_native, g_native) = errors_and_gradient(&native, &x, norm);
        // The same ATen ops on the same weights: equal to the last bit.
        assert!(e_ts.equal(&e_native), "{norm:?} errors differ");
        assert!(g_ts.equal(&g_native), "{norm:?} gradients differ");
    }
    assert!(ts.differentiable() && ts.layer_model().is_none());
    assert!(ts.describe().contains("tiny_ae.pt"), "{}", ts.describe());
}

#[test]
fn a_forecasting_module_matches_the_native_forecaster() {
    let cfg = LstmForecasterConfig {
        n_features: 3,
        context: 6,
        horizon: 2,
        hidden: vec![5, 4],
    };
    let native =
        LstmForecaster::from_state_dict(&cfg, weights("tiny_forecaster.safetensors"), Device::Cpu)
            .unwrap();
    let ts = TorchScriptDetector::forecaster(fixture("tiny_forecaster.pt"), 6, 2, 3, Device::Cpu)
        .unwrap();
    assert_eq!(ts.sample_shape(), vec![8, 3]);
    assert_eq!(ts.predicted_cells(), native.predicted_cells());
    tch::manual_seed(1);
    let x = Tensor::rand([4, 8, 3], (Kind::Float, Device::Cpu));
    let (e_ts, g_ts) = errors_and_gradient(&ts, &x, ErrorNorm::L1);
    let (e_native, g_native) = errors_and_gradient(&native, &x, ErrorNorm::L1);
    assert!(e_ts.equal(&e_native) && g_ts.equal(&g_native));
    // Zero at the context steps; gradients reach them through the forecast.
    assert_eq!(
        e_ts.narrow(1, 0, 6)
            .abs()
            .sum(Kind::Float)
            .double_value(&[]),
        0.0
    );
    assert!(
        g_ts.narrow(1, 0, 6)
            .abs()
            .sum(Kind::Float)
            .double_value(&[])
            > 0.0
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = TorchScriptDetector::autoencoder(fixture("absent.pt"), vec![6, 4], Device::Cpu)
        .unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.pt"), "{err}");
}

#[test]
fn a_corrupt_file_is_named() {
    let dir = std::env::temp_dir().join(format!("ae-models-ts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A truncated module and a file that is not one at all.
    let bytes = std::fs::read(fixture("tiny_ae.pt")).unwrap();
    for (name, content, why) in [
        ("truncated.pt", &bytes[..bytes.len() / 2], "cut short"),
        ("text.pt", b"not a module".as_slice(), "not a zip archive"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let err = TorchScriptDetector::autoencoder(&path, vec![6, 4], Device::Cpu).unwrap_err();
        assert!(matches!(err, ModelError::CorruptFile { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(name) && msg.contains("not a TorchScript module") && msg.contains(why),
            "{msg}"
        );
        assert!(!msg.contains("Exception raised from"), "backtrace in {msg}");
        // One sentence, without libtorch's paragraph of advice.
        assert!(
            !msg.contains("miniz") && !msg.contains("high likelihood") && msg.len() < 200,
            "{msg}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_output_that_does_not_match_the_input_is_refused_at_load() {
    let err = TorchScriptDetector::autoencoder(fixture("wrong_shape.pt"), vec![6, 4], Device::Cpu)
        .unwrap_err();
    assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("wrong_shape.pt") && msg.contains("[2, 6, 4]") && msg.contains("[2, 5, 4]"),
        "{msg}"
    );
    // A forecaster whose output is not `horizon` steps: the same, naming the horizon.
    let err = TorchScriptDetector::forecaster(fixture("tiny_ae.pt"), 6, 2, 4, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[2, 2, 4]") && err.contains("[2, 6, 4]"),
        "{err}"
    );
}

#[test]
fn a_sample_shape_the_module_cannot_read_is_named() {
    // The LSTM reads 4 features; 5 fail inside `forward`.
    let err = TorchScriptDetector::autoencoder(fixture("tiny_ae.pt"), vec![6, 5], Device::Cpu)
        .unwrap_err();
    assert!(matches!(err, ModelError::TorchScript { .. }), "{err:?}");
    assert!(err.to_string().contains("[2, 6, 5]"), "{err}");
    for bad in [vec![], vec![6, 0]] {
        let err = TorchScriptDetector::autoencoder(fixture("tiny_ae.pt"), bad.clone(), Device::Cpu)
            .unwrap_err();
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
    let err = TorchScriptDetector::forecaster(fixture("tiny_forecaster.pt"), 6, 0, 3, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("6 / 0 / 3"), "{err}");
    let err = TorchScriptDetector::autoencoder(fixture("tuple.pt"), vec![6, 4], Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a tuple"), "{err}");
}

#[test]
fn a_module_that_returns_nan_names_the_sample_and_cell() {
    let d = TorchScriptDetector::autoencoder(fixture("nan.pt"), vec![6, 4], Device::Cpu).unwrap();
    let x = Tensor::zeros([3, 6, 4], (Kind::Float, Device::Cpu));
    let err = d.cell_errors(&x, ErrorNorm::L1).unwrap_err();
    assert!(
        matches!(err, ModelError::NonFinite { index: 23, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("nan.pt") && msg.contains("sample 0, cell [5, 3]"),
        "{msg}"
    );
    // A batch of another shape is refused before the module runs.
    let err = d
        .cell_errors(
            &Tensor::zeros([3, 5, 4], (Kind::Float, Device::Cpu)),
            ErrorNorm::L1,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[batch, 6, 4]") && err.contains("[3, 5, 4]"),
        "{err}"
    );
}
