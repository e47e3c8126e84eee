//! Quickstart: the README's code sample, kept compiling.
//!
//! Trains the paper-1 LSTM autoencoder on the embedded SMD machine (machine-1-2, MIT
//! licence, `data/smd/`) and localizes its labelled anomalies with three methods.
//! Run: `cargo run --release --example quickstart`.

use anomaly_xai::attrib::{BaselineSpec, Occlusion};
use anomaly_xai::data::SmdMachine;
use anomaly_xai::localizer::{Localizer, LocalizerConfig};
use anomaly_xai::lrp::RootPoint;
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::metrics::Protocol;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{ErrorNorm, LstmAe, LstmAeConfig, MinMaxScaler};

/// Prints the error's message (its `Display`), not the `Debug` form `main` returning a
/// `Result` would print.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anomaly_xai::Result<()> {
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

    // Where are the anomalies? Occlusion of each sensor (replaced by its training mean),
    // the residual and LRP of the error's deviation (docs/reproduction/regimes.md: each of
    // them beats chance on both kinds of machine; zero baselines and paper 2's LSTM LRP
    // do not).
    let occlusion = Occlusion::params()
        .window([50, 1])
        .strides([50, 1])
        .check()?;
    let methods = vec![
        MethodSpec::attrib(occlusion).baseline(BaselineSpec::FeatureMeans),
        MethodSpec::residual(ErrorNorm::L1),
        MethodSpec::lrp_deviation(RootPoint::Reconstruction),
    ];
    let localizer = Localizer::new(LocalizerConfig::default(), methods);
    let test = scaler.transform(&m.test.view())?;
    // The default normalization compares each sensor's score with its scores on normal
    // windows the model was not fitted on: the last 20% of the training windows, which
    // training kept for validation.
    let n = train_t.size()[0];
    let reference = train_t.narrow(0, n - n / 5, n / 5);
    let ctx = Context {
        train: Some(&train_t),
        reference: Some(&reference),
        ..Context::new(&model)
    };
    let run = localizer.run(&ctx, test.view(), &m.regions, &Protocol::paper())?;
    println!("{}", run.table()?.to_markdown());
    Ok(())
}
