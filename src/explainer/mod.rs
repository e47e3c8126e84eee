//! The answer for a live alarm: an [`Explainer`] that a service fits once from its
//! detector and normal data, holds, and asks "which sensors?" for a span of a live series,
//! with no labels.
//!
//! Fitting takes the window and the sensor count from the detector
//! ([`crate::models::Detector::sample_shape`]), windows the normal series itself, chooses
//! the default methods this detector can serve ([`crate::defaults::for_detector`]), builds
//! their baselines, and computes every method's reference statistics on normal data the
//! detector was not fitted on ([`NormalReference`]). [`Explainer::explain`] then runs the
//! same machinery as the evaluation pipeline ([`crate::localizer`]: its window policy, its
//! span scores, its [`crate::localizer::Normalization`]) on the windows of the span.
//!
//! ## Live data
//!
//! - **Missing values** (NaN or infinite) in the windows of the span: by default the span
//!   is refused with [`Error::MissingValue`] naming the step and the sensor; with
//!   [`Missing::TrainingMean`] each one is filled with its sensor's mean over the normal
//!   series and the sensor is marked in the explanation ([`Explanation::imputed`],
//!   [`SensorScore::imputed`]). Values outside the explained windows are never read.
//! - **Sensors constant in training** are recorded ([`Explainer::constant_sensors`]) and
//!   marked ([`SensorScore::constant_in_training`]); one that moves ranks first, one that
//!   stays scores 0 (see the field's docs).
//! - **Spans shorter than a window** are explained by the windows whose last step lies
//!   in them (one window for a one-step span).
//! - **Spans at the very start** of a series, that end before the first full window,
//!   are explained by the first window; a series shorter than one window is refused
//!   ([`Error::Shape`] naming the live series).
//!
//! ```
//! use anomaly_xai::explainer::{Explainer, NormalReference};
//! use anomaly_xai::models::ArrayDetector;
//! use ndarray::{Array2, ArrayViewD, Axis};
//! // A plain-Rust detector: predicts each cell by its sensor's mean over the window.
//! let detector = ArrayDetector::new("window mean", vec![10, 3], |x: ArrayViewD<'_, f32>| {
//!     let mean = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
//!     mean.broadcast(x.shape()).unwrap().to_owned()
//! })?;
//! // Normal data: three noisy sensors; the detector was not fitted on any of it.
//! let normal = Array2::from_shape_fn((200, 3), |(t, f)| ((t * 7 + f * 13) % 11) as f32 / 10.0);
//! let explainer = Explainer::builder(detector)
//!     .sensor_names(["pump", "valve", "fan"])
//!     .fit(normal.view(), NormalReference::HeldOut(0..200))?;
//! // A live series where the valve jumps at step 150.
//! let mut live = normal.clone();
//! live.slice_mut(ndarray::s![150..155, 1]).mapv_inplace(|v| v + 5.0);
//! let explanation = explainer.explain(live.view(), 150..155)?;
//! assert_eq!(explanation.ranked()[0].name.as_deref(), Some("valve"));
//! # Ok::<(), anomaly_xai::Error>(())
//! ```

mod builder;
mod explanation;
mod saved;

use std::ops::Range;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use tch::Tensor;

use crate::defaults::{self, LeftOut};
use crate::error::{Error, Result};
use crate::localizer::{span_scores, span_windows, window_batch, Aggregation, Localizer};
use crate::method::{Context, MethodSpec, PreparedMethod};
use crate::models::{Detector, MinMaxScaler};

pub use builder::{
    ExplainerBuilder, Missing, NormalReference, DEFAULT_BASELINE_WINDOWS, DEFAULT_MAX_WINDOWS,
    DEFAULT_REFERENCE_WINDOWS,
};
pub use explanation::{Explanation, MethodExplanation, SensorScore};
pub use saved::{DetectorRecord, FORMAT, FORMAT_VERSION};

