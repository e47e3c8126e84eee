//! Every method on paper 1's reference LSTM autoencoder, from the shared harness (the
//! model, the method list and settings of `bench_methods`, the per-sensor grouping, the
//! mean L1 reconstruction error of each window); next to them the floor (the model's bare
//! forward, and forward + backward, passes) and Kernel SHAP's surrogate fit on its own.
//!
//! `cargo bench -p anomaly-xai-bench --bench attribution_lstm` measures on
//! `ANOMALY_XAI_BENCH_WINDOWS` windows (default 4) of seeded uniform noise in [0, 1] (the
//! cost of a dense recurrent pass does not depend on the values), with
//! `ANOMALY_XAI_BENCH_THREADS` libtorch threads (default 2). `bench_methods` prints the
//! same comparison as ratios on real windows; `docs/performance.md` has the numbers.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) every method runs once on 2
//! windows of the small model with cheap settings, so the check stays fast in a debug
//! build.

use anomaly_xai::attrib::perturbation::lstsq::weighted_least_squares;
use anomaly_xai::models::LayerModel;
use anomaly_xai::Result;
use anomaly_xai_bench::floor::Floor;
use anomaly_xai_bench::methods::{method_list, Harness, Settings};
use anomaly_xai_bench::reference::{model, noise_windows, Size};
use anomaly_xai_bench::{bench_mode, bench_threads};
use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Device;

fn windows_from_env() -> i64 {
    std::env::var("ANOMALY_XAI_BENCH_WINDOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v >= 1)
        .unwrap_or(4)
}

fn bench(c: &mut Criterion) {
    if let Err(e) = run(c, bench_mode()) {
        panic!("attribution_lstm: {e}");
    }
}

fn run(c: &mut Criterion, full: bool) -> Result<()> {
    let (size, settings, windows) = if full {
        (Size::PAPER1, Settings::PAPER1, windows_from_env())
    } else {
        (Size::SMALL, Settings::SMALL, 2)
    };
    tch::set_num_threads(bench_threads());
    let device = Device::Cpu;
    let x = noise_windows(size, windows, 0, device)?;
    let background = noise_windows(size, settings.background, 1, device)?;
    let ae = model(size, device)?;
    let harness = Harness::new(
        &ae,
        size,
        device,
        &background,
        anomaly_xai::attrib::DEFAULT_BATCH_SIZE,
    )?;
    let methods = method_list(size, &settings)?
        .iter()
        .map(|spec| harness.prepare(spec))
        .collect::<Result<Vec<_>>>()?;

    let mut g = c.benchmark_group(format!("lstm_ae_{windows}_windows"));
    g.sample_size(10)
        .throughput(Throughput::Elements(windows as u64));
    for m in &methods {
        g.bench_function(m.name(), |b| {
            b.iter(|| match harness.attribute(m, black_box(&x)) {
                Ok(a) => a.scores,
                Err(e) => panic!("{}: {e}", m.name()),
            })
        });
    }
    g.finish();

    // Kernel SHAP's own work beside the model: the weighted least-squares fit of its
    // surrogate (1000 coalitions × 37 unknowns after the efficiency constraint, one
    // right-hand side per window), on 0/1 designs drawn from a seeded generator.
    let (rows, unknowns) = if full {
        (settings.kernel_shap_samples, size.sensors as usize - 1)
    } else {
        (40, 4)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let design: Vec<f64> = (0..rows * unknowns)
        .map(|_| f64::from(rng.gen_range(0..2)))
        .collect();
    let weights: Vec<f64> = (0..rows).map(|_| rng.gen_range(0.5..1.5)).collect();
    let values: Vec<f64> = (0..rows * windows as usize)
        .map(|_| rng.gen::<f64>())
        .collect();
    let mut g = c.benchmark_group("kernel_shap_surrogate");
    g.sample_size(10);
    g.bench_function(format!("wls_{rows}x{unknowns}_{windows}_rhs"), |b| {
        b.iter(|| {
            weighted_least_squares(
                black_box(&design),
                &weights,
                &values,
                unknowns,
                windows as usize,
            )
            .expect("well-posed")
        })
    });
    g.finish();

    // The floor: bare passes through the layer list, one model call per measured batch.
    let mut g = c.benchmark_group("lstm_ae_floor");
    g.sample_size(10);
    let batches = if full { vec![64, 512] } else { vec![2] };
    for &n in &batches {
        let floor = Floor::new(ae.layers(), &x, n)?;
        g.throughput(Throughput::Elements(n as u64));
        for (id, grad) in [("forward_no_grad", false), ("forward_backward", true)] {
            g.bench_with_input(BenchmarkId::new(id, n), &n, |b, &n| {
                b.iter(|| floor.run(n as i64, grad).expect("valid input"))
            });
        }
    }
    g.finish();
    Ok(())
}

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    // No plots: criterion's plotters backend needs a system font and panics without one.
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().without_plots();
        targets = super::bench
    }
}
criterion_main!(harness::benches);
