//! The settings of an [`Explainer`] and where its normal reference data comes from.

use std::ops::Range;

use ndarray::Array2;

use crate::localizer::{Aggregation, Grouping, LocalizerConfig, Normalization, WindowPolicy};
use crate::method::MethodSpec;
use crate::models::train::TrainSummary;
use crate::models::{Detector, ExplainedError, MinMaxScaler};

use super::Explainer;

/// Normal data the detector was **not** fitted on, which every explanation is compared
/// with (the reference statistics of the normalization, and each sensor's p-value). It is
/// never guessed: either the trainer reported which windows it held out, or the user says
/// which span of the normal series the detector never saw, or gives a separate normal
/// series.
#[derive(Debug, Clone, PartialEq)]
pub enum NormalReference {
    /// Steps `[start, end)` of the normal series given to
    /// [`ExplainerBuilder::fit`] that the detector was not fitted on.
    HeldOut(Range<usize>),
    /// A separate normal series `[T, sensors]`, in the same units as the normal series
    /// (the explainer's scaler, if any, is applied to it too).
    Series(Array2<f32>),
}

impl NormalReference {
    /// The steps of the normal series that the crate's trainer held out for validation
    /// ([`TrainSummary::held_out`]) when it was trained on the windows of that series at
    /// `stride` (window `k` starts at step `k · stride`), for windows of `window` steps:
    /// from the first validation window's start to the last one's end.
    ///
    /// ```
    /// use anomaly_xai::explainer::NormalReference;
    /// use anomaly_xai::models::train::{StopReason, TrainSummary};
    /// // 80 windows fitted, the last 20 held out; windows of 10 steps at stride 2.
    /// let summary = TrainSummary {
    ///     epochs_run: 1, best_epoch: 1, best_val_loss: None, train_losses: vec![0.1],
    ///     val_losses: vec![], stop: StopReason::MaxEpochs, n_train: 80, n_val: 20,
    ///     seconds: 0.0, train_samples_per_second: 0.0, collapse: None,
    /// };
    /// assert_eq!(NormalReference::validation(&summary, 2, 10), NormalReference::HeldOut(160..208));
    /// ```
    pub fn validation(summary: &TrainSummary, stride: usize, window: usize) -> Self {
        let held = summary.held_out();
        match held.is_empty() {
            true => NormalReference::HeldOut(0..0),
            false => {
                NormalReference::HeldOut(held.start * stride..(held.end - 1) * stride + window)
            }
        }
    }
}

/// Settings of an [`Explainer`], each with a documented default; [`ExplainerBuilder::fit`]
/// fits it. Made by [`Explainer::builder`].
pub struct ExplainerBuilder {
    pub(super) detector: Box<dyn Detector + Send>,
    pub(super) methods: Option<Vec<MethodSpec>>,
    pub(super) kernel_shap_samples: usize,
    pub(super) shapley_permutations: usize,
    pub(super) seeds: Vec<u64>,
    pub(super) answer: Option<String>,
    pub(super) names: Option<Vec<String>>,
    pub(super) scaler: Option<MinMaxScaler>,
    pub(super) config: LocalizerConfig,
    pub(super) reference_windows: usize,
    pub(super) baseline_windows: usize,
    pub(super) missing: Missing,
}

/// What an explanation does with a missing value (NaN or infinite) in the windows it
/// explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Refuse the span: [`crate::Error::MissingValue`] naming the first missing value's
    /// step and sensor. The default: a detector fed a made-up value explains the made-up
    /// value.
    #[default]
    Refuse,
    /// Fill each missing value with its sensor's mean over the normal series, and mark
    /// the sensor in the explanation ([`crate::explainer::Explanation::imputed`],
    /// [`crate::explainer::SensorScore::imputed`]) so that nobody mistakes it for an
    /// explained one.
    TrainingMean,
}

/// The default number of normal reference windows (evenly spaced over the reference
/// data): enough for the median and the p-values of [`crate::explainer::SensorScore`] to
/// resolve 1/33, few enough that fitting the default methods takes seconds.
pub const DEFAULT_REFERENCE_WINDOWS: usize = 32;

/// The default number of normal windows (evenly spaced over the normal series) that the
/// baselines are built from: the training mean, and Gradient SHAP's 64 background windows.
pub const DEFAULT_BASELINE_WINDOWS: usize = 256;

/// The default number of windows an alarm is explained with (evenly spaced over the
/// windows whose last step lies in the span): the demo's setting.
pub const DEFAULT_MAX_WINDOWS: usize = 8;

impl ExplainerBuilder {
    pub(super) fn new(detector: Box<dyn Detector + Send>) -> Self {
        ExplainerBuilder {
            detector,
            methods: None,
            kernel_shap_samples: 200,
            shapley_permutations: 5,
            seeds: vec![0],
            answer: None,
            names: None,
            scaler: None,
            config: LocalizerConfig {
                max_windows: DEFAULT_MAX_WINDOWS,
                progress: false,
                ..LocalizerConfig::default()
            },
            reference_windows: DEFAULT_REFERENCE_WINDOWS,
            baseline_windows: DEFAULT_BASELINE_WINDOWS,
            missing: Missing::Refuse,
        }
    }