/// The label of the default answer method, when it is among the methods.
const DEFAULT_ANSWER: &str = "Residual L2";

/// A fitted explainer: the detector, the methods it serves, their baselines and reference
/// statistics.
///
/// `Send + Sync`: a service holds one (e.g. in an `Arc`) and explains from any thread.
/// libtorch tensors may be moved between threads but not shared, so the detector and the
/// prepared methods sit behind a lock, and explanations from several threads run one
/// after another (each uses libtorch's own threads); a service that wants alarms
/// explained in parallel fits (or loads) one explainer per worker.
pub struct Explainer {
    localizer: Localizer,
    sensors: usize,
    names: Option<Vec<String>>,
    scaler: Option<MinMaxScaler>,
    left_out: Vec<LeftOut>,
    answer: usize,
    missing: Missing,
    /// Every sensor's mean over the normal series (its units, before any scaler).
    training_mean: Vec<f32>,
    /// Whether each sensor is constant over the normal series.
    constant: Vec<bool>,
    describe: String,
    state: Mutex<State>,
}

/// What libtorch owns: moved between threads, never shared.
struct State {
    detector: Box<dyn Detector + Send>,
    baseline_windows: Tensor,
    reference_windows: Tensor,
    runs: Vec<FittedRun>,
}

impl State {
    fn context(&self) -> Context<'_> {
        Context {
            detector: &*self.detector,
            attention: None,
            train: Some(&self.baseline_windows),
            reference: Some(&self.reference_windows),
        }
    }
}

/// One run (one seed of one method) with its reference statistics.
struct FittedRun {
    /// Index of its method in `localizer.methods`.
    method: usize,
    prepared: PreparedMethod,
    stats: Stats,
}

/// A run's reference statistics: what [`Explainer::save`] keeps so that loading runs no
/// attribution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Stats {
    /// The normalization's centre per sensor.
    centre: Array1<f64>,
    /// The normalization's scale per sensor.
    scale: Array1<f64>,
    /// Normalized window scores of the reference windows `[windows, sensors]`, each
    /// column sorted ascending.
    reference: Array2<f64>,
}

impl std::fmt::Debug for Explainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explainer")
            .field("detector", &self.describe)
            .field("window", &self.localizer.config.window)
            .field("sensors", &self.sensors)
            .field("methods", &self.method_labels())
            .field("answer", &self.localizer.methods[self.answer].label())
            .field("left_out", &self.left_out)
            .finish_non_exhaustive()
    }
}

impl Explainer {
    /// A builder for an explainer of `detector`, with the documented defaults.
    pub fn builder(detector: impl Detector + Send + 'static) -> ExplainerBuilder {
        ExplainerBuilder::new(Box::new(detector))
    }

    /// [`Explainer::builder`] of a boxed detector.
    pub fn builder_boxed(detector: Box<dyn Detector + Send>) -> ExplainerBuilder {
        ExplainerBuilder::new(detector)
    }

