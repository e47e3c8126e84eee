//! Paper 1's sensor localization over SMD machines, as the `smd_localization` example and
//! the `anomaly-xai evaluate` command run it: the command-line settings both share
//! ([`LocalizationArgs`]), the checked localizer and machine preparation they make, the
//! run of one machine ([`run_machine`]) and the pooled report of several
//! ([`PooledReport`]). One home, so that the example and the command give the same tables
//! digit for digit.

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use anomaly_xai::data::SmdMachine;
use anomaly_xai::defaults;
use anomaly_xai::localizer::{
    Grouping, LocalizationRun, Localizer, LocalizerConfig, Normalization, WindowPolicy,
};
use anomaly_xai::models::train::TrainConfig;
use anomaly_xai::models::{ErrorNorm, ExplainedError};
use anomaly_xai::{Error, Result};

use crate::{paper1, MachineSettings, PreparedMachine};

/// The settings of a localization run that decide its numbers, as command-line flags
/// (flattened into the example's and the command's own).
#[derive(Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalizationArgs {
    /// Which methods: `default` (every one above chance on both regimes), `paper1` (paper
    /// 1's Table 1 plus LRP, as published, and deviation LRP), `all` (paper1 plus the
    /// training-mean variants)
    #[arg(long, value_enum, default_value_t = MethodSet::Default)]
    pub methods: MethodSet,
    /// The full protocol: 5 seeds, 64 windows per region, Kernel SHAP 1000 samples,
    /// Shapley sampling 25 permutations, stride-1 training windows, 30 epochs
    #[arg(long)]
    pub full: bool,
    /// Most training epochs; early stopping may end sooner [default: 20, or 30 with --full]
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Early-stopping patience in epochs
    #[arg(long, default_value_t = 3)]
    pub patience: usize,
    /// Stride of the training windows [default: 10, or 1 with --full]
    #[arg(long)]
    pub train_stride: Option<usize>,
    /// Windows per region [default: 8, or 64 with --full]
    #[arg(long)]
    pub max_windows: Option<usize>,
    /// Seeds for the sampling methods [default: 2, or 5 with --full]
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Which windows represent a region
    #[arg(long, value_enum, default_value_t = PolicyArg::Ending)]
    pub policy: PolicyArg,
    /// Explain the error of the window's last step only (inside the region) instead of
    /// the whole window's
    #[arg(long)]
    pub last_step: bool,
    /// Leave out methods (comma-separated label prefixes, e.g. `kernel,shapley,attention`)
    #[arg(long, default_value = "")]
    pub skip: String,
    /// How sensor scores are compared with normal windows (`none` is paper 1's protocol;
    /// the raw scores are always reported too)
    #[arg(long, value_enum, default_value_t = NormArg::Scale)]
    pub normalization: NormArg,
    /// Normal reference windows for the normalization
    #[arg(long, default_value_t = 32)]
    pub reference_windows: i64,
    /// Which sensors the methods that perturb groups (Feature Permutation, Shapley
    /// sampling, Kernel SHAP) perturb together: `per-sensor` (paper 1) or `correlated`
    /// (clusters of sensors correlated on the training windows; for systems of correlated
    /// faults)
    #[arg(long, value_enum, default_value_t = GroupingArg::PerSensor)]
    #[serde(default)]
    pub grouping: GroupingArg,
    /// No progress bars
    #[arg(long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// Which windows represent a region (the command-line spelling of [`WindowPolicy`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum PolicyArg {
    /// Windows whose last step lies in the region
    Ending,
    /// Every window overlapping the region
    Overlapping,
}

impl From<PolicyArg> for WindowPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Ending => WindowPolicy::EndingInRegion,
            PolicyArg::Overlapping => WindowPolicy::Overlapping,
        }
    }
}

/// The command-line spelling of [`Grouping`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum GroupingArg {
    /// One group per sensor ([`Grouping::PerSensor`], paper 1)
    #[default]
    PerSensor,
    /// Clusters of sensors correlated on the training windows ([`Grouping::Correlated`])
    Correlated,
}

impl From<GroupingArg> for Grouping {
    fn from(g: GroupingArg) -> Self {
        match g {
            GroupingArg::PerSensor => Grouping::PerSensor,
            GroupingArg::Correlated => Grouping::Correlated,
        }
    }
}

/// The command-line spelling of [`Normalization`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum NormArg {
    /// No normalization (paper 1's protocol)
    None,
    /// (score - mean) / std of the normal windows
    Standardize,
    /// (score - median) / IQR of the normal windows
    Robust,
    /// score / mean magnitude on normal windows
    Scale,
}

impl From<NormArg> for Normalization {
    fn from(n: NormArg) -> Self {
        match n {
            NormArg::None => Normalization::None,
            NormArg::Standardize => Normalization::Standardize,
            NormArg::Robust => Normalization::Robust,
            NormArg::Scale => Normalization::Scale,
        }
    }
}

