//! Paper 2's corruption validation: do explanations find the one feature that was
//! corrupted to make a clean record anomalous?
//!
//! Data: a real table from `shared/data/tabular` — the UCI breast-cancer (Wisconsin
//! diagnostic) table by default (scikit-learn's copy, BSD-3 / CC BY 4.0), or the 38
//! numeric columns of NSL-KDD `KDDTrain+_20Percent` (Tavallaee et al. 2009; cite the
//! paper). A `DenseAe` is trained on the normal rows (benign tumours / normal traffic),
//! held-out clean rows get one feature corrupted (null, random, adversarial I-FGSM), and
//! LRP, Kernel SHAP, the L2 residual, Occlusion and Integrated Gradients explain each
//! corrupted record. See `anomaly_xai_repro::corruption` for the protocol.
//!
//! Writes `report.json`, `recall.png` (paper 2's Figure 2) and `timing.png` under
//! `--out/<data>/`, and prints recall@m for m = 1..M and the time per explanation.
//!
//! Run: `cargo run --release --example corruption_validation -- --help`.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anomaly_xai::data::find_data_dir;
use anomaly_xai::plot::{draw_bar_chart, draw_recall_curves, BarChart};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::corruption::{paper_methods, run_validation, TableSource, ValidationConfig};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Data {
    BreastCancer,
    NslKdd,
}

/// Corruption-based validation of anomaly explanations (paper 2, §4.1).
#[derive(Debug, Parser)]
struct Args {
    /// The table.
    #[arg(long, value_enum, default_value = "breast-cancer")]
    data: Data,
    /// Corrupted samples per corruption (paper: 100).
    #[arg(long)]
    k: Option<usize>,
    /// Seed of the split, the model, training, Kernel SHAP and the corruptions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (a subdirectory per table is created).
    #[arg(long, default_value = "results/corruption")]
    out: PathBuf,
    /// The `tabular` data directory (default: `$ANOMALY_XAI_DATA/tabular` or the
    /// `shared/data/tabular` beside the repository).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A quick run: K = 10, fewer epochs, 200 Kernel SHAP coalitions, 100 background rows.
    #[arg(long)]
    quick: bool,
    /// Kernel SHAP coalitions per explanation (paper: 1000).
    #[arg(long)]
    kernel_shap_samples: Option<usize>,
    /// I-FGSM θ, the weight of the corrupted feature's own error.
    #[arg(long)]
    theta: Option<f64>,
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => find_data_dir(env!("CARGO_MANIFEST_DIR"))
            .ok_or_else(|| Error::InvalidSetting {
                setting: "--data-dir",
                value: "(none)".into(),
                rule: "shared/data was not found beside the repository: pass --data-dir or set ANOMALY_XAI_DATA".into(),
            })?
            .join("tabular"),
    };
    let (source, name) = match args.data {
        Data::BreastCancer => (TableSource::BreastCancer, "breast-cancer"),
        Data::NslKdd => (TableSource::NslKdd, "nsl-kdd"),
    };
    let mut cfg = if args.quick {
        ValidationConfig::quick(source, data_dir)?
    } else {
        ValidationConfig::paper(source, data_dir)?
    };
    cfg.seed = args.seed;
    cfg.corruption.seed = args.seed;
    cfg.train.quiet = false;
    if let Some(k) = args.k {
        cfg.k = k;
    }
    if let Some(n) = args.kernel_shap_samples {
        let (background, ig_steps) = if args.quick { (100, 16) } else { (755, 50) };
        cfg.methods = paper_methods(n, background, ig_steps)?;
    }
    if let Some(theta) = args.theta {
        cfg.corruption.ifgsm.theta = theta;
    }
    tch::manual_seed(args.seed as i64);

    let start = Instant::now();
    let report = run_validation(&cfg)?;
    println!(
        "{name}: {} features, {} training rows, {} held-out rows ({} clean), {} epochs (best loss {:.3e})",
        report.feature_names.len(),
        report.n_train,
        report.n_pool,
        report.n_clean,
        report.epochs_run,
        report.best_loss
    );
    print!("{}", report.to_markdown());

    let out = args.out.join(name);
    fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let json = out.join("report.json");
    fs::write(&json, serde_json::to_string_pretty(&report)?).map_err(|e| Error::io(&json, e))?;
    let panels = report.panels();
    if !panels.is_empty() {
        draw_recall_curves(out.join("recall.png"), &panels, (1500, 480))?;
    }
    let timing = BarChart {
        title: format!("{name}: seconds per explanation"),
        value_label: "seconds".into(),
        labels: report
            .seconds_per_explanation
            .iter()
            .map(|(m, _)| m.clone())
            .collect(),
        values: report
            .seconds_per_explanation
            .iter()
            .map(|&(_, t)| t)
            .collect(),
        log_scale: true,
    };
    if timing.values.iter().all(|&t| t > 0.0) {
        draw_bar_chart(out.join("timing.png"), &timing, (800, 450))?;
    }
    println!(
        "\nwrote {} in {:.1} s",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