    fn fit(
        b: ExplainerBuilder,
        normal: ArrayView2<'_, f32>,
        reference: NormalReference,
    ) -> Result<Self> {
        let (window, sensors) = defaults::series_shape(&*b.detector)?;
        if b.reference_windows < 2 {
            return Err(Error::InvalidSetting {
                setting: "reference_windows",
                value: b.reference_windows.to_string(),
                rule: "must be at least 2".into(),
            });
        }
        if b.baseline_windows == 0 {
            return Err(Error::InvalidSetting {
                setting: "baseline_windows",
                value: "0".into(),
                rule: "must be at least 1".into(),
            });
        }
        if let Some(names) = &b.names {
            if names.len() != sensors {
                return Err(Error::InvalidSetting {
                    setting: "sensor_names",
                    value: format!("{} names", names.len()),
                    rule: format!("must name each of the detector's {sensors} sensors"),
                });
            }
        }
        let (training_mean, constant) = sensor_summary(normal);
        let normal = checked_series(normal, "normal series", window, sensors, &b.scaler)?;
        let (reference_series, span) = match reference {
            NormalReference::HeldOut(span) => {
                if span.start >= span.end || span.end > normal.nrows() {
                    return Err(Error::InvalidSetting {
                        setting: "normal reference span",
                        value: format!("{span:?}"),
                        rule: format!(
                            "must be a non-empty span of the normal series' {} steps",
                            normal.nrows()
                        ),
                    });
                }
                (None, span)
            }
            NormalReference::Series(series) => {
                let series = checked_series(
                    series.view(),
                    "normal reference series",
                    window,
                    sensors,
                    &b.scaler,
                )?;
                let n = series.nrows();
                (Some(series), 0..n)
            }
        };
        let from = reference_series.as_ref().unwrap_or(&normal);
        let ref_starts = spread(
            span.start,
            (span.end + 1).saturating_sub(window),
            b.reference_windows,
        );
        if ref_starts.len() < 2 {
            return Err(Error::InvalidSetting {
                setting: "normal reference span",
                value: format!("{span:?}"),
                rule: format!(
                    "holds {} windows of the detector's {window} steps; needs at least 2 (at least {} steps)",
                    ref_starts.len(),
                    window + 1
                ),
            });
        }
        let device = b.detector.device();
        let reference_windows = window_batch(from.view(), &ref_starts, window, device)?;
        let base_starts = spread(0, normal.nrows() + 1 - window, b.baseline_windows);
        let baseline_windows = window_batch(normal.view(), &base_starts, window, device)?;

        let (methods, left_out) = match b.methods {
            Some(m) => (m, Vec::new()),
            None => {
                let served = defaults::for_detector(
                    &*b.detector,
                    b.kernel_shap_samples,
                    b.shapley_permutations,
                    &b.seeds,
                )?;
                (served.methods, served.left_out)
            }
        };
        let labels: Vec<String> = methods.iter().map(MethodSpec::label).collect();
        let answer = match &b.answer {
            Some(a) => labels
                .iter()
                .position(|l| l == a)
                .ok_or_else(|| Error::InvalidSetting {
                    setting: "answer",
                    value: a.clone(),
                    rule: format!("must be the label of one of the methods: {labels:?}"),
                })?,
            None => labels.iter().position(|l| l == DEFAULT_ANSWER).unwrap_or(0),
        };
        let localizer = Localizer::new(
            crate::localizer::LocalizerConfig {
                window,
                progress: false,
                ..b.config
            },
            methods,
        );
        let ctx = Context {
            detector: &*b.detector,
            attention: None,
            train: Some(&baseline_windows),
            reference: Some(&reference_windows),
        };
        let runs = prepare_runs(&localizer, &ctx, sensors, None)?;
        Ok(Explainer {
            localizer,
            sensors,
            names: b.names,
            scaler: b.scaler,
            left_out,
            answer,
            missing: b.missing,
            training_mean,
            constant,
            describe: b.detector.describe(),
            state: Mutex::new(State {
                detector: b.detector,
                baseline_windows,
                reference_windows,
                runs,
            }),
        })
    }

    /// The detector's window length.
    pub fn window(&self) -> usize {
        self.localizer.config.window
    }

    /// The detector's sensor count.
    pub fn sensors(&self) -> usize {
        self.sensors
    }

    /// The detector's description ([`Detector::describe`]).
    pub fn detector_name(&self) -> &str {
        &self.describe
    }

    /// Runs `f` with the detector (e.g. to score windows for an alarm threshold); other
    /// threads' explanations wait meanwhile.
    pub fn with_detector<T>(&self, f: impl FnOnce(&dyn Detector) -> T) -> T {
        f(&*self.lock().detector)
    }

    /// The detector, handed back.
    pub fn into_detector(self) -> Box<dyn Detector + Send> {
        self.into_state().detector
    }

