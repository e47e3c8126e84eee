//! The localization pipeline for multi-sensor series: a detector, some methods and
//! labelled regions in, a scored report out.
//!
//! For every labelled region the [`Localizer`] picks the windows that represent it
//! ([`WindowPolicy`]), has every method attribute the detector's explained error of those
//! windows to their cells, folds the cell attributions back onto the region's time steps
//! and averages them per sensor ([`region_scores`]). The per-region sensor scores are
//! compared with the scores of normal windows ([`Normalization`]; by default each is
//! divided by the sensor's usual magnitude there, which keeps its sign) and scored against the
//! labelled sensors with a [`Protocol`] (paper 1's GT@120%, AT@80%, AT@5 × IoU/F1/Acc,
//! plus HitRate and NDCG).
//!
//! Reading [`Localizer::run`] from top to bottom: check the settings and the data, build
//! and check every method (each seed of a stochastic one is a run), then per run the
//! reference statistics and every region, then the two reference rows: the deviation from
//! normal with no detector ([`LocalizationRun::deviation`], the row a method has to beat
//! to show that the detector and the explanation add something), run exactly like a
//! method, and chance.
//!
//! ```no_run
//! use anomaly_xai::attrib::Occlusion;
//! use anomaly_xai::localizer::{Localizer, LocalizerConfig};
//! use anomaly_xai::method::{Context, MethodSpec};
//! use anomaly_xai::metrics::{Protocol, Region};
//! use anomaly_xai::models::{ErrorNorm, LstmAe, LstmAeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = LstmAe::seeded(&LstmAeConfig::new(38, 50, 64), tch::Device::Cpu, 0)?;
//! let test = ndarray::Array2::<f32>::zeros((1000, 38)); // your scaled test series
//! let regions = vec![Region::new(500, 520, vec![3, 7])?];
//! let config = LocalizerConfig::default();
//! let methods = vec![
//!     MethodSpec::residual(ErrorNorm::L1),
//!     MethodSpec::attrib(Occlusion::params().window([50, 1]).strides([50, 1]).check()?),
//! ];
//! // Normal windows the model was not fitted on (e.g. its validation windows): the default
//! // normalization compares every sensor's score with its scores there.
//! let reference = tch::Tensor::rand([32, 50, 38], (tch::Kind::Float, tch::Device::Cpu));
//! let ctx = Context { reference: Some(&reference), ..Context::new(&model) };
//! let run = Localizer::new(config, methods).run(&ctx, test.view(), &regions, &Protocol::paper())?;
//! println!("{}", run.table()?.to_markdown());
//! # Ok(()) }
//! ```

mod grouping;
mod report;
mod windows;

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, Ix3};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::attrib::{Batching, DEFAULT_BATCH_SIZE};
use crate::error::{Error, Result};
use crate::method::{Context, Method, MethodSpec, PreparedMethod};
use crate::metrics::{Protocol, Region};
use crate::models::convert::{array_to_tensor, tensor_to_array};
use crate::models::ExplainedError;

pub use crate::metrics::Normalization;
pub use grouping::Grouping;
pub use report::{LocalizationRun, MethodRun};
pub use windows::{region_scores, region_windows, span_scores, span_windows, WindowPolicy};

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

crate::models::checked_settings! {
/// Settings of the pipeline (the methods carry their own). Checked when read from JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalizerConfig with serde(deny_unknown_fields) {
    /// Window length of the detector.
    pub window: usize,
    /// Which windows represent a region.
    pub policy: WindowPolicy,
    /// At most this many windows per region (spread evenly), at least 1.
    pub max_windows: usize,
    /// Which error of each window is explained (paper 1: the mean L1 error of the whole
    /// window; `ExplainedError::new(ErrorNorm::L1).steps([-1])` explains only the last
    /// step, which [`WindowPolicy::EndingInRegion`] puts inside the region).
    pub error: ExplainedError,
    /// How cell attributions become sensor scores.
    pub aggregation: Aggregation,
    /// Comparison of sensor scores with normal data (by default [`Normalization::Scale`],
    /// which needs reference windows: [`Context::reference`]).
    pub normalization: Normalization,
    /// Which cells the perturbation methods perturb together.
    pub grouping: Grouping,
    /// Show the pipeline's progress bar (only when stderr is a terminal). The methods never
    /// draw their own inside the pipeline: each explains one region's few windows, and the
    /// pipeline's bar counts regions.
    pub progress: bool,
}
}

impl Default for LocalizerConfig {
    fn default() -> Self {
        LocalizerConfig {
            window: 50,
            policy: WindowPolicy::EndingInRegion,
            max_windows: 16,
            error: ExplainedError::default(),
            aggregation: Aggregation::RegionSteps,
            normalization: Normalization::Scale,
            grouping: Grouping::PerSensor,
            progress: true,
        }
    }
}