/// Which method list a run starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum MethodSet {
    /// The library's default set ([`defaults::methods`])
    Default,
    /// Paper 1's Table 1 plus LRP ([`paper1::methods`]) and deviation LRP
    Paper1,
    /// `paper1` plus the training-mean variants ([`paper1::train_mean_variants`])
    All,
}

impl LocalizationArgs {
    /// The localizer of the run: pipeline settings and the method set, minus `--skip`,
    /// checked ([`LocalizerConfig::check`]) before anything is read or trained.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the flag: zero seeds or more than
    /// `MethodSpec::MAX_SEEDS` (checked before the seed list is built), a `--skip` prefix that names
    /// no method or one that leaves none; the pipeline's own checks.
    pub fn localizer(&self) -> Result<Localizer> {
        let n_seeds = self.seeds.unwrap_or(if self.full { 5 } else { 2 });
        let max_seeds = anomaly_xai::method::MethodSpec::MAX_SEEDS as u64;
        if n_seeds == 0 || n_seeds > max_seeds {
            return Err(Error::InvalidSetting {
                setting: "--seeds",
                value: n_seeds.to_string(),
                rule: format!(
                    "must be in 1..={max_seeds} (each seed is a whole run of every sampling method)"
                ),
            });
        }
        let seeds: Vec<u64> = (0..n_seeds).collect();
        let (kernel, shapley) = if self.full { (1000, 25) } else { (200, 5) };
        // Deviation LRP (not in paper 1), next to paper 2's LRP (the reproduction row).
        let deviation_lrp = defaults::deviation_lrp;
        let mut methods = match self.methods {
            MethodSet::Default => defaults::methods(50, kernel, shapley, &seeds)?,
            MethodSet::Paper1 => {
                let mut paper = paper1::methods(50, kernel, shapley, &seeds)?;
                paper.extend(deviation_lrp());
                paper
            }
            MethodSet::All => {
                let mut all = paper1::methods(50, kernel, shapley, &seeds)?;
                all.extend(deviation_lrp());
                all.extend(paper1::train_mean_variants(kernel, shapley, &seeds)?);
                all
            }
        };
        for skip in self
            .skip
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
        {
            let before = methods.len();
            methods.retain(|m| !m.label().to_lowercase().starts_with(&skip));
            if methods.len() == before {
                return Err(Error::InvalidSetting {
                    setting: "--skip",
                    value: skip,
                    rule: "names no method (give the first word(s) of a method's label)".into(),
                });
            }
        }
        if methods.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "--skip",
                value: self.skip.clone(),
                rule: "leaves no method to run".into(),
            });
        }
        let error = ExplainedError::new(ErrorNorm::L1);
        let config = LocalizerConfig {
            window: 50,
            policy: self.policy.into(),
            max_windows: self.max_windows.unwrap_or(if self.full { 64 } else { 8 }),
            error: if self.last_step {
                error.steps([-1])
            } else {
                error
            },
            normalization: self.normalization.into(),
            grouping: self.grouping.into(),
            progress: !self.quiet,
            ..LocalizerConfig::default()
        };
        config.check()?;
        Ok(Localizer::new(config, methods))
    }

    /// How each machine is prepared for `localizer` (the attention model only when one
    /// of its methods reads it).
    pub fn machine_settings(&self, localizer: &Localizer) -> MachineSettings {
        MachineSettings {
            train_stride: self.train_stride.unwrap_or(if self.full { 1 } else { 10 }),
            reference_windows: self.reference_windows,
            attention: localizer.methods.iter().any(|m| m.label() == "Attention"),
            train: TrainConfig {
                epochs: self.epochs.unwrap_or(if self.full { 30 } else { 20 }),
                patience: Some(self.patience),
                quiet: self.quiet,
                ..Default::default()
            },
            ..MachineSettings::default()
        }
    }
}

/// Explains every labelled region of `machine` (prepared as `prepared`) with `localizer`
/// and scores it with paper 1's protocol ([`paper1::protocol`]).
///
/// # Errors
/// The localizer's.
pub fn run_machine(
    localizer: &Localizer,
    machine: &SmdMachine,
    prepared: &PreparedMachine,
) -> Result<LocalizationRun> {
    localizer.run(
        &prepared.context(),
        prepared.test.view(),
        &machine.regions,
        &paper1::protocol(),
    )
}

/// One machine's section of the report: its table and its timing.
///
/// # Errors
/// The table's ([`LocalizationRun::table`]).
pub fn machine_markdown(name: &str, run: &LocalizationRun) -> Result<String> {
    Ok(format!(
        "\n### {name}\n\n{}\n{}",
        run.table()?.to_markdown(),
        LocalizationRun::timing_markdown(&[run])
    ))
}

