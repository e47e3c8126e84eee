//! How close Kernel SHAP comes to the Shapley values for a given number of model
//! evaluations, for every coalition sampler, on real detectors (paper 1's LSTM
//! autoencoder on SMD, a dense autoencoder on breast cancer) and a synthetic function.
//! The games, estimators, error measures and output files are those of the harness
//! (`anomaly_xai_bench::shapley`, whose docs say what each is).
//!
//! ```bash
//! eval "$(cargo xtask env)"
//! cargo build --release -p anomaly-xai-bench --example kernel_shap_accuracy
//! K=target/release/examples/kernel_shap_accuracy
//! $K --out target/kernel_shap_accuracy                      # <= 16 groups, exact values
//! $K --out target/kernel_shap_accuracy --games synthetic_mlp_38,dense_breast_cancer_30,lstm_smd_trained_38
//! ```
//!
//! Output: a markdown table per game on stdout (`rel_error (evals)` per estimator and
//! budget), progress on stderr, `ours.json`, `ours.csv` and `games/` in `--out` (read by
//! `xtask/bench/kernel_shap_curve.py` and the `kernel_shap_curve` example).

use std::path::PathBuf;
use std::process::ExitCode;

use anomaly_xai_bench::shapley::games::GameName;
use anomaly_xai_bench::shapley::report::markdown_table;
use anomaly_xai_bench::shapley::run::run;
use anomaly_xai_bench::shapley::settings::Settings;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Kernel SHAP's error against exact (or reference) Shapley values per budget")]
struct Args {
    /// Output folder [default: the workspace's target/kernel_shap_accuracy]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seeds per estimator and budget (tabulated games)
    #[arg(long, default_value_t = Settings::default().seeds)]
    seeds: u64,
    /// Samples explained (tabulated games)
    #[arg(long, default_value_t = Settings::default().samples)]
    samples: usize,
    /// Kernel SHAP budgets (tabulated games)
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().budgets)]
    budgets: Vec<usize>,
    /// Games to run, in order
    #[arg(long, value_delimiter = ',', default_values_t = GameName::DEFAULT)]
    games: Vec<GameName>,
    /// SMD data in its layout, holding machine-1-2 [default: the embedded data/smd]
    #[arg(long)]
    smd_dir: Option<PathBuf>,
    /// Folder of breast_cancer.csv [default: tabular/breast_cancer of the shared data]
    #[arg(long)]
    breast_cancer: Option<PathBuf>,
    /// Training epochs of the trained LSTM autoencoder
    #[arg(long, default_value_t = Settings::default().train_epochs)]
    train_epochs: usize,
    /// Intra-op threads of libtorch [default: libtorch's]
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    threads: Option<i32>,
    /// Read tabulated games already in OUT/games instead of computing them again
    #[arg(long)]
    reuse: bool,
    /// Seeds per estimator and budget (large games)
    #[arg(long, default_value_t = Settings::default().large_seeds)]
    large_seeds: u64,
    /// Samples explained (large games)
    #[arg(long, default_value_t = Settings::default().large_samples)]
    large_samples: usize,
    /// Kernel SHAP budgets (large games)
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().large_budgets)]
    large_budgets: Vec<usize>,
    /// Evaluations of each of the two estimators behind a large game's reference
    #[arg(long, default_value_t = Settings::default().reference_budget)]
    reference_budget: usize,
}

impl Args {
    fn settings(self) -> Settings {
        let d = Settings::default();
        Settings {
            out: self.out.unwrap_or(d.out),
            seeds: self.seeds,
            samples: self.samples,
            budgets: self.budgets,
            games: self.games,
            smd_dir: self.smd_dir.unwrap_or(d.smd_dir),
            breast_cancer: self.breast_cancer.unwrap_or(d.breast_cancer),
            train_epochs: self.train_epochs,
            reuse: self.reuse,
            large_seeds: self.large_seeds,
            large_samples: self.large_samples,
            large_budgets: self.large_budgets,
            reference_budget: self.reference_budget,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(t) = args.threads {
        tch::set_num_threads(t);
    }
    match run(&args.settings(), |rows| print!("{}", markdown_table(rows))) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
