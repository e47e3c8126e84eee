//! How close Kernel SHAP comes to the exact Shapley values for a given number of model
//! evaluations, for every coalition sampler, on detectors small enough to enumerate.
//!
//! ```bash
//! eval "$(cargo xtask env)"
//! cargo run --release -p xai-attrib --example kernel_shap_accuracy -- \
//!     --out target/kernel_shap_accuracy --seeds 50
//! ```
//!
//! Games (one per detector, `M ≤ 16` groups, so all `2^M` coalitions can be evaluated):
//!
//! * `lstm_smd_seeded`, `lstm_smd_trained`: paper 1's LSTM autoencoder (38 sensors,
//!   windows of 50, 2 + 2 layers of 64 units) on real windows of SMD machine-1-2's test
//!   half (min-max scaled on the training half, clipped to [-3, 3]), each starting a
//!   labelled anomalous region; the 38 sensors in 16 groups of neighbours
//!   (`FeatureMask::from_tensor`); baseline: the per-sensor training means; explained
//!   output: the mean L1 reconstruction error. Seeded weights, and the same model trained
//!   for `--train-seconds` on the training half;
//! * `dense_breast_cancer`: a dense autoencoder (30-16-8-16-30) trained on the benign
//!   rows of the breast-cancer table (min-max scaled), explaining the malignant rows it
//!   reconstructs worst; 15 groups of two neighbouring features; baseline: the benign
//!   means;
//! * `synthetic_mlp`: a non-additive function of 16 features, a random two-layer tanh
//!   network (`Σ_h a_h tanh(w_hᵀ x / 2 + b_h)`, 32 units), at standard normal points
//!   against a zero baseline: interactions of every order.
//!
//! For each game the value of every coalition of every explained sample is computed once
//! (the model on `where(z, x, baseline)`), and the exact Shapley values from them. Kernel
//! SHAP then runs unchanged (`KernelShap::attribute`) on a scorer that reads each perturbed
//! input's coalition off its cells and returns the tabulated value: the same numbers as
//! the model, at no cost, so thousands of runs take seconds.
//!
//! Error: `‖φ̂ − φ‖₂ / ‖φ‖₂` per sample, averaged over samples and seeds; also the share of
//! the three largest exact values found among the three largest estimates. Evaluations:
//! the distinct coalitions each run evaluated, the full and the empty one included.
//!
//! Writes into `--out`: `ours.json` and `ours.csv` (one row per game, estimator and
//! budget), and `games/NAME.safetensors` + `games/NAME.json` (inputs, baselines, mask,
//! coalition values, exact Shapley values) for `xtask/bench/kernel_shap_curve.py`, which
//! runs Captum on the same games.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ae_models::convert::array_to_tensor;
use ae_models::train::{train, TrainConfig};
use ae_models::windows::sliding_windows;
use ae_models::{DenseAe, DenseAeConfig, LstmAe, LstmAeConfig, MinMaxScaler, SmdMachine};
use serde::Serialize;
use tch::{Device, Kind, Tensor};
use xai_attrib::perturbation::kernel_shap::CoalitionSampling;
use xai_attrib::{
    Attribution, Baseline, FeatureMask, FnScorer, KernelShap, Norm, ReconstructionError, Request,
    Scorer,
};

type BoxError = Box<dyn Error>;

/// One Kernel SHAP configuration under test.
struct Estimator {
    name: &'static str,
    sampling: CoalitionSampling,
    paired: bool,
    efficiency: bool,
}

const ESTIMATORS: [Estimator; 4] = [
    Estimator {
        name: "ours_captum_scheme",
        sampling: CoalitionSampling::Independent,
        paired: false,
        efficiency: false,
    },
    Estimator {
        name: "ours_old_default",
        sampling: CoalitionSampling::Independent,
        paired: true,
        efficiency: true,
    },
    Estimator {
        name: "ours_stratified_kernel",
        sampling: CoalitionSampling::StratifiedKernel,
        paired: true,
        efficiency: true,
    },
    Estimator {
        name: "ours_stratified_leverage",
        sampling: CoalitionSampling::StratifiedLeverage,
        paired: true,
        efficiency: true,
    },
];

