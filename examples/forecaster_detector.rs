//! A forecasting detector localized: an LSTM forecaster reads 49 steps of the embedded SMD
//! machine and predicts the 50th; its anomaly score is the forecast error, and every
//! method explains that error (the cells it predicts; the 49 context steps carry none of
//! it, yet receive attribution through the forecast). Its table is printed next to the
//! LSTM autoencoder's, with the same windows, methods and normalization.
//!
//! Both models train on the demo's windows (stride 10) with the demo's settings and are
//! cached under `results/cache` (`--retrain` trains them again).
//!
//! Run: `cargo run --release --example forecaster_detector [-- --retrain]`.

mod common;

use std::path::Path;
use std::time::Instant;

use anomaly_xai::method::Context;
use anomaly_xai::models::persist::Overwrite;
use anomaly_xai::models::train::train;
use anomaly_xai::models::{LstmForecaster, LstmForecasterConfig};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::MachineSettings;
use sha2::{Digest, Sha256};
use tch::Device;

fn main() -> std::process::ExitCode {
    common::exit_code(run(std::env::args().any(|a| a == "--retrain")))
}

fn run(retrain: bool) -> Result<()> {
    tch::set_num_threads(1);
    let started = Instant::now();
    let machine = common::smd()?;
    let m = common::prepare(&machine)?;

    // Your detector: 49 steps of context, the next step predicted; the demo's training.
    let config = LstmForecasterConfig::default();
    let settings = MachineSettings::default().train;
    // A named hash (SHA-256) of the settings: the same key on every Rust release.
    let key = Sha256::digest(serde_json::to_string(&(&config, &settings))?);
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "results/cache/machine-1-2-forecaster-{}",
        &format!("{key:x}")[..16]
    ));
    let forecaster = if !retrain && cache.with_extension("json").exists() {
        LstmForecaster::load(&cache, Device::Cpu).map_err(|e| Error::InvalidSetting {
            setting: "cached forecaster",
            value: cache.display().to_string(),
            rule: format!("does not load ({e}); run again with --retrain"),
        })?
    } else {
        let f = LstmForecaster::seeded(&config, Device::Cpu, 0)?;
        let summary = train(
            &f,
            &common::training_windows(&machine, &m.scaler)?,
            &settings,
        )?;
        eprintln!("  forecaster: {summary}");
        f.save_with(&cache, Overwrite::Always)?;
        f
    };

    let localizer = common::localizer(true)?;
    let forecaster_ctx = Context {
        detector: &forecaster,
        ..m.context()
    };
    let (f_table, f_secs) =
        common::run("forecaster", &localizer, &forecaster_ctx, &machine, &m.test)?;
    let (ae_table, ae_secs) = common::run("LSTM AE", &localizer, &m.context(), &machine, &m.test)?;
    let table = common::side_by_side(&[("forecaster", &f_table), ("LSTM AE", &ae_table)])?;
    println!(
        "## LSTM forecaster (49 → 1) next to the LSTM autoencoder, machine-1-2\n\n{}",
        table.to_markdown()
    );
    println!(
        "localization: forecaster {f_secs:.0} s, autoencoder {ae_secs:.0} s; {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
