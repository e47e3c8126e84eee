//! Draws Kernel SHAP's error against model evaluations (docs/performance.md): ours with
//! each coalition sampler and Captum 0.9's, one panel per game, from the JSON files of
//! the `kernel_shap_accuracy` example and `xtask/bench/kernel_shap_curve.py`
//! (`anomaly_xai_bench::shapley::curve` says what a line is).
//!
//! ```bash
//! cargo run --release -p anomaly-xai-bench --features plot --example kernel_shap_curve -- \
//!     --ours target/kernel_shap_accuracy/ours.json \
//!     --captum target/kernel_shap_accuracy/captum.json \
//!     --out docs/img/kernel_shap_error.png
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anomaly_xai::Result;
use anomaly_xai_bench::shapley::curve::{draw, panels, read_measured};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Draw Kernel SHAP's error-versus-evaluations curves into a PNG")]
struct Args {
    /// `ours.json` of the kernel_shap_accuracy example.
    #[arg(long, default_value = "target/kernel_shap_accuracy/ours.json")]
    ours: PathBuf,
    /// `captum.json` of xtask/bench/kernel_shap_curve.py (optional).
    #[arg(long)]
    captum: Option<PathBuf>,
    /// The PNG to write.
    #[arg(long, default_value = "docs/img/kernel_shap_error.png")]
    out: PathBuf,
    /// Estimators to draw, in legend order (default: all).
    #[arg(long, value_delimiter = ',')]
    estimators: Vec<String>,
    /// Games to draw, one panel each (default: all in `--ours`).
    #[arg(long, value_delimiter = ',')]
    games: Vec<String>,
    /// Image width and height in pixels.
    #[arg(long, value_delimiter = ',', default_values_t = [1500, 720])]
    size: Vec<u32>,
    /// Panels per row.
    #[arg(long, default_value_t = 3)]
    columns: usize,
}

fn run(args: &Args) -> Result<u64> {
    let measured = read_measured(&args.ours, args.captum.as_deref())?;
    let panels = panels(&measured, &args.games, &args.estimators);
    draw(
        &panels,
        args.columns,
        (args.size[0], args.size[1]),
        &args.out,
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.size.len() != 2 {
        eprintln!("error: --size needs WIDTH,HEIGHT, got {:?}", args.size);
        return ExitCode::FAILURE;
    }
    match run(&args) {
        Ok(bytes) => {
            println!("wrote {} ({} kB)", args.out.display(), bytes / 1000);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