impl LocalizerConfig {
    /// Checks the settings that do not depend on the data.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the setting.
    pub fn check(&self) -> Result<()> {
        if self.window == 0 {
            return Err(Error::InvalidSetting {
                setting: "window",
                value: "0".into(),
                rule: "must be at least 1".into(),
            });
        }
        if self.max_windows == 0 {
            return Err(Error::InvalidSetting {
                setting: "max_windows",
                value: "0".into(),
                rule: "must be at least 1".into(),
            });
        }
        self.error.check()?;
        match self.grouping {
            // Learned from the training windows when the run starts.
            Grouping::Correlated => Ok(()),
            g => g.mask(1, 1).map(|_| ()),
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

impl Localizer {
    /// A localizer with `config` and `methods`.
    pub fn new(config: LocalizerConfig, methods: Vec<MethodSpec>) -> Self {
        Localizer { config, methods }
    }

    /// Every run (one per seed of a stochastic method) built and checked against `ctx`,
    /// before any work. The methods keep their batch sizes but draw no progress bars.
    ///
    /// # Errors
    /// As [`MethodSpec::prepare`], [`MethodSpec::runs`] and [`LocalizerConfig::check`];
    /// [`Error::InvalidSetting`] when there is no method.
    pub fn prepare(&self, ctx: &Context<'_>, sensors: usize) -> Result<Vec<PreparedMethod>> {
        self.config.check()?;
        if self.methods.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "methods",
                value: "[]".into(),
                rule: "must hold at least one method".into(),
            });
        }
        self.check_inputs(ctx, sensors)?;
        let mask =
            self.config
                .grouping
                .mask_from(self.config.window as i64, sensors as i64, ctx.train)?;
        let mut prepared = Vec::new();
        for spec in &self.methods {
            for run in spec.runs()? {
                let batching = match &run.method {
                    Method::Attrib(m) => m.batching(),
                    _ => Batching {
                        batch_size: DEFAULT_BATCH_SIZE,
                        progress: false,
                    },
                };
                let quiet = Batching {
                    progress: false,
                    ..batching
                };
                prepared.push(run.prepare(ctx, &self.config.error, Some(quiet), Some(&mask))?);
            }
        }
        Ok(prepared)
    }

    /// Checks the window setting, the series' sensor count and the windows of `ctx`
    /// against the detector's sample shape, naming the input that does not fit.
    fn check_inputs(&self, ctx: &Context<'_>, sensors: usize) -> Result<()> {
        let sample = ctx.detector.sample_shape();
        let [window, features] = sample[..] else {
            return Ok(()); // not a series detector: its own checks apply
        };
        if self.config.window as i64 != window {
            return Err(Error::InvalidSetting {
                setting: "window (LocalizerConfig::window)",
                value: self.config.window.to_string(),
                rule: format!(
                    "must be the detector's window: its samples are {sample:?} ({})",
                    ctx.detector.describe()
                ),
            });
        }
        if sensors as i64 != features {
            return Err(Error::Shape {
                what: "series columns (one per sensor)",
                expected: format!("{features} (the detector's samples are {sample:?})"),
                got: vec![sensors],
            });
        }
        for (what, windows) in [
            ("reference windows (Context::reference)", ctx.reference),
            ("training windows (Context::train)", ctx.train),
        ] {
            let Some(w) = windows else { continue };
            let size = w.size();
            if size.len() != 3 || size[1..] != sample[..] {
                return Err(Error::Shape {
                    what,
                    expected: format!("[windows, {window}, {features}] (the detector's samples)"),
                    got: size.iter().map(|&d| d.max(0) as usize).collect(),
                });
            }
        }
        Ok(())
    }

    /// Per-sensor scores of one region for one prepared method, and the seconds it took.
    pub fn explain_region(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
        series: ArrayView2<'_, f32>,
        region: &Region,
    ) -> Result<(Array1<f64>, f64)> {
        let c = &self.config;
        let starts = region_windows(region, series.nrows(), c.window, c.policy, c.max_windows)?;
        let x = window_batch(series, &starts, c.window, ctx.detector.device())?;
        let started = Instant::now();
        let cells = self.explain(ctx, method, &x)?;
        let seconds = started.elapsed().as_secs_f64();
        let scores = match c.aggregation {
            Aggregation::RegionSteps => region_scores(cells.view(), &starts, region)?,
            Aggregation::WholeWindow => cells
                .mapv(f64::from)
                .mean_axis(Axis(0))
                .and_then(|m| m.mean_axis(Axis(0)))
                .ok_or(Error::Shape {
                    what: "method output",
                    expected: "at least one window".into(),
                    got: cells.shape().to_vec(),
                })?,
        };
        Ok((scores, seconds))
    }

