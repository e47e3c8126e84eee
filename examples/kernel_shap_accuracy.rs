//! How close Kernel SHAP comes to the Shapley values for a given number of model
//! evaluations, for every coalition sampler, on real detectors and a synthetic function.
//!
//! ```bash
//! eval "$(cargo xtask env)"
//! cargo build --release --example kernel_shap_accuracy
//! K=target/release/examples/kernel_shap_accuracy
//! $K --out target/kernel_shap_accuracy                      # <= 16 groups, exact values
//! $K --out target/kernel_shap_accuracy --games synthetic_mlp_38,dense_breast_cancer_30,lstm_smd_trained_38
//! ```
//!
//! Games with `M ≤ 16` groups, where all `2^M` coalitions are evaluated once and the
//! exact Shapley values computed from them:
//!
//! * `lstm_smd_trained` (and `lstm_smd_seeded`, not run by default: its game is additive
//!   to within rounding, so every sampler is exact on it): paper 1's LSTM autoencoder
//!   (38 sensors, windows of 50, 2 + 2 layers of 64 units) on real windows of SMD
//!   machine-1-2's test half (min-max scaled on the training half, clipped to [-3, 3]),
//!   each starting a labelled anomalous region; the 38 sensors in 16 groups of neighbours
//!   (`FeatureMask::from_tensor`); baseline: the per-sensor training means; explained
//!   output: the mean L1 reconstruction error. Trained for `--train-epochs` epochs on
//!   stride-5 training windows (the seeded model: untrained);
//! * `dense_breast_cancer`: a dense autoencoder (30-16-8-16-30) trained on the benign
//!   rows of the breast-cancer table (min-max scaled), explaining the malignant rows it
//!   reconstructs worst; 15 groups of two neighbouring features; baseline: the benign
//!   means;
//! * `synthetic_mlp`: a non-additive function of 16 features, a random two-layer tanh
//!   network (`Σ_h a_h tanh(w_hᵀ x + b_h)`, 32 units, `w ~ N(0, 4/M)`), at standard
//!   normal points against a zero baseline: interactions of every order.
//!
//! Kernel SHAP runs unchanged (`KernelShap::attribute`) on a scorer that reads each
//! perturbed input's coalition off its cells and returns the tabulated value: the same
//! numbers as the model, at no cost, so thousands of runs take seconds.
//!
//! Games with one group per feature, too many to enumerate (`_38`: 38 sensors or
//! features, `_30`: the 30 features of the table), where the model is evaluated in every
//! run and the truth is a reference: the mean of Kernel SHAP with `--reference-budget`
//! coalitions and of Shapley Value Sampling with as many evaluations (two independent
//! estimators; half their relative distance, printed and written as `reference_gap`,
//! estimates the reference's own error). Fewer seeds and samples (`--large-seeds`,
//! `--large-samples`), as every run costs real model evaluations.
//!
//! Error: `‖φ̂ − φ‖₂ / ‖φ‖₂` per sample, averaged over samples and seeds; also the share of
//! the three largest true values found among the three largest estimates. Evaluations:
//! the distinct coalitions each run evaluated, the full and the empty one included.
//!
//! Writes into `--out`: `ours.json` and `ours.csv` (one row per game, estimator and
//! budget; rows of games not run this time are kept), and for every game
//! `games/NAME.safetensors` + `games/NAME.json` (inputs, baselines, mask, coalition values
//! and exact Shapley values, or the model's weights and the reference) for
//! `xtask/bench/kernel_shap_curve.py`, which runs Captum on the same games. `--reuse`
//! reads tabulated games from there instead of computing them again.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anomaly_xai::attrib as xai_attrib;
use anomaly_xai::data::{find_data_dir, SmdMachine};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{
    DenseAe, DenseAeConfig, ErrorNorm, LstmAe, LstmAeConfig, MinMaxScaler, Trainable,
};
use serde::Serialize;
use tch::{Device, Kind, Tensor};
use xai_attrib::perturbation::kernel_shap::CoalitionSampling;
use xai_attrib::{
    Attribution, Baseline, ErrorScorer, FeatureMask, FnScorer, KernelShap, Request, Scorer,
    ShapleyValueSampling,
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
    train_epochs: usize,
    threads: Option<i32>,
    reuse: bool,
    large_seeds: u64,
    large_samples: usize,
    large_budgets: Vec<usize>,
    reference_budget: usize,
}

