//! What the examples share: how a `main` reports an error, and for the "your detector"
//! examples the embedded SMD machine prepared as the demo prepares it, paper 1's methods
//! that a detector can serve, and tables side by side.

#![allow(dead_code)]

use std::fmt::Display;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anomaly_xai::attrib::Family;
use anomaly_xai::data::SmdMachine;
use anomaly_xai::defaults;
use anomaly_xai::localizer::{LocalizationRun, Localizer, LocalizerConfig};
use anomaly_xai::method::{Context, Method, MethodSpec};
use anomaly_xai::metrics::{Table, TableRow};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::MinMaxScaler;
use anomaly_xai::Result;
use anomaly_xai_repro::{paper1, MachineSettings, PreparedMachine};
use ndarray::Array2;
use tch::{Device, Tensor};

/// The exit status of an example's `run`: on an error, its message (the `Display` the
/// crates write with care, not the `Debug` form a `main` returning `Result` prints) after
/// `error:`, and failure.
pub fn exit_code<E: Display>(result: std::result::Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The embedded machine (`data/smd`, machine-1-2).
pub fn smd() -> Result<SmdMachine> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/smd");
    Ok(SmdMachine::load(&dir, "machine-1-2")?)
}

/// The demo's preparation (min-max on the training half, test clipped to ±3, windows of
/// 50, the LSTM autoencoder trained once and cached under `results/cache`, 32 normal
/// reference windows), without the attention model.
pub fn prepare(machine: &SmdMachine) -> Result<PreparedMachine> {
    let settings = MachineSettings {
        attention: false,
        ..MachineSettings::default()
    };
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/cache");
    PreparedMachine::prepare(machine, &settings, Some(&cache), false)
}

/// The training windows of the preparation (the training half scaled with `scaler`,
/// windows of 50 at stride 10), on the CPU.
pub fn training_windows(machine: &SmdMachine, scaler: &MinMaxScaler) -> Result<Tensor> {
    let scaled = scaler.transform(&machine.train.view())?;
    let w = sliding_windows(&scaled.view(), 50, MachineSettings::default().train_stride)?;
    Ok(array_to_tensor(&w.data.view().into_dyn(), Device::Cpu)?)
}

/// The main job's pipeline: its default methods ([`defaults::methods`], 2 seeds for
/// the sampling ones) that need neither an attention model nor a layer list, keeping the
/// gradient methods only when `gradients`; 8 windows per region, sensor scores under the
/// default normalization against the normal reference windows. A user's detector gets
/// the defaults that held on both kinds of system, not paper 1's list (whose zero
/// baselines and Saliency fall to chance where a fault moves a correlated group).
pub fn localizer(gradients: bool) -> Result<Localizer> {
    let mut methods = defaults::methods(50, 200, 5, &[0, 1])?;
    methods.retain(|m| match &m.method {
        Method::Attention | Method::Lrp { .. } => false,
        Method::Attrib(a) => gradients || a.family() != Family::Gradient,
        Method::Residual => true,
    });
    let config = LocalizerConfig {
        max_windows: 8,
        ..LocalizerConfig::default()
    };
    Ok(Localizer::new(config, methods))
}

/// Runs `localizer` on the machine's labelled regions with `ctx`; prints and returns the
/// table and the wall time.
pub fn run(
    name: &str,
    localizer: &Localizer,
    ctx: &Context<'_>,
    machine: &SmdMachine,
    test: &Array2<f32>,
) -> Result<(Table, f64)> {
    let started = Instant::now();
    let run = localizer.run(ctx, test.view(), &machine.regions, &paper1::protocol())?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("  {name}: {seconds:.0} s");
    print_ranked(name, &run)?;
    Ok((run.table()?, seconds))
}

/// The top sensors of the first region for the first method, the way a user reads them.
fn print_ranked(name: &str, run: &LocalizationRun) -> Result<()> {
    let (Some(first), Some(region)) = (run.runs.first(), run.regions.first()) else {
        return Ok(());
    };
    let ranked = anomaly_xai::metrics::Ranking::new(first.scores.row(0))?.ranked();
    let top: Vec<usize> = ranked.iter().take(5).map(|&(s, _)| s).collect();
    eprintln!(
        "  {name}, {}: top sensors of region {}..{}: {top:?} (labelled: {:?})",
        first.method.label(),
        region.start,
        region.end,
        region.features
    );
    Ok(())
}

/// One table of several detectors' tables: per method, one row per detector
/// (`method · detector`), then the reference rows once (the deviation from normal, which
/// no detector enters, and chance; the regions are the same).
pub fn side_by_side(tables: &[(&str, &Table)]) -> Result<Table> {
    let Some((_, first)) = tables.first() else {
        return Ok(Table::new(vec![]));
    };
    let deviation = MethodSpec::deviation().label();
    let is_reference = |row: &TableRow| row.method == deviation || row.method.starts_with("chance");
    let mut out = Table::new(first.columns.clone());
    let n = first.rows.iter().filter(|r| !is_reference(r)).count();
    for i in 0..n {
        for (name, table) in tables {
            if let Some(row) = table.rows.iter().filter(|r| !is_reference(r)).nth(i) {
                out.push(TableRow {
                    method: format!("{} · {name}", row.method),
                    cells: row.cells.clone(),
                })?;
            }
        }
    }
    for row in first.rows.iter().filter(|r| is_reference(r)) {
        out.push(row.clone())?;
    }
    Ok(out)
}
