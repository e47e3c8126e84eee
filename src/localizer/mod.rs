//! The end-to-end localization pipeline: a detector, some methods and labelled regions in,
//! a scored report out.
//!
//! For every labelled region the [`Localizer`] picks the windows that represent it
//! ([`WindowPolicy`]), has every method attribute the detector's reconstruction error of
//! those windows to their cells, folds the cell attributions back onto the region's time
//! steps and averages them per sensor ([`region_scores`]). The per-region sensor scores
//! are then scored against the labelled sensors with a [`Protocol`] (paper 1's GT@120%,
//! AT@80%, AT@5 × IoU/F1/Acc, plus HitRate and NDCG).
//!
//! ```no_run
//! use anomaly_xai::localizer::{Detector, Localizer, LocalizerConfig, MethodSpec};
//! use anomaly_xai::metrics::{Protocol, Region};
//! use anomaly_xai::models::{LstmAe, LstmAeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = LstmAe::seeded(&LstmAeConfig::new(38, 50, 64), tch::Device::Cpu, 0)?;
//! let test = ndarray::Array2::<f32>::zeros((1000, 38)); // your scaled test series
//! let regions = vec![Region::new(500, 520, vec![3, 7])?];
//! let localizer = Localizer::new(LocalizerConfig::default(), MethodSpec::paper_set(200, 10));
//! let detector = Detector { model: &model, attention: None, train: None, reference: None };
//! let run = localizer.run(&detector, test.view(), &regions, &Protocol::paper())?;
//! println!("{}", run.table()?.to_markdown());
//! # Ok(()) }
//! ```

mod method;
mod windows;

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use tch::Tensor;
use thiserror::Error;

use crate::attrib::{Norm, OutputSelection, XaiError};
use crate::metrics::{MetricsError, Protocol, Region, Report, Table, TableRow};
use crate::models::convert::{array_to_tensor, tensor_to_array};
use crate::models::{AttentionLstmAe, Autoencoder, ModelError};
use crate::stats::median;

pub use method::{MethodSpec, PreparedMethod};
pub use windows::{region_scores, region_windows, WindowPolicy};

/// Everything that can go wrong in the pipeline; wraps the crates' own errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LocalizeError {
    /// A pipeline setting outside its range.
    #[error("localizer: {setting} = {value} {rule}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A region outside the series.
    #[error("region [{start}, {end}) does not fit a series of {n_steps} steps")]
    RegionOutOfRange {
        /// Region start.
        start: usize,
        /// Region end (exclusive).
        end: usize,
        /// Series length.
        n_steps: usize,
    },
    /// An array of the wrong shape.
    #[error("{what}: expected {expected}, got {got:?}")]
    Shape {
        /// What was checked.
        what: &'static str,
        /// What was expected.
        expected: String,
        /// What arrived.
        got: Vec<usize>,
    },
    /// A NaN or infinite value.
    #[error("{what}: non-finite value at {index:?}")]
    NonFinite {
        /// What was checked.
        what: &'static str,
        /// Where.
        index: Vec<usize>,
    },
    /// A method needs training windows (for its baseline) and none were given.
    #[error("{method} needs the detector's training windows for its baseline (Detector::train)")]
    MissingTrainingData {
        /// The method's label.
        method: String,
    },
    /// The attention read-out was asked for without an attention model.
    #[error("the attention method needs an AttentionLstmAe (Detector::attention)")]
    MissingAttentionModel,
    /// An attribution method failed.
    #[error(transparent)]
    Attribution(#[from] XaiError),
    /// LRP failed.
    #[error(transparent)]
    Lrp(#[from] crate::lrp::LrpError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Scoring failed.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// What is explained: the models and the data their baselines come from.
pub struct Detector<'a> {
    /// The detector whose reconstruction error is explained.
    pub model: &'a dyn Autoencoder,
    /// An attention variant trained on the same data, for [`MethodSpec::Attention`].
    pub attention: Option<&'a AttentionLstmAe>,
    /// Training windows `[N, T, F]`, for baselines built from training data
    /// (feature means, background sets).
    pub train: Option<&'a Tensor>,
    /// Normal windows `[N, T, F]` (e.g. the validation part of the training data) that
    /// [`Normalization::Standardize`] compares every explanation with.
    pub reference: Option<&'a Tensor>,
}

/// Which part of each window's reconstruction error is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplainedOutput {
    /// The mean error of the whole window (paper 1's wrapper as written).
    #[default]
    Window,
    /// The error of the window's last step only. With [`WindowPolicy::EndingInRegion`]
    /// that step is always anomalous, so the explanation is about the anomaly and not
    /// about the normal steps before it.
    LastStep,
}

