//! The main job: which sensors caused each labelled anomaly of the Server Machine Dataset?
//!
//! Data: SMD (OmniAnomaly, Su et al. KDD 2019, MIT licence). machine-1-2 ships in
//! `data/smd/`; `--data-dir` takes any directory in the SMD layout
//! (`train/`, `test/`, `test_label/`, `interpretation_label/`, files `NAME.txt` or
//! `NAME.txt.xz`).
//!
//! Pipeline per machine (paper 1 §5.2): MinMax scaling fitted on train (test clipped to
//! [-3, 3]), windows of 50, the default 2+2-layer LSTM autoencoder (hidden 64) trained
//! with Adam 1e-3, batch 64, the last 20% of training windows for early stopping and
//! gradient clipping at 5; the trained weights are cached under `--cache-dir`, keyed by
//! the data and the settings. Then every method attributes the L1 reconstruction error of
//! the windows that represent each labelled region, and the per-sensor scores are scored
//! against the labelled sensors.
//!
//! Run: `cargo xtask demo` (or `cargo run --release --example smd_localization -- --help`).

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anomaly_xai::attrib::{BaselineSpec, Norm};
use anomaly_xai::localizer::{
    Aggregation, Detector, ExplainedOutput, LocalizationRun, Localizer, LocalizerConfig,
    MethodSpec, Normalization, WindowPolicy,
};
use anomaly_xai::lrp::Preset;
use anomaly_xai::metrics::{Protocol, RankMetric, Report, Selection, SetScore, Table, TableRow};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::persist::Overwrite;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{
    AttentionLstmAe, LstmAe, LstmAeConfig, MinMaxScaler, SavedModel, SmdMachine,
};
use anomaly_xai::plot::{draw_sensor_figure, SensorFigure};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use tch::{Device, Tensor};

