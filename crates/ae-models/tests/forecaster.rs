//! The LSTM forecaster: trained by the one trainer on its forecast error, flagged when its
//! forecast ignores its context, saved and loaded like the autoencoders.

mod common;

use ae_models::convert::array_to_tensor;
use ae_models::persist::SavedModel;
use ae_models::train::{train, TrainConfig};
use ae_models::windows::sliding_windows_tensor;
use ae_models::{
    Detector, ErrorNorm, ExplainedError, LstmAe, LstmAeConfig, LstmForecaster,
    LstmForecasterConfig, ModelError,
};
use tch::{Device, Kind, Tensor};

fn windows(window: usize) -> Tensor {
    let series = common::sine_series(400, 2);
    let t = array_to_tensor(&series.view().into_dyn(), Device::Cpu).unwrap();
    sliding_windows_tensor(&t, window, 2).unwrap()
}

fn quiet(epochs: usize) -> TrainConfig {
    tch::set_num_threads(1);
    TrainConfig {
        epochs,
        batch_size: 32,
        lr: 1e-2,
        quiet: true,
        ..TrainConfig::default()
    }
}

/// Mean forecast error of the predicted steps over `data`.
fn forecast_error(f: &LstmForecaster, data: &Tensor) -> f64 {
    let _guard = tch::no_grad_guard();
    let scale = ExplainedError::new(ErrorNorm::L1)
        .within(&f.predicted_cells())
        .resolve(&Detector::sample_shape(f), Device::Cpu)
        .unwrap();
    let e = scale
        .scale(&f.cell_errors(data, ErrorNorm::L1).unwrap())
        .unwrap();
    e.flatten(1, -1)
        .sum_dim_intlist(1, false, Kind::Double)
        .mean(Kind::Double)
        .double_value(&[])
}

#[test]
fn the_trainer_fits_the_forecast_error_of_the_predicted_steps() {
    if !pinned_kernels::here() {
        return;
    }
    let cfg = LstmForecasterConfig::new(2, 11, 1, 12);
    let f = LstmForecaster::seeded(&cfg, Device::Cpu, 0).unwrap();
    let data = windows(12);
    let before = forecast_error(&f, &data);
    let s = train(&f, &data, &quiet(15)).unwrap();
    let after = forecast_error(&f, &data);
    assert!(after < 0.3 * before, "{before} -> {after}");
    // The reported loss is that error (validation: the last 20 % of the windows).
    let n_val = s.n_val as i64;
    let val = data.narrow(0, data.size()[0] - n_val, n_val);
    let best = s.best_val_loss.unwrap();
    assert!((forecast_error(&f, &val) - best).abs() < 1e-5, "{best}");
    // A sine is predictable from its past: the forecast depends on the context.
    let c = s.collapse.unwrap();
    assert!(!c.collapsed && c.explained > 0.3, "{c:?}");
}

#[test]
fn a_forecast_that_ignores_the_context_is_flagged() {
    if !pinned_kernels::here() {
        return;
    }
    // All weights zero: the LSTM state stays 0, so the forecast is the output bias, the
    // only parameter with a gradient; training cannot make it depend on the context.
    let f =
        LstmForecaster::seeded(&LstmForecasterConfig::new(2, 11, 1, 6), Device::Cpu, 0).unwrap();
    tch::no_grad(|| {
        for (_, p) in f.parameters() {
            let _ = p.shallow_clone().zero_();
        }
    });
    let s = train(&f, &windows(12), &quiet(3)).unwrap();
    let c = s.collapse.clone().unwrap();
    assert!(c.collapsed && c.explained <= 0.0, "{c:?}");
    assert!(s.to_string().contains("COLLAPSED"), "{s}");
}

#[test]
fn a_saved_forecaster_loads_with_its_weights_and_kind() {
    let dir = std::env::temp_dir().join(format!("ae-models-forecaster-{}", std::process::id()));
    let cfg = LstmForecasterConfig::new(2, 5, 2, 4);
    let f = LstmForecaster::seeded(&cfg, Device::Cpu, 3).unwrap();
    f.save(dir.join("f")).unwrap();
    let back = LstmForecaster::load(dir.join("f"), Device::Cpu).unwrap();
    assert_eq!(back.config(), &cfg);
    let x = Tensor::rand([3, 7, 2], (Kind::Float, Device::Cpu));
    assert!(back
        .cell_errors(&x, ErrorNorm::SquaredL2)
        .unwrap()
        .equal(&f.cell_errors(&x, ErrorNorm::SquaredL2).unwrap()));
    // Another kind under the name is refused, both ways.
    LstmAe::seeded(&LstmAeConfig::new(2, 7, 4), Device::Cpu, 0)
        .unwrap()
        .save(dir.join("ae"))
        .unwrap();
    let err = LstmForecaster::load(dir.join("ae"), Device::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::ConfigMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("LstmAe"), "{err}");
    let err = LstmAe::load(dir.join("f"), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("LstmForecaster"), "{err}");
    // Saving another configuration over it needs an explicit overwrite.
    let other =
        LstmForecaster::seeded(&LstmForecasterConfig::new(2, 5, 1, 4), Device::Cpu, 0).unwrap();
    assert!(matches!(
        other.save(dir.join("f")),
        Err(ModelError::WouldOverwrite { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}
