//! What every explanation method costs, next to the floor of bare model evaluations.
//!
//! Model: paper 1's reference LSTM autoencoder (38 sensors, windows of 50 steps, 2 + 2
//! LSTM layers of 64 units), seeded and untrained: the cost of a dense recurrent forward
//! pass does not depend on the weights' values. Data: `--windows` stride-1 windows of
//! machine-1-2's test half from the Server Machine Dataset (OmniAnomaly, Su et al. KDD
//! 2019, MIT licence; embedded in `data/smd/`), min-max scaled on the training half and
//! clipped to [-3, 3] as in DESIGN §7b.
//!
//! Settings mirror the common defaults (and `xtask/bench/captum_bench.py`, which times
//! Captum 0.9 on the same model, windows and settings): Occlusion (window 50 × 1), Feature
//! Ablation and Feature Permutation per sensor, Shapley Value Sampling with 25
//! permutations, Kernel SHAP with 1000 samples, all with a zero baseline and a per-sensor
//! feature mask; Integrated Gradients with 50 steps (Gauss-Legendre) and Gradient SHAP with
//! 50 samples over a background of `--background` training windows, both without the
//! convergence delta (Captum's default; `--delta` turns it on); Saliency, Input × Gradient,
//! the per-sensor residual and LRP (`lstm-default` preset, Deep-Taylor L1 seed). All of
//! them explain the mean L1 reconstruction error of each window.
//!
//! The floor of a method that reports `F` forward and `B` backward evaluations per window
//! on `W` windows is the time of `B·W` bare forward + backward passes (gradient with
//! respect to the input) plus `(F − B)·W` bare forward passes under no-grad, in chunks of
//! the method's batch size, through the model's layer list and nothing else (no input
//! checks, no error wrapper). `ratio = seconds / floor_seconds`: 1.0 means the method costs
//! exactly its model evaluations. After one warm-up run, the method and its floors are
//! timed in turns `--repeats` times, so that a change of the machine's load hits both
//! alike; every time is the minimum over the repeats (the least disturbed by other
//! processes on a shared machine), and the method's median is printed too. CPU seconds of
//! all threads (Linux scheduler statistics) are recorded beside wall-clock seconds: on a
//! machine shared with other work they leave out the waiting for a core.
//!
//! Output: one JSON line per method on stdout; a markdown table on stderr.
//!
//! Run: `cargo run --release --example bench_methods -- --threads 2 --windows 8`
//! (`--methods occlusion,kernel_shap` for a subset, `--device cuda` on a CUDA build of
//! libtorch; `--help` for everything).

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Instant;

use anomaly_xai::attrib::{
    Attribution, Attributions, Baseline, FeatureAblation, FeatureMask, FeaturePermutation,
    GradientShap, InputXGradient, IntegratedGradients, KernelShap, Norm, Occlusion,
    ReconstructionError, Request, Residual, Saliency, Scorer, ShapleyValueSampling,
};
use anomaly_xai::data::SmdMachine;
use anomaly_xai::lrp::{Lrp, OutputSeed, Preset};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::layer::forward_layers;
use anomaly_xai::models::windows::sliding_windows_tensor;
use anomaly_xai::models::{Autoencoder, Layer, LstmAe, LstmAeConfig, MinMaxScaler};
use clap::Parser;
use serde::Serialize;
use tch::{Device, Kind, Tensor};

type BoxError = Box<dyn std::error::Error>;

const SENSORS: i64 = 38;
const STEPS: i64 = 50;
const HIDDEN: i64 = 64;

/// Every method this example knows, in the order it runs them.
const ALL_METHODS: [&str; 11] = [
    "residual",
    "lrp",
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "gradient_shap",
    "feature_ablation",
    "occlusion",
    "feature_permutation",
    "shapley_value_sampling",
    "kernel_shap",
];

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
    /// The floor the ratio divides by (see the module docs).
    floor_seconds: f64,
    ratio: f64,
    /// `seconds − floor_seconds`: what the method spends outside model evaluations.
    overhead_seconds: f64,
    /// Seconds of the method's run spent outside the scorer's forward calls (minimum over
    /// the repeats): building perturbations, sampling, fitting, and for gradient methods
    /// the backward passes. Measured within each run, so immune to load drift between the
    /// method's and the floor's runs. `None` for methods that take the model itself.
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

