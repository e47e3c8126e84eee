//! Trains paper 1's LstmAe on one whole SMD machine and reports the throughput.
//!
//! Data: the Server Machine Dataset (OmniAnomaly, KDD 2019, MIT licence), read from
//! `shared/data/smd` (or `$ANOMALY_XAI_DATA/smd`). Preparation as in paper 1: MinMax scaler
//! fitted on the training half, stride-1 windows of 50, the last 20 % of the windows for
//! validation; model 38 → LSTM 64 → LSTM 64 → repeat → LSTM 64 → LSTM 64 → 38, Adam 1e-3,
//! batch 64, clip 5, L1 loss. Runs on CUDA when available.
//!
//! ```text
//! cargo run --release -p ae-models --example train_throughput -- [MACHINE] [EPOCHS] [THREADS]
//! ```
//!
//! `THREADS` sets libtorch's intra-op threads. On a machine busy with other work, one
//! thread can be many times faster than several: OpenMP workers that wait for each other
//! lose their time slices.

use std::path::PathBuf;
use std::time::Instant;

use ae_models::convert::array_to_tensor;
use ae_models::recon_error::{score, ErrorNorm};
use ae_models::train::{train, TrainConfig};
use ae_models::windows::sliding_windows_tensor;
use ae_models::{LstmAe, LstmAeConfig, MinMaxScaler};
use anomaly_data::SmdMachine;
use tch::Device;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let machine = args.next().unwrap_or_else(|| "machine-1-2".into());
    let epochs: usize = args.next().map(|e| e.parse()).transpose()?.unwrap_or(1);
    if let Some(threads) = args.next() {
        tch::set_num_threads(threads.parse()?);
    }
    let data = match std::env::var_os("ANOMALY_XAI_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared").join("data"))
            .find(|d| d.is_dir())
            .ok_or("shared/data not found: set ANOMALY_XAI_DATA")?,
    };
    let t0 = Instant::now();
    let m = SmdMachine::load(&data.join("smd"), &machine)?;
    let scaler = MinMaxScaler::fit(&m.train.view())?;
    let train_scaled = scaler.transform(&m.train.view())?;
    let device = Device::cuda_if_available();
    let series = array_to_tensor(&train_scaled.view().into_dyn(), device)?;
    let windows = sliding_windows_tensor(&series, 50, 1)?;
    println!(
        "{machine}: {} training rows, {} windows of 50 x {} (loaded in {:.1} s), device {device:?}, {} threads",
        m.train.nrows(),
        windows.size()[0],
        m.n_features(),
        t0.elapsed().as_secs_f64(),
        tch::get_num_threads(),
    );
    let ae = LstmAe::seeded(&LstmAeConfig::default(), device, 0)?;
    let cfg = TrainConfig {
        epochs,
        patience: None,
        ..TrainConfig::default()
    };
    let summary = train(&ae, &windows, &cfg)?;
    println!("{summary}");
    println!(
        "throughput: {:.0} training windows/s (forward + backward + Adam step, batch {})",
        summary.train_samples_per_second, cfg.batch_size
    );
    let t1 = Instant::now();
    let scores = score(&ae, &windows, ErrorNorm::L1, 1024)?;
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "scoring: {:.0} windows/s (no-grad forward, batch 1024); mean window L1 error {:.5}",
        scores.size()[0] as f64 / secs,
        scores.mean(tch::Kind::Double).double_value(&[])
    );
    Ok(())
}