/// The games run without `--games`.
const DEFAULT_GAMES: [&str; 3] = ["synthetic_mlp", "dense_breast_cancer", "lstm_smd_trained"];

const ALL_GAMES: [&str; 7] = [
    "synthetic_mlp",
    "dense_breast_cancer",
    "lstm_smd_seeded",
    "lstm_smd_trained",
    "synthetic_mlp_38",
    "dense_breast_cancer_30",
    "lstm_smd_trained_38",
];

fn list(v: String) -> Result<Vec<usize>, BoxError> {
    Ok(v.split(',').map(str::parse).collect::<Result<_, _>>()?)
}

fn parse_args() -> Result<Args, BoxError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let mut a = Args {
        out: root.join("target/kernel_shap_accuracy"),
        seeds: 50,
        samples: 8,
        budgets: vec![50, 100, 200, 300, 500, 1000, 2000],
        games: DEFAULT_GAMES.iter().map(|s| s.to_string()).collect(),
        smd_dir: root.join("data/smd"),
        breast_cancer: find_data_dir(&root)
            .unwrap_or_else(|| root.join("../shared/data"))
            .join("tabular/breast_cancer"),
        train_epochs: 3,
        threads: None,
        reuse: false,
        large_seeds: 20,
        large_samples: 4,
        large_budgets: vec![100, 200, 500, 1000, 2000],
        reference_budget: 32768,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => a.out = value()?.into(),
            "--seeds" => a.seeds = value()?.parse()?,
            "--samples" => a.samples = value()?.parse()?,
            "--budgets" => a.budgets = list(value()?)?,
            "--games" => a.games = value()?.split(',').map(String::from).collect(),
            "--smd-dir" => a.smd_dir = value()?.into(),
            "--breast-cancer" => a.breast_cancer = value()?.into(),
            "--train-epochs" => a.train_epochs = value()?.parse()?,
            "--threads" => a.threads = Some(value()?.parse()?),
            "--reuse" => a.reuse = true,
            "--large-seeds" => a.large_seeds = value()?.parse()?,
            "--large-samples" => a.large_samples = value()?.parse()?,
            "--large-budgets" => a.large_budgets = list(value()?)?,
            "--reference-budget" => a.reference_budget = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "kernel_shap_accuracy [--out DIR] [--seeds N] [--samples N] \
                     [--budgets 50,100,..] [--games {}] [--smd-dir DIR] \
                     [--breast-cancer DIR] [--train-epochs N] [--threads N] [--reuse] \
                     [--large-seeds N] [--large-samples N] [--large-budgets 100,..] \
                     [--reference-budget N]\n\
                     --reuse reads tabulated games already in OUT/games instead of computing \
                     them again",
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
    let mut budgets = a.budgets.iter().chain(&a.large_budgets);
    if a.seeds == 0
        || a.samples == 0
        || a.large_seeds == 0
        || a.large_samples == 0
        || a.train_epochs == 0
        || budgets.any(|&b| b < 3)
        || a.reference_budget < 3
    {
        return Err("seeds, samples and epochs must be ≥ 1 and every budget ≥ 3".into());
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
            "truth": "exact",
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

/// Runs every estimator at every budget and seed: `run` explains every sample with the
/// given settings and returns, per sample, the group values and the evaluations used.
fn measure(
    game: &str,
    truth: &[Vec<f64>],
    seeds: u64,
    budgets: &[usize],
    run: impl Fn(&KernelShap) -> Result<Vec<(Vec<f64>, usize)>, BoxError>,
) -> Result<Vec<Row>, BoxError> {
    let mut rows = Vec::new();
    for est in &ESTIMATORS {
        for &budget in budgets {
            let mut per_seed = Vec::new();
            let (mut evals, mut agree) = (0.0, 0.0);
            for seed in 0..seeds {
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
                for ((phi, n), exact) in run(&method)?.iter().zip(truth) {
                    err += rel_error(phi, exact);
                    agree += top3(phi, exact);
                    evals += *n as f64;
                }
                per_seed.push(err / truth.len() as f64);
            }
            let n = per_seed.len() as f64;
            let mean = per_seed.iter().sum::<f64>() / n;
            let var = per_seed.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            let runs = n * truth.len() as f64;
            rows.push(Row {
                game: game.into(),
                estimator: est.name.into(),
                budget,
                evals: evals / runs,
                rel_error: mean,
                rel_error_se: (var / n).sqrt(),
                top3: agree / runs,
                seeds,
                samples: truth.len(),
            });
        }
    }
    Ok(rows)
}

/// [`measure`] on a tabulated game: one sample at a time, each on its [`Lookup`].
fn measure_table(game: &Game, args: &Args) -> Result<Vec<Row>, BoxError> {
    let lookups: Vec<Lookup> = (0..game.values.len())
        .map(|i| Lookup::new(game, i))
        .collect::<Result<_, _>>()?;
    measure(
        &game.name,
        &game.exact,
        args.seeds,
        &args.budgets,
        |method| {
            let mut out = Vec::new();
            for (i, lookup) in lookups.iter().enumerate() {
                let x = game.x.get(i as i64).unsqueeze(0);
                let req = Request::with_baseline(Baseline::Tensor(
                    game.baseline.get(i as i64).unsqueeze(0),
                ))
                .mask(FeatureMask::from_tensor(&game.ids)?);
                let a = method.attribute(lookup, &x, &req)?;
                out.push((
                    group_values(&a.scores, &game.ids, game.m)?.remove(0),
                    a.forward_evals,
                ));
            }
            Ok(out)
        },
    )
}

/// Per sample, the value of every group (every cell of a group carries it: read one).
fn group_values(scores: &Tensor, ids: &Tensor, m: usize) -> Result<Vec<Vec<f64>>, BoxError> {
    let b = scores.size()[0];
    let ids = Vec::<i64>::try_from(ids.flatten(0, -1))?;
    let mut first = vec![usize::MAX; m];
    for (c, &g) in ids.iter().enumerate() {
        first[g as usize] = first[g as usize].min(c);
    }
    let flat = scores.reshape([b, -1]).to_kind(Kind::Double);
    (0..b)
        .map(|i| {
            let row = Vec::<f64>::try_from(flat.get(i))?;
            Ok(first.iter().map(|&c| row[c]).collect())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Games too large to enumerate.

/// Reference Shapley values of `[S, ..]` samples, the mean of two independent estimators
/// with `budget` evaluations each: Kernel SHAP (stratified) and Shapley Value Sampling
/// (permutations). Also returns half their mean relative distance, which bounds the
/// reference's error.
fn reference(
    scorer: &dyn Scorer,
    x: &Tensor,
    baseline: &Tensor,
    ids: &Tensor,
    budget: usize,
) -> Result<(Vec<Vec<f64>>, f64), BoxError> {
    let m = (ids.max().int64_value(&[]) + 1) as usize;
    let req = || -> Result<Request, BoxError> {
        Ok(
            Request::with_baseline(Baseline::Tensor(baseline.shallow_clone()))
                .mask(FeatureMask::from_tensor(ids)?),
        )
    };
    let ks = KernelShap::params()
        .n_samples(budget)
        .seed(1_000_003)
        .progress(false)
        .batch_size(4096)
        .check()?
        .attribute(scorer, x, &req()?)?;
    let svs = ShapleyValueSampling::params()
        .n_permutations((budget / m).max(1))
        .seed(1_000_003)
        .progress(false)
        .batch_size(4096)
        .check()?
        .attribute(scorer, x, &req()?)?;
    let (a, b) = (
        group_values(&ks.scores, ids, m)?,
        group_values(&svs.scores, ids, m)?,
    );
    let mean: Vec<Vec<f64>> = a
        .iter()
        .zip(&b)
        .map(|(p, q)| p.iter().zip(q).map(|(u, v)| (u + v) / 2.0).collect())
        .collect();
    let gap = a
        .iter()
        .zip(&b)
        .zip(&mean)
        .map(|((p, q), r)| rel_error(p, q) / 2.0 * norm(q) / norm(r))
        .sum::<f64>()
        / a.len() as f64;
    Ok((mean, gap))
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|u| u * u).sum::<f64>().sqrt()
}

/// A model to rebuild in Python: its kind and sizes, and its weights.
struct Export {
    meta: serde_json::Value,
    weights: Vec<(String, Tensor)>,
}

/// Measures a game too large to enumerate: the reference, then every estimator with the
/// model evaluated in every run (all samples in one call). Writes the game (inputs,
/// baselines, mask, reference, the model's outputs and weights) for the Captum script.
#[allow(clippy::too_many_arguments)]
fn run_large(
    name: &str,
    description: String,
    scorer: &dyn Scorer,
    x: &Tensor,
    baseline: &Tensor,
    ids: &Tensor,
    export: Export,
    args: &Args,
) -> Result<(Vec<Row>, serde_json::Value), BoxError> {
    let m = (ids.max().int64_value(&[]) + 1) as usize;
    let start = Instant::now();
    let (truth, gap) = reference(scorer, x, baseline, ids, args.reference_budget)?;
    eprintln!(
        "{name}: {m} groups, {} samples, reference from 2 x {} evaluations in {:.1} s, \
         half-distance of the two estimators {gap:.4}",
        truth.len(),
        args.reference_budget,
        start.elapsed().as_secs_f64()
    );
    let dir = args.out.join("games");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let f_x = tch::no_grad(|| scorer.score(x))?;
    let flat: Vec<f64> = truth.concat();
    Tensor::write_safetensors(
        &[
            ("x", x.shallow_clone()),
            ("baseline", baseline.shallow_clone()),
            ("ids", ids.shallow_clone()),
            (
                "reference",
                Tensor::from_slice(&flat).reshape([truth.len() as i64, -1]),
            ),
            ("f_x", f_x.to_kind(Kind::Double)),
        ],
        dir.join(format!("{name}.safetensors")),
    )?;
    let weights: Vec<(&str, &Tensor)> = export
        .weights
        .iter()
        .map(|(n, t)| (n.as_str(), t))
        .collect();
    Tensor::write_safetensors(&weights, dir.join(format!("{name}.model.safetensors")))?;
    let meta = serde_json::json!({
        "name": name,
        "description": description,
        "groups": m,
        "samples": truth.len(),
        "sample_shape": &x.size()[1..],
        "truth": "reference",
        "reference_budget": args.reference_budget,
        "reference_gap": gap,
        "model": export.meta,
    });
    fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(&meta)?,
    )?;
    let start = Instant::now();
    let rows = measure(
        name,
        &truth,
        args.large_seeds,
        &args.large_budgets,
        |method| {
            let req = Request::with_baseline(Baseline::Tensor(baseline.shallow_clone()))
                .mask(FeatureMask::from_tensor(ids)?);
            let a = method.attribute(scorer, x, &req)?;
            Ok(group_values(&a.scores, ids, m)?
                .into_iter()
                .map(|phi| (phi, a.forward_evals))
                .collect())
        },
    )?;
    eprintln!("  measured in {:.1} s", start.elapsed().as_secs_f64());
    Ok((rows, meta))
}

// ---------------------------------------------------------------------------------------
// The detectors and their data.

fn tensor(a: ndarray::Array2<f32>) -> Result<Tensor, BoxError> {
    Ok(array_to_tensor(&a.view().into_dyn(), Device::Cpu)?)
}

/// `Σ_h a_h tanh(w_hᵀ x + b_h)` on `m` features, 32 units, `w ~ N(0, 4/m)` so that the
/// pre-activations have about the same spread for every `m`; its weights (`w`, `b`, `a`).
fn mlp(m: i64) -> (impl Scorer, Vec<(String, Tensor)>) {
    const H: i64 = 32;
    tch::manual_seed(7);
    let w = Tensor::randn([m, H], (Kind::Double, Device::Cpu)) / (m as f64 / 4.0).sqrt();
    let b = Tensor::randn([H], (Kind::Double, Device::Cpu)) / 2.0;
    let a = Tensor::randn([H], (Kind::Double, Device::Cpu));
    let weights = vec![
        ("w".to_string(), w.shallow_clone()),
        ("b".to_string(), b.shallow_clone()),
        ("a".to_string(), a.shallow_clone()),
    ];
    let f = FnScorer::new("synthetic_mlp", move |x: &Tensor| {
        Ok(x.f_matmul(&w)?.f_add(&b)?.f_tanh()?.f_matmul(&a)?)
    });
    (f, weights)
}

fn mlp_description(m: i64) -> String {
    format!(
        "Σ_h a_h tanh(w_hᵀx + b_h), {m} features, 32 units, w ~ N(0, 4/{m}), b ~ N(0, 1/4), \
         a ~ N(0, 1), standard normal points, zero baseline"
    )
}

/// The dense autoencoder trained on the benign rows; the malignant rows it reconstructs
/// worst, `[samples, 30]`; the benign means, `[30]`; a description.
fn dense(args: &Args, samples: usize) -> Result<(DenseAe, Tensor, Tensor, String), BoxError> {
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
    let errors = tch::no_grad(|| ErrorScorer::new(&model, ErrorNorm::L1)?.score(&malignant))?;
    let order = errors.argsort(0, true).narrow(0, 0, samples as i64);
    let x = malignant.index_select(0, &order);
    let means = benign.mean_dim(0, false, Kind::Float);
    let note = format!(
        "DenseAe 30-16-8-16-30 trained on the 357 benign rows ({} epochs, validation L1 \
         {:.4}), the {samples} malignant rows of largest L1 reconstruction error, benign \
         means as baseline, mean L1 reconstruction error",
        summary.epochs_run,
        summary.best_val_loss.unwrap_or(f64::NAN),
    );
    Ok((model, x, means, note))
}

const STEPS: usize = 50;
const SENSORS: i64 = 38;
const HIDDEN: i64 = 64;

/// Paper 1's LSTM autoencoder (seeded, or trained for `--train-epochs`); `samples`
/// windows of machine-1-2's test half starting at labelled regions; the training means
/// `[38]`; a description.
fn lstm(
    args: &Args,
    trained: bool,
    samples: usize,
) -> Result<(LstmAe, Tensor, Tensor, String), BoxError> {
    let machine = SmdMachine::load(&args.smd_dir, "machine-1-2")?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?.with_clip(-3.0, 3.0)?;
    let train_s = scaler.transform(&machine.train.view())?;
    let test_s = scaler.transform(&machine.test.view())?;
    let model = LstmAe::seeded(
        &LstmAeConfig::new(SENSORS, STEPS as i64, HIDDEN),
        Device::Cpu,
        0,
    )?;
    let mut note = "seeded, untrained".to_string();
    if trained {
        let windows = sliding_windows(&train_s.view(), STEPS, 5)?;
        let data = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
        let cfg = TrainConfig {
            epochs: args.train_epochs,
            patience: None,
            quiet: true,
            ..TrainConfig::reference_protocol()
        };
        let s = train(&model, &data, &cfg)?;
        note = format!(
            "trained {} epochs on {} stride-5 training windows, validation L1 {:.4}",
            s.epochs_run,
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
        .take(samples)
        .collect();
    let x = Tensor::stack(
        &starts
            .iter()
            .map(|&s| test.narrow(0, s, STEPS as i64))
            .collect::<Vec<_>>(),
        0,
    );
    let means = tensor(train_s)?.mean_dim(0, false, Kind::Float);
    let note = format!(
        "LstmAe 38 sensors x 50 steps, 2 + 2 layers of 64 ({note}); {} windows of \
         machine-1-2's test half starting at labelled regions {starts:?}; training means as \
         baseline; mean L1 reconstruction error",
        starts.len()
    );
    Ok((model, x, means, note))
}

fn lstm_export(model: &LstmAe) -> Export {
    Export {
        meta: serde_json::json!({
            "kind": "lstm_ae", "n_features": SENSORS, "window": STEPS, "hidden": HIDDEN,
            "layers": 2, "norm": "L1",
        }),
        weights: model
            .parameters()
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect(),
    }
}

/// Runs game `name`: its rows and its description for `ours.json`.
fn run_game(name: &str, args: &Args) -> Result<(Vec<Row>, serde_json::Value), BoxError> {
    let games_dir = args.out.join("games");
    let s = args.samples;
    let game = match name {
        _ if args.reuse
            && games_dir.join(format!("{name}.safetensors")).exists()
            && !name.ends_with("_38")
            && !name.ends_with("_30") =>
        {
            Game::read(&games_dir, name)?
        }
        "synthetic_mlp" => {
            let (f, _) = mlp(16);
            let x = Tensor::randn([s as i64, 16], (Kind::Double, Device::Cpu));
            let ids = Tensor::arange(16, (Kind::Int64, Device::Cpu));
            Game::tabulate(name, mlp_description(16), &f, &x, &x.zeros_like(), &ids)?
        }
        "dense_breast_cancer" => {
            let (model, x, means, note) = dense(args, s)?;
            let ids = Tensor::arange(30, (Kind::Int64, Device::Cpu)).divide_scalar_mode(2, "floor");
            let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
            let baseline = means.expand_as(&x).contiguous();
            let note = format!("{note}; 15 groups of two neighbouring features");
            Game::tabulate(name, note, &scorer, &x, &baseline, &ids)?
        }
        "lstm_smd_seeded" | "lstm_smd_trained" => {
            let (model, x, means, note) = lstm(args, name == "lstm_smd_trained", s)?;
            // Sensor s in group ⌊16 s / 38⌋: 16 groups of two or three neighbours.
            let ids = (Tensor::arange(SENSORS, (Kind::Int64, Device::Cpu)) * 16)
                .divide_scalar_mode(SENSORS, "floor")
                .expand([STEPS as i64, SENSORS], false)
                .contiguous();
            let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
            let baseline = means.expand_as(&x).contiguous();
            let note = format!("{note}; sensors in 16 groups of neighbours");
            Game::tabulate(name, note, &scorer, &x, &baseline, &ids)?
        }
        "synthetic_mlp_38" => {
            let (f, weights) = mlp(38);
            let x = Tensor::randn([args.large_samples as i64, 38], (Kind::Double, Device::Cpu));
            let ids = Tensor::arange(38, (Kind::Int64, Device::Cpu));
            let export = Export {
                meta: serde_json::json!({ "kind": "mlp" }),
                weights,
            };
            let desc = mlp_description(38);
            return run_large(name, desc, &f, &x, &x.zeros_like(), &ids, export, args);
        }
        "dense_breast_cancer_30" => {
            let (model, x, means, note) = dense(args, args.large_samples)?;
            let ids = Tensor::arange(30, (Kind::Int64, Device::Cpu));
            let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
            let baseline = means.expand_as(&x).contiguous();
            let export = Export {
                meta: serde_json::json!({ "kind": "dense_ae", "layers": 2, "norm": "L1" }),
                weights: model
                    .parameters()
                    .iter()
                    .map(|(n, t)| (n.clone(), t.shallow_clone()))
                    .collect(),
            };
            let note = format!("{note}; one group per feature");
            return run_large(name, note, &scorer, &x, &baseline, &ids, export, args);
        }
        "lstm_smd_trained_38" => {
            let (model, x, means, note) = lstm(args, true, args.large_samples)?;
            let ids = Tensor::arange(SENSORS, (Kind::Int64, Device::Cpu))
                .expand([STEPS as i64, SENSORS], false)
                .contiguous();
            let scorer = ErrorScorer::new(&model, ErrorNorm::L1)?;
            let baseline = means.expand_as(&x).contiguous();
            let note = format!("{note}; one group per sensor");
            let export = lstm_export(&model);
            return run_large(name, note, &scorer, &x, &baseline, &ids, export, args);
        }
        _ => unreachable!("checked in parse_args"),
    };
    eprintln!(
        "{}: {} groups, {} samples, {} coalitions each, ready in {:.1} s",
        game.name,
        game.m,
        game.values.len(),
        1usize << game.m,
        game.seconds
    );
    game.write(&games_dir)?;
    let start = Instant::now();
    let rows = measure_table(&game, args)?;
    eprintln!("  measured in {:.1} s", start.elapsed().as_secs_f64());
    let meta = serde_json::json!({
        "name": game.name, "groups": game.m, "samples": game.values.len(),
        "description": game.description, "truth": "exact",
    });
    Ok((rows, meta))
}

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

fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    if let Some(t) = args.threads {
        tch::set_num_threads(t);
    }
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    // Rows and games of earlier runs are kept, those of the games run now replaced.
    let path = args.out.join("ours.json");
    let (mut rows, mut games): (Vec<serde_json::Value>, Vec<serde_json::Value>) =
        match fs::read_to_string(&path) {
            Ok(text) => {
                let old: serde_json::Value = serde_json::from_str(&text)?;
                let keep = |v: &serde_json::Value, key: &str| {
                    !args.games.iter().any(|g| v[key].as_str() == Some(g))
                };
                (
                    old["rows"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| keep(r, "game"))
                        .collect(),
                    old["games"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|g| keep(g, "name"))
                        .collect(),
                )
            }
            Err(_) => (Vec::new(), Vec::new()),
        };
    for name in &args.games {
        let (r, meta) = run_game(name, &args)?;
        print_table(&r);
        rows.extend(
            r.iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?,
        );
        games.push(meta);
    }
    let json = serde_json::json!({ "source": "xai-attrib", "games": games, "rows": rows });
    fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    let cols = [
        "game",
        "estimator",
        "budget",
        "evals",
        "rel_error",
        "rel_error_se",
        "top3",
        "seeds",
        "samples",
    ];
    let mut csv = cols.join(",") + "\n";
    for r in &rows {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| match &r[c] {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            })
            .collect();
        csv += &(cells.join(",") + "\n");
    }
    fs::write(args.out.join("ours.csv"), csv)?;
    eprintln!("wrote {}", path.display());
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
