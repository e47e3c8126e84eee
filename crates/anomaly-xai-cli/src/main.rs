//! The `anomaly-xai` command: `anomaly-xai --help`.

use std::process::ExitCode;

use anomaly_xai_cli::evaluate::{evaluate, EvaluateArgs};
use anomaly_xai_cli::merge::{merge, MergeArgs};
use clap::{Parser, Subcommand};

/// Sensor localization for autoencoder anomaly detectors, on one machine or a fleet.
#[derive(Parser, Debug)]
#[command(name = "anomaly-xai", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Localize the labelled anomalies of a directory of entities (SMD layout) with
    /// paper 1's methods: one shard per worker, each entity's result on its own, resumable
    Evaluate(Box<EvaluateArgs>),
    /// Pool the per-entity results of an output directory into the report
    Merge(MergeArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Evaluate(args) => evaluate(&args),
        Command::Merge(args) => merge(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
