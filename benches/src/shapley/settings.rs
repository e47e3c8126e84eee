//! What one run of the measurement does: games, seeds, samples, budgets, data and output.

use std::path::PathBuf;

use anomaly_xai::data::find_data_dir;
use anomaly_xai::{Error, Result};

use super::games::GameName;
use crate::workspace_root;

/// The settings of [`run`](super::run::run). [`Settings::default`] is the measurement of
/// `docs/performance.md` for the tabulated games.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Output folder: `ours.json`, `ours.csv`, `games/`.
    pub out: PathBuf,
    /// Seeds per estimator and budget on tabulated games.
    pub seeds: u64,
    /// Samples explained in tabulated games.
    pub samples: usize,
    /// Kernel SHAP budgets on tabulated games.
    pub budgets: Vec<usize>,
    /// The games to run, in order.
    pub games: Vec<GameName>,
    /// SMD data in its layout (machine-1-2).
    pub smd_dir: PathBuf,
    /// The folder holding `breast_cancer.csv` and `feature_names.txt`.
    pub breast_cancer: PathBuf,
    /// Training epochs of the trained LSTM autoencoder.
    pub train_epochs: usize,
    /// Read tabulated games already in `out/games` instead of computing them again.
    pub reuse: bool,
    /// Seeds per estimator and budget on large games.
    pub large_seeds: u64,
    /// Samples explained in large games.
    pub large_samples: usize,
    /// Kernel SHAP budgets on large games.
    pub large_budgets: Vec<usize>,
    /// Evaluations of each of the two estimators behind a large game's reference.
    pub reference_budget: usize,
}

impl Default for Settings {
    /// Output in the workspace's `target/kernel_shap_accuracy`; the SMD data embedded in
    /// `data/smd`; breast cancer in `tabular/breast_cancer` of the shared data folder
    /// ([`find_data_dir`]: `ANOMALY_XAI_DATA` or a `shared/data` above the workspace).
    fn default() -> Settings {
        let root = workspace_root();
        Settings {
            out: root.join("target/kernel_shap_accuracy"),
            seeds: 50,
            samples: 8,
            budgets: vec![50, 100, 200, 300, 500, 1000, 2000],
            games: GameName::DEFAULT.to_vec(),
            smd_dir: root.join("data/smd"),
            breast_cancer: find_data_dir(&root)
                .unwrap_or_else(|| root.join("../shared/data"))
                .join("tabular/breast_cancer"),
            train_epochs: 3,
            reuse: false,
            large_seeds: 20,
            large_samples: 4,
            large_budgets: vec![100, 200, 500, 1000, 2000],
            reference_budget: 32768,
        }
    }
}

impl Settings {
    /// Checks every setting before any work.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the first count below 1, the first empty budget
    /// list or budget below 3.
    pub fn check(&self) -> Result<()> {
        let counts = [
            ("seeds", self.seeds as usize),
            ("samples", self.samples),
            ("large-seeds", self.large_seeds as usize),
            ("large-samples", self.large_samples),
            ("train-epochs", self.train_epochs),
        ];
        if let Some((setting, value)) = counts.into_iter().find(|&(_, v)| v == 0) {
            return Err(Error::InvalidSetting {
                setting,
                value: value.to_string(),
                rule: "must be at least 1".into(),
            });
        }
        let lists = [
            ("budgets", &self.budgets),
            ("large-budgets", &self.large_budgets),
        ];
        for (setting, budgets) in lists {
            if budgets.is_empty() || budgets.iter().any(|&b| b < 3) {
                return Err(Error::InvalidSetting {
                    setting,
                    value: format!("{budgets:?}"),
                    rule: "must hold budgets of at least 3".into(),
                });
            }
        }
        if self.reference_budget < 3 {
            return Err(Error::InvalidSetting {
                setting: "reference-budget",
                value: self.reference_budget.to_string(),
                rule: "must be at least 3".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_bad_value_is_named() {
        Settings::default().check().unwrap();
        let bad = [
            Settings {
                seeds: 0,
                ..Settings::default()
            },
            Settings {
                large_samples: 0,
                ..Settings::default()
            },
            Settings {
                budgets: vec![50, 2],
                ..Settings::default()
            },
            Settings {
                large_budgets: vec![],
                ..Settings::default()
            },
            Settings {
                reference_budget: 1,
                ..Settings::default()
            },
        ];
        let names = [
            "seeds = 0",
            "large-samples = 0",
            "budgets = [50, 2]",
            "large-budgets = []",
            "reference-budget = 1",
        ];
        for (s, name) in bad.iter().zip(names) {
            let err = s.check().unwrap_err().to_string();
            assert!(err.starts_with(name), "{err}");
        }
    }
}