/// A method and what it explains: the scorer (black-box methods) or the model itself.
enum Runner<'a> {
    Scorer(Box<dyn Attribution<Timed<ReconstructionError<'a, LstmAe>>> + 'a>),
    Model(Box<dyn Attribution<LstmAe> + 'a>),
}

/// A scorer that times its own calls, so that a method's time splits into model
/// evaluations (forward passes with the error wrapper and its input checks) and what the
/// method does around them, within the same run. Backward passes of gradient methods
/// happen outside `score` and count as "around".
struct Timed<S> {
    inner: S,
    device: Device,
    seconds: Cell<f64>,
}

impl<S> Timed<S> {
    /// Seconds spent in `score` since the last call.
    fn take(&self) -> f64 {
        self.seconds.replace(0.0)
    }
}

impl<S: Scorer> Scorer for Timed<S> {
    fn score(&self, x: &Tensor) -> anomaly_xai::attrib::Result<Tensor> {
        let start = Instant::now();
        let out = self.inner.score(x);
        sync(self.device);
        self.seconds
            .set(self.seconds.get() + start.elapsed().as_secs_f64());
        out
    }

    fn differentiable(&self) -> bool {
        self.inner.differentiable()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

fn parse_device(s: &str) -> Result<Device, BoxError> {
    let device = match s {
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        other => match other
            .strip_prefix("cuda:")
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) => Device::Cuda(i),
            None => return Err(format!("--device {other:?}: expected cpu, cuda or cuda:N").into()),
        },
    };
    if let Device::Cuda(i) = device {
        let n = tch::Cuda::device_count();
        if i as i64 >= n {
            return Err(format!(
                "--device {s}: this libtorch sees {n} CUDA device(s) (a CPU build sees none)"
            )
            .into());
        }
    }
    Ok(device)
}

/// Waits for queued device work, so that wall-clock time covers it.
fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

fn data_dir(args: &Args) -> PathBuf {
    args.data_dir.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join("smd")
    })
}

/// The explained windows `[W, 50, 38]` and the background set `[N, 50, 38]`.
fn windows(args: &Args, device: Device) -> Result<(Tensor, Tensor), BoxError> {
    if args.windows < 1 || args.background < 1 || args.start < 0 {
        return Err(format!(
            "--windows {} / --background {} must be at least 1 and --start {} at least 0",
            args.windows, args.background, args.start
        )
        .into());
    }
    let machine = SmdMachine::load(&data_dir(args), "machine-1-2")?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?.with_clip(-3.0, 3.0)?;
    let test = array_to_tensor(
        &scaler.transform(&machine.test.view())?.into_dyn().view(),
        device,
    )?;
    let train = array_to_tensor(
        &scaler.transform(&machine.train.view())?.into_dyn().view(),
        device,
    )?;
    let rows = args.start + args.windows + STEPS - 1;
    if rows > test.size()[0] {
        return Err(format!(
            "--start {} with --windows {} needs {rows} test steps; machine-1-2 has {}",
            args.start,
            args.windows,
            test.size()[0]
        )
        .into());
    }
    let x = sliding_windows_tensor(
        &test.f_narrow(0, args.start, args.windows + STEPS - 1)?,
        STEPS as usize,
        1,
    )?;
    let bg_rows = (args.background + STEPS - 1).min(train.size()[0]);
    let bg = sliding_windows_tensor(&train.f_narrow(0, 0, bg_rows)?, STEPS as usize, 1)?;
    Ok((x.f_contiguous()?, bg.f_contiguous()?))
}

