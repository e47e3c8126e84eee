//! Planted level shifts on a trained LSTM autoencoder, rises and drops: how often does each
//! explanation rank the shifted sensor first? The setting of `tests/lstm.rs` (five sensors
//! driven by one periodic signal, windows of 10, one sensor at a time shifted over the
//! second half of a fresh window, 4 windows × 5 sensors per direction, chance 4/20), over
//! several model seeds; then the cost of each LRP on paper 1's LSTM autoencoder.
//!
//! Run: `cargo run --release -p lrp-ae --example planted_faults -- [--hidden 64]
//! [--seeds 8,9,10,11] [--shift 0.4] [--epochs 150] [--eps 1e-6] [--no-cost]`.

use std::time::Instant;

use ae_models::train::{train, TrainConfig};
use ae_models::{ErrorNorm, LayerModel, LstmAe, LstmAeConfig};
use lrp_ae::{Lrp, Preset, Root, RootPoint, DEVIATION_EPSILON};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Five sensors driven by one periodic signal, each with its own phase, plus a little
/// noise; values in [0.1, 0.9] (as in `tests/lstm.rs`).
fn normal_series(g: &mut ChaCha8Rng, len: usize, f: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(len * f);
    for t in 0..len {
        for k in 0..f {
            let s = 0.5 + 0.35 * ((t as f64) * std::f64::consts::TAU / 16.0 + 0.9 * k as f64).sin();
            v.push((s + g.gen_range(-0.02..0.02)) as f32);
        }
    }
    v
}

#[derive(Clone, Copy)]
enum Method {
    Paper2(ErrorNorm),
    Deviation(ErrorNorm, RootPoint),
    Residual,
}

impl Method {
    fn label(self) -> String {
        match self {
            Method::Paper2(n) => format!("lstm-default, {n:?} seed"),
            Method::Deviation(n, RootPoint::Reconstruction) => {
                format!("deviation from x̂, {n:?}")
            }
            Method::Deviation(n, RootPoint::Baseline) => format!("deviation from the mean, {n:?}"),
            Method::Residual => "residual |x − x̂|".into(),
        }
    }
}

const METHODS: [Method; 7] = [
    Method::Paper2(ErrorNorm::SquaredL2),
    Method::Paper2(ErrorNorm::L1),
    Method::Deviation(ErrorNorm::SquaredL2, RootPoint::Reconstruction),
    Method::Deviation(ErrorNorm::L1, RootPoint::Reconstruction),
    Method::Deviation(ErrorNorm::SquaredL2, RootPoint::Baseline),
    Method::Deviation(ErrorNorm::L1, RootPoint::Baseline),
    Method::Residual,
];