/// How cell attributions become one score per sensor for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Mean over the cells whose time lies in the region ([`region_scores`]).
    #[default]
    RegionSteps,
    /// Mean over every cell of every window, whatever its time.
    WholeWindow,
}

/// Whether sensor scores are compared with the scores the same method gives normal data.
///
/// A sensor that is always hard to reconstruct (a noisy counter, a sensor the model never
/// learned) gets large attributions in every window, normal or not, and crowds the top of
/// every ranking. Standardizing each sensor's region score by the mean and standard
/// deviation of its score on normal reference windows asks instead "which sensors are
/// explained *more than usual*", which is what localization means. It costs one extra
/// explanation of the reference windows per method and machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Raw region scores (the papers' protocol).
    #[default]
    None,
    /// `(score − μ_f) / σ_f`, with `μ_f`, `σ_f` the mean and standard deviation of sensor
    /// `f`'s window score over the reference windows (σ floored at 1e-12 · max σ).
    Standardize,
    /// The same with robust statistics: `(score − m_f) / s_f`, with `m_f` the median of
    /// sensor `f`'s window score over the reference windows and `s_f = 1.4826 · MAD`
    /// (the median absolute deviation, scaled to equal σ for normal data). Reconstruction
    /// errors are heavy-tailed: one odd reference window inflates σ and hides its sensor,
    /// while the median and MAD ignore up to half of the windows being odd. Where the MAD
    /// is 0 (a sensor constant on most windows), `1.2533 ·` the mean absolute deviation
    /// from the median takes its place (the same scaling to σ); the floor is as above.
    Robust,
}

/// Settings of the pipeline (not of the methods).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalizerConfig {
    /// Window length of the detector.
    pub window: usize,
    /// Which windows represent a region.
    pub policy: WindowPolicy,
    /// At most this many windows per region (spread evenly).
    pub max_windows: usize,
    /// Which part of the error is explained.
    pub output: ExplainedOutput,
    /// How cell attributions become sensor scores.
    pub aggregation: Aggregation,
    /// The error norm (paper 1: L1).
    pub norm: Norm,
    /// Comparison of sensor scores with normal data.
    pub normalization: Normalization,
    /// Seeds for stochastic methods (results are reported as mean ± std over them).
    pub seeds: Vec<u64>,
    /// Show progress bars (only when stderr is a terminal).
    pub progress: bool,
}

impl Default for LocalizerConfig {
    fn default() -> Self {
        LocalizerConfig {
            window: 50,
            policy: WindowPolicy::EndingInRegion,
            max_windows: 16,
            output: ExplainedOutput::Window,
            aggregation: Aggregation::RegionSteps,
            norm: Norm::L1,
            normalization: Normalization::None,
            seeds: vec![0, 1, 2],
            progress: true,
        }
    }
}

/// The pipeline: settings plus methods.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Localizer {
    /// Pipeline settings.
    pub config: LocalizerConfig,
    /// The methods, in report order.
    pub methods: Vec<MethodSpec>,
}

/// Per-sensor scores of every region for one method and seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodRun {
    /// The method (with the seed used).
    pub method: MethodSpec,
    /// Region × sensor scores.
    pub scores: Array2<f64>,
    /// Wall time per region, seconds.
    pub seconds: Vec<f64>,
    /// The scored report.
    pub report: Report,
    /// With [`Normalization::Standardize`]: the report of the raw (unstandardized) scores
    /// of the same explanations, so both protocols come from one run.
    pub raw_report: Option<Report>,
}

/// Everything a [`Localizer::run`] produced.
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
    /// The expected scores of a uniformly random ranking.
    pub chance: Report,
}

impl LocalizationRun {
    /// One row per method (mean ± std over seeds for stochastic methods) and a chance row
    /// last. Values are percentages.
    pub fn table(&self) -> Result<Table, LocalizeError> {
        self.table_of(|r| &r.report)
    }

    /// [`LocalizationRun::table`] of the raw scores, when the run standardized them.
    pub fn raw_table(&self) -> Option<Result<Table, LocalizeError>> {
        if self.runs.iter().any(|r| r.raw_report.is_none()) {
            return None;
        }
        Some(self.table_of(|r| r.raw_report.as_ref().expect("checked above")))
    }