fn build_methods<'a>(
    args: &Args,
    names: &[&'static str],
) -> Result<Vec<(&'static str, Runner<'a>)>, BoxError> {
    let bs = args.batch_size;
    let mut out = Vec::new();
    for &name in names {
        let runner = match name {
            "residual" => Runner::Model(Box::new(Residual::new(Norm::L1))),
            "lrp" => Runner::Model(Box::new(Lrp::new(
                OutputSeed::DeepTaylorL1,
                Preset::LstmDefault,
            )?)),
            "saliency" => Runner::Scorer(Box::new(Saliency::params().batch_size(bs).check()?)),
            "input_x_gradient" => {
                Runner::Scorer(Box::new(InputXGradient::params().batch_size(bs).check()?))
            }
            "integrated_gradients" => Runner::Scorer(Box::new(
                IntegratedGradients::params()
                    .n_steps(50)
                    .convergence_delta(args.delta)
                    .batch_size(bs)
                    .check()?,
            )),
            "gradient_shap" => Runner::Scorer(Box::new(
                GradientShap::params()
                    .n_samples(50)
                    .convergence_delta(args.delta)
                    .batch_size(bs)
                    .check()?,
            )),
            "feature_ablation" => Runner::Scorer(Box::new(
                FeatureAblation::params()
                    .batch_size(bs)
                    .progress(false)
                    .check()?,
            )),
            "occlusion" => Runner::Scorer(Box::new(
                Occlusion::params()
                    .window([STEPS, 1])
                    .batch_size(bs)
                    .progress(false)
                    .check()?,
            )),
            "feature_permutation" => Runner::Scorer(Box::new(
                FeaturePermutation::params()
                    .batch_size(bs)
                    .progress(false)
                    .check()?,
            )),
            "shapley_value_sampling" => Runner::Scorer(Box::new(
                ShapleyValueSampling::params()
                    .n_permutations(25)
                    .batch_size(bs)
                    .progress(false)
                    .check()?,
            )),
            "kernel_shap" => Runner::Scorer(Box::new(
                KernelShap::params()
                    .n_samples(1000)
                    .batch_size(bs)
                    .progress(false)
                    .check()?,
            )),
            other => return Err(format!("unknown method {other:?}").into()),
        };
        out.push((name, runner));
    }
    Ok(out)
}

/// Selected method names, in the canonical order, with unknown names rejected.
fn selected(args: &Args) -> Result<Vec<&'static str>, BoxError> {
    if args.methods.iter().any(|m| m == "all") {
        return Ok(ALL_METHODS.to_vec());
    }
    for m in &args.methods {
        if !ALL_METHODS.contains(&m.as_str()) {
            return Err(format!(
                "--methods: unknown method {m:?}; known: {}",
                ALL_METHODS.join(",")
            )
            .into());
        }
    }
    Ok(ALL_METHODS
        .iter()
        .copied()
        .filter(|m| args.methods.iter().any(|a| a == m))
        .collect())
}

/// CPU seconds used so far by all threads of this process, from Linux's per-thread
/// scheduler statistics (nanoseconds); `None` elsewhere. On a machine shared with other
/// work, wall-clock time includes waiting for a core and CPU time does not.
fn cpu_seconds() -> Option<f64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 * 1e-9)
}

/// The 1-minute load average of the machine (Linux), to put timings in context.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Wall-clock and CPU seconds of one timed run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: Option<f64>,
}

/// Times `f`, device work included.
fn clock(device: Device, f: impl FnOnce() -> Result<(), BoxError>) -> Result<Sample, BoxError> {
    let cpu = cpu_seconds();
    let start = Instant::now();
    f()?;
    sync(device);
    let wall = start.elapsed().as_secs_f64();
    Ok(Sample {
        wall,
        cpu: cpu.zip(cpu_seconds()).map(|(a, b)| b - a),
    })
}

/// The minimum wall-clock time, its median and the minimum CPU time of some samples.
fn summary(samples: &[Sample]) -> (f64, f64, Option<f64>) {
    let mut wall: Vec<f64> = samples.iter().map(|s| s.wall).collect();
    wall.sort_by(f64::total_cmp);
    let n = wall.len();
    let median = if n % 2 == 1 {
        wall[n / 2]
    } else {
        0.5 * (wall[n / 2 - 1] + wall[n / 2])
    };
    let cpu = samples.iter().map(|s| s.cpu).collect::<Option<Vec<f64>>>();
    let cpu = cpu.and_then(|c| c.into_iter().min_by(f64::total_cmp));
    (wall[0], median, cpu)
}