    fn into_state(self) -> State {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The methods, in explanation order.
    pub fn methods(&self) -> &[MethodSpec] {
        &self.localizer.methods
    }

    /// The labels of the methods, in explanation order.
    pub fn method_labels(&self) -> Vec<String> {
        self.localizer
            .methods
            .iter()
            .map(MethodSpec::label)
            .collect()
    }

    /// The label of the answer method.
    pub fn answer_label(&self) -> String {
        self.localizer.methods[self.answer].label()
    }

    /// The default methods this detector cannot serve, and why (empty when the methods
    /// were given).
    pub fn left_out(&self) -> &[LeftOut] {
        &self.left_out
    }

    /// What an explanation does with a missing value.
    pub fn missing(&self) -> Missing {
        self.missing
    }

    /// Every sensor's mean over the normal series (what [`Missing::TrainingMean`] fills
    /// in).
    pub fn training_mean(&self) -> &[f32] {
        &self.training_mean
    }

    /// The sensors that are constant over the normal series (see [`SensorScore::constant_in_training`]).
    pub fn constant_sensors(&self) -> Vec<usize> {
        (0..self.sensors).filter(|&f| self.constant[f]).collect()
    }

    /// The pipeline settings (window, policy, windows per span, explained error,
    /// aggregation, normalization, grouping).
    pub fn config(&self) -> &crate::localizer::LocalizerConfig {
        &self.localizer.config
    }

    /// Explains the steps `span` (`[start, end)`) of the live series `series`
    /// `[T, sensors]` (in the units of the normal series): the windows whose last step
    /// lies in the span (by default; a span that ends before the first full window is
    /// explained by the first window), every method's sensor scores over the span's
    /// cells, compared with the normal reference windows.
    ///
    /// The series needs at least one window of steps; only the steps of the explained
    /// windows are read.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the live series when it has another sensor count or fewer
    /// steps than a window; [`Error::RegionOutOfRange`] for an empty span or one outside
    /// the series; [`Error::NonFinite`] naming the step and sensor of a missing value in
    /// an explained window; a method's own failure.
    pub fn explain(&self, series: ArrayView2<'_, f32>, span: Range<usize>) -> Result<Explanation> {
        let window = self.window();
        let (n_steps, sensors) = series.dim();
        if sensors != self.sensors || n_steps < window {
            return Err(Error::Shape {
                what: "live series",
                expected: format!(
                    "[steps >= {window}, {}] (window and sensors from the detector's sample shape)",
                    self.sensors
                ),
                got: vec![n_steps, sensors],
            });
        }
        if span.start >= span.end || span.end > n_steps {
            return Err(Error::RegionOutOfRange {
                start: span.start,
                end: span.end,
                n_steps,
            });
        }
        let c = &self.localizer.config;
        let starts = span_windows(span.clone(), n_steps, window, c.policy, c.max_windows)?;
        let lo = starts[0];
        let hi = starts[starts.len() - 1] + window;
        let mut rows = series.slice(s![lo..hi, ..]).to_owned();
        let mut imputed = vec![false; sensors];
        for ((t, f), v) in rows.indexed_iter_mut() {
            if v.is_finite() {
                continue;
            }
            match self.missing {
                Missing::Refuse => {
                    return Err(Error::MissingValue {
                        step: lo + t,
                        sensor: f,
                        name: self.names.as_ref().map(|n| n[f].clone()),
                    })
                }
                Missing::TrainingMean => {
                    *v = self.training_mean[f];
                    imputed[f] = true;
                }
            }
        }
        if let Some(sc) = &self.scaler {
            rows = sc.transform(&rows.view())?;
        }
        let local: Vec<usize> = starts.iter().map(|&s| s - lo).collect();
        let state = self.lock();
        let x = window_batch(rows.view(), &local, window, state.detector.device())?;
        let ctx = state.context();

        let n_methods = self.localizer.methods.len();
        let mut score = Array2::<f64>::zeros((n_methods, sensors));
        let mut raw = Array2::<f64>::zeros((n_methods, sensors));
        let mut p = Array2::<f64>::zeros((n_methods, sensors));
        let mut count = vec![0usize; n_methods];
        let mut seconds = vec![0.0; n_methods];
        let mut cells = Array2::<f32>::zeros((span.len(), sensors));
        for run in &state.runs {
            let started = Instant::now();
            let a = self.localizer.explain(&ctx, &run.prepared, &x)?;
            seconds[run.method] += started.elapsed().as_secs_f64();
            let r = match c.aggregation {
                Aggregation::RegionSteps => span_scores(a.view(), &starts, span.clone())?,
                Aggregation::WholeWindow => a
                    .mapv(f64::from)
                    .mean_axis(Axis(0))
                    .and_then(|m| m.mean_axis(Axis(0)))
                    .expect("at least one window of at least one step"),
            };
            let z = c
                .normalization
                .normalize(
                    r.view().insert_axis(Axis(0)),
                    &run.stats.centre,
                    &run.stats.scale,
                )
                .row(0)
                .to_owned();
            let n_ref = run.stats.reference.nrows();
            for f in 0..sensors {
                let col = run.stats.reference.column(f);
                let below = col.as_slice().map_or_else(
                    || col.iter().filter(|&&v| v < z[f]).count(),
                    |v| v.partition_point(|&v| v < z[f]),
                );
                p[[run.method, f]] += (n_ref - below + 1) as f64 / (n_ref + 1) as f64;
            }
            score.row_mut(run.method).scaled_add(1.0, &z);
            raw.row_mut(run.method).scaled_add(1.0, &r);
            count[run.method] += 1;
            if run.method == self.answer {
                cells += &span_cells(a.view(), &starts, &span);
            }
        }
        let methods: Vec<MethodExplanation> = (0..n_methods)
            .map(|m| {
                let k = count[m].max(1) as f64;
                let mut ranking: Vec<SensorScore> = (0..sensors)
                    .map(|f| SensorScore {
                        sensor: f,
                        name: self.names.as_ref().map(|n| n[f].clone()),
                        score: score[[m, f]] / k,
                        raw: raw[[m, f]] / k,
                        p_value: p[[m, f]] / k,
                        imputed: imputed[f],
                        constant_in_training: self.constant[f],
                    })
                    .collect();
                ranking.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.sensor.cmp(&b.sensor)));
                MethodExplanation {
                    method: self.localizer.methods[m].label(),
                    ranking,
                    seconds: seconds[m],
                }
            })
            .collect();
        cells /= count[self.answer].max(1) as f32;
        Ok(Explanation {
            span,
            window_starts: starts,
            answer: methods[self.answer].clone(),
            methods,
            cells,
            imputed: (0..sensors).filter(|&f| imputed[f]).collect(),
        })
    }
}

