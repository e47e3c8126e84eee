//! The latency of one live alarm: [`Explainer::explain`] of a span whose 8 windows end in
//! it, on paper 1's LSTM autoencoder (windows of 50 steps, 2 + 2 layers of 64 units,
//! seeded weights: a dense recurrent pass costs the same whatever the weights), one
//! libtorch thread, for the residual alone and for the default methods the detector
//! serves, next to the floor of the model evaluations the explanation reported (bare
//! no-grad forward passes and forward + backward passes through the layer list, in
//! batches of 512 rows), at 38 sensors (SMD), 127 (WADI) and 500 (a large host).
//!
//! Every alarm is a fresh span of seeded noise windows (the cost of a pass does not depend
//! on the values); after one warm-up alarm, `--repeats` alarms are timed (fewer for the
//! default set at more sensors, see `--default-repeats`), and the table gives the median
//! and the 99th percentile (nearest rank: with fewer than 100 alarms, the slowest).
//!
//! ```text
//! cargo run --release -p anomaly-xai-bench --example alarm_latency
//! ```

use std::time::Instant;

use anomaly_xai::explainer::{Explainer, Explanation, NormalReference};
use anomaly_xai::method::MethodSpec;
use anomaly_xai::models::{ErrorNorm, LayerModel};
use anomaly_xai::Result;
use anomaly_xai_bench::floor::Floor;
use anomaly_xai_bench::reference::{model, noise_windows, Size};
use anomaly_xai_bench::timing::load_average;
use clap::Parser;
use ndarray::Array2;
use tch::Device;

#[derive(Parser, Debug)]
#[command(
    about = "Latency of one live alarm (8 windows, 1 thread): residual alone and the default set, next to the floor of model evaluations"
)]
struct Args {
    /// Sensor counts
    #[arg(long, value_delimiter = ',', default_value = "38,127,500")]
    sensors: Vec<i64>,
    /// Alarms timed for the residual alone
    #[arg(long, default_value_t = 200)]
    repeats: usize,
    /// Alarms timed for the default set, per sensor count (the last value repeats)
    #[arg(long, value_delimiter = ',', default_value = "100,20,5")]
    default_repeats: Vec<usize>,
    /// Windows per alarm
    #[arg(long, default_value_t = 8)]
    windows: usize,
}

const STEPS: i64 = 50;
const HIDDEN: i64 = 64;
const BATCH: usize = 512;

fn main() -> Result<()> {
    let args = Args::parse();
    tch::set_num_threads(1);
    println!(
        "one alarm: {} windows of {STEPS} steps, 1 libtorch thread, load average {}",
        args.windows,
        load_average().map_or("?".into(), |l| format!("{l:.1}"))
    );
    println!();
    println!("| sensors | methods | fit s | alarms | median ms | p99 ms | floor ms | forward / backward evals per window |");
    println!("|---:|---|---:|---:|---:|---:|---:|---|");
    for (i, &sensors) in args.sensors.iter().enumerate() {
        let size = Size {
            sensors,
            steps: STEPS,
            hidden: HIDDEN,
        };
        let default_repeats = *args
            .default_repeats
            .get(i)
            .or(args.default_repeats.last())
            .unwrap_or(&1);
        for residual_only in [true, false] {
            let ae = model(size, Device::Cpu)?;
            let layers: Vec<_> = ae.layers().to_vec();
            let normal = noise_series(size, 600, 1)?;
            let mut builder = Explainer::builder(ae);
            if residual_only {
                builder = builder.methods(vec![MethodSpec::residual(ErrorNorm::SquaredL2)]);
            }
            let started = Instant::now();
            let explainer = builder.fit(normal.view(), NormalReference::HeldOut(400..600))?;
            let fit = started.elapsed().as_secs_f64();
            let repeats = if residual_only {
                args.repeats
            } else {
                default_repeats
            };
            // One live series per alarm: the span's 8 windows end in its last 8 steps.
            let span_len = args.windows;
            let len = STEPS as usize + span_len - 1;
            let mut ms = Vec::with_capacity(repeats);
            let mut last: Option<Explanation> = None;
            for k in 0..=repeats {
                let live = noise_series(size, len, 100 + k as i64)?;
                let t = Instant::now();
                let x = explainer.explain(live.view(), len - span_len..len)?;
                if k > 0 {
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
                last = Some(x);
            }
            let x = last.expect("at least the warm-up alarm");
            let (f, b) = x.methods.iter().fold((0, 0), |(f, b), m| {
                (f + m.forward_evals, b + m.backward_evals)
            });
            let floor = floor_ms(&layers, size, x.window_starts.len(), f, b)?;
            ms.sort_by(f64::total_cmp);
            let median = ms[ms.len() / 2];
            let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1];
            let methods = match residual_only {
                true => "Residual L2".to_string(),
                false => format!("default set ({} methods)", x.methods.len()),
            };
            println!(
                "| {sensors} | {methods} | {fit:.1} | {} | {median:.2} | {p99:.2} | {floor:.2} | {f} / {b} |",
                ms.len()
            );
        }
    }
    Ok(())
}

/// A seeded noise series `[len, sensors]` in [0, 1].
fn noise_series(size: Size, len: usize, seed: i64) -> Result<Array2<f32>> {
    let w = noise_windows(
        Size {
            steps: len as i64,
            ..size
        },
        1,
        seed,
        Device::Cpu,
    )?;
    let v = Vec::<f32>::try_from(w.f_flatten(0, -1)?)?;
    Ok(Array2::from_shape_vec((len, size.sensors as usize), v).expect("len × sensors values"))
}

/// The floor of `forward` forward and `backward` backward evaluations per window on
/// `windows` windows: the minimum over 5 timings of the bare passes.
fn floor_ms(
    layers: &[anomaly_xai::models::Layer],
    size: Size,
    windows: usize,
    forward: usize,
    backward: usize,
) -> Result<f64> {
    let x = noise_windows(size, windows as i64, 7, Device::Cpu)?;
    let floor = Floor::new(layers, &x, BATCH)?;
    let w = windows as i64;
    let (f, b) = (forward as i64, backward as i64);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        floor.run(b * w, true)?;
        floor.run((f - b).max(0) * w, false)?;
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(best)
}
