//! What [`crate::explainer::Explainer::explain`] answers for one alarm: the sensors
//! ranked, per method and as one answer, and the cell map for a picture.

use std::ops::Range;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// The explanation of one span of a live series. Serializable: `serde_json::to_string`
/// gives one JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The explained steps `[start, end)` of the live series.
    pub span: Range<usize>,
    /// Where each explained window starts in the live series (the windows whose last step
    /// lies in the span; the first window for a span that ends before it).
    pub window_starts: Vec<usize>,
    /// The answer: the ranking of the explainer's answer method (by default the residual,
    /// see [`crate::explainer::ExplainerBuilder::answer`]).
    pub answer: MethodExplanation,
    /// Every method's ranking, in the explainer's method order (the answer's included).
    pub methods: Vec<MethodExplanation>,
    /// The answer method's raw cell attributions `[steps, sensors]` over the span: each
    /// step's value is the mean over the explained windows that hold it.
    pub cells: Array2<f32>,
    /// Sensors whose missing values were filled in with their training mean before
    /// explaining (empty unless [`crate::explainer::Missing::TrainingMean`] is chosen):
    /// their scores describe the filled-in values, not the alarm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imputed: Vec<usize>,
}

impl Explanation {
    /// The answer's sensors, most unusual first (a shorthand for `answer.ranking`).
    pub fn ranked(&self) -> &[SensorScore] {
        &self.answer.ranking
    }

    /// The answer's `k` first sensors.
    pub fn top(&self, k: usize) -> &[SensorScore] {
        &self.answer.ranking[..k.min(self.answer.ranking.len())]
    }
}

/// One method's ranking of the sensors for one span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodExplanation {
    /// The method's label (e.g. "Residual L2").
    pub method: String,
    /// Every sensor, highest normalized score first (ties: lower index first).
    pub ranking: Vec<SensorScore>,
    /// Seconds the method's attributions took (every seed of a stochastic one).
    pub seconds: f64,
}

/// One sensor's score in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorScore {
    /// The sensor's column in the series.
    pub sensor: usize,
    /// Its name, when the explainer was given names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The span's score under the explainer's normalization (by default the raw score
    /// divided by the sensor's usual magnitude on the normal reference windows:
    /// [`crate::localizer::Normalization::Scale`]); the mean over seeds for a
    /// stochastic method.
    pub score: f64,
    /// The raw score: the mean of the method's cell attributions over the span's cells.
    pub raw: f64,
    /// How unusual the score is against normal data: the share of the normal reference
    /// windows whose normalized score for this sensor is at least as high, counting the
    /// span itself (`(k + 1) / (n + 1)`, an empirical p-value in `(0, 1]`). Small: this
    /// sensor is seldom explained this much in normal operation.
    pub p_value: f64,
    /// Whether some of the sensor's values in the explained windows were missing and
    /// filled in with its training mean ([`crate::explainer::Missing::TrainingMean`]):
    /// then its score describes the filled-in values, not the alarm.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imputed: bool,
    /// Whether the sensor was constant over the normal series. Its usual score is then
    /// the same on every normal window; when that is 0, the normalization divides by a
    /// floor (1e-12 of the largest sensor's scale), so any movement of the sensor ranks it
    /// first: a sensor that never moved in normal operation and moves now is unusual,
    /// which is what the ranking says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub constant_in_training: bool,
}