    /// Cell attributions `[W, T, F]` of the windows `x`.
    pub(crate) fn explain(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
        x: &Tensor,
    ) -> Result<Array3<f32>> {
        Ok(self.explain_counted(ctx, method, x)?.0)
    }

    /// [`Localizer::explain`] with the model evaluations per window it took (forward,
    /// backward).
    pub(crate) fn explain_counted(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
        x: &Tensor,
    ) -> Result<(Array3<f32>, usize, usize)> {
        let n = x.size()[0];
        let a = match (&method.spec().method, ctx.reference) {
            // Permutation draws a sensor's replacement values from the other samples of
            // the batch. The few windows of one region are nearly copies of each other
            // (stride 1), so shuffling among them changes little; the normal reference
            // windows, when there are some, join the batch as the pool of replacement
            // values, and only the region's windows are kept.
            (Method::Attrib(crate::attrib::MethodSpec::FeaturePermutation(_)), Some(r)) => {
                let pool = Tensor::f_cat(&[x, &r.f_to_device(x.device())?], 0)?;
                let a = method.attribute(ctx, &pool)?;
                crate::attrib::Attributions {
                    scores: a.scores.f_narrow(0, 0, n)?,
                    ..a
                }
            }
            _ => method.attribute(ctx, x)?,
        };
        let (forward, backward) = (a.forward_evals, a.backward_evals);
        let cells = a.scores;
        let shape = x.size().iter().map(|&d| d as usize).collect::<Vec<_>>();
        let mut cells = tensor_to_array(&cells)?
            .into_dimensionality::<Ix3>()
            .map_err(|_| Error::Shape {
                what: "method output",
                expected: "[windows, steps, sensors]".into(),
                got: shape,
            })?;
        if let (Grouping::Correlated, Some(mask)) = (self.config.grouping, &method.request().mask) {
            // Every cell carries its cluster's whole effect: share it equally among the
            // cluster's sensors.
            let sizes = cluster_sizes(mask)?;
            for (mut column, size) in cells.axis_iter_mut(Axis(2)).zip(sizes) {
                column.mapv_inplace(|v| v / size as f32);
            }
        }
        Ok((cells, forward, backward))
    }

    /// Every reference window's score per sensor `[windows, sensors]` (the mean of the
    /// method's cell attributions over the window), for the normalization.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] without reference windows; [`Error::Shape`] for fewer than
    /// two.
    pub fn reference_scores(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
    ) -> Result<Array2<f64>> {
        let reference = ctx.reference.ok_or(Error::InvalidSetting {
            setting: "normalization",
            value: format!("{:?}", self.config.normalization),
            rule: "needs normal reference windows in Context::reference (e.g. the validation part of the training windows); without any, use Normalization::None (raw scores)".into(),
        })?;
        let cells = self.explain(ctx, method, reference)?.mapv(f64::from);
        if cells.shape()[0] < 2 {
            return Err(Error::Shape {
                what: "reference windows",
                expected: "[N >= 2, steps, sensors]".into(),
                got: cells.shape().to_vec(),
            });
        }
        Ok(cells.mean_axis(Axis(1)).expect("non-empty window"))
    }

    /// Centre and scale of every sensor's window score over the reference windows (see
    /// [`Normalization::centre_scale`]).
    ///
    /// # Errors
    /// As [`Localizer::reference_scores`]; [`Error::NonFinite`] naming the reference
    /// windows when no sensor's score varies over them (standardization would divide by
    /// zero).
    pub fn reference_stats(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
    ) -> Result<(Array1<f64>, Array1<f64>)> {
        let per_window = self.reference_scores(ctx, method)?;
        self.stats_of(method, per_window.view())
    }

    pub(crate) fn stats_of(
        &self,
        method: &PreparedMethod,
        per_window: ndarray::ArrayView2<'_, f64>,
    ) -> Result<(Array1<f64>, Array1<f64>)> {
        let (centre, scale) = self.config.normalization.centre_scale(per_window);
        if scale.iter().all(|&s| s.is_nan() || s <= f64::MIN_POSITIVE) {
            return Err(Error::NonFinite {
                what: format!(
                    "normalization of {}: every sensor's score is constant over the {} reference windows",
                    method.spec().label(),
                    per_window.nrows()
                ),
                index: vec![],
            });
        }
        Ok((centre, scale))
    }