/// Relevance per sensor `[F]` of one window `x: [1, T, F]`, and for deviation LRP the
/// relative conservation gap `|Σ R − Δe| / |Δe|`.
fn per_sensor(
    m: Method,
    ae: &LstmAe,
    x: &Tensor,
    mean: &Tensor,
    eps: f64,
) -> (Vec<f64>, Option<f64>) {
    let sensors = |r: &Tensor| {
        Vec::<f64>::try_from(r.sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Double)).unwrap()
    };
    match m {
        Method::Paper2(n) => {
            let e = Lrp::new(n, Preset::LstmDefault)
                .unwrap()
                .explain(ae, x)
                .unwrap();
            (sensors(&e.relevance), None)
        }
        Method::Deviation(n, root) => {
            let lrp = Lrp::new(n, Preset::Deviation { eps, root }).unwrap();
            let reference = match root {
                RootPoint::Reconstruction => Root::Reconstruction,
                RootPoint::Baseline => Root::Tensor(mean.shallow_clone()),
            };
            let e = lrp.explain_deviation(ae, x, &reference).unwrap();
            let de = (&e.error - &e.reference_error).double_value(&[0]);
            let gap = e.delta().unwrap().double_value(&[0]).abs() / de.abs();
            (sensors(&e.relevance), Some(gap))
        }
        Method::Residual => {
            let x_hat = tch::no_grad(|| ae.forward(x).unwrap());
            (sensors(&(x - x_hat).abs()), None)
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hidden: i64 = arg(&args, "--hidden").map_or(64, |v| v.parse().unwrap());
    let shift: f64 = arg(&args, "--shift").map_or(0.4, |v| v.parse().unwrap());
    let epochs: usize = arg(&args, "--epochs").map_or(150, |v| v.parse().unwrap());
    let eps: f64 = arg(&args, "--eps").map_or(DEVIATION_EPSILON, |v| v.parse().unwrap());
    let seeds: Vec<u64> = arg(&args, "--seeds").map_or(vec![8, 9, 10, 11], |v| {
        v.split(',').map(|s| s.trim().parse().unwrap()).collect()
    });
    tch::set_num_threads(1);
    let (f, window) = (5i64, 10i64);
    println!(
        "hidden {hidden}, shift ±{shift}, {epochs} epochs, model seeds {seeds:?}, deviation ε {eps}"
    );
    println!("| model seed | method | rises first /20 | drops first /20 | max |ΣR − Δe|/|Δe| |");
    println!("|---|---|---|---|---|");
    let mut totals = vec![[0usize; 2]; METHODS.len()];
    for &seed in &seeds {
        // Data stream 35 as in tests/lstm.rs; the model seed varies.
        let mut g = ChaCha8Rng::seed_from_u64(35);
        let series = normal_series(&mut g, 400, f as usize);
        let series = Tensor::from_slice(&series).reshape([400, f]);
        let starts: Vec<i64> = (0..400 - window).step_by(2).collect();
        let windows = Tensor::stack(
            &starts
                .iter()
                .map(|&s| series.narrow(0, s, window))
                .collect::<Vec<_>>(),
            0,
        );
        let mean = windows.mean_dim([0i64, 1].as_slice(), false, Kind::Float);
        let cfg = LstmAeConfig {
            encoder_hidden: vec![hidden],
            decoder_hidden: vec![hidden],
            ..LstmAeConfig::new(f, window, hidden)
        };
        let ae = LstmAe::seeded(&cfg, Device::Cpu, seed).unwrap();
        let tc = TrainConfig {
            epochs,
            batch_size: 32,
            lr: 5e-3,
            val_fraction: 0.0,
            patience: None,
            loss: ErrorNorm::L1,
            quiet: true,
            ..TrainConfig::default()
        };
        train(&ae, &windows, &tc).unwrap();
        let fresh = normal_series(&mut g, 60, f as usize);
        let fresh = Tensor::from_slice(&fresh).reshape([60, f]);
        for (k, &m) in METHODS.iter().enumerate() {
            let mut hits = [0usize; 2];
            let mut worst_gap: Option<f64> = None;
            for (d, sign) in [1.0, -1.0].into_iter().enumerate() {
                for s in [0i64, 17, 33, 48] {
                    let w = fresh.narrow(0, s, window);
                    for sensor in 0..f {
                        let bump = Tensor::zeros([window, f], (Kind::Float, Device::Cpu));
                        let _ = bump
                            .narrow(0, window / 2, window / 2)
                            .narrow(1, sensor, 1)
                            .fill_(sign * shift);
                        let x = (&w + bump).unsqueeze(0);
                        let (scores, gap) = per_sensor(m, &ae, &x, &mean, eps);
                        let best = scores
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .unwrap()
                            .0;
                        hits[d] += usize::from(best == sensor as usize);
                        if let Some(gap) = gap {
                            worst_gap = Some(worst_gap.map_or(gap, |w: f64| w.max(gap)));
                        }
                    }
                }
            }
            totals[k][0] += hits[0];
            totals[k][1] += hits[1];
            let gap = worst_gap.map_or("—".into(), |g| format!("{g:.2e}"));
            println!(
                "| {seed} | {} | {} | {} | {gap} |",
                m.label(),
                hits[0],
                hits[1]
            );
        }
    }
    let n = 20 * seeds.len();
    println!("\n| method | rises first /{n} | drops first /{n} |\n|---|---|---|");
    for (k, m) in METHODS.iter().enumerate() {
        println!("| {} | {} | {} |", m.label(), totals[k][0], totals[k][1]);
    }
    if !args.iter().any(|a| a == "--no-cost") {
        cost();
    }
}

/// Minimum wall time of `reps` runs of `f`, in milliseconds.
fn best_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

/// Paper 1's LSTM autoencoder (38 sensors, windows of 50, 2 + 2 layers of 64), seeded
/// untrained weights, a batch of 64 windows, one thread: forward, paper 2's LRP and both
/// deviation LRPs.
fn cost() {
    tch::manual_seed(0);
    let ae = LstmAe::seeded(&LstmAeConfig::default(), Device::Cpu, 0).unwrap();
    let x = Tensor::rand([64, 50, 38], (Kind::Float, Device::Cpu));
    let mean = x.mean_dim([0i64, 1].as_slice(), false, Kind::Float);
    let plain = Lrp::new(ErrorNorm::L1, Preset::LstmDefault).unwrap();
    let dev = |root| {
        Lrp::new(
            ErrorNorm::L1,
            Preset::Deviation {
                eps: DEVIATION_EPSILON,
                root,
            },
        )
        .unwrap()
    };
    let (base, recon) = (dev(RootPoint::Baseline), dev(RootPoint::Reconstruction));
    let reps = 5;
    let fwd = best_ms(reps, || {
        let _ = tch::no_grad(|| ae.forward(&x).unwrap());
    });
    let lrp = best_ms(reps, || {
        plain.explain(&ae, &x).unwrap();
    });
    let mean_ref = Root::Tensor(mean);
    let dm = best_ms(reps, || {
        base.explain_deviation(&ae, &x, &mean_ref).unwrap();
    });
    let dr = best_ms(reps, || {
        recon
            .explain_deviation(&ae, &x, &Root::Reconstruction)
            .unwrap();
    });
    println!("\nCost on paper 1's LstmAe, batch 64, one thread (best of {reps}):");
    println!("| | ms per batch | ms per window | / forward |\n|---|---|---|---|");
    for (name, ms) in [
        ("forward", fwd),
        ("LRP lstm-default", lrp),
        ("deviation LRP from the mean", dm),
        ("deviation LRP from x̂", dr),
    ] {
        println!("| {name} | {ms:.1} | {:.2} | {:.1} |", ms / 64.0, ms / fwd);
    }
}
