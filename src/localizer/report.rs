//! What a localization run produced: per-method sensor scores, their scored reports and
//! the tables made from them.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::method::MethodSpec;
use crate::metrics::{Protocol, Region, Report, Table, TableRow};

use super::{LocalizerConfig, Normalization};

/// Per-sensor scores of every region for one method and seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodRun {
    /// The method (with the seed used).
    pub method: MethodSpec,
    /// Region × sensor scores (normalized as the run's config says).
    pub scores: Array2<f64>,
    /// Region × sensor scores before normalization (equal to `scores` without one).
    #[serde(default)]
    pub raw_scores: Array2<f64>,
    /// With a normalization: every reference window's score per sensor
    /// `[windows, sensors]`, from which the normalization took its statistics; kept so
    /// that the same explanations can be compared under another normalization
    /// ([`MethodRun::rescore`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_scores: Option<Array2<f64>>,
    /// Wall time per region, seconds.
    pub seconds: Vec<f64>,
    /// The scored report.
    pub report: Report,
    /// With a normalization: the report of the raw (not normalized) scores of the same
    /// explanations, so both protocols come from one run.
    pub raw_report: Option<Report>,
}

impl MethodRun {
    /// The run's raw region scores `[regions, features]` under `normalization` (against
    /// the reference windows' scores the run kept).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when `normalization` needs reference windows and the run
    /// kept none (it ran without a normalization).
    pub fn normalized(&self, normalization: Normalization) -> Result<Array2<f64>> {
        match (&self.reference_scores, normalization) {
            (_, Normalization::None) => Ok(self.raw_scores.clone()),
            (Some(r), n) => Ok(n.apply_all(self.raw_scores.view(), r.view())),
            (None, n) => Err(Error::InvalidSetting {
                setting: "normalization",
                value: n.name().into(),
                rule: format!(
                    "needs the reference scores, which the run of {} did not keep (it ran without a normalization)",
                    self.method.label()
                ),
            }),
        }
    }

    /// The same explanations under `normalization`, scored with `protocol` against
    /// `regions` (the run's): the normalized scores and their report.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when `normalization` needs reference windows and the run
    /// kept none (it ran without a normalization); the protocol's errors.
    pub fn rescore(
        &self,
        normalization: Normalization,
        regions: &[Region],
        protocol: &Protocol,
    ) -> Result<(Array2<f64>, Report)> {
        let scores = self.normalized(normalization)?;
        let report = protocol.evaluate_vectors(regions, scores.view())?;
        Ok((scores, report))
    }
}

/// Everything a [`super::Localizer::run`] produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalizationRun {
    /// The settings used.
    pub config: LocalizerConfig,
    /// The regions, in order.
    pub regions: Vec<Region>,
    /// Column labels of the reports.
    pub columns: Vec<String>,
    /// One entry per method and seed, in method order.
    pub runs: Vec<MethodRun>,
    /// The reference row "Deviation from normal (no detector)": each sensor's distance
    /// from its training mean over the region, from the same windows the methods see,
    /// folded, averaged and compared with the normal reference windows exactly as theirs
    /// ([`MethodSpec::deviation`]). What a method scores above it is what the detector
    /// and the explanation add. Absent when the run had no training windows to take the
    /// means from ([`crate::method::Context::train`]), or when the method list holds that
    /// row itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<MethodRun>,
    /// The expected scores of a uniformly random ranking.
    pub chance: Report,
}

impl LocalizationRun {
    /// One row per method (mean ± std over seeds for stochastic methods), then the
    /// reference rows: the deviation from normal ([`LocalizationRun::deviation`], when
    /// the run has it) and chance last. Values are percentages.
    pub fn table(&self) -> Result<Table> {
        self.table_of(|r| &r.report)
    }

    /// The same run with every method's explanations normalized by `normalization`
    /// instead ([`MethodRun::rescore`]) and scored with `protocol`; the raw scores and
    /// their reports stay as they were.
    ///
    /// # Errors
    /// As [`MethodRun::rescore`].
    pub fn renormalized(
        &self,
        normalization: Normalization,
        protocol: &Protocol,
    ) -> Result<LocalizationRun> {
        let mut out = self.clone();
        out.config.normalization = normalization;
        for run in out.runs.iter_mut().chain(out.deviation.as_mut()) {
            let (scores, report) = run.rescore(normalization, &self.regions, protocol)?;
            run.scores = scores;
            run.report = report;
        }
        Ok(out)
    }

    /// [`LocalizationRun::table`] of the raw scores, when the run normalized them.
    pub fn raw_table(&self) -> Option<Result<Table>> {
        if self
            .runs
            .iter()
            .chain(self.deviation.as_ref())
            .any(|r| r.raw_report.is_none())
        {
            return None;
        }
        Some(self.table_of(|r| r.raw_report.as_ref().expect("checked above")))
    }

