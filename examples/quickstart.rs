//! Quickstart: the README's code sample, kept compiling.
//!
//! Trains the paper-1 LSTM autoencoder on the embedded SMD machine (machine-1-2, MIT
//! licence, `data/smd/`) and localizes its labelled anomalies with three methods.
//! Run: `cargo run --release --example quickstart` (after `eval "$(cargo xtask env)"`).

use anomaly_xai::attrib::{BaselineSpec, Norm};
use anomaly_xai::data::SmdMachine;
use anomaly_xai::localizer::{Detector, Localizer, LocalizerConfig, MethodSpec};
use anomaly_xai::metrics::Protocol;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{LstmAe, LstmAeConfig, MinMaxScaler};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Any [T, F] series with labelled regions works; here an SMD machine.
    let m = SmdMachine::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/smd"),
        "machine-1-2",
    )?;
    let scaler = MinMaxScaler::fit(&m.train.view())?;
    let train_w = sliding_windows(&scaler.transform(&m.train.view())?.view(), 50, 10)?;
    let train_t = array_to_tensor(&train_w.data.view().into_dyn(), tch::Device::Cpu)?;

    // The detector: a 2+2-layer LSTM autoencoder, trained as in paper 1.
    let model = LstmAe::seeded(&LstmAeConfig::new(38, 50, 64), tch::Device::Cpu, 0)?;
    train(&model, &train_t, &TrainConfig::default())?;

    // Where are the anomalies? Occlusion and LRP, scored against the labelled sensors.
    let localizer = Localizer::new(
        LocalizerConfig::default(),
        vec![
            MethodSpec::Occlusion {
                steps: None,
                stride: None,
                baseline: BaselineSpec::Zero,
            },
            MethodSpec::Residual { norm: Norm::L1 },
            MethodSpec::Lrp {
                preset: anomaly_xai::lrp::Preset::LstmDefault,
            },
        ],
    );
    let test = scaler.transform(&m.test.view())?;
    let det = Detector {
        model: &model,
        attention: None,
        train: Some(&train_t),
        reference: None,
    };
    let run = localizer.run(&det, test.view(), &m.regions, &Protocol::paper())?;
    println!("{}", run.table()?.to_markdown());
    Ok(())
}