/// Bare model evaluations: the layer list and nothing else.
struct Floor<'a> {
    layers: &'a [Layer],
    /// `batch` input rows (the explained windows, repeated).
    pool: Tensor,
    batch: i64,
}

impl<'a> Floor<'a> {
    fn new(layers: &'a [Layer], x: &Tensor, batch: usize) -> Result<Self, BoxError> {
        let batch = batch as i64;
        let copies = (batch + x.size()[0] - 1) / x.size()[0];
        let pool = x
            .f_repeat([copies, 1, 1])?
            .f_narrow(0, 0, batch)?
            .f_contiguous()?;
        Ok(Floor {
            layers,
            pool,
            batch,
        })
    }

    /// `rows` rows in chunks of the batch size: no-grad forward passes, or forward +
    /// backward passes to the input when `grad`.
    fn run(&self, rows: i64, grad: bool) -> Result<(), BoxError> {
        let mut start = 0;
        while start < rows {
            let len = self.batch.min(rows - start);
            let chunk = self.pool.f_narrow(0, 0, len)?;
            if grad {
                let input = chunk.f_detach()?.f_set_requires_grad(true)?;
                let out = tch::with_grad(|| forward_layers(self.layers, &input))?;
                let total = out.f_sum(Kind::Float)?;
                Tensor::f_run_backward(&[total], &[&input], false, false)?;
            } else {
                let _guard = tch::no_grad_guard();
                let _reconstruction = forward_layers(self.layers, &chunk)?;
            }
            start += len;
        }
        Ok(())
    }
}

/// The timings of one method and of its floors, taken in turns so that a change of the
/// machine's load hits both alike.
struct Timings {
    method: Vec<Sample>,
    /// Seconds of each method run spent outside the scorer (`None` without one).
    outside: Vec<Option<f64>>,
    forward: Vec<Sample>,
    backward: Vec<Sample>,
    extra_forward: Vec<Sample>,
}

