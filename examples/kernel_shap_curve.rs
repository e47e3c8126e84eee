//! Draws Kernel SHAP's error against model evaluations (docs/performance.md): ours with
//! each coalition sampler and Captum 0.9's, one panel per game, from the JSON files of
//! `examples/kernel_shap_accuracy.rs` and
//! `xtask/bench/kernel_shap_curve.py`.
//!
//! ```bash
//! cargo run --release --example kernel_shap_curve -- \
//!     --ours target/kernel_shap_accuracy/ours.json \
//!     --captum target/kernel_shap_accuracy/captum.json \
//!     --out docs/img/kernel_shap_error.png
//! ```
//!
//! A line's x is the mean number of distinct coalitions the estimator evaluated per sample
//! (the full and the empty one included; Captum's repeated coalitions count each time, as
//! it evaluates them), its y the mean relative L2 distance to the exact Shapley values.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anomaly_xai::plot::{draw_error_curves, ErrorAxes, ErrorLine, ErrorPanel};
use clap::Parser;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use serde::Deserialize;

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

#[derive(Deserialize)]
struct File {
    rows: Vec<Row>,
    #[serde(default)]
    games: Vec<Game>,
}

#[derive(Deserialize)]
struct Game {
    name: String,
    groups: usize,
    /// "exact" (all coalitions enumerated) or "reference" (a large-budget estimate).
    #[serde(default)]
    truth: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    game: String,
    estimator: String,
    budget: usize,
    evals: f64,
    rel_error: f64,
}

/// Legend names of the estimators the measurement scripts write.
fn label(estimator: &str) -> String {
    match estimator {
        "captum" => "Captum 0.9 KernelShap".into(),
        "ours_captum_scheme" => "ours, Captum's scheme".into(),
        "ours_old_default" => "ours, previous default (independent, paired)".into(),
        "ours_stratified_kernel" => "ours, stratified, kernel allocation".into(),
        "ours_stratified_leverage" => "ours, stratified, leverage (default)".into(),
        other => other.into(),
    }
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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.size.len() != 2 {
        return Err(format!("--size needs WIDTH,HEIGHT, got {:?}", args.size).into());
    }
    let read = |p: &std::path::Path| {
        fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let ours: File = serde_json::from_str(&read(&args.ours)?)?;
    let (mut rows, meta) = (ours.rows, ours.games);
    if let Some(c) = &args.captum {
        rows.extend(serde_json::from_str::<File>(&read(c)?)?.rows);
    }
    let mut games: Vec<String> = Vec::new();
    let mut estimators: Vec<String> = Vec::new();
    for r in &rows {
        if !games.contains(&r.game) {
            games.push(r.game.clone());
        }
        if !estimators.contains(&r.estimator) {
            estimators.push(r.estimator.clone());
        }
    }
    if !args.games.is_empty() {
        games = args.games.clone();
    }
    if !args.estimators.is_empty() {
        estimators = args.estimators.clone();
    }
    let mut panels = Vec::new();
    for game in &games {
        let mut lines = Vec::new();
        for est in &estimators {
            let mut points: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
            for r in rows
                .iter()
                .filter(|r| &r.game == game && &r.estimator == est)
            {
                // All coalitions enumerated: the error is rounding, off a log axis.
                if r.rel_error > 1e-9 {
                    points.insert(r.budget, (r.evals, r.rel_error));
                }
            }
            if !points.is_empty() {
                lines.push(ErrorLine {
                    label: label(est),
                    points: points.into_values().collect(),
                });
            }
        }
        let title = match meta.iter().find(|g| &g.name == game) {
            Some(g) if g.truth.as_deref() == Some("reference") => {
                format!("{}: {} groups, vs reference", g.name, g.groups)
            }
            Some(g) => format!("{}: {} groups, vs exact", g.name, g.groups),
            None => game.clone(),
        };
        panels.push(ErrorPanel { title, lines });
    }
    let axes = ErrorAxes {
        cost: "model evaluations per sample".into(),
        error: "relative L2 error".into(),
        columns: args.columns,
    };
    if let Some(dir) = args.out.parent() {
        fs::create_dir_all(dir)?;
    }
    draw_error_curves(&args.out, &panels, &axes, (args.size[0], args.size[1]))?;
    // plotters compresses lightly; the committed figure is re-encoded at the best level.
    let rgb = image::open(&args.out)?.to_rgb8();
    let file = std::io::BufWriter::new(fs::File::create(&args.out)?);
    let encoder = PngEncoder::new_with_quality(file, CompressionType::Best, FilterType::Adaptive);
    rgb.write_with_encoder(encoder)?;
    println!(
        "wrote {} ({} kB)",
        args.out.display(),
        fs::metadata(&args.out)?.len() / 1000
    );
    Ok(())
}