/// Every run of the localizer's methods prepared against `ctx`, with its reference
/// statistics: computed on the reference windows, or the saved ones (one per run).
fn prepare_runs(
    localizer: &Localizer,
    ctx: &Context<'_>,
    sensors: usize,
    saved: Option<Vec<Stats>>,
) -> Result<Vec<FittedRun>> {
    let prepared = localizer.prepare(ctx, sensors)?;
    let mut owner = Vec::new();
    for (i, m) in localizer.methods.iter().enumerate() {
        owner.extend(std::iter::repeat_n(i, m.runs()?.len()));
    }
    if let Some(saved) = &saved {
        if saved.len() != prepared.len() {
            return Err(Error::InvalidSetting {
                setting: "saved reference statistics",
                value: format!("{} runs", saved.len()),
                rule: format!("must hold one per run of the methods ({})", prepared.len()),
            });
        }
    }
    let mut saved = saved.map(Vec::into_iter);
    let mut runs = Vec::with_capacity(prepared.len());
    for (prepared, method) in prepared.into_iter().zip(owner) {
        let stats = match saved.as_mut().and_then(Iterator::next) {
            Some(stats) => stats,
            None => {
                let per_window = localizer.reference_scores(ctx, &prepared)?;
                let (centre, scale) = localizer.stats_of(&prepared, per_window.view())?;
                let mut reference =
                    localizer
                        .config
                        .normalization
                        .normalize(per_window.view(), &centre, &scale);
                for mut col in reference.columns_mut() {
                    let mut v = col.to_vec();
                    v.sort_by(f64::total_cmp);
                    col.assign(&Array1::from(v));
                }
                Stats {
                    centre,
                    scale,
                    reference,
                }
            }
        };
        runs.push(FittedRun {
            method,
            prepared,
            stats,
        });
    }
    Ok(runs)
}