    /// These methods instead of the default ones (by default: the methods of
    /// [`crate::defaults::methods`] this detector can serve, chosen by
    /// [`crate::defaults::for_detector`]). A method the detector cannot serve is then an
    /// error at [`ExplainerBuilder::fit`], since it was asked for.
    pub fn methods(mut self, methods: Vec<MethodSpec>) -> Self {
        self.methods = Some(methods);
        self
    }

    /// Kernel SHAP's coalitions in the default methods (default 200, paper 1's setting).
    pub fn kernel_shap_samples(mut self, n: usize) -> Self {
        self.kernel_shap_samples = n;
        self
    }

    /// Shapley Value Sampling's permutations in the default methods (default 5).
    pub fn shapley_permutations(mut self, n: usize) -> Self {
        self.shapley_permutations = n;
        self
    }

    /// Seeds the default stochastic methods are repeated with; their scores are averaged
    /// (default `[0]`: once, so an alarm costs one run of each).
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }

    /// The method whose ranking is the explanation's answer, by label (default: "Residual
    /// L2" when it is among the methods, else the first method). Why the residual: it is
    /// the detector's own per-cell error, the very thing that raised the alarm; it costs
    /// one forward pass, draws no random numbers and needs no baseline; and it is within
    /// a point or two of the best method on every data set measured
    /// (`docs/reproduction/regimes.md`, `docs/reproduction/smd-demo.md`: GT@120% IoU under
    /// the default normalization, L2 over L1 on few independent sensors 50.2 against 45.0
    /// and on the 15 shared SMD machines 57.2 against 55.4, within 0.5 and 0.9 of L1
    /// elsewhere).
    pub fn answer(mut self, label: impl Into<String>) -> Self {
        self.answer = Some(label.into());
        self
    }

    /// Names of the sensors (columns), carried into every [`crate::explainer::SensorScore`].
    pub fn sensor_names(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// A scaler applied to every series (normal and live) before the detector sees it
    /// (default: none, the detector takes the series as given).
    pub fn scaler(mut self, scaler: MinMaxScaler) -> Self {
        self.scaler = Some(scaler);
        self
    }

    /// Which windows represent a span (default [`WindowPolicy::EndingInRegion`]: those
    /// whose last step lies in it, what the detector had just seen when it raised the
    /// alarm).
    pub fn policy(mut self, policy: WindowPolicy) -> Self {
        self.config.policy = policy;
        self
    }

    /// At most this many windows per span, evenly spaced (default
    /// [`DEFAULT_MAX_WINDOWS`]).
    pub fn max_windows(mut self, n: usize) -> Self {
        self.config.max_windows = n;
        self
    }

    /// Which error of each window is explained (default: the mean L1 error of every
    /// predicted cell, [`ExplainedError::default`]).
    pub fn error(mut self, error: ExplainedError) -> Self {
        self.config.error = error;
        self
    }

    /// How cell attributions become sensor scores (default
    /// [`Aggregation::RegionSteps`]: the mean over the span's cells).
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.config.aggregation = aggregation;
        self
    }

    /// How sensor scores are compared with normal data (default
    /// [`Normalization::Scale`]).
    pub fn normalization(mut self, normalization: Normalization) -> Self {
        self.config.normalization = normalization;
        self
    }

    /// Which cells the perturbation methods perturb together (default
    /// [`Grouping::PerSensor`]).
    pub fn grouping(mut self, grouping: Grouping) -> Self {
        self.config.grouping = grouping;
        self
    }

    /// At most this many normal reference windows (default
    /// [`DEFAULT_REFERENCE_WINDOWS`]; at least 2).
    pub fn reference_windows(mut self, n: usize) -> Self {
        self.reference_windows = n;
        self
    }

    /// At most this many normal windows for the baselines (default
    /// [`DEFAULT_BASELINE_WINDOWS`]; at least 1).
    pub fn baseline_windows(mut self, n: usize) -> Self {
        self.baseline_windows = n;
        self
    }

    /// What an explanation does with a missing value in the windows it explains (default
    /// [`Missing::Refuse`]).
    pub fn missing(mut self, missing: Missing) -> Self {
        self.missing = missing;
        self
    }

    /// Fits the explainer on the normal series `[T, sensors]` (in the units the user has;
    /// the scaler, if any, is applied): windows it with the detector's window, builds the
    /// baselines from it, chooses the methods, and computes every method's reference
    /// statistics on the windows of `reference` (normal data the detector was not fitted
    /// on), once.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] naming the input (the detector's sample shape, the normal
    /// series, the reference series) that does not fit the detector;
    /// [`crate::Error::NonFinite`] naming the step and sensor of a missing value in the
    /// normal data; [`crate::Error::InvalidSetting`] for a setting out of range, a
    /// reference span outside the series or holding fewer than two windows, an unknown
    /// answer label; as [`crate::method::MethodSpec::prepare`] for a method the detector
    /// cannot serve.
    pub fn fit(
        self,
        normal: ndarray::ArrayView2<'_, f32>,
        reference: NormalReference,
    ) -> crate::Result<Explainer> {
        Explainer::fit(self, normal, reference)
    }
}