struct Args {
    out: PathBuf,
    seeds: u64,
    samples: usize,
    budgets: Vec<usize>,
    games: Vec<String>,
    smd_dir: PathBuf,
    breast_cancer: PathBuf,
    train_seconds: f64,
    threads: Option<i32>,
    reuse: bool,
}

/// The games run without `--games`: the seeded LSTM is left out, as its game is additive
/// to within rounding (every sampler is exact on it) and costs minutes to tabulate.
const DEFAULT_GAMES: [&str; 3] = ["synthetic_mlp", "dense_breast_cancer", "lstm_smd_trained"];

const ALL_GAMES: [&str; 4] = [
    "synthetic_mlp",
    "dense_breast_cancer",
    "lstm_smd_seeded",
    "lstm_smd_trained",
];

fn parse_args() -> Result<Args, BoxError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut a = Args {
        out: root.join("target/kernel_shap_accuracy"),
        seeds: 50,
        samples: 8,
        budgets: vec![50, 100, 200, 300, 500, 1000, 2000],
        games: DEFAULT_GAMES.iter().map(|s| s.to_string()).collect(),
        smd_dir: root.join("data/smd"),
        breast_cancer: root.join("../shared/data/tabular/breast_cancer"),
        train_seconds: 120.0,
        threads: None,
        reuse: false,
    };
    if !a.breast_cancer.exists() {
        a.breast_cancer = PathBuf::from("/work/shared/data/tabular/breast_cancer");
    }
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => a.out = value()?.into(),
            "--seeds" => a.seeds = value()?.parse()?,
            "--samples" => a.samples = value()?.parse()?,
            "--budgets" => {
                a.budgets = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--games" => a.games = value()?.split(',').map(String::from).collect(),
            "--smd-dir" => a.smd_dir = value()?.into(),
            "--breast-cancer" => a.breast_cancer = value()?.into(),
            "--train-seconds" => a.train_seconds = value()?.parse()?,
            "--threads" => a.threads = Some(value()?.parse()?),
            "--reuse" => a.reuse = true,
            "-h" | "--help" => {
                println!(
                    "kernel_shap_accuracy [--out DIR] [--seeds N] [--samples N] \
                     [--budgets 50,100,..] [--games {}] [--smd-dir DIR] \
                     [--breast-cancer DIR] [--train-seconds S] [--threads N] [--reuse]\n\
                     --reuse reads the games already in OUT/games instead of tabulating them",
                    ALL_GAMES.join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(g) = a.games.iter().find(|g| !ALL_GAMES.contains(&g.as_str())) {
        return Err(format!("unknown game {g}; known: {}", ALL_GAMES.join(", ")).into());
    }
    if a.seeds == 0 || a.samples == 0 || a.budgets.iter().any(|&b| b < 3) {
        return Err("--seeds and --samples must be ≥ 1 and every budget ≥ 3".into());
    }
    Ok(a)
}

/// A cooperative game per explained sample: `v(z)` for every coalition `z` (bit `g` of the
/// index is group `g`), and its exact Shapley values.
struct Game {
    name: String,
    description: String,
    /// `[S, ..sample]` inputs and baselines (one per input).
    x: Tensor,
    baseline: Tensor,
    /// Group id of every cell, in the sample's shape.
    ids: Tensor,
    m: usize,
    values: Vec<Vec<f64>>,
    exact: Vec<Vec<f64>>,
    seconds: f64,
}

impl Game {
    /// Evaluates `scorer` on every coalition of every sample.
    fn tabulate(
        name: &str,
        description: String,
        scorer: &dyn Scorer,
        x: &Tensor,
        baseline: &Tensor,
        ids: &Tensor,
    ) -> Result<Game, BoxError> {
        let start = Instant::now();
        let m = (ids.max().int64_value(&[]) + 1) as usize;
        assert!(m <= 20, "{m} groups are too many to enumerate");
        let s = x.size()[0];
        let flat_ids = ids.flatten(0, -1);
        let cells = flat_ids.size()[0];
        let total = 1i64 << m;
        let chunk = 8192.min(total);
        let mut values = Vec::new();
        let _guard = tch::no_grad_guard();
        for i in 0..s {
            let xi = x.get(i).reshape([1, cells]);
            let bi = baseline.get(i).reshape([1, cells]);
            let mut v = Vec::with_capacity(total as usize);
            let mut first = 0;
            while first < total {
                let n = chunk.min(total - first);
                let idx = Tensor::arange_start(first, first + n, (Kind::Int64, Device::Cpu));
                // Bit `ids[c]` of the coalition index says whether cell `c` is present.
                let present = idx
                    .unsqueeze(1)
                    .bitwise_right_shift(&flat_ids.unsqueeze(0))
                    .bitwise_and(1)
                    .eq(1);
                let mut shape = vec![n];
                shape.extend_from_slice(&x.size()[1..]);
                let rows = xi.where_self(&present, &bi).reshape(&shape);
                let out = scorer.score(&rows)?.to_kind(Kind::Double);
                v.extend(Vec::<f64>::try_from(out)?);
                first += n;
            }
            values.push(v);
        }
        let exact = values.iter().map(|v| shapley(v, m)).collect();
        Ok(Game {
            name: name.into(),
            description,
            x: x.shallow_clone(),
            baseline: baseline.shallow_clone(),
            ids: ids.shallow_clone(),
            m,
            values,
            exact,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// A game written by [`Game::write`].
    fn read(dir: &Path, name: &str) -> Result<Game, BoxError> {
        let start = Instant::now();
        let meta: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.join(format!("{name}.json")))?)?;
        let tensors = Tensor::read_safetensors(dir.join(format!("{name}.safetensors")))?;
        let get = |key: &str| {
            tensors
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, t)| t.shallow_clone())
                .ok_or(format!("{name}.safetensors lacks `{key}`"))
        };
        let rows = |t: Tensor| -> Result<Vec<Vec<f64>>, BoxError> {
            (0..t.size()[0])
                .map(|i| Ok(Vec::<f64>::try_from(t.get(i))?))
                .collect()
        };
        let values = rows(get("values")?)?;
        Ok(Game {
            name: name.into(),
            description: meta["description"].as_str().unwrap_or_default().into(),
            x: get("x")?,
            baseline: get("baseline")?,
            ids: get("ids")?,
            m: values[0].len().trailing_zeros() as usize,
            values,
            exact: rows(get("exact")?)?,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn write(&self, dir: &Path) -> Result<(), BoxError> {
        fs::create_dir_all(dir)?;
        let s = self.values.len() as i64;
        let values: Vec<f64> = self.values.concat();
        let exact: Vec<f64> = self.exact.concat();
        Tensor::write_safetensors(
            &[
                ("x", self.x.shallow_clone()),
                ("baseline", self.baseline.shallow_clone()),
                ("ids", self.ids.shallow_clone()),
                ("values", Tensor::from_slice(&values).reshape([s, -1])),
                ("exact", Tensor::from_slice(&exact).reshape([s, -1])),
            ],
            dir.join(format!("{}.safetensors", self.name)),
        )?;
        let meta = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "groups": self.m,
            "samples": s,
            "sample_shape": &self.x.size()[1..],
        });
        fs::write(
            dir.join(format!("{}.json", self.name)),
            serde_json::to_string_pretty(&meta)?,
        )?;
        Ok(())
    }
}

/// Exact Shapley values from all `2^m` coalition values.
fn shapley(v: &[f64], m: usize) -> Vec<f64> {
    // w(k) = k! (m − k − 1)! / m!, built up without factorials.
    let mut w = vec![0.0; m];
    w[0] = 1.0 / m as f64;
    for k in 1..m {
        w[k] = w[k - 1] * k as f64 / (m - k) as f64;
    }
    (0..m)
        .map(|j| {
            (0..v.len())
                .filter(|s| s >> j & 1 == 0)
                .map(|s| w[(s as u64).count_ones() as usize] * (v[s | 1 << j] - v[s]))
                .sum()
        })
        .collect()
}

/// A scorer that answers from a game's table: it reads the coalition of each perturbed
/// input off one cell per group where the input and the baseline differ (a group equal to
/// its baseline everywhere does not change the value, so its bit is irrelevant), and
/// checks that every cell is the input's or the baseline's.
struct Lookup {
    x: Tensor,
    baseline: Tensor,
    cells: Tensor,
    weights: Tensor,
    values: Tensor,
}

impl Lookup {
    fn new(game: &Game, i: usize) -> Result<Lookup, BoxError> {
        let x = game.x.get(i as i64).flatten(0, -1);
        let baseline = game.baseline.get(i as i64).flatten(0, -1);
        let ids = Vec::<i64>::try_from(game.ids.flatten(0, -1))?;
        let differs = Vec::<bool>::try_from(x.ne_tensor(&baseline))?;
        let (mut cells, mut weights) = (Vec::new(), Vec::new());
        for g in 0..game.m as i64 {
            if let Some(c) = (0..ids.len()).find(|&c| ids[c] == g && differs[c]) {
                cells.push(c as i64);
                weights.push(1i64 << g);
            }
        }
        Ok(Lookup {
            x,
            baseline,
            cells: Tensor::from_slice(&cells),
            weights: Tensor::from_slice(&weights),
            values: Tensor::from_slice(&game.values[i]),
        })
    }
}

impl Scorer for Lookup {
    fn score(&self, rows: &Tensor) -> xai_attrib::Result<Tensor> {
        let flat = rows.f_flatten(1, -1)?;
        let valid = flat
            .f_eq_tensor(&self.x)?
            .f_logical_or(&flat.f_eq_tensor(&self.baseline)?)?
            .f_all()?
            .f_int64_value(&[])?;
        if valid == 0 {
            return Err(xai_attrib::XaiError::InvalidInput {
                what: "lookup scorer".into(),
                reason: "a perturbed input mixes values other than the input's and the baseline's"
                    .into(),
            });
        }
        let bits = flat
            .f_index_select(1, &self.cells)?
            .f_eq_tensor(&self.x.f_index_select(0, &self.cells)?)?
            .f_to_kind(Kind::Int64)?;
        let index = bits
            .f_mul(&self.weights)?
            .f_sum_dim_intlist(1, false, Kind::Int64)?;
        Ok(self.values.f_index_select(0, &index)?)
    }
}

#[derive(Serialize)]
struct Row {
    game: String,
    estimator: String,
    budget: usize,
    evals: f64,
    rel_error: f64,
    rel_error_se: f64,
    top3: f64,
    seeds: u64,
    samples: usize,
}

fn rel_error(est: &[f64], exact: &[f64]) -> f64 {
    let d: f64 = est.iter().zip(exact).map(|(a, b)| (a - b).powi(2)).sum();
    let n: f64 = exact.iter().map(|b| b * b).sum();
    (d / n).sqrt()
}

fn top3(est: &[f64], exact: &[f64]) -> f64 {
    let top = |v: &[f64]| {
        let mut i: Vec<usize> = (0..v.len()).collect();
        i.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
        i.truncate(3);
        i
    };
    let (a, b) = (top(est), top(exact));
    b.iter().filter(|g| a.contains(g)).count() as f64 / b.len() as f64
}

/// Runs every estimator at every budget and seed on one game.
fn measure(game: &Game, args: &Args) -> Result<Vec<Row>, BoxError> {
    let lookups: Vec<Lookup> = (0..game.values.len())
        .map(|i| Lookup::new(game, i))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for est in &ESTIMATORS {
        for &budget in &args.budgets {
            let mut per_seed = Vec::new();
            let (mut evals, mut agree) = (0.0, 0.0);
            for seed in 0..args.seeds {
                let method = KernelShap::params()
                    .n_samples(budget)
                    .sampling(est.sampling)
                    .paired(est.paired)
                    .efficiency(est.efficiency)
                    .seed(seed)
                    .progress(false)
                    .batch_size(4096)
                    .check()?;
                let mut err = 0.0;
                for (i, lookup) in lookups.iter().enumerate() {
                    let x = game.x.get(i as i64).unsqueeze(0);
                    let req = Request::with_baseline(Baseline::Tensor(
                        game.baseline.get(i as i64).unsqueeze(0),
                    ))
                    .mask(FeatureMask::from_tensor(&game.ids)?);
                    let a = method.attribute(lookup, &x, &req)?;
                    // Every cell carries its group's value: read one cell per group.
                    let phi = group_values(&a.scores, &game.ids, game.m)?;
                    err += rel_error(&phi, &game.exact[i]);
                    agree += top3(&phi, &game.exact[i]);
                    evals += a.forward_evals as f64;
                }
                per_seed.push(err / lookups.len() as f64);
            }
            let n = per_seed.len() as f64;
            let mean = per_seed.iter().sum::<f64>() / n;
            let var = per_seed.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            let runs = n * lookups.len() as f64;
            rows.push(Row {
                game: game.name.clone(),
                estimator: est.name.into(),
                budget,
                evals: evals / runs,
                rel_error: mean,
                rel_error_se: (var / n).sqrt(),
                top3: agree / runs,
                seeds: args.seeds,
                samples: lookups.len(),
            });
        }
    }
    Ok(rows)
}

fn group_values(scores: &Tensor, ids: &Tensor, m: usize) -> Result<Vec<f64>, BoxError> {
    let flat = Vec::<f64>::try_from(scores.flatten(0, -1).to_kind(Kind::Double))?;
    let ids = Vec::<i64>::try_from(ids.flatten(0, -1))?;
    let mut out = vec![f64::NAN; m];
    for (c, &g) in ids.iter().enumerate() {
        if out[g as usize].is_nan() {
            out[g as usize] = flat[c];
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The games.

fn tensor(a: ndarray::Array2<f32>) -> Result<Tensor, BoxError> {
    Ok(array_to_tensor(&a.view().into_dyn(), Device::Cpu)?)
}

fn synthetic_mlp(args: &Args) -> Result<Game, BoxError> {
    const M: i64 = 16;
    const H: i64 = 32;
    tch::manual_seed(7);
    let w = Tensor::randn([M, H], (Kind::Double, Device::Cpu)) / 2.0;
    let b = Tensor::randn([H], (Kind::Double, Device::Cpu)) / 2.0;
    let a = Tensor::randn([H], (Kind::Double, Device::Cpu));
    let f = FnScorer::new("synthetic_mlp", move |x: &Tensor| {
        Ok(x.f_matmul(&w)?.f_add(&b)?.f_tanh()?.f_matmul(&a)?)
    });
    let x = Tensor::randn([args.samples as i64, M], (Kind::Double, Device::Cpu));
    let baseline = x.zeros_like();
    let ids = Tensor::arange(M, (Kind::Int64, Device::Cpu));
    Game::tabulate(
        "synthetic_mlp",
        "Σ_h a_h tanh(w_hᵀx + b_h), 16 features, 32 units, N(0, 1/4) weights, \
         standard normal points, zero baseline"
            .into(),
        &f,
        &x,
        &baseline,
        &ids,
    )
}

fn dense_breast_cancer(args: &Args) -> Result<Game, BoxError> {
    let text = fs::read_to_string(args.breast_cancer.join("breast_cancer.csv"))?;
    let (mut benign, mut malignant) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate().skip(1) {
        let v: Vec<f32> = line
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("breast_cancer.csv line {}: {e}", n + 1))?;
        if v.len() != 31 {
            return Err(format!("breast_cancer.csv line {}: {} values", n + 1, v.len()).into());
        }
        if v[30] == 1.0 {
            &mut benign
        } else {
            &mut malignant
        }
        .extend_from_slice(&v[..30]);
    }
    let to_array = |v: &[f32]| ndarray::Array2::from_shape_vec((v.len() / 30, 30), v.to_vec());
    let (benign, malignant) = (to_array(&benign)?, to_array(&malignant)?);
    let scaler = MinMaxScaler::fit(&benign.view())?;
    let benign = tensor(scaler.transform(&benign.view())?)?;
    let malignant = tensor(scaler.transform(&malignant.view())?)?;
    let model = DenseAe::seeded(&DenseAeConfig::new(30, vec![16, 8]), Device::Cpu, 0)?;
    let cfg = TrainConfig {
        epochs: 300,
        batch_size: 32,
        patience: Some(20),
        quiet: true,
        ..TrainConfig::default()
    };
    let summary = train(&model, &benign, &cfg)?;
    let scorer = ReconstructionError::new(&model, Norm::L1);
    // The malignant rows the model reconstructs worst: the anomalies worth explaining.
    let errors = tch::no_grad(|| scorer.score(&malignant))?;
    let order = errors.argsort(0, true).narrow(0, 0, args.samples as i64);
    let x = malignant.index_select(0, &order);
    let means = benign.mean_dim(0, true, Kind::Float);
    let baseline = means.expand_as(&x).contiguous();
    let ids = Tensor::arange(30, (Kind::Int64, Device::Cpu)).divide_scalar_mode(2, "floor");
    Game::tabulate(
        "dense_breast_cancer",
        format!(
            "DenseAe 30-16-8-16-30 trained on the 357 benign rows ({} epochs, validation L1 \
             {:.4}), the {} malignant rows of largest L1 reconstruction error, 15 groups of \
             two neighbouring features, benign means as baseline",
            summary.epochs_run,
            summary.best_val_loss.unwrap_or(f64::NAN),
            args.samples
        ),
        &scorer,
        &x,
        &baseline,
        &ids,
    )
}

const STEPS: usize = 50;
const SENSORS: i64 = 38;
const SENSOR_GROUPS: i64 = 16;

fn lstm_smd(args: &Args, trained: bool) -> Result<Game, BoxError> {
    let machine = SmdMachine::load(&args.smd_dir, "machine-1-2")?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?.with_clip(-3.0, 3.0)?;
    let train_s = scaler.transform(&machine.train.view())?;
    let test_s = scaler.transform(&machine.test.view())?;
    let model = LstmAe::seeded(
        &LstmAeConfig::new(SENSORS, STEPS as i64, 64),
        Device::Cpu,
        0,
    )?;
    let mut note = "seeded, untrained".to_string();
    if trained {
        let windows = sliding_windows(&train_s.view(), STEPS, 5)?;
        let data = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
        let cfg = TrainConfig {
            max_seconds: Some(args.train_seconds),
            quiet: true,
            ..TrainConfig::reference_protocol()
        };
        let s = train(&model, &data, &cfg)?;
        note = format!(
            "trained {} epochs ({:.0} s) on {} stride-5 training windows, validation L1 {:.4}",
            s.epochs_run,
            s.seconds,
            data.size()[0],
            s.best_val_loss.unwrap_or(f64::NAN)
        );
    }
    let test = tensor(test_s)?;
    let t_len = test.size()[0] as usize;
    let starts: Vec<i64> = machine
        .regions
        .iter()
        .map(|r| r.start.min(t_len - STEPS) as i64)
        .take(args.samples)
        .collect();
    let x = Tensor::stack(
        &starts
            .iter()
            .map(|&s| test.narrow(0, s, STEPS as i64))
            .collect::<Vec<_>>(),
        0,
    );
    let means = tensor(train_s)?.mean_dim(0, false, Kind::Float);
    let baseline = means.expand_as(&x).contiguous();
    // Sensor s in group ⌊16 s / 38⌋: 16 groups of two or three neighbouring sensors.
    let ids = (Tensor::arange(SENSORS, (Kind::Int64, Device::Cpu)) * SENSOR_GROUPS)
        .divide_scalar_mode(SENSORS, "floor")
        .expand([STEPS as i64, SENSORS], false)
        .contiguous();
    let scorer = ReconstructionError::new(&model, Norm::L1);
    let name = if trained {
        "lstm_smd_trained"
    } else {
        "lstm_smd_seeded"
    };
    Game::tabulate(
        name,
        format!(
            "LstmAe 38 sensors x 50 steps, 2 + 2 layers of 64 ({note}); {} windows of \
             machine-1-2's test half starting at labelled regions {starts:?}; sensors in 16 \
             groups of neighbours; training means as baseline; mean L1 reconstruction error",
            starts.len()
        ),
        &scorer,
        &x,
        &baseline,
        &ids,
    )
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    if let Some(t) = args.threads {
        tch::set_num_threads(t);
    }
    let mut rows = Vec::new();
    let mut games_meta = Vec::new();
    for name in &args.games {
        let games_dir = args.out.join("games");
        let game = match name.as_str() {
            _ if args.reuse => Game::read(&games_dir, name)?,
            "synthetic_mlp" => synthetic_mlp(&args)?,
            "dense_breast_cancer" => dense_breast_cancer(&args)?,
            "lstm_smd_seeded" => lstm_smd(&args, false)?,
            "lstm_smd_trained" => lstm_smd(&args, true)?,
            _ => unreachable!("checked in parse_args"),
        };
        eprintln!(
            "{}: {} groups, {} samples, {} coalitions each {} in {:.1} s",
            game.name,
            game.m,
            game.values.len(),
            1usize << game.m,
            if args.reuse { "read" } else { "tabulated" },
            game.seconds
        );
        if !args.reuse {
            game.write(&games_dir)?;
        }
        let start = Instant::now();
        let r = measure(&game, &args)?;
        eprintln!("  measured in {:.1} s", start.elapsed().as_secs_f64());
        print_table(&r);
        rows.extend(r);
        games_meta.push(serde_json::json!({
            "name": game.name, "groups": game.m, "samples": game.values.len(),
            "description": game.description,
        }));
    }
    fs::create_dir_all(&args.out)?;
    let json = serde_json::json!({ "source": "xai-attrib", "games": games_meta, "rows": rows });
    fs::write(
        args.out.join("ours.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    let mut csv =
        String::from("game,estimator,budget,evals,rel_error,rel_error_se,top3,seeds,samples\n");
    for r in &rows {
        csv += &format!(
            "{},{},{},{:.2},{:.6},{:.6},{:.4},{},{}\n",
            r.game,
            r.estimator,
            r.budget,
            r.evals,
            r.rel_error,
            r.rel_error_se,
            r.top3,
            r.seeds,
            r.samples
        );
    }
    fs::write(args.out.join("ours.csv"), csv)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn print_table(rows: &[Row]) {
    let mut budgets: Vec<usize> = rows.iter().map(|r| r.budget).collect();
    budgets.dedup();
    budgets.sort_unstable();
    budgets.dedup();
    print!("| {} | estimator |", rows[0].game);
    budgets.iter().for_each(|b| print!(" {b} |"));
    println!();
    print!("|---|---|");
    budgets.iter().for_each(|_| print!("---|"));
    println!();
    let mut names: Vec<&str> = rows.iter().map(|r| r.estimator.as_str()).collect();
    names.dedup();
    for name in names {
        print!("| | {name} |");
        for b in &budgets {
            if let Some(r) = rows.iter().find(|r| r.estimator == name && r.budget == *b) {
                print!(" {:.4} ({:.0}) |", r.rel_error, r.evals);
            }
        }
        println!();
    }
}