/// Every sensor's mean over `series` and whether it is constant there (`series` is
/// checked for missing values afterwards; a non-finite mean is never used then).
fn sensor_summary(series: ArrayView2<'_, f32>) -> (Vec<f32>, Vec<bool>) {
    series
        .columns()
        .into_iter()
        .map(|c| {
            let mean = c.iter().map(|&v| f64::from(v)).sum::<f64>() / c.len().max(1) as f64;
            let first = c.first().copied();
            (mean as f32, c.iter().all(|&v| Some(v) == first))
        })
        .unzip()
}

/// `series` checked against the detector (`[steps >= window, sensors]`, finite) and
/// scaled when there is a scaler; `what` names it in errors.
fn checked_series(
    series: ArrayView2<'_, f32>,
    what: &'static str,
    window: usize,
    sensors: usize,
    scaler: &Option<MinMaxScaler>,
) -> Result<Array2<f32>> {
    let (n, f) = series.dim();
    if f != sensors || n < window {
        return Err(Error::Shape {
            what,
            expected: format!(
                "[steps >= {window}, {sensors}] (window and sensors from the detector's sample shape)"
            ),
            got: vec![n, f],
        });
    }
    if let Some(i) = series.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: format!("{what} (step, sensor)"),
            index: vec![i / f, i % f],
        });
    }
    Ok(match scaler {
        Some(s) => s.transform(&series)?,
        None => series.to_owned(),
    })
}

/// At most `n` of the starts `lo..hi`, evenly spaced, both ends kept.
fn spread(lo: usize, hi: usize, n: usize) -> Vec<usize> {
    let count = hi.saturating_sub(lo);
    if count <= n {
        return (lo..hi).collect();
    }
    if n == 1 {
        return vec![lo];
    }
    let step = (count - 1) as f64 / (n - 1) as f64;
    let mut v: Vec<usize> = (0..n)
        .map(|i| lo + (i as f64 * step).round() as usize)
        .collect();
    v.dedup();
    v
}

/// The per-step map `[span, sensors]`: each step's cells averaged over the windows
/// (starting at `starts`) that hold it.
fn span_cells(
    a: ndarray::ArrayView3<'_, f32>,
    starts: &[usize],
    span: &Range<usize>,
) -> Array2<f32> {
    let (_, len, sensors) = a.dim();
    let mut sum = Array2::<f32>::zeros((span.len(), sensors));
    let mut n = vec![0u32; span.len()];
    for (w, &s) in starts.iter().enumerate() {
        for t in span.start.max(s)..span.end.min(s + len) {
            sum.row_mut(t - span.start)
                .scaled_add(1.0, &a.slice(s![w, t - s, ..]));
            n[t - span.start] += 1;
        }
    }
    for (mut row, &k) in sum.rows_mut().into_iter().zip(&n) {
        if k > 0 {
            row /= k as f32;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_keeps_both_ends_and_every_start_when_few() {
        assert_eq!(spread(0, 5, 8), vec![0, 1, 2, 3, 4]);
        assert_eq!(spread(10, 20, 3), vec![10, 15, 19]);
        assert_eq!(spread(3, 3, 4), Vec::<usize>::new());
    }
}