    fn table_of(&self, pick: impl Fn(&MethodRun) -> &Report) -> Result<Table, LocalizeError> {
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

impl Localizer {
    /// A localizer with `config` and `methods`.
    pub fn new(config: LocalizerConfig, methods: Vec<MethodSpec>) -> Self {
        Localizer { config, methods }
    }

    fn check(&self, n_steps: usize) -> Result<(), LocalizeError> {
        let c = &self.config;
        if c.window == 0 || c.window > n_steps {
            return Err(LocalizeError::InvalidSetting {
                setting: "window",
                value: c.window.to_string(),
                rule: format!("must be in 1..={n_steps} (the test series length)"),
            });
        }
        if c.seeds.is_empty() {
            return Err(LocalizeError::InvalidSetting {
                setting: "seeds",
                value: "[]".into(),
                rule: "must hold at least one seed".into(),
            });
        }
        Ok(())
    }

    fn output_selection(&self) -> OutputSelection {
        match self.config.output {
            ExplainedOutput::Window => OutputSelection::all(),
            ExplainedOutput::LastStep => OutputSelection::steps([-1]),
        }
    }

    /// Per-sensor scores of one region for one prepared method, and the seconds it took.
    pub fn explain_region(
        &self,
        det: &Detector<'_>,
        method: &PreparedMethod,
        series: ArrayView2<'_, f32>,
        region: &Region,
    ) -> Result<(ndarray::Array1<f64>, f64), LocalizeError> {
        let c = &self.config;
        let starts = region_windows(region, series.nrows(), c.window, c.policy, c.max_windows)?;
        let mut batch = ndarray::Array3::<f32>::zeros((starts.len(), c.window, series.ncols()));
        for (w, &s) in starts.iter().enumerate() {
            batch
                .index_axis_mut(Axis(0), w)
                .assign(&series.slice(ndarray::s![s..s + c.window, ..]));
        }
        let x = array_to_tensor(&batch.view().into_dyn(), det.model.device())?;
        let started = Instant::now();
        let cells = method.explain(det, &x, c.norm, &self.output_selection())?;
        let seconds = started.elapsed().as_secs_f64();
        let cells = tensor_to_array(&cells)?;
        let cells =
            cells
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|_| LocalizeError::Shape {
                    what: "method output",
                    expected: "[windows, steps, sensors]".into(),
                    got: batch.shape().to_vec(),
                })?;
        let scores = match c.aggregation {
            Aggregation::RegionSteps => region_scores(cells.view(), &starts, region)?,
            Aggregation::WholeWindow => cells
                .mapv(f64::from)
                .mean_axis(Axis(0))
                .and_then(|m| m.mean_axis(Axis(0)))
                .ok_or(LocalizeError::Shape {
                    what: "method output",
                    expected: "at least one window".into(),
                    got: cells.shape().to_vec(),
                })?,
        };
        Ok((scores, seconds))
    }

    /// Centre and scale of every sensor's window score over the reference windows: mean
    /// and standard deviation for [`Normalization::Standardize`] (and `None`), median and
    /// scaled MAD for [`Normalization::Robust`].
    pub fn reference_stats(
        &self,
        det: &Detector<'_>,
        method: &PreparedMethod,
    ) -> Result<(ndarray::Array1<f64>, ndarray::Array1<f64>), LocalizeError> {
        let reference = det.reference.ok_or(LocalizeError::InvalidSetting {
            setting: "normalization",
            value: "standardize".into(),
            rule: "needs reference windows (Detector::reference)".into(),
        })?;
        let cells = method.explain(det, reference, self.config.norm, &self.output_selection())?;
        let cells = tensor_to_array(&cells)?.mapv(f64::from);
        let shape = cells.shape().to_vec();
        let bad = || LocalizeError::Shape {
            what: "reference windows",
            expected: "[N >= 2, steps, sensors]".into(),
            got: shape.clone(),
        };
        let cells = cells
            .into_dimensionality::<ndarray::Ix3>()
            .map_err(|_| bad())?;
        if cells.shape()[0] < 2 {
            return Err(bad());
        }
        // One score per window and sensor: the mean over the window's cells.
        let per_window = cells.mean_axis(Axis(1)).expect("non-empty window");
        let (centre, scale) = match self.config.normalization {
            Normalization::Robust => robust_centre_scale(per_window.view()),
            Normalization::None | Normalization::Standardize => (
                per_window.mean_axis(Axis(0)).expect("n >= 2"),
                per_window.std_axis(Axis(0), 1.0),
            ),
        };
        let floor = 1e-12
            * scale
                .iter()
                .cloned()
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE);
        Ok((centre, scale.mapv(|s| s.max(floor))))
    }

