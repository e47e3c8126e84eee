//! The main job: which sensors caused each labelled anomaly of the Server Machine Dataset?
//!
//! Data: SMD (OmniAnomaly, Su et al. KDD 2019, MIT licence). machine-1-2 ships in
//! `data/smd/`; `--data-dir` takes any directory in the SMD layout. Per machine
//! ([`PreparedMachine`]): min-max scaling, windows of 50, the 2+2-layer LSTM autoencoder
//! trained once and cached under `--cache-dir`; then every method of the default set
//! ([`defaults::methods`]: those above chance both where a fault moves few independent
//! sensors and where it moves a correlated group, deviation LRP included) explains the windows of every labelled region, each sensor's
//! score is divided by its usual magnitude on normal windows (`--normalization scale`,
//! the default), and the sensor scores are scored against the labelled sensors.
//! `--methods paper1` runs paper 1's Table 1 plus LRP ([`paper1::methods`]) and two rows
//! that are not in the papers: deviation LRP from each window's reconstruction and from
//! the training mean ([`defaults::deviation_lrp`]), next to paper 2's LRP, which stays the
//! reproduction row. Every table ends with two reference rows: "Deviation from normal (no
//! detector)", each sensor's distance from its training mean over the region compared with
//! normal windows like the methods' scores, and chance. `--synthetic
//! few-sensors|correlated-group|group-shift` runs on synthetic machines of a regime (few
//! independent sensors per fault, a correlated group, a correlated group shifted together)
//! instead of SMD; `--grouping correlated` perturbs clusters of correlated sensors
//! together.
//!
//! Run: `cargo xtask demo` (or `cargo run --release --example smd_localization -- --help`).

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anomaly_xai::data::synthetic::{generate, Regime};
use anomaly_xai::data::SmdMachine;
use anomaly_xai::defaults;
use anomaly_xai::localizer::{
    Grouping, LocalizationRun, Localizer, LocalizerConfig, Normalization, WindowPolicy,
};
use anomaly_xai::models::{ErrorNorm, ExplainedError};
use anomaly_xai::plot::{draw_sensor_figure, SensorFigure};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::{paper1, MachineSettings, PreparedMachine};
use clap::{Parser, ValueEnum};