    /// Runs every method (every seed of a stochastic one) on every region and scores the
    /// results with `protocol`. `series` is the scaled test series `[T, F]`.
    ///
    /// # Errors
    /// Every setting, method and region is checked before any explanation runs.
    pub fn run(
        &self,
        ctx: &Context<'_>,
        series: ArrayView2<'_, f32>,
        regions: &[Region],
        protocol: &Protocol,
    ) -> Result<LocalizationRun> {
        let (n_steps, sensors) = series.dim();
        if self.config.window > n_steps {
            return Err(Error::InvalidSetting {
                setting: "window",
                value: self.config.window.to_string(),
                rule: format!("must be in 1..={n_steps} (the test series length)"),
            });
        }
        if let Some(i) = series.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "test series".into(),
                index: vec![i / sensors, i % sensors],
            });
        }
        for r in regions {
            r.check(n_steps, sensors)?;
        }
        let prepared = self.prepare(ctx, sensors)?;
        let reference_row = self.deviation_reference(ctx)?;
        let bar = progress_bar(
            self.config.progress,
            ((prepared.len() + usize::from(reference_row.is_some())) * regions.len()) as u64,
        );
        let mut runs = Vec::with_capacity(prepared.len());
        for method in &prepared {
            runs.push(self.run_method(ctx, method, series, regions, protocol, &bar)?);
        }
        // The reference row, after every method so that it changes none of their numbers.
        let deviation = match &reference_row {
            Some(method) => Some(self.run_method(ctx, method, series, regions, protocol, &bar)?),
            None => None,
        };
        bar.finish_and_clear();
        let chance = protocol.chance(regions, sensors)?;
        Ok(LocalizationRun {
            config: self.config.clone(),
            regions: regions.to_vec(),
            columns: protocol.columns().iter().map(ToString::to_string).collect(),
            runs,
            deviation,
            chance,
        })
    }

    /// The reference row's method, prepared like the others: the deviation from normal
    /// ([`MethodSpec::deviation`]), when `ctx` has the training windows its reference
    /// (their feature means) comes from and no method of the list is that row already.
    fn deviation_reference(&self, ctx: &Context<'_>) -> Result<Option<PreparedMethod>> {
        let spec = MethodSpec::deviation();
        if ctx.train.is_none() || self.methods.iter().any(|m| m.label() == spec.label()) {
            return Ok(None);
        }
        spec.prepare(ctx, &self.config.error, None, None).map(Some)
    }

    /// One prepared method on every region: reference statistics, region scores, their
    /// normalization and reports.
    fn run_method(
        &self,
        ctx: &Context<'_>,
        method: &PreparedMethod,
        series: ArrayView2<'_, f32>,
        regions: &[Region],
        protocol: &Protocol,
        bar: &ProgressBar,
    ) -> Result<MethodRun> {
        let sensors = series.ncols();
        bar.set_message(method.spec().label());
        let reference = match self.config.normalization.needs_reference() {
            true => Some(self.reference_scores(ctx, method)?),
            false => None,
        };
        let stats = match &reference {
            Some(r) => Some(self.stats_of(method, r.view())?),
            None => None,
        };
        let mut raw = Array2::<f64>::zeros((regions.len(), sensors));
        let mut seconds = Vec::with_capacity(regions.len());
        for (i, region) in regions.iter().enumerate() {
            let (s, secs) = self.explain_region(ctx, method, series, region)?;
            raw.row_mut(i).assign(&s);
            seconds.push(secs);
            bar.inc(1);
        }
        let scores = match &stats {
            Some((centre, scale)) => self
                .config
                .normalization
                .normalize(raw.view(), centre, scale),
            None => raw.clone(),
        };
        let report = protocol.evaluate_vectors(regions, scores.view())?;
        let raw_report = match stats {
            Some(_) => Some(protocol.evaluate_vectors(regions, raw.view())?),
            None => None,
        };
        Ok(MethodRun {
            method: method.spec().clone(),
            scores,
            raw_scores: raw,
            reference_scores: reference,
            seconds,
            report,
            raw_report,
        })
    }
}

/// How many sensors share each sensor's group, from a `[steps, sensors]` mask whose
/// groups hold whole sensors (every step of a sensor in one group).
fn cluster_sizes(mask: &crate::attrib::FeatureMask) -> Result<Vec<usize>> {
    let ids = mask.ids().f_select(0, 0)?;
    let ids = Vec::<i64>::try_from(&ids.f_contiguous()?)?;
    Ok(ids
        .iter()
        .map(|g| ids.iter().filter(|&h| h == g).count())
        .collect())
}

/// The windows `[W, window, F]` of `series` that start at `starts`, on `device`.
pub(crate) fn window_batch(
    series: ArrayView2<'_, f32>,
    starts: &[usize],
    window: usize,
    device: tch::Device,
) -> Result<Tensor> {
    let mut batch = Array3::<f32>::zeros((starts.len(), window, series.ncols()));
    for (w, &s) in starts.iter().enumerate() {
        batch
            .index_axis_mut(Axis(0), w)
            .assign(&series.slice(ndarray::s![s..s + window, ..]));
    }
    Ok(array_to_tensor(&batch.view().into_dyn(), device)?)
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