    /// Runs every method (every seed for stochastic ones) on every region and scores the
    /// results with `protocol`. `series` is the scaled test series `[T, F]`.
    pub fn run(
        &self,
        det: &Detector<'_>,
        series: ArrayView2<'_, f32>,
        regions: &[Region],
        protocol: &Protocol,
    ) -> Result<LocalizationRun, LocalizeError> {
        self.check(series.nrows())?;
        if let Some(i) = series.iter().position(|v| !v.is_finite()) {
            let f = series.ncols();
            return Err(LocalizeError::NonFinite {
                what: "test series",
                index: vec![i / f, i % f],
            });
        }
        for r in regions {
            r.check(series.nrows(), series.ncols())?;
        }
        let jobs: Vec<MethodSpec> = self
            .methods
            .iter()
            .flat_map(|m| {
                if m.is_stochastic() {
                    self.config.seeds.iter().map(|&s| m.with_seed(s)).collect()
                } else {
                    vec![m.clone()]
                }
            })
            .collect();
        let bar = progress_bar(self.config.progress, (jobs.len() * regions.len()) as u64);
        let mut runs = Vec::with_capacity(jobs.len());
        for spec in jobs {
            bar.set_message(spec.label());
            let prepared = spec.prepare(det)?;
            let stats = match self.config.normalization {
                Normalization::None => None,
                Normalization::Standardize | Normalization::Robust => {
                    Some(self.reference_stats(det, &prepared)?)
                }
            };
            let mut scores = Array2::<f64>::zeros((regions.len(), series.ncols()));
            let mut raw = Array2::<f64>::zeros((regions.len(), series.ncols()));
            let mut seconds = Vec::with_capacity(regions.len());
            for (i, region) in regions.iter().enumerate() {
                let (mut s, secs) = self.explain_region(det, &prepared, series, region)?;
                raw.row_mut(i).assign(&s);
                if let Some((mean, std)) = &stats {
                    s = (s - mean) / std;
                }
                scores.row_mut(i).assign(&s);
                seconds.push(secs);
                bar.inc(1);
            }
            let report = protocol.evaluate_vectors(regions, scores.view())?;
            let raw_report = match stats {
                Some(_) => Some(protocol.evaluate_vectors(regions, raw.view())?),
                None => None,
            };
            runs.push(MethodRun {
                method: spec,
                scores,
                seconds,
                report,
                raw_report,
            });
        }
        bar.finish_and_clear();
        let chance = protocol.chance(regions, series.ncols())?;
        Ok(LocalizationRun {
            config: self.config.clone(),
            regions: regions.to_vec(),
            columns: protocol.columns().iter().map(ToString::to_string).collect(),
            runs,
            chance,
        })
    }
}

/// Per column of `[windows, sensors]`: the median, and `1.4826 · MAD` (or, where the MAD
/// is 0, `1.2533 ·` the mean absolute deviation from the median), both consistent
/// estimators of σ for normal data.
fn robust_centre_scale(
    per_window: ndarray::ArrayView2<'_, f64>,
) -> (ndarray::Array1<f64>, ndarray::Array1<f64>) {
    let (mut centre, mut scale) = (Vec::new(), Vec::new());
    for col in per_window.columns() {
        let m = median(col.to_vec()).expect("at least one reference window");
        let dev: Vec<f64> = col.iter().map(|v| (v - m).abs()).collect();
        let mean_dev = dev.iter().sum::<f64>() / dev.len() as f64;
        let mad = median(dev).expect("at least one reference window");
        centre.push(m);
        scale.push(if mad > 0.0 {
            1.4826 * mad
        } else {
            1.2533 * mean_dev
        });
    }
    (centre.into(), scale.into())
}

/// A progress bar on stderr, hidden when asked or when stderr is not a terminal.
pub(crate) fn progress_bar(show: bool, len: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::robust_centre_scale;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn robust_scale_ignores_an_outlier_and_falls_back_when_the_mad_is_zero() {
        // Column 0: median 3, |deviations| 2 1 0 1 97, MAD 1. Column 1: MAD 0, mean
        // absolute deviation from the median 0 is 5 / 5 = 1.
        let w = array![[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [100.0, 5.0]];
        let (centre, scale) = robust_centre_scale(w.view());
        assert_abs_diff_eq!(centre[0], 3.0);
        assert_abs_diff_eq!(scale[0], 1.4826, epsilon = 1e-12);
        assert_abs_diff_eq!(centre[1], 0.0);
        assert_abs_diff_eq!(scale[1], 1.2533, epsilon = 1e-12);
        // An even count takes the mean of the middle two.
        let (centre, _) = robust_centre_scale(array![[1.0], [2.0], [4.0], [9.0]].view());
        assert_abs_diff_eq!(centre[0], 3.0);
    }
}
