//! Every attribution method on paper 1's reference LSTM autoencoder (38 sensors, windows
//! of 50 steps, 2 + 2 LSTM layers of 64 units), explaining the mean L1 reconstruction
//! error of a batch of windows, with per-sensor groups and a zero baseline; next to them,
//! the floor (the same model's bare forward, and forward + backward, passes) and Kernel
//! SHAP's surrogate fit on its own.
//!
//! `cargo bench --bench attribution_lstm` measures the settings of
//! `examples/bench_methods.rs` (Occlusion 50 × 1, Ablation and Permutation per sensor,
//! Shapley sampling 25 permutations, Kernel SHAP 1000 samples, IG 50 steps, Gradient SHAP
//! 50 samples over 16 background windows) on `ANOMALY_XAI_BENCH_WINDOWS` windows (default
//! 4), with `ANOMALY_XAI_BENCH_THREADS` libtorch threads (default 2). The windows are seeded
//! uniform noise in [0, 1]: the cost of a dense recurrent pass does not depend on the values.
//! The example prints the same comparison as ratios; `docs/performance.md` has the numbers.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) every method runs once on 2
//! windows of a small model (5 sensors, 8 steps, 8 units) with cheap settings, so the check
//! stays fast in a debug build.

use anomaly_xai::attrib::perturbation::lstsq::weighted_least_squares;
use anomaly_xai::attrib::{
    Attribution, Baseline, FeatureAblation, FeatureMask, FeaturePermutation, GradientShap,
    InputXGradient, IntegratedGradients, KernelShap, Norm, Occlusion, ReconstructionError, Request,
    Residual, Saliency, ShapleyValueSampling,
};
use anomaly_xai::lrp::{Lrp, OutputSeed, Preset};
use anomaly_xai::models::layer::forward_layers;
use anomaly_xai::models::{Autoencoder, LstmAe, LstmAeConfig};
use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Whether criterion measures (`cargo bench`) rather than checks (`cargo test`).
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v >= 1)
        .unwrap_or(default)
}

/// Model size and method settings: the reference model and the common defaults when
/// measuring, a small model and cheap settings when checking.
struct Settings {
    sensors: i64,
    steps: i64,
    hidden: i64,
    windows: i64,
    ig_steps: usize,
    gradient_shap_samples: usize,
    permutations: usize,
    kernel_shap_samples: usize,
}

impl Settings {
    fn new(full: bool) -> Self {
        if full {
            Settings {
                sensors: 38,
                steps: 50,
                hidden: 64,
                windows: env_or("ANOMALY_XAI_BENCH_WINDOWS", 4),
                ig_steps: 50,
                gradient_shap_samples: 50,
                permutations: 25,
                kernel_shap_samples: 1000,
            }
        } else {
            Settings {
                sensors: 5,
                steps: 8,
                hidden: 8,
                windows: 2,
                ig_steps: 4,
                gradient_shap_samples: 4,
                permutations: 2,
                kernel_shap_samples: 20,
            }
        }
    }
}

type ScorerMethod<'a> = Box<dyn Attribution<ReconstructionError<'a, LstmAe>> + 'a>;

fn scorer_methods<'a>(s: &Settings) -> Result<Vec<ScorerMethod<'a>>, Box<dyn std::error::Error>> {
    Ok(vec![
        Box::new(Residual::new(Norm::L1)),
        Box::new(Saliency::default()),
        Box::new(InputXGradient::default()),
        Box::new(
            IntegratedGradients::params()
                .n_steps(s.ig_steps)
                .convergence_delta(false)
                .check()?,
        ),
        Box::new(
            GradientShap::params()
                .n_samples(s.gradient_shap_samples)
                .convergence_delta(false)
                .check()?,
        ),
        Box::new(FeatureAblation::params().progress(false).check()?),
        Box::new(
            Occlusion::params()
                .window([s.steps, 1])
                .progress(false)
                .check()?,
        ),
        Box::new(FeaturePermutation::params().progress(false).check()?),
        Box::new(
            ShapleyValueSampling::params()
                .n_permutations(s.permutations)
                .progress(false)
                .check()?,
        ),
        Box::new(
            KernelShap::params()
                .n_samples(s.kernel_shap_samples)
                .progress(false)
                .check()?,
        ),
    ])
}

