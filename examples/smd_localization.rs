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
use anomaly_xai::localizer::{LocalizationRun, Normalization};
use anomaly_xai::plot::{draw_sensor_figure, SensorFigure};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::localization::{
    machine_markdown, run_machine, LocalizationArgs, NormArg, PooledReport,
};
use anomaly_xai_repro::PreparedMachine;
use clap::Parser;

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
    /// Region (index in the first machine's label file) drawn as a PNG figure
    #[arg(long, default_value_t = 2)]
    figure_region: usize,
    /// libtorch threads (0: libtorch's default). One is the default: the LSTM's small
    /// matrices gain little from a second, and an oversubscribed core costs up to 7x
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Also print the pooled tables of the same explanations under these normalizations
    /// (comma-separated, e.g. `standardize,robust`)
    #[arg(long, value_delimiter = ',', value_enum)]
    compare: Vec<NormArg>,
    #[command(flatten)]
    run: LocalizationArgs,
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    // Every setting is checked before any training.
    let localizer = args.run.localizer()?;
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/smd");
    let data_dir = args.data_dir.clone().unwrap_or(embedded);
    let machines = machine_names(&args, &data_dir)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    check_writable("--cache-dir", &args.cache_dir)?;
    let settings = args.run.machine_settings(&localizer);
    let started = Instant::now();
    let mut runs = Vec::new();
    for (i, name) in machines.iter().enumerate() {
        eprintln!("== {name} ({}/{})", i + 1, machines.len());
        let machine = match args.synthetic {
            Some(regime) => generate(&regime.config(i as u64))?.into_smd(name.clone()),
            None => SmdMachine::load(&data_dir, name)?,
        };
        let m = PreparedMachine::prepare(&machine, &settings, Some(&args.cache_dir), args.retrain)?;
        let run = run_machine(&localizer, &machine, &m)?;
        println!("{}", machine_markdown(name, &run)?);
        if i == 0 {
            draw_figure(&args, &m, &run)?;
        }
        runs.push(run);
    }
    let compare: Vec<Normalization> = args.compare.iter().map(|&n| n.into()).collect();
    let report = PooledReport::new(&machines, &runs, &compare, started.elapsed().as_secs_f64())?;
    print!(
        "{}",
        report.stdout(runs.len(), localizer.config.normalization)
    );
    let write = |file: &str, text: String| {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write("table.md", report.markdown)?;
    write("results.json", serde_json::to_string_pretty(&runs)?)?;
    eprintln!(
        "wrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The most synthetic machines a run may ask for: each trains a model.
const MAX_SYNTHETIC_MACHINES: u64 = 1000;

/// The machines of the run, every one checked to exist before any is read or trained:
/// `--synthetic-machines` synthetic ones, or the `--machines` list (each must be a machine
/// of the data directory), or every machine of `--data-dir`, or machine-1-2.
fn machine_names(args: &Args, data_dir: &Path) -> Result<Vec<String>> {
    if let Some(regime) = args.synthetic {
        let n = args.synthetic_machines;
        if !(1..=MAX_SYNTHETIC_MACHINES).contains(&n) {
            return Err(Error::InvalidSetting {
                setting: "--synthetic-machines",
                value: n.to_string(),
                rule: format!(
                    "must be in 1..={MAX_SYNTHETIC_MACHINES} (each machine trains a model)"
                ),
            });
        }
        return Ok((0..n).map(|seed| format!("{regime}-{seed}")).collect());
    }
    let available = SmdMachine::list(data_dir)?;
    let machines = match args.machines.as_deref() {
        Some("all") => available.clone(),
        None if args.data_dir.is_some() => available.clone(),
        None => vec!["machine-1-2".to_string()],
        Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    if available.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "--data-dir",
            value: data_dir.display().to_string(),
            rule: "holds no SMD machine".into(),
        });
    }
    if let Some(bad) = machines.iter().find(|m| !available.contains(m)) {
        return Err(Error::InvalidSetting {
            setting: "--machines",
            value: format!("{bad:?}"),
            rule: format!(
                "is not a machine of {} (its machines: {})",
                data_dir.display(),
                available.join(", ")
            ),
        });
    }
    Ok(machines)
}

/// Creates `dir` and writes and removes a probe file in it, so that a folder the run
/// cannot write is refused before any training, naming its flag.
fn check_writable(flag: &'static str, dir: &Path) -> Result<()> {
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b""))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| Error::InvalidSetting {
            setting: flag,
            value: dir.display().to_string(),
            rule: format!("cannot be written: {e}"),
        })
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

/// The command line parses into the settings the run checks (the checks themselves are
/// tested with `anomaly_xai_repro::localization`).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_accepted() {
        let args = Args::try_parse_from(["smd_localization"]).unwrap();
        let l = args.run.localizer().unwrap();
        assert!(!l.methods.is_empty());
    }

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("smd_localization").chain(args.iter().copied()))
            .expect("clap accepts the flags")
    }

    fn embedded() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/smd")
    }

    #[test]
    fn machine_counts_and_names_are_checked_before_any_work() {
        for n in ["0", "1000000000000"] {
            let args = parse(&["--synthetic", "few-sensors", "--synthetic-machines", n]);
            let e = machine_names(&args, &embedded()).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("--synthetic-machines = {n} ")),
                "{e}"
            );
        }
        let args = parse(&["--machines", "machine-1-2,bogus"]);
        let e = machine_names(&args, &embedded()).unwrap_err().to_string();
        assert!(
            e.contains("--machines = \"bogus\" is not a machine of") && e.contains("machine-1-2"),
            "{e}"
        );
        let args = parse(&["--machines", "machine-1-2"]);
        assert_eq!(machine_names(&args, &embedded()).unwrap(), ["machine-1-2"]);
    }

    #[test]
    fn an_unwritable_cache_dir_is_refused_naming_its_flag() {
        // A folder under a plain file cannot be created.
        let file = std::env::temp_dir().join(format!("smd-cache-probe-{}", std::process::id()));
        std::fs::write(&file, b"").unwrap();
        let e = check_writable("--cache-dir", &file.join("cache"))
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&file).ok();
        assert!(
            e.starts_with("--cache-dir = ") && e.contains("cannot be written"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("smd-cache-ok-{}", std::process::id()));
        check_writable("--cache-dir", &dir).unwrap();
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "the probe is removed"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_bad_flag_is_refused_by_name() {
        let args = Args::try_parse_from(["smd_localization", "--skip", "bogus"]).unwrap();
        let e = args.run.localizer().expect_err("refused").to_string();
        assert!(e.contains("--skip") && e.contains("bogus"), "{e}");
    }
}