/// The report of several machines' runs: regions pooled (every region weighs the same),
/// the same explanations not normalized, and under each normalization of `compare`.
#[derive(Debug, Clone)]
pub struct PooledReport {
    /// The pooled table of the run's normalization, chance row last (markdown).
    pub pooled: String,
    /// The pooled table of the raw scores (markdown).
    pub raw: String,
    /// One section per normalization compared, with its heading (markdown).
    pub compared: Vec<String>,
    /// The whole report: machines, regions, settings, methods, `seconds`, the tables and
    /// the timing (markdown).
    pub markdown: String,
}

impl PooledReport {
    /// The report of `runs` (one per machine of `machines`, the same methods in each),
    /// which took `seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] without runs or when their methods differ; a compared
    /// normalization the runs cannot give (they kept no reference scores).
    pub fn new(
        machines: &[String],
        runs: &[LocalizationRun],
        compare: &[Normalization],
        seconds: f64,
    ) -> Result<Self> {
        let all: Vec<&LocalizationRun> = runs.iter().collect();
        let first = all.first().ok_or(Error::InvalidSetting {
            setting: "machines",
            value: "[]".into(),
            rule: "a report needs at least one machine's run".into(),
        })?;
        let pooled = LocalizationRun::pooled_table(&all, false)?.to_markdown();
        let raw = LocalizationRun::pooled_table(&all, true)?.to_markdown();
        let mut compared = Vec::new();
        for &n in compare {
            let renormalized = runs
                .iter()
                .map(|r| r.renormalized(n, &paper1::protocol()))
                .collect::<Result<Vec<_>>>()?;
            let all: Vec<&LocalizationRun> = renormalized.iter().collect();
            let table = LocalizationRun::pooled_table(&all, false)?.to_markdown();
            compared.push(format!(
                "\n## The same explanations, normalization `{}`\n\n{table}",
                n.name()
            ));
        }
        let methods: Vec<String> = first.by_method().into_iter().map(|(l, _)| l).collect();
        let markdown = format!(
            "# SMD sensor localization\n\nmachines: {}\n\nregions: {}\n\nsettings: `{}`\n\nmethods: {}\n\ntotal time: {seconds:.0} s\n\n{pooled}\n{}\n## The same explanations, not normalized\n\n{raw}\n{}",
            machines.join(", "),
            runs.iter().map(|r| r.regions.len()).sum::<usize>(),
            serde_json::to_string(&first.config)?,
            methods.join(", "),
            LocalizationRun::timing_markdown(&all),
            compared.concat(),
        );
        Ok(PooledReport {
            pooled,
            raw,
            compared,
            markdown,
        })
    }

    /// What a run prints on stdout after the machines' sections: the pooled table when
    /// there are several machines, the raw one when the run normalized, the compared
    /// sections.
    pub fn stdout(&self, n_machines: usize, normalization: Normalization) -> String {
        let mut out = String::new();
        if n_machines > 1 {
            out.push_str(&format!(
                "\n### all machines, regions pooled\n\n{}\n",
                self.pooled
            ));
        }
        if normalization != Normalization::None {
            out.push_str(&format!(
                "\n## The same explanations, not normalized\n\n{}\n",
                self.raw
            ));
        }
        for section in &self.compared {
            out.push_str(section);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LocalizationArgs,
    }

    fn refused(args: &[&str]) -> String {
        let cli = Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .expect("clap accepts the flags");
        match cli.args.localizer() {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn zero_seeds_is_refused() {
        assert!(refused(&["--seeds", "0"]).contains("--seeds"));
    }

    #[test]
    fn a_seed_count_past_the_bound_is_refused() {
        let e = refused(&["--seeds", "1000000000000"]);
        assert!(
            e.contains("--seeds = 1000000000000 must be in 1..=1000"),
            "{e}"
        );
    }

    #[test]
    fn zero_windows_is_refused() {
        assert!(refused(&["--max-windows", "0"]).contains("max_windows"));
    }

    #[test]
    fn an_unknown_skip_is_refused() {
        let e = refused(&["--skip", "bogus"]);
        assert!(e.contains("--skip") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn skipping_every_method_is_refused() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let every: Vec<String> = cli
            .args
            .localizer()
            .unwrap()
            .methods
            .iter()
            .map(|m| m.label())
            .collect();
        let e = refused(&["--skip", &every.join(",")]);
        assert!(e.contains("leaves no method"), "{e}");
    }

    #[test]
    fn the_defaults_are_accepted() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let l = cli.args.localizer().unwrap();
        assert!(!l.methods.is_empty());
        let settings = cli.args.machine_settings(&l);
        assert_eq!(settings.train_stride, 10);
        assert!(
            !settings.attention,
            "the default set reads no attention model"
        );
    }
}