#[derive(Parser, Debug)]
#[command(about = "Sensor localization on SMD with every attribution method (paper 1, Table 1)")]
struct Args {
    /// Directory in the SMD layout [default: the embedded data/smd]
    #[arg(long, conflicts_with = "synthetic")]
    data_dir: Option<PathBuf>,
    /// Synthetic machines of one regime instead of SMD: `few-sensors` (a: few independent
    /// sensors per anomaly), `correlated-group` (b: many correlated sensors per anomaly,
    /// most of them labelled) or `group-shift` (c: a correlated group shifted together)
    #[arg(long)]
    synthetic: Option<Regime>,
    /// How many synthetic machines (seeds 0, 1, ...)
    #[arg(long, default_value_t = 8)]
    synthetic_machines: u64,
    /// Which methods: `default` (every one above chance on both regimes), `paper1` (paper
    /// 1's Table 1 plus LRP, as published, and deviation LRP), `all` (paper1 plus the
    /// training-mean variants)
    #[arg(long, value_enum, default_value_t = MethodSet::Default)]
    methods: MethodSet,
    /// Comma-separated machine names, or `all` [default: every machine of --data-dir, else machine-1-2]
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
    /// Shapley sampling 25 permutations, stride-1 training windows, 30 epochs
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
    seeds: Option<u64>,
    /// Which windows represent a region
    #[arg(long, value_enum, default_value_t = PolicyArg::Ending)]
    policy: PolicyArg,
    /// Explain the error of the window's last step only (inside the region) instead of
    /// the whole window's
    #[arg(long)]
    last_step: bool,
    /// Leave out methods (comma-separated label prefixes, e.g. `kernel,shapley,attention`)
    #[arg(long, default_value = "")]
    skip: String,
    /// Region (index in the first machine's label file) drawn as a PNG figure
    #[arg(long, default_value_t = 2)]
    figure_region: usize,
    /// libtorch threads (0: libtorch's default). One is the default: the LSTM's small
    /// matrices gain little from a second, and an oversubscribed core costs up to 7x
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// How sensor scores are compared with normal windows (`none` is paper 1's protocol;
    /// the raw scores are always reported too)
    #[arg(long, value_enum, default_value_t = NormArg::Scale)]
    normalization: NormArg,
    /// Also print the pooled tables of the same explanations under these normalizations
    /// (comma-separated, e.g. `standardize,robust`)
    #[arg(long, value_delimiter = ',', value_enum)]
    compare: Vec<NormArg>,
    /// Normal reference windows for the normalization
    #[arg(long, default_value_t = 32)]
    reference_windows: i64,
    /// Which sensors the perturbation methods that perturb groups (Feature Permutation,
    /// Shapley sampling, Kernel SHAP) perturb together: `per-sensor` (paper 1) or
    /// `correlated` (clusters of sensors correlated on the training windows)
    #[arg(long, value_enum, default_value_t = GroupingArg::PerSensor)]
    grouping: GroupingArg,
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
enum GroupingArg {
    PerSensor,
    Correlated,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NormArg {
    None,
    Standardize,
    Robust,
    Scale,
}

impl From<NormArg> for Normalization {
    fn from(n: NormArg) -> Self {
        match n {
            NormArg::None => Normalization::None,
            NormArg::Standardize => Normalization::Standardize,
            NormArg::Robust => Normalization::Robust,
            NormArg::Scale => Normalization::Scale,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MethodSet {
    Default,
    Paper1,
    All,
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    // Every setting is checked before any training.
    let localizer = localizer(&args)?;
    localizer.config.check()?;
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/smd");
    let data_dir = args.data_dir.clone().unwrap_or(embedded);
    let machines = match (args.synthetic, args.machines.as_deref()) {
        (Some(regime), _) => (0..args.synthetic_machines)
            .map(|seed| format!("{regime}-{seed}"))
            .collect(),
        (None, Some("all") | None) if args.data_dir.is_some() => SmdMachine::list(&data_dir)?,
        (None, None) => vec!["machine-1-2".to_string()],
        (None, Some(list)) => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    if machines.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "--data-dir",
            value: data_dir.display().to_string(),
            rule: "holds no SMD machine".into(),
        });
    }
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let settings = MachineSettings {
        train_stride: args.train_stride.unwrap_or(if args.full { 1 } else { 10 }),
        reference_windows: args.reference_windows,
        attention: localizer.methods.iter().any(|m| m.label() == "Attention"),
        train: anomaly_xai::models::train::TrainConfig {
            epochs: args.epochs.unwrap_or(if args.full { 30 } else { 20 }),
            patience: Some(args.patience),
            quiet: args.quiet,
            ..Default::default()
        },
        ..MachineSettings::default()
    };
    let started = Instant::now();
    let mut runs = Vec::new();
    for (i, name) in machines.iter().enumerate() {
        eprintln!("== {name} ({}/{})", i + 1, machines.len());
        let machine = match args.synthetic {
            Some(regime) => generate(&regime.config(i as u64))?.into_smd(name.clone()),
            None => SmdMachine::load(&data_dir, name)?,
        };
        let m = PreparedMachine::prepare(&machine, &settings, Some(&args.cache_dir), args.retrain)?;
        let run = localizer.run(
            &m.context(),
            m.test.view(),
            &machine.regions,
            &paper1::protocol(),
        )?;
        println!("\n### {name}\n\n{}", run.table()?.to_markdown());
        println!("{}", LocalizationRun::timing_markdown(&[&run]));
        if i == 0 {
            draw_figure(&args, &m, &run)?;
        }
        runs.push(run);
    }
    let all: Vec<&LocalizationRun> = runs.iter().collect();
    let pooled = LocalizationRun::pooled_table(&all, false)?.to_markdown();
    let raw = LocalizationRun::pooled_table(&all, true)?.to_markdown();
    if runs.len() > 1 {
        println!("\n### all machines, regions pooled\n\n{pooled}");
    }
    if localizer.config.normalization != Normalization::None {
        println!("\n## The same explanations, not normalized\n\n{raw}");
    }
    let mut compared = String::new();
    for n in args.compare.iter().map(|&n| Normalization::from(n)) {
        let renormalized = runs
            .iter()
            .map(|r| r.renormalized(n, &paper1::protocol()))
            .collect::<Result<Vec<_>>>()?;
        let all: Vec<&LocalizationRun> = renormalized.iter().collect();
        let table = LocalizationRun::pooled_table(&all, false)?.to_markdown();
        let section = format!(
            "\n## The same explanations, normalization `{}`\n\n{table}",
            n.name()
        );
        println!("{section}");
        compared.push_str(&section);
    }
    let md = format!(
        "# SMD sensor localization\n\nmachines: {}\n\nregions: {}\n\nsettings: `{}`\n\nmethods: {}\n\ntotal time: {:.0} s\n\n{pooled}\n{}\n## The same explanations, not normalized\n\n{raw}\n{compared}",
        machines.join(", "),
        runs.iter().map(|r| r.regions.len()).sum::<usize>(),
        serde_json::to_string(&localizer.config)?,
        localizer
            .methods
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64(),
        LocalizationRun::timing_markdown(&all),
    );
    let write = |file: &str, text: String| {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write("table.md", md)?;
    write("results.json", serde_json::to_string_pretty(&runs)?)?;
    eprintln!(
        "wrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The localizer of the run: pipeline settings and paper 1's methods, minus `--skip`.
fn localizer(args: &Args) -> Result<Localizer> {
    let n_seeds = args.seeds.unwrap_or(if args.full { 5 } else { 2 });
    if n_seeds == 0 {
        return Err(Error::InvalidSetting {
            setting: "--seeds",
            value: "0".into(),
            rule: "must be at least 1".into(),
        });
    }
    let seeds: Vec<u64> = (0..n_seeds).collect();
    let (kernel, shapley) = if args.full { (1000, 25) } else { (200, 5) };
    // Deviation LRP (not in paper 1), next to paper 2's LRP (the reproduction row).
    let deviation_lrp = defaults::deviation_lrp;
    let mut methods = match args.methods {
        MethodSet::Default => defaults::methods(50, kernel, shapley, &seeds)?,
        MethodSet::Paper1 => {
            let mut paper = paper1::methods(50, kernel, shapley, &seeds)?;
            paper.extend(deviation_lrp());
            paper
        }
        MethodSet::All => {
            let mut all = paper1::methods(50, kernel, shapley, &seeds)?;
            all.extend(deviation_lrp());
            all.extend(paper1::train_mean_variants(kernel, shapley, &seeds)?);
            all
        }
    };
    for skip in args
        .skip
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        let before = methods.len();
        methods.retain(|m| !m.label().to_lowercase().starts_with(&skip));
        if methods.len() == before {
            return Err(Error::InvalidSetting {
                setting: "--skip",
                value: skip,
                rule: "names no method (give the first word(s) of a method's label)".into(),
            });
        }
    }
    if methods.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "--skip",
            value: args.skip.clone(),
            rule: "leaves no method to run".into(),
        });
    }
    let error = ExplainedError::new(ErrorNorm::L1);
    let config = LocalizerConfig {
        window: 50,
        policy: match args.policy {
            PolicyArg::Ending => WindowPolicy::EndingInRegion,
            PolicyArg::Overlapping => WindowPolicy::Overlapping,
        },
        max_windows: args.max_windows.unwrap_or(if args.full { 64 } else { 8 }),
        error: if args.last_step {
            error.steps([-1])
        } else {
            error
        },
        normalization: args.normalization.into(),
        grouping: match args.grouping {
            GroupingArg::PerSensor => Grouping::PerSensor,
            GroupingArg::Correlated => Grouping::Correlated,
        },
        progress: !args.quiet,
        ..LocalizerConfig::default()
    };
    Ok(Localizer::new(config, methods))
}

/// Paper 1's Figure 3 for one region: the sensors around it and Occlusion's top sensors
/// (or the first method's) next to the true ones.
fn draw_figure(args: &Args, m: &PreparedMachine, run: &LocalizationRun) -> Result<()> {
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
        .find(|r| r.method.label().starts_with("Occlusion"))
        .or(run.runs.first())
    else {
        return Ok(());
    };
    let (start, end) = (
        region.start.saturating_sub(100),
        (region.end + 100).min(m.test.nrows()),
    );
    let scores: Vec<f32> = method
        .scores
        .row(args.figure_region)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let fig = SensorFigure {
        series: m.test.slice(ndarray::s![start..end, ..]),
        start,
        region: region.start..region.end,
        attribution: &scores,
        true_sensors: &region.features,
        names: None,
        top_k: 10,
        title: format!(
            "{} region {}-{}: {}",
            m.name,
            region.start,
            region.end,
            method.method.label()
        ),
    };
    let path = args
        .out
        .join(format!("{}-region{}.png", m.name, args.figure_region));
    draw_sensor_figure(&path, &fig, (1400, 600))?;
    eprintln!("  wrote {}", path.display());
    Ok(())
}

/// The command line is checked before any data is read or any model trained: each bad
/// setting is refused by `localizer` (which `run` calls first) with the flag's name.
#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str]) -> String {
        let args =
            Args::try_parse_from(std::iter::once("smd_localization").chain(args.iter().copied()))
                .expect("clap accepts the flags");
        let err = localizer(&args)
            .and_then(|l| l.config.check().map(|()| l))
            .err()
            .unwrap_or_else(|| panic!("{args:?} was accepted"));
        err.to_string()
    }

    #[test]
    fn zero_seeds_is_refused() {
        assert!(refused(&["--seeds", "0"]).contains("--seeds"));
    }

    #[test]
    fn zero_windows_is_refused() {
        assert!(refused(&["--max-windows", "0"]).contains("max_windows"));
    }

    #[test]
    fn an_unknown_skip_is_refused() {
        let e = refused(&["--skip", "bogus"]);
        assert!(e.contains("--skip") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn skipping_every_method_is_refused() {
        let args = Args::try_parse_from(["smd_localization"]).unwrap();
        let every: Vec<String> = localizer(&args)
            .unwrap()
            .methods
            .iter()
            .map(|m| m.label())
            .collect();
        let e = refused(&["--skip", &every.join(",")]);
        assert!(e.contains("leaves no method"), "{e}");
    }

    #[test]
    fn the_defaults_are_accepted() {
        let args = Args::try_parse_from(["smd_localization"]).unwrap();
        let l = localizer(&args).unwrap();
        l.config.check().unwrap();
        assert!(!l.methods.is_empty());
    }
}