    fn table_of(&self, pick: impl Fn(&MethodRun) -> &Report) -> Result<Table> {
        let mut table = Table::new(self.columns.clone());
        for (label, runs) in self.by_method() {
            let mut rows: Vec<TableRow> = runs
                .iter()
                .map(|r| pick(r).table_row(label.clone()))
                .collect();
            let row = if rows.len() == 1 {
                rows.pop().expect("one row")
            } else {
                TableRow::across_runs(label.clone(), &rows)?
            };
            table.push(row)?;
        }
        if let Some(d) = &self.deviation {
            table.push(pick(d).table_row(d.method.label()))?;
        }
        table.push(self.chance.table_row("chance (random ranking)"))?;
        Ok(table)
    }

    /// The runs grouped by method label (the seeds of one method together), in order.
    pub fn by_method(&self) -> Vec<(String, Vec<&MethodRun>)> {
        let mut groups: Vec<(String, Vec<&MethodRun>)> = Vec::new();
        for r in &self.runs {
            let label = r.method.label();
            match groups.last_mut() {
                Some((l, v)) if *l == label => v.push(r),
                _ => groups.push((label, vec![r])),
            }
        }
        groups
    }

    /// Runs of several machines (with the same methods) as one table: every region weighs
    /// the same (the paper's 1/K Σ over all regions), mean ± std over seeds; `raw` picks
    /// the scores before normalization. The reference rows pool the machines' own: the
    /// deviation from normal when every run has it, and chance.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] without runs or when the runs' methods differ.
    pub fn pooled_table(runs: &[&LocalizationRun], raw: bool) -> Result<Table> {
        let first = runs.first().ok_or(Error::InvalidSetting {
            setting: "runs",
            value: "[]".into(),
            rule: "pooling needs at least one run".into(),
        })?;
        let mut table = Table::new(first.columns.clone());
        let groups: Vec<Vec<(String, Vec<&MethodRun>)>> =
            runs.iter().map(|r| r.by_method()).collect();
        for (i, (label, seeds)) in groups[0].iter().enumerate() {
            let mut per_seed = Vec::new();
            for s in 0..seeds.len() {
                let reports = groups
                    .iter()
                    .map(|g| {
                        let run = g
                            .get(i)
                            .filter(|(l, runs)| l == label && runs.len() == seeds.len())
                            .ok_or_else(|| Error::InvalidSetting {
                                setting: "runs",
                                value: label.clone(),
                                rule: "pooled runs must hold the same methods and seeds".into(),
                            })?
                            .1[s];
                        Ok(match (raw, &run.raw_report) {
                            (true, Some(r)) => r.clone(),
                            _ => run.report.clone(),
                        })
                    })
                    .collect::<Result<Vec<Report>>>()?;
                per_seed.push(Report::pool(&reports)?.table_row(label.clone()));
            }
            let row = if per_seed.len() == 1 {
                per_seed.pop().expect("one row")
            } else {
                TableRow::across_runs(label.clone(), &per_seed)?
            };
            table.push(row)?;
        }
        let deviations: Option<Vec<&MethodRun>> =
            runs.iter().map(|r| r.deviation.as_ref()).collect();
        if let Some(d) = deviations.filter(|d| !d.is_empty()) {
            let reports: Vec<Report> = d
                .iter()
                .map(|run| match (raw, &run.raw_report) {
                    (true, Some(r)) => r.clone(),
                    _ => run.report.clone(),
                })
                .collect();
            table.push(Report::pool(&reports)?.table_row(d[0].method.label()))?;
        }
        let chances: Vec<Report> = runs.iter().map(|r| r.chance.clone()).collect();
        table.push(Report::pool(&chances)?.table_row("chance (random ranking)"))?;
        Ok(table)
    }

    /// A markdown table of the mean seconds per region of every method, averaged over
    /// `runs` (machines).
    pub fn timing_markdown(runs: &[&LocalizationRun]) -> String {
        let mut out = String::from("| method | seconds per region |\n|---|---:|\n");
        let per_run: Vec<Vec<(String, f64)>> =
            runs.iter().map(|r| r.seconds_per_region()).collect();
        if let Some(first) = per_run.first() {
            for (i, (label, _)) in first.iter().enumerate() {
                let times: Vec<f64> = per_run
                    .iter()
                    .filter_map(|m| m.get(i).map(|t| t.1))
                    .collect();
                let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
                out.push_str(&format!("| {label} | {mean:.3} |\n"));
            }
        }
        out
    }

    /// Mean wall time per region of every method (over regions and seeds), in seconds.
    pub fn seconds_per_region(&self) -> Vec<(String, f64)> {
        self.by_method()
            .into_iter()
            .map(|(label, runs)| {
                let secs: Vec<f64> = runs
                    .iter()
                    .flat_map(|r| r.seconds.iter().copied())
                    .collect();
                (label, secs.iter().sum::<f64>() / secs.len().max(1) as f64)
            })
            .collect()
    }
}