type BoxError = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(about = "Sensor localization on SMD with every attribution method (paper 1, Table 1)")]
struct Args {
    /// Directory in the SMD layout [default: the embedded data/smd]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Comma-separated machine names, or `all` [default: every machine of the directory
    /// when --data-dir is given, else machine-1-2]
    #[arg(long)]
    machines: Option<String>,
    /// Where results (markdown, JSON, PNG) go
    #[arg(long, default_value = "results/smd")]
    out: PathBuf,
    /// Where trained weights are cached
    #[arg(long, default_value = "results/cache")]
    cache_dir: PathBuf,
    /// Train again even when cached weights exist
    #[arg(long)]
    retrain: bool,
    /// The full protocol: 5 seeds, 64 windows per region, Kernel SHAP 1000 samples,
    /// Shapley sampling 25 permutations, stride-1 training windows
    #[arg(long)]
    full: bool,
    /// Most training epochs; early stopping may end sooner [default: 20, or 30 with --full]
    #[arg(long)]
    epochs: Option<usize>,
    /// Early-stopping patience in epochs
    #[arg(long, default_value_t = 3)]
    patience: usize,
    /// Stride of the training windows [default: 10, or 1 with --full]
    #[arg(long)]
    train_stride: Option<usize>,
    /// Windows per region [default: 8, or 64 with --full]
    #[arg(long)]
    max_windows: Option<usize>,
    /// Seeds for the sampling methods [default: 2, or 5 with --full]
    #[arg(long)]
    seeds: Option<usize>,
    /// Which windows represent a region
    #[arg(long, value_enum, default_value_t = PolicyArg::Ending)]
    policy: PolicyArg,
    /// Which part of the window's error is explained
    #[arg(long, value_enum, default_value_t = OutputArg::Window)]
    output: OutputArg,
    /// Leave out methods (comma-separated labels' first words, e.g. `kernel,shapley,attention`)
    #[arg(long, default_value = "")]
    skip: String,
    /// Region (index in the first machine's label file) drawn as a PNG figure
    #[arg(long, default_value_t = 2)]
    figure_region: usize,
    /// libtorch threads (0: libtorch's default). One thread is the default because the
    /// LSTM's small matrices gain little from a second one, and an oversubscribed core
    /// costs up to 7x (measured on a loaded 2-core machine)
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Report raw sensor scores only (paper 1's protocol as written) instead of scores
    /// standardized against normal reference windows (both are printed by default)
    #[arg(long)]
    raw: bool,
    /// Standardize with the median and MAD of the reference scores instead of their mean
    /// and standard deviation (`Normalization::Robust`)
    #[arg(long, conflicts_with = "raw")]
    robust: bool,
    /// Normal reference windows for standardization
    #[arg(long, default_value_t = 32)]
    reference_windows: i64,
    /// No progress bars
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    /// Windows whose last step lies in the region
    Ending,
    /// Every window overlapping the region
    Overlapping,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputArg {
    /// The whole window's mean error
    Window,
    /// The error of the window's last step (inside the region)
    LastStep,
}

#[derive(Serialize)]
struct MachineResult {
    machine: String,
    train_seconds: f64,
    trained: bool,
    run: LocalizationRun,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("smd");
    let data_dir = args.data_dir.clone().unwrap_or_else(|| embedded.clone());
    let machines = match args.machines.as_deref() {
        Some("all") | None if args.data_dir.is_some() => SmdMachine::list(&data_dir)?,
        None => vec!["machine-1-2".to_string()],
        Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    if machines.is_empty() {
        return Err(format!("no SMD machine found in {}", data_dir.display()).into());
    }
    fs::create_dir_all(&args.out)?;
    let started = Instant::now();
    let mut results = Vec::new();
    for (i, name) in machines.iter().enumerate() {
        eprintln!("== {name} ({}/{})", i + 1, machines.len());
        let result = run_machine(&args, &data_dir, name, i == 0)?;
        println!("\n### {name}\n\n{}", result.run.table()?.to_markdown());
        println!("{}", timing_markdown(std::slice::from_ref(&result)));
        results.push(result);
    }
    let pooled = pooled_table(&results, false)?;
    let standardized = !args.raw;
    let raw_md = if standardized {
        format!(
            "\n## The same explanations, not standardized\n\n{}",
            pooled_table(&results, true)?.to_markdown()
        )
    } else {
        String::new()
    };
    let md = format!(
        "# SMD sensor localization\n\nmachines: {}\n\nregions: {}\n\nsettings: `{}`\n\ntotal time: {:.0} s\n\n{}\n{}",
        machines.join(", "),
        results.iter().map(|r| r.run.regions.len()).sum::<usize>(),
        serde_json::to_string(&results[0].run.config)?,
        started.elapsed().as_secs_f64(),
        pooled.to_markdown(),
        timing_markdown(&results)
    ) + &raw_md;
    if results.len() > 1 {
        println!(
            "\n### all machines, regions pooled\n\n{}",
            pooled.to_markdown()
        );
    }
    if standardized {
        println!("{raw_md}");
    }
    fs::write(args.out.join("table.md"), &md)?;
    fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    eprintln!(
        "wrote {} and results.json in {:.0} s",
        args.out.join("table.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Regions of all machines pooled: every method's per-region values averaged over all
/// regions (each region weighs the same, as in the paper's 1/K Σ); mean ± std over seeds.
/// `raw` picks the unstandardized scores of a standardized run.
fn pooled_table(results: &[MachineResult], raw: bool) -> Result<Table, BoxError> {
    let first = &results[0].run;
    let mut table = Table::new(first.columns.clone());
    for (label, runs) in first.by_method() {
        let mut per_seed = Vec::new();
        for s in 0..runs.len() {
            let reports: Vec<Report> = results
                .iter()
                .map(|res| {
                    let groups = res.run.by_method();
                    let (_, runs) = groups
                        .iter()
                        .find(|(l, _)| *l == label)
                        .expect("same methods");
                    match (raw, &runs[s].raw_report) {
                        (true, Some(r)) => r.clone(),
                        _ => runs[s].report.clone(),
                    }
                })
                .collect();
            per_seed.push(Report::pool(&reports)?.table_row(label.clone()));
        }
        let row = if per_seed.len() == 1 {
            per_seed.pop().expect("one row")
        } else {
            TableRow::across_runs(label.clone(), &per_seed)?
        };
        table.push(row)?;
    }
    let chances: Vec<Report> = results.iter().map(|r| r.run.chance.clone()).collect();
    table.push(Report::pool(&chances)?.table_row("chance (random ranking)"))?;
    Ok(table)
}

/// Mean seconds per region of every method, over all machines.
fn timing_markdown(results: &[MachineResult]) -> String {
    let mut out = String::from("| method | seconds per region |\n|---|---:|\n");
    let per_machine: Vec<Vec<(String, f64)>> =
        results.iter().map(|r| r.run.seconds_per_region()).collect();
    for (i, (label, _)) in per_machine[0].iter().enumerate() {
        let mean = per_machine.iter().map(|m| m[i].1).sum::<f64>() / per_machine.len() as f64;
        out.push_str(&format!("| {label} | {mean:.3} |\n"));
    }
    out
}

/// The columns reported: paper 1's three strategies × IoU/F1/Acc, GT@120% without the
/// positive filter, and HitRate/NDCG@150%.
fn protocol() -> Protocol {
    Protocol::new(
        vec![
            Selection::GT_120,
            Selection::GT_120_UNFILTERED,
            Selection::AT_80,
            Selection::AT_5,
        ],
        SetScore::PAPER.to_vec(),
        vec![RankMetric::HIT_150, RankMetric::NDCG_150],
    )
}

fn methods(args: &Args) -> Vec<MethodSpec> {
    let (kernel, shapley) = if args.full { (1000, 25) } else { (200, 5) };
    let mut all = vec![
        MethodSpec::Residual { norm: Norm::L1 },
        MethodSpec::Residual { norm: Norm::L2 },
        MethodSpec::Occlusion {
            steps: None,
            stride: None,
            baseline: BaselineSpec::Zero,
        },
        MethodSpec::Occlusion {
            steps: None,
            stride: None,
            baseline: BaselineSpec::FeatureMeans,
        },
        MethodSpec::FeatureAblation {
            baseline: BaselineSpec::FeatureMeans,
        },
        MethodSpec::FeaturePermutation { seed: 0 },
        MethodSpec::ShapleySampling {
            n_permutations: shapley,
            seed: 0,
            baseline: BaselineSpec::Zero,
        },
        MethodSpec::KernelShap {
            n_samples: kernel,
            seed: 0,
            baseline: BaselineSpec::Zero,
        },
        MethodSpec::IntegratedGradients {
            n_steps: 50,
            baseline: BaselineSpec::Zero,
        },
        MethodSpec::GradientShap {
            n_samples: 20,
            stdevs: 0.0,
            seed: 0,
            baseline: BaselineSpec::Background { n: 64 },
        },
        MethodSpec::Saliency,
        MethodSpec::InputXGradient,
        MethodSpec::Attention,
        MethodSpec::Lrp {
            preset: Preset::LstmDefault,
        },
    ];
    let skip: Vec<String> = args
        .skip
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    all.retain(|m| {
        let label = m.label().to_lowercase();
        !skip.iter().any(|s| label.starts_with(s.as_str()))
    });
    all
}

/// A stable key of everything that determines the trained weights.
fn cache_key(
    machine: &SmdMachine,
    model: &LstmAeConfig,
    train: &TrainConfig,
    stride: usize,
) -> String {
    let mut h = DefaultHasher::new();
    machine.train.shape().hash(&mut h);
    for v in machine.train.iter() {
        v.to_bits().hash(&mut h);
    }
    serde_json::to_string(model)
        .unwrap_or_default()
        .hash(&mut h);
    // Only what changes the weights: progress output does not.
    let train = TrainConfig {
        quiet: false,
        ..train.clone()
    };
    serde_json::to_string(&train)
        .unwrap_or_default()
        .hash(&mut h);
    stride.hash(&mut h);
    format!("{:016x}", h.finish())
}

fn train_or_load<M: SavedModel>(
    path: &Path,
    retrain: bool,
    build: impl FnOnce() -> Result<M, BoxError>,
    data: &Tensor,
    cfg: &TrainConfig,
) -> Result<(M, f64, bool), BoxError> {
    if !retrain && path.with_extension("json").exists() {
        eprintln!("  loading cached weights {}", path.display());
        return Ok((M::load(path, Device::Cpu)?, 0.0, false));
    }
    let model = build()?;
    let summary = train(&model, data, cfg)?;
    eprintln!(
        "  trained {} epochs in {:.0} s (best validation L1 {:.5} at epoch {}, {:.0} windows/s)",
        summary.epochs_run,
        summary.seconds,
        summary.best_val_loss.unwrap_or(f64::NAN),
        summary.best_epoch,
        summary.train_samples_per_second
    );
    // The cache entry's name is a hash of everything that shapes the weights, so whatever
    // sits under it (a stale or damaged entry, say) may be replaced.
    model.save_with(path, Overwrite::Always)?;
    Ok((model, summary.seconds, true))
}

fn run_machine(args: &Args, dir: &Path, name: &str, draw: bool) -> Result<MachineResult, BoxError> {
    let machine = SmdMachine::load(dir, name)?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?;
    let train_scaled = scaler.transform(&machine.train.view())?;
    let test_scaled = scaler
        .with_clip(-3.0, 3.0)?
        .transform(&machine.test.view())?;
    let window = 50usize;
    let stride = args.train_stride.unwrap_or(if args.full { 1 } else { 10 });
    let windows = sliding_windows(&train_scaled.view(), window, stride)?;
    let train_t = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
    let model_cfg = LstmAeConfig::new(machine.n_features() as i64, window as i64, 64);
    let train_cfg = TrainConfig {
        epochs: args.epochs.unwrap_or(if args.full { 30 } else { 20 }),
        patience: Some(args.patience),
        quiet: args.quiet,
        ..TrainConfig::default()
    };
    let key = cache_key(&machine, &model_cfg, &train_cfg, stride);
    let ms = methods(args);
    eprintln!(
        "  {} training windows (stride {stride}), {} regions",
        windows.starts.len(),
        machine.regions.len()
    );
    let (model, mut train_seconds, mut trained) = train_or_load(
        &args
            .cache_dir
            .join(format!("{name}-lstm-{key}.safetensors")),
        args.retrain,
        || Ok(LstmAe::seeded(&model_cfg, Device::Cpu, 0)?),
        &train_t,
        &train_cfg,
    )?;
    let attention = if ms.iter().any(|m| matches!(m, MethodSpec::Attention)) {
        let (att, secs, t) = train_or_load(
            &args
                .cache_dir
                .join(format!("{name}-attention-{key}.safetensors")),
            args.retrain,
            || Ok(AttentionLstmAe::seeded(&model_cfg, Device::Cpu, 0)?),
            &train_t,
            &train_cfg,
        )?;
        train_seconds += secs;
        trained |= t;
        Some(att)
    } else {
        None
    };
    // Baselines built from training data use at most 2048 evenly spaced windows.
    let n = train_t.size()[0];
    let step = (n / 2048).max(1);
    let baseline_windows = train_t.f_slice(0, 0, n, step)?;
    // Reference (normal) windows for standardization: evenly spaced windows of the
    // validation part (the last 20%), which training never fitted.
    let val_start = n - n / 5;
    let ref_step = ((n - val_start) / args.reference_windows.max(2)).max(1);
    let reference = train_t.f_slice(0, val_start, n, ref_step)?;
    let det = Detector {
        model: &model,
        attention: attention.as_ref(),
        train: Some(&baseline_windows),
        reference: Some(&reference),
    };
    let n_seeds = args.seeds.unwrap_or(if args.full { 5 } else { 2 });
    let config = LocalizerConfig {
        window,
        policy: match args.policy {
            PolicyArg::Ending => WindowPolicy::EndingInRegion,
            PolicyArg::Overlapping => WindowPolicy::Overlapping,
        },
        max_windows: args.max_windows.unwrap_or(if args.full { 64 } else { 8 }),
        output: match args.output {
            OutputArg::Window => ExplainedOutput::Window,
            OutputArg::LastStep => ExplainedOutput::LastStep,
        },
        aggregation: Aggregation::RegionSteps,
        norm: Norm::L1,
        normalization: if args.raw {
            Normalization::None
        } else if args.robust {
            Normalization::Robust
        } else {
            Normalization::Standardize
        },
        seeds: (0..n_seeds as u64).collect(),
        progress: !args.quiet,
    };
    let localizer = Localizer::new(config, ms);
    let run = localizer.run(&det, test_scaled.view(), &machine.regions, &protocol())?;
    if draw {
        draw_figure(args, &machine, &test_scaled, &run)?;
    }
    Ok(MachineResult {
        machine: name.to_string(),
        train_seconds,
        trained,
        run,
    })
}

/// Paper 1's Figure 3 for one region: the sensors around it and the best method's top
/// sensors next to the true ones.
fn draw_figure(
    args: &Args,
    machine: &SmdMachine,
    test: &ndarray::Array2<f32>,
    run: &LocalizationRun,
) -> Result<(), BoxError> {
    let Some(region) = run.regions.get(args.figure_region) else {
        eprintln!(
            "  no region {} to draw ({} regions)",
            args.figure_region,
            run.regions.len()
        );
        return Ok(());
    };
    let Some(method) = run
        .runs
        .iter()
        .find(|r| matches!(r.method, MethodSpec::Occlusion { .. }))
        .or(run.runs.first())
    else {
        return Ok(());
    };
    let margin = 100usize;
    let start = region.start.saturating_sub(margin);
    let end = (region.end + margin).min(test.nrows());
    let scores: Vec<f32> = method
        .scores
        .row(args.figure_region)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let fig = SensorFigure {
        series: test.slice(ndarray::s![start..end, ..]),
        start,
        region: region.start..region.end,
        attribution: &scores,
        true_sensors: &region.features,
        names: None,
        top_k: 10,
        title: format!(
            "{} region {}-{}: {}",
            machine.name,
            region.start,
            region.end,
            method.method.label()
        ),
    };
    let path = args
        .out
        .join(format!("{}-region{}.png", machine.name, args.figure_region));
    draw_sensor_figure(&path, &fig, (1400, 600))?;
    eprintln!("  wrote {}", path.display());
    Ok(())
}