/// Runs the method once (warm-up, and to learn its cost), its floors once, then both in
/// turns `repeats` times.
fn measure(
    repeats: usize,
    device: Device,
    floor: &Floor<'_>,
    w: i64,
    in_scorer: impl Fn() -> Option<f64>,
    mut method: impl FnMut() -> Result<Attributions, BoxError>,
) -> Result<(Attributions, Timings), BoxError> {
    let a = method()?;
    sync(device);
    let (f, b) = (a.forward_evals as i64, a.backward_evals as i64);
    let mut t = Timings {
        method: vec![],
        outside: vec![],
        forward: vec![],
        backward: vec![],
        extra_forward: vec![],
    };
    floor.run(f * w, false)?;
    floor.run(b * w, true)?;
    sync(device);
    for _ in 0..repeats.max(1) {
        in_scorer();
        let run = clock(device, || method().map(drop))?;
        t.outside.push(in_scorer().map(|inside| run.wall - inside));
        t.method.push(run);
        t.forward.push(clock(device, || floor.run(f * w, false))?);
        if b > 0 {
            t.backward.push(clock(device, || floor.run(b * w, true))?);
            t.extra_forward
                .push(clock(device, || floor.run((f - b).max(0) * w, false))?);
        }
    }
    Ok((a, t))
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let device = parse_device(&args.device)?;
    if args.threads < 1 {
        return Err(format!("--threads {}: must be at least 1", args.threads).into());
    }
    if args.batch_size < 1 {
        return Err("--batch-size 0: must be at least 1".into());
    }
    tch::set_num_threads(args.threads);
    tch::manual_seed(0);
    let names = selected(&args)?;
    let (x, background) = windows(&args, device)?;
    let ae = LstmAe::seeded(&LstmAeConfig::new(SENSORS, STEPS, HIDDEN), device, 0)?;
    let scorer = Timed {
        inner: ReconstructionError::new(&ae, Norm::L1),
        device,
        seconds: Cell::new(0.0),
    };
    let mask = FeatureMask::per_sensor(STEPS, SENSORS)?;
    let request = |name: &str| -> Request {
        let baseline = if name == "gradient_shap" {
            Baseline::Distribution(background.shallow_clone())
        } else {
            Baseline::Zero
        };
        Request::with_baseline(baseline).mask(mask.clone())
    };
    let floor = Floor::new(ae.layers(), &x, args.batch_size)?;
    let model = format!("lstm_ae(F={SENSORS}, T={STEPS}, H={HIDDEN}, 2+2 layers)");
    let w = args.windows;
    eprintln!(
        "bench_methods: {model} on {device:?}, {} thread(s), {w} window(s), batch {}, \
         best of {} after a warm-up",
        args.threads, args.batch_size, args.repeats
    );
    let mut table = vec![
        "| method | fwd/window | bwd/window | s | ms/window | floor s | ratio | cpu ratio | outside scorer s | load |"
            .to_string(),
        "|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for (name, runner) in build_methods(&args, &names)? {
        let req = request(name);
        let load = load_average();
        let (family, (a, t)) = match &runner {
            Runner::Scorer(m) => (
                format!("{:?}", m.family()),
                measure(
                    args.repeats,
                    device,
                    &floor,
                    w,
                    || Some(scorer.take()),
                    || Ok(m.attribute(&scorer, &x, &req)?),
                )?,
            ),
            Runner::Model(m) => (
                format!("{:?}", m.family()),
                measure(
                    args.repeats,
                    device,
                    &floor,
                    w,
                    || None,
                    || Ok(m.attribute(&ae, &x, &req)?),
                )?,
            ),
        };
        let (seconds, seconds_median, cpu) = summary(&t.method);
        let outside = t.outside.iter().copied().collect::<Option<Vec<f64>>>();
        let outside = outside.and_then(|o| o.into_iter().min_by(f64::total_cmp));
        let (floor_forward, _, floor_forward_cpu) = summary(&t.forward);
        let (floor_backward, floor_seconds, floor_cpu) = if t.backward.is_empty() {
            (None, floor_forward, floor_forward_cpu)
        } else {
            let (back, _, back_cpu) = summary(&t.backward);
            let (extra, _, extra_cpu) = summary(&t.extra_forward);
            (
                Some(back),
                back + extra,
                back_cpu.zip(extra_cpu).map(|(a, b)| a + b),
            )
        };
        let record = Record {
            method: name,
            family,
            model: model.clone(),
            device: format!("{device:?}"),
            threads: args.threads,
            windows: w,
            batch_size: args.batch_size,
            forward_evals_per_window: a.forward_evals,
            backward_evals_per_window: a.backward_evals,
            repeats: args.repeats,
            seconds,
            seconds_median,
            ms_per_window: 1e3 * seconds / w as f64,
            floor_forward_seconds: floor_forward,
            floor_backward_seconds: floor_backward,
            floor_seconds,
            ratio: seconds / floor_seconds,
            overhead_seconds: seconds - floor_seconds,
            outside_scorer_seconds: outside,
            cpu_seconds: cpu,
            floor_cpu_seconds: floor_cpu,
            cpu_ratio: cpu.zip(floor_cpu.filter(|&f| f > 0.0)).map(|(a, b)| a / b),
            load_average: load,
        };
        println!("{}", serde_json::to_string(&record)?);
        table.push(format!(
            "| {} | {} | {} | {:.3} | {:.1} | {:.3} | {:.2} | {} | {} | {} |",
            name,
            a.forward_evals,
            a.backward_evals,
            seconds,
            record.ms_per_window,
            floor_seconds,
            record.ratio,
            record.cpu_ratio.map_or("-".into(), |r| format!("{r:.2}")),
            outside.map_or("-".into(), |o| format!("{o:.3}")),
            load.map_or("-".into(), |l| format!("{l:.1}")),
        ));
    }
    eprintln!("{}", table.join("\n"));
    Ok(())
}
