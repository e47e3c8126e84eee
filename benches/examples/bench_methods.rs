//! What every explanation method costs, next to the floor of bare model evaluations.
//!
//! Model, methods, settings and floor come from the shared harness (`anomaly-xai-bench`'s
//! library; its docs say what each is). Data: `--windows` stride-1 windows of
//! machine-1-2's test half from the Server Machine Dataset (OmniAnomaly, Su et al. KDD
//! 2019, MIT licence; embedded in `data/smd/`), min-max scaled on the training half and
//! clipped to [-3, 3] as in DESIGN §7b; Gradient SHAP's background is the first
//! `--background` training windows.
//!
//! `ratio = seconds / floor_seconds`: 1.0 means the method costs exactly its model
//! evaluations. After one warm-up run, the method and its floors are timed in turns
//! `--repeats` times; every time is the minimum over the repeats, and the method's median
//! is printed too. CPU seconds of all threads (Linux scheduler statistics) are recorded
//! beside wall-clock seconds: on a machine shared with other work they leave out the
//! waiting for a core.
//!
//! Output: one JSON line per method on stdout (`xtask/bench/compare.py` merges rounds of
//! them with Captum's); a markdown table on stderr.
//!
//! Run: `cargo run --release -p anomaly-xai-bench --example bench_methods -- --threads 2
//! --windows 8` (`--methods occlusion,kernel_shap` for a subset, `--device cuda` on a CUDA
//! build of libtorch; `--help` for everything).

use std::path::PathBuf;

use anomaly_xai::models::LayerModel;
use anomaly_xai::{Error, Result};
use anomaly_xai_bench::floor::Floor;
use anomaly_xai_bench::measure::measure;
use anomaly_xai_bench::methods::{method_list, name, Harness, Settings, NAMES};
use anomaly_xai_bench::reference::{embedded_smd, model, smd_windows, Size};
use anomaly_xai_bench::timing::load_average;
use clap::Parser;
use serde::Serialize;
use tch::Device;

#[derive(Parser, Debug)]
#[command(about = "Cost of every attribution method against the floor of bare model evaluations")]
struct Args {
    /// Intra-op threads of libtorch (`tch::set_num_threads`)
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Windows explained per call (the batch)
    #[arg(long, default_value_t = 8)]
    windows: i64,
    /// Comma-separated method names, or `all`
    #[arg(long, value_delimiter = ',', default_value = "all")]
    methods: Vec<String>,
    /// Timed runs per method and per floor (after one warm-up run)
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Rows per model call for every method (the library's default is 512)
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
    /// `cpu`, `cuda` or `cuda:N`
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also compute the convergence delta of Integrated Gradients and Gradient SHAP
    #[arg(long)]
    delta: bool,
    /// Training windows in Gradient SHAP's background set
    #[arg(long, default_value_t = 16)]
    background: i64,
    /// First test step of the explained windows (machine-1-2's region 15925-15973 lies
    /// inside the default windows)
    #[arg(long, default_value_t = 15900)]
    start: i64,
    /// Directory in the SMD layout holding machine-1-2 [default: the embedded data/smd]
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// One JSON line of the output.
#[derive(Debug, Serialize)]
struct Record {
    method: &'static str,
    family: String,
    model: String,
    device: String,
    threads: i32,
    windows: i64,
    batch_size: usize,
    forward_evals_per_window: usize,
    backward_evals_per_window: usize,
    repeats: usize,
    seconds: f64,
    seconds_median: f64,
    ms_per_window: f64,
    /// `F·W` bare no-grad forward passes.
    floor_forward_seconds: f64,
    /// `B·W` bare forward + backward passes (gradient methods only).
    floor_backward_seconds: Option<f64>,
    /// The floor the ratio divides by.
    floor_seconds: f64,
    ratio: f64,
    /// `seconds − floor_seconds`: what the method spends outside model evaluations.
    overhead_seconds: f64,
    /// Seconds of the method's run spent outside the scorer's forward calls.
    outside_scorer_seconds: Option<f64>,
    /// CPU seconds of all threads (minimum over the repeats; Linux only).
    cpu_seconds: Option<f64>,
    /// CPU seconds of the floor.
    floor_cpu_seconds: Option<f64>,
    /// `cpu_seconds / floor_cpu_seconds`: the ratio with waiting for a core left out.
    cpu_ratio: Option<f64>,
    /// The machine's 1-minute load average when the method's measurement began.
    load_average: Option<f64>,
}

fn invalid(setting: &'static str, value: impl ToString, rule: &str) -> Error {
    Error::InvalidSetting {
        setting,
        value: value.to_string(),
        rule: rule.into(),
    }
}

fn parse_device(s: &str) -> Result<Device> {
    let device = match s {
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        other => match other
            .strip_prefix("cuda:")
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) => Device::Cuda(i),
            None => return Err(invalid("--device", s, "expected cpu, cuda or cuda:N")),
        },
    };
    if let Device::Cuda(i) = device {
        let n = tch::Cuda::device_count();
        if i as i64 >= n {
            let rule = format!("this libtorch sees {n} CUDA device(s) (a CPU build sees none)");
            return Err(invalid("--device", s, &rule));
        }
    }
    Ok(device)
}

