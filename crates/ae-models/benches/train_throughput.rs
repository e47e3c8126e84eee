//! LstmAe training throughput (windows per second) on one SMD machine.
//!
//! Data: the Server Machine Dataset (OmniAnomaly, MIT licence) in `shared/data/smd`, found
//! through `ANOMALY_XAI_DATA` or beside an ancestor of this crate; without it the bench
//! prints a skip message. Each iteration is one epoch of paper 1's model (38 sensors,
//! windows of 50, 2 + 2 LSTM layers of 64, batch 64, gradient clipping at 5) over the first
//! `AE_BENCH_WINDOWS` (default 1024) stride-1 windows of `machine-1-2`'s scaled training
//! half, on CPU. The full-machine epoch is `cargo run --release --example train_throughput`.

use std::path::PathBuf;
use std::time::Instant;

use ae_models::convert::array_to_tensor;
use ae_models::train::{train, TrainConfig};
use ae_models::windows::sliding_windows_tensor;
use ae_models::{LstmAe, LstmAeConfig, MinMaxScaler};
use anomaly_data::SmdMachine;
use criterion::{criterion_main, Criterion, Throughput};
use tch::{Device, Tensor};

fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ANOMALY_XAI_DATA") {
        return Some(PathBuf::from(dir));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared").join("data"))
        .find(|d| d.is_dir())
}

fn windows(n: usize) -> Option<Tensor> {
    let smd = data_dir()?.join("smd");
    let machine = SmdMachine::load(&smd, "machine-1-2").ok()?;
    let rows = (n + 49).min(machine.train.nrows());
    let part = machine
        .train
        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(..rows));
    let scaled = MinMaxScaler::fit(&part).ok()?.transform(&part).ok()?;
    let series = array_to_tensor(&scaled.view().into_dyn(), Device::Cpu).ok()?;
    sliding_windows_tensor(&series, 50, 1)
        .ok()?
        .f_contiguous()
        .ok()
}

fn bench(c: &mut Criterion) {
    // `ANOMALY_XAI_BENCH_THREADS`, as in the root benches, so all figures can be taken alike.
    if let Some(t) = std::env::var("ANOMALY_XAI_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|&t| t >= 1)
    {
        tch::set_num_threads(t);
    }
    let n: usize = std::env::var("AE_BENCH_WINDOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let Some(data) = windows(n) else {
        eprintln!("train_throughput: skipped, SMD data not found (set ANOMALY_XAI_DATA)");
        return;
    };
    let n = data.size()[0] as u64;
    let ae = match LstmAe::seeded(&LstmAeConfig::default(), Device::Cpu, 0) {
        Ok(ae) => ae,
        Err(e) => return eprintln!("train_throughput: cannot build the model: {e}"),
    };
    let cfg = TrainConfig {
        epochs: 1,
        val_fraction: 0.0,
        quiet: true,
        ..TrainConfig::default()
    };
    let mut group = c.benchmark_group("lstm_ae_train");
    group.sample_size(10).throughput(Throughput::Elements(n));
    group.bench_function(format!("smd_machine-1-2_{n}_windows_epoch"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                if let Err(e) = train(&ae, &data, &cfg) {
                    eprintln!("train_throughput: {e}");
                }
            }
            start.elapsed()
        })
    });
    group.finish();
}

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(harness::benches);