fn bench(c: &mut Criterion) {
    if let Err(e) = run(c, bench_mode()) {
        panic!("attribution_lstm: {e}");
    }
}

fn run(c: &mut Criterion, full: bool) -> Result<(), Box<dyn std::error::Error>> {
    let s = Settings::new(full);
    tch::set_num_threads(env_or("ANOMALY_XAI_BENCH_THREADS", 2) as i32);
    tch::manual_seed(0);
    let opts = (Kind::Float, Device::Cpu);
    let sample = [s.steps, s.sensors];
    let x = Tensor::rand([s.windows, s.steps, s.sensors], opts);
    let background = Tensor::rand([16, s.steps, s.sensors], opts);
    let ae = LstmAe::seeded(
        &LstmAeConfig::new(s.sensors, s.steps, s.hidden),
        Device::Cpu,
        0,
    )?;
    let scorer = ReconstructionError::new(&ae, Norm::L1);
    let mask = FeatureMask::per_sensor(s.steps, s.sensors)?;
    let methods = scorer_methods(&s)?;
    let lrp = Lrp::new(OutputSeed::DeepTaylorL1, Preset::LstmDefault)?;

    let mut g = c.benchmark_group(format!("lstm_ae_{}_windows", s.windows));
    g.sample_size(10)
        .throughput(Throughput::Elements(s.windows as u64));
    for m in &methods {
        let baseline = if m.name() == "gradient_shap" {
            Baseline::Distribution(background.shallow_clone())
        } else {
            Baseline::Zero
        };
        let req = Request::with_baseline(baseline).mask(mask.clone());
        g.bench_function(m.name(), |b| {
            b.iter(|| match m.attribute(&scorer, black_box(&x), &req) {
                Ok(a) => a.scores,
                Err(e) => panic!("{}: {e}", m.name()),
            })
        });
    }
    let req = Request::with_baseline(Baseline::Zero).mask(mask.clone());
    g.bench_function("lrp", |b| {
        b.iter(|| match lrp.attribute(&ae, black_box(&x), &req) {
            Ok(a) => a.scores,
            Err(e) => panic!("lrp: {e}"),
        })
    });
    g.finish();

    // Kernel SHAP's own work beside the model: the weighted least-squares fit of its
    // surrogate (1000 coalitions × 37 unknowns after the efficiency constraint, one
    // right-hand side per window), on 0/1 designs drawn from a seeded generator.
    let (rows, unknowns) = if full { (1000, 37) } else { (40, 4) };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let design: Vec<f64> = (0..rows * unknowns)
        .map(|_| f64::from(rng.gen_range(0..2)))
        .collect();
    let weights: Vec<f64> = (0..rows).map(|_| rng.gen_range(0.5..1.5)).collect();
    let values: Vec<f64> = (0..rows * s.windows as usize)
        .map(|_| rng.gen::<f64>())
        .collect();
    let mut g = c.benchmark_group("kernel_shap_surrogate");
    g.sample_size(10);
    g.bench_function(format!("wls_{rows}x{unknowns}_{}_rhs", s.windows), |b| {
        b.iter(|| {
            weighted_least_squares(
                black_box(&design),
                &weights,
                &values,
                unknowns,
                s.windows as usize,
            )
            .expect("well-posed")
        })
    });
    g.finish();

    // The floor: bare passes through the layer list, one model call per measured batch.
    let mut g = c.benchmark_group("lstm_ae_floor");
    g.sample_size(10);
    let rows = if full { vec![64, 512] } else { vec![2] };
    for &n in &rows {
        let batch = Tensor::rand([n, sample[0], sample[1]], opts);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("forward_no_grad", n),
            &batch,
            |b, batch| {
                b.iter(|| {
                    let _guard = tch::no_grad_guard();
                    forward_layers(ae.layers(), black_box(batch)).expect("valid input")
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("forward_backward", n),
            &batch,
            |b, batch| {
                b.iter(|| {
                    let input = batch.detach().set_requires_grad(true);
                    let out = forward_layers(ae.layers(), &input).expect("valid input");
                    Tensor::run_backward(&[out.sum(Kind::Float)], &[&input], false, false)
                })
            },
        );
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