/// Checks every setting before any work.
fn check(args: &Args) -> Result<()> {
    if args.threads < 1 {
        return Err(invalid("--threads", args.threads, "must be at least 1"));
    }
    if args.batch_size < 1 {
        return Err(invalid(
            "--batch-size",
            args.batch_size,
            "must be at least 1",
        ));
    }
    for m in &args.methods {
        if m != "all" && !NAMES.contains(&m.as_str()) {
            let rule = format!("unknown method; known: all, {}", NAMES.join(","));
            return Err(invalid("--methods", m, &rule));
        }
    }
    Ok(())
}

fn run(args: &Args) -> Result<()> {
    check(args)?;
    let device = parse_device(&args.device)?;
    tch::set_num_threads(args.threads);
    tch::manual_seed(0);
    let size = Size::PAPER1;
    let settings = Settings {
        background: args.background,
        convergence_delta: args.delta,
        ..Settings::PAPER1
    };
    let all = args.methods.iter().any(|m| m == "all");
    let methods: Vec<_> = method_list(size, &settings)?
        .into_iter()
        .filter(|m| all || args.methods.iter().any(|a| a == name(m)))
        .collect();
    let dir = args.data_dir.clone().unwrap_or_else(embedded_smd);
    let (x, background) = smd_windows(&dir, args.start, args.windows, args.background, device)?;
    let ae = model(size, device)?;
    let harness = Harness::new(&ae, size, device, &background, args.batch_size)?;
    let floor = Floor::new(ae.layers(), &x, args.batch_size)?;
    let w = args.windows;
    eprintln!(
        "bench_methods: {} on {device:?}, {} thread(s), {w} window(s), batch {}, \
         best of {} after a warm-up",
        size.describe(),
        args.threads,
        args.batch_size,
        args.repeats
    );
    let mut table = vec![
        "| method | fwd/window | bwd/window | s | ms/window | floor s | ratio | cpu ratio | outside scorer s | load |"
            .to_string(),
        "|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for spec in &methods {
        let method = harness.prepare(spec)?;
        let load = load_average();
        let m = measure(&harness, &method, &floor, &x, args.repeats, device)?;
        let record = Record {
            method: method.name(),
            family: format!("{:?}", method.family()),
            model: size.describe(),
            device: format!("{device:?}"),
            threads: args.threads,
            windows: w,
            batch_size: args.batch_size,
            forward_evals_per_window: m.forward_evals,
            backward_evals_per_window: m.backward_evals,
            repeats: args.repeats,
            seconds: m.method.min,
            seconds_median: m.method.median,
            ms_per_window: 1e3 * m.method.min / w as f64,
            floor_forward_seconds: m.floor_forward.min,
            floor_backward_seconds: m.floor_backward.map(|b| b.min),
            floor_seconds: m.floor_seconds(),
            ratio: m.ratio(),
            overhead_seconds: m.method.min - m.floor_seconds(),
            outside_scorer_seconds: m.outside_scorer_seconds,
            cpu_seconds: m.method.cpu,
            floor_cpu_seconds: m.floor_cpu_seconds(),
            cpu_ratio: m.cpu_ratio(),
            load_average: load,
        };
        println!("{}", serde_json::to_string(&record)?);
        let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
        table.push(format!(
            "| {} | {} | {} | {:.3} | {:.1} | {:.3} | {:.2} | {} | {} | {} |",
            record.method,
            m.forward_evals,
            m.backward_evals,
            record.seconds,
            record.ms_per_window,
            record.floor_seconds,
            record.ratio,
            opt(record.cpu_ratio, 2),
            opt(record.outside_scorer_seconds, 3),
            opt(load, 1),
        ));
    }
    eprintln!("{}", table.join("\n"));
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_methods: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
