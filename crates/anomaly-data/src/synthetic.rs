//! A synthetic multi-sensor machine with planted anomalies and known ground-truth sensors:
//! the embedded default for quick runs and tests of the localization pipeline, usable
//! without any download.
//!
//! **Normal behaviour.** Like the metrics of a server, the sensors are driven by a few
//! shared latent factors, so they are correlated in groups. Factor `k` is periodic for
//! even `k` (a sine of random period in `[24, 96]` steps plus a random second harmonic)
//! and a mean-reverting random walk (AR(1), coefficient 0.98) for odd `k`; every factor is
//! min-max scaled to `[-1, 1]` over the whole series. Sensor `f` mixes them with weights
//! `w_f`: one *main* factor with weight `±[0.7, 1.0]`, every other one with weight in
//! `[-0.3, 0.3]`. Each sensor's mixture is min-max scaled to `[0, 1]` over train and test
//! together, and Gaussian noise of standard deviation [`SyntheticConfig::noise`] is added,
//! so normal values lie in about `[0, 1]`. The first [`SyntheticConfig::n_train`] steps are
//! the training half, the next [`SyntheticConfig::n_test`] the test half: one continuous
//! series, as in SMD.
//!
//! **Anomalies.** [`SyntheticConfig::n_anomalies`] non-overlapping regions of the test
//! half, each of a length drawn from [`SyntheticConfig::anomaly_len`], preceded by at least
//! [`SyntheticConfig::min_gap`] normal steps, each touching a set of distinct sensors of a
//! size drawn from [`SyntheticConfig::sensors_per_anomaly`], each of a kind drawn uniformly
//! from [`SyntheticConfig::kinds`] ([`AnomalyKind`]: spike, level shift, noise burst,
//! correlation break). Only those cells change, so [`SyntheticMachine::regions`] is the
//! exact ground truth and [`SyntheticMachine::labels`] the union of the regions.
//! With [`SyntheticConfig::target`] = [`AnomalyTarget::Factor`], an anomaly disturbs one
//! latent factor instead, so every sensor loaded on it moves with it, and the ground truth
//! is the sensors that move by at least [`SyntheticConfig::min_displacement`].
//! [`Regime`] holds a preset for each kind of system: few independent sensors per fault
//! (SMD-like), many correlated sensors per fault, most of them labelled, and a correlated
//! group shifted together within its normal range.
//!
//! **Determinism.** Everything is a function of [`SyntheticConfig::seed`]. The factors and
//! weights, the noise and the anomalies come from three separate ChaCha8 streams of that
//! seed, so the clean series depends only on `n_sensors`, `n_factors`, `n_train`, `n_test`,
//! `noise`, `noise_spread` and `seed`: changing the anomaly settings plants different anomalies into the
//! very same normal data.
//!
//! ```
//! use anomaly_data::synthetic::{generate, SyntheticConfig};
//! let cfg = SyntheticConfig { n_train: 300, n_test: 200, n_anomalies: 2, ..SyntheticConfig::default() };
//! let m = generate(&cfg)?;
//! assert_eq!(m.train.dim(), (300, 8));
//! assert_eq!(m.test.dim(), (200, 8));
//! assert_eq!(m.regions.len(), 2);
//! // The labels are the union of the regions.
//! let labelled = m.labels.iter().filter(|&&l| l).count();
//! assert_eq!(labelled, m.regions.iter().map(|r| r.len()).sum::<usize>());
//! // Same seed, same machine.
//! assert_eq!(generate(&cfg)?, m);
//! # Ok::<(), anomaly_data::DataError>(())
//! ```

use std::f64::consts::TAU;
use std::fmt;
use std::ops::{Range, RangeInclusive};
use std::str::FromStr;

use loc_metrics::Region;
use ndarray::{s, Array1, Array2};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::smd::SmdMachine;

/// The kinds of anomaly the generator plants. `m` is [`SyntheticConfig::magnitude`], in
/// the scaled units where a sensor's normal range is `[0, 1]`; the sign of spikes and level
/// shifts follows [`SyntheticConfig::polarity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A triangular pulse over the region, peaking at `±2m` in its middle (its mean over
    /// the region is about `±m`); every step of the region is raised by a positive amount.
    Spike,
    /// The sensor jumps by `±m` for the whole region.
    LevelShift,
    /// Extra Gaussian noise of standard deviation `m`.
    NoiseBurst,
    /// The sensor decouples from its main factor: for the region, that factor's share of
    /// the sensor is replaced by the same share of a fresh, independent factor (same kind,
    /// same `[-1, 1]` range), so the sensor keeps its scale and noise but stops moving with
    /// its group. `m` does not apply.
    CorrelationBreak,
}

impl AnomalyKind {
    /// Every kind, in declaration order.
    pub const ALL: [AnomalyKind; 4] = [
        AnomalyKind::Spike,
        AnomalyKind::LevelShift,
        AnomalyKind::NoiseBurst,
        AnomalyKind::CorrelationBreak,
    ];

    /// The kind's name: `spike`, `level_shift`, `noise_burst` or `correlation_break`.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::Spike => "spike",
            AnomalyKind::LevelShift => "level_shift",
            AnomalyKind::NoiseBurst => "noise_burst",
            AnomalyKind::CorrelationBreak => "correlation_break",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses the names of [`AnomalyKind::name`] (`-` may stand for `_`).
impl FromStr for AnomalyKind {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        let norm = s.trim().to_lowercase().replace('-', "_");
        AnomalyKind::ALL
            .into_iter()
            .find(|k| k.name() == norm)
            .ok_or_else(|| DataError::InvalidParam {
                what: "synthetic",
                param: "kind",
                value: s.to_string(),
                rule: "must be spike, level_shift, noise_burst or correlation_break",
            })
    }
}

/// Which way spikes and level shifts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// Up or down, drawn per sensor with equal odds.
    #[default]
    Both,
    /// Always up (away from a zero baseline).
    Up,
    /// Always down (towards a zero baseline, and below it for large magnitudes).
    Down,
}

/// Settings of [`generate`]. The default is a small machine: 8 sensors driven by 3
/// factors, 1000 training and 1000 test steps, 6 anomalies of 5 to 30 steps on 1 to 3
/// sensors each, every kind, magnitude 0.5 in either direction, noise 0.02, seed 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Sensors of the machine (columns), at least 1.
    pub n_sensors: usize,
    /// Latent factors that drive the sensors, at least 1 (fewer factors, stronger
    /// correlations).
    pub n_factors: usize,
    /// Steps of the training half (anomaly-free), at least 1.
    pub n_train: usize,
    /// Steps of the test half, at least 1.
    pub n_test: usize,
    /// Anomalies planted into the test half (0 gives a clean test half).
    pub n_anomalies: usize,
    /// How many distinct sensors one anomaly touches (inclusive; drawn uniformly). In
    /// JSON, `{"start": 1, "end": 3}` (serde's form of a `RangeInclusive`).
    pub sensors_per_anomaly: RangeInclusive<usize>,
    /// How many steps one anomaly lasts (inclusive; drawn uniformly).
    pub anomaly_len: RangeInclusive<usize>,
    /// At least this many normal steps before every anomaly (before the first one too, so
    /// the windows that end in it start in normal data).
    pub min_gap: usize,
    /// The kinds to draw from, uniformly (repeat a kind to weight it).
    pub kinds: Vec<AnomalyKind>,
    /// Strength of spikes, level shifts and noise bursts, in scaled units (finite, > 0).
    pub magnitude: f32,
    /// Direction of spikes and level shifts. Attributions measured against a zero
    /// reference may treat a drop towards 0 quite unlike a rise (LRP-ε on an LSTM
    /// autoencoder gives the sensors of a drop negative relevance), so a study of such
    /// methods may want one direction at a time.
    pub polarity: Polarity,
    /// Standard deviation of the sensors' Gaussian noise, in scaled units (finite, >= 0).
    pub noise: f32,
    /// How much the sensors' noise differs: sensor `f`'s noise has standard deviation
    /// `noise · exp(noise_spread · u_f)`, `u_f` uniform in `[-1, 1]` (finite, >= 0; 0: every
    /// sensor has `noise`). Real sensors differ in how noisy they are, and so in how hard
    /// they are to reconstruct, which is what comparing scores with normal data is for.
    pub noise_spread: f32,
    /// Seed of everything.
    pub seed: u64,
    /// What an anomaly disturbs: a few sensors of its own choosing (the default), or one
    /// latent factor, which moves every sensor loaded on it ([`AnomalyTarget`]).
    pub target: AnomalyTarget,
    /// For [`AnomalyTarget::Factor`] only: a sensor belongs to a region's ground truth when
    /// its mean absolute displacement over the region, in scaled units (a sensor's normal
    /// range is about `[0, 1]`), is at least this (finite, >= 0).
    pub min_displacement: f32,
}

/// What one planted anomaly disturbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyTarget {
    /// A set of distinct sensors drawn per region
    /// ([`SyntheticConfig::sensors_per_anomaly`]); only they change, so the ground truth
    /// is exactly the disturbed sensors. Few sensors per fault, each on its own: SMD-like.
    #[default]
    Sensors,
    /// One latent factor, drawn uniformly per region: the anomaly's shape (the
    /// [`AnomalyKind`], in the factor's own units, where its normal range is `[-1, 1]`)
    /// is added to the factor, so every sensor moves by its loading on that factor over
    /// its range, all together. The ground truth is every sensor whose mean absolute
    /// displacement over the region reaches [`SyntheticConfig::min_displacement`] (at
    /// least the sensor that moves most); sensors loaded too weakly move a little but are
    /// not labelled. `sensors_per_anomaly` does not apply. Many strongly correlated
    /// sensors per fault, most of the group labelled.
    Factor,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            n_sensors: 8,
            n_factors: 3,
            n_train: 1000,
            n_test: 1000,
            n_anomalies: 6,
            sensors_per_anomaly: 1..=3,
            anomaly_len: 5..=30,
            min_gap: 50,
            kinds: AnomalyKind::ALL.to_vec(),
            magnitude: 0.5,
            polarity: Polarity::Both,
            noise: 0.02,
            noise_spread: 0.0,
            seed: 0,
            target: AnomalyTarget::Sensors,
            min_displacement: 0.1,
        }
    }
}

impl SyntheticConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`DataError::InvalidParam`] naming the first bad setting,
    /// [`DataError::TooManySensors`] when an anomaly may touch more sensors than
    /// there are, [`DataError::AnomaliesDoNotFit`] when `n_anomalies` regions of the
    /// longest length, each after `min_gap` normal steps, need more than `n_test` steps.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| {
            Err(DataError::InvalidParam {
                what: "synthetic",
                param,
                value,
                rule,
            })
        };
        for (setting, v) in [
            ("n_sensors", self.n_sensors),
            ("n_factors", self.n_factors),
            ("n_train", self.n_train),
            ("n_test", self.n_test),
        ] {
            if v == 0 {
                return bad(setting, "0".into(), "must be at least 1");
            }
        }
        for (setting, r) in [
            ("sensors_per_anomaly", &self.sensors_per_anomaly),
            ("anomaly_len", &self.anomaly_len),
        ] {
            if *r.start() == 0 || r.start() > r.end() {
                return bad(
                    setting,
                    format!("{}..={}", r.start(), r.end()),
                    "must be a non-empty range of values >= 1 (min <= max)",
                );
            }
        }
        if *self.sensors_per_anomaly.end() > self.n_sensors {
            return Err(DataError::TooManySensors {
                per_anomaly: *self.sensors_per_anomaly.end(),
                n_sensors: self.n_sensors,
            });
        }
        if !(self.magnitude.is_finite() && self.magnitude > 0.0) {
            return bad(
                "magnitude",
                self.magnitude.to_string(),
                "must be finite and positive",
            );
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return bad(
                "noise",
                self.noise.to_string(),
                "must be finite and non-negative",
            );
        }
        if !(self.noise_spread.is_finite() && self.noise_spread >= 0.0) {
            return bad(
                "noise_spread",
                self.noise_spread.to_string(),
                "must be finite and non-negative",
            );
        }
        if !(self.min_displacement.is_finite() && self.min_displacement >= 0.0) {
            return bad(
                "min_displacement",
                self.min_displacement.to_string(),
                "must be finite and non-negative",
            );
        }
        if self.n_anomalies > 0 && self.kinds.is_empty() {
            return bad("kinds", "[]".into(), "must hold at least one kind");
        }
        let max_len = *self.anomaly_len.end();
        let needed = max_len
            .checked_add(self.min_gap)
            .and_then(|per| per.checked_mul(self.n_anomalies))
            .unwrap_or(usize::MAX);
        if needed > self.n_test {
            return Err(DataError::AnomaliesDoNotFit {
                n_anomalies: self.n_anomalies,
                max_len,
                min_gap: self.min_gap,
                needed,
                n_test: self.n_test,
            });
        }
        Ok(())
    }
}

/// The kinds of system a localizer must hold on, as presets of
/// [`SyntheticConfig`] with 19 sensors, 3000 training and 2000 test steps and 12
/// anomalies of 10 to 60 steps (every kind, either direction), sized for windows of 50.
/// In both, the sensors' noise differs by up to a factor `e² ≈ 7.4` (noise 0.02,
/// `noise_spread` 1), so some sensors are always harder to reconstruct than others, as on
/// real machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Few independent sensors per anomaly, as on SMD: 4 factors, each fault on 1 to 3
    /// sensors of its own ([`AnomalyTarget::Sensors`], magnitude 0.5). A random ranking
    /// scores about 0.1 GT@120% IoU.
    FewSensors,
    /// Many strongly correlated sensors per anomaly, most of the group labelled: 2
    /// factors, each fault disturbs one of them ([`AnomalyTarget::Factor`], magnitude 1,
    /// half the factor's range), so the roughly half of the sensors that are mainly
    /// driven by it move together; those displaced by at least 0.2 on average are
    /// labelled. A random ranking scores about 0.4 GT@120% IoU, as on the held-out
    /// system of correlated faults (19 sensors, chance near 39).
    CorrelatedGroup,
    /// A whole correlated group shifted together: 3 factors (about 6 sensors each, every
    /// sensor also loaded on the others; two factors periodic, so their groups swing over
    /// a window, one a slow walk), each fault a level shift of one factor by half its
    /// normal range ([`AnomalyTarget::Factor`], magnitude 1, [`AnomalyKind::LevelShift`]
    /// only), so its group moves together, in the direction of its loadings. Only sensors
    /// displaced by at least 0.25 on average are labelled (about the group mainly driven
    /// by the factor), and a random ranking scores about 0.25 GT@120% IoU. A detector that
    /// reconstructs each group from what it shares makes a sensor put back to normal on
    /// its own disagree with the rest of its group, so perturbing one sensor at a time
    /// credits it with less than the shift: the regime where perturbing the sensors of a
    /// correlated group together (groups learned from the training data) pays.
    GroupShift,
}

impl Regime {
    /// Every regime.
    pub const ALL: [Regime; 3] = [
        Regime::FewSensors,
        Regime::CorrelatedGroup,
        Regime::GroupShift,
    ];

    /// `few-sensors`, `correlated-group` or `group-shift`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::FewSensors => "few-sensors",
            Regime::CorrelatedGroup => "correlated-group",
            Regime::GroupShift => "group-shift",
        }
    }

    /// The preset with `seed`.
    pub fn config(self, seed: u64) -> SyntheticConfig {
        let common = SyntheticConfig {
            n_sensors: 19,
            n_train: 3000,
            n_test: 2000,
            n_anomalies: 12,
            anomaly_len: 10..=60,
            min_gap: 100,
            noise_spread: 1.0,
            seed,
            ..SyntheticConfig::default()
        };
        match self {
            Regime::FewSensors => SyntheticConfig {
                n_factors: 4,
                sensors_per_anomaly: 1..=3,
                magnitude: 0.5,
                ..common
            },
            Regime::CorrelatedGroup => SyntheticConfig {
                n_factors: 2,
                target: AnomalyTarget::Factor,
                magnitude: 1.0,
                min_displacement: 0.2,
                ..common
            },
            Regime::GroupShift => SyntheticConfig {
                n_factors: 3,
                target: AnomalyTarget::Factor,
                kinds: vec![AnomalyKind::LevelShift],
                magnitude: 1.0,
                min_displacement: 0.25,
                ..common
            },
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses the names of [`Regime::name`] (`_` may stand for `-`), and `a` / `b` / `c` for
/// the first, second and third regime.
impl FromStr for Regime {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_lowercase().replace('_', "-").as_str() {
            "few-sensors" | "a" => Ok(Regime::FewSensors),
            "correlated-group" | "b" => Ok(Regime::CorrelatedGroup),
            "group-shift" | "c" => Ok(Regime::GroupShift),
            _ => Err(DataError::InvalidParam {
                what: "synthetic",
                param: "regime",
                value: s.to_string(),
                rule: "must be few-sensors (a), correlated-group (b) or group-shift (c)",
            }),
        }
    }
}

/// A generated machine: the same data as [`SmdMachine`] (scaled to about `[0, 1]`
/// already), plus what was planted and the clean test half it was planted into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticMachine {
    /// The training half `[n_train, n_sensors]`, anomaly-free.
    pub train: Array2<f32>,
    /// The test half `[n_test, n_sensors]` with the anomalies.
    pub test: Array2<f32>,
    /// The test half before planting: `test` differs from it only in the cells of
    /// `regions` (their steps × their sensors).
    pub clean_test: Array2<f32>,
    /// The planted regions of the test half, in time order, with their sensors (0-based,
    /// ascending).
    pub regions: Vec<Region>,
    /// The kind of each region's anomaly (`kinds[i]` for `regions[i]`).
    pub kinds: Vec<AnomalyKind>,
    /// Per test step: inside a region or not (`n_test` entries).
    pub labels: Vec<bool>,
}

impl SyntheticMachine {
    /// Number of sensors.
    pub fn n_sensors(&self) -> usize {
        self.train.ncols()
    }

    /// The machine as an [`SmdMachine`] called `name`, for code written for SMD.
    pub fn into_smd(self, name: impl Into<String>) -> SmdMachine {
        SmdMachine {
            name: name.into(),
            train: self.train,
            test: self.test,
            test_labels: self.labels,
            regions: self.regions,
        }
    }
}

// Independent ChaCha streams of one seed: the clean series does not depend on how many
// random numbers the anomalies consume, and the reverse.
const STREAM_FACTORS: u64 = 0;
const STREAM_NOISE: u64 = 1;
const STREAM_ANOMALIES: u64 = 2;
const STREAM_NOISE_SPREAD: u64 = 3;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// A standard normal draw (Box–Muller; `rand_distr` is not a workspace dependency).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// Maps `v` linearly onto `[lo, hi]`; a constant vector maps to the middle.
fn rescale(v: &mut Array1<f64>, lo: f64, hi: f64) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    if range > 1e-12 {
        v.mapv_inplace(|x| lo + (hi - lo) * (x - min) / range);
    } else {
        v.fill(0.5 * (lo + hi));
    }
}

/// One latent factor of `len` steps in `[-1, 1]`: periodic or a mean-reverting walk.
fn factor(rng: &mut ChaCha8Rng, periodic: bool, len: usize) -> Array1<f64> {
    let mut z = if periodic {
        let period = rng.gen_range(24.0..96.0);
        let (phase, phase2) = (rng.gen_range(0.0..TAU), rng.gen_range(0.0..TAU));
        let harmonic = rng.gen_range(0.0..0.5);
        Array1::from_shape_fn(len, |t| {
            let w = TAU * t as f64 / period;
            (w + phase).sin() + harmonic * (2.0 * w + phase2).sin()
        })
    } else {
        let mut z = Array1::zeros(len);
        let mut x = 0.0;
        for v in z.iter_mut() {
            x = 0.98 * x + normal(rng);
            *v = x;
        }
        z
    };
    rescale(&mut z, -1.0, 1.0);
    z
}

/// The noiseless model: factors `[T, K]`, weights `[F, K]`, each sensor's main factor and
/// the affine map `(lo, range)` that scales each sensor's mixture to `[0, 1]`.
struct Mixture {
    weights: Array2<f64>,
    main: Vec<usize>,
    factors: Array2<f64>,
    lo: Vec<f64>,
    range: Vec<f64>,
}

impl Mixture {
    fn draw(cfg: &SyntheticConfig) -> Mixture {
        let (n_steps, k, f) = (cfg.n_train + cfg.n_test, cfg.n_factors, cfg.n_sensors);
        let mut r = rng(cfg.seed, STREAM_FACTORS);
        let mut factors = Array2::zeros((n_steps, k));
        for j in 0..k {
            factors
                .column_mut(j)
                .assign(&factor(&mut r, j % 2 == 0, n_steps));
        }
        let mut weights = Array2::zeros((f, k));
        let mut main = Vec::with_capacity(f);
        for i in 0..f {
            let m = r.gen_range(0..k);
            for j in 0..k {
                weights[[i, j]] = if j == m {
                    let sign = if r.gen::<bool>() { 1.0 } else { -1.0 };
                    sign * r.gen_range(0.7..=1.0)
                } else {
                    r.gen_range(-0.3..=0.3)
                };
            }
            main.push(m);
        }
        let raw = factors.dot(&weights.t());
        let (mut lo, mut range) = (Vec::with_capacity(f), Vec::with_capacity(f));
        for col in raw.columns() {
            let min = col.iter().copied().fold(f64::INFINITY, f64::min);
            let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            lo.push(min);
            range.push(if max - min > 1e-12 { max - min } else { 1.0 });
        }
        Mixture {
            weights,
            main,
            factors,
            lo,
            range,
        }
    }

    /// The scaled value of sensor `f` at step `t`, with `z_main` in place of its main
    /// factor's value.
    fn value_with_main(&self, t: usize, f: usize, z_main: f64) -> f64 {
        let m = self.main[f];
        let mut raw = self.weights[[f, m]] * z_main;
        for j in 0..self.weights.ncols() {
            if j != m {
                raw += self.weights[[f, j]] * self.factors[[t, j]];
            }
        }
        (raw - self.lo[f]) / self.range[f]
    }

    /// The scaled, noiseless series `[T, F]`.
    fn series(&self) -> Array2<f64> {
        let (n_steps, f) = (self.factors.nrows(), self.weights.nrows());
        Array2::from_shape_fn((n_steps, f), |(t, i)| {
            self.value_with_main(t, i, self.factors[[t, self.main[i]]])
        })
    }
}

/// Draws the regions' lengths and starts: every region after `min_gap` normal steps,
/// the spare steps spread uniformly (stars and bars), so a checked configuration always
/// fits and never needs a retry.
fn place_regions(cfg: &SyntheticConfig, r: &mut ChaCha8Rng) -> Vec<(usize, usize)> {
    let lens: Vec<usize> = (0..cfg.n_anomalies)
        .map(|_| r.gen_range(cfg.anomaly_len.clone()))
        .collect();
    let used = lens.iter().sum::<usize>() + cfg.n_anomalies * cfg.min_gap;
    let spare = cfg.n_test - used;
    let mut cuts: Vec<usize> = (0..cfg.n_anomalies)
        .map(|_| r.gen_range(0..=spare))
        .collect();
    cuts.sort_unstable();
    let mut spans = Vec::with_capacity(cfg.n_anomalies);
    let (mut end, mut prev_cut) = (0, 0);
    for (len, cut) in lens.into_iter().zip(cuts) {
        let start = end + cfg.min_gap + (cut - prev_cut);
        end = start + len;
        prev_cut = cut;
        spans.push((start, end));
    }
    spans
}

/// The sign of a spike or level shift: drawn for every polarity, so that the polarity
/// changes nothing else.
fn draw_sign(cfg: &SyntheticConfig, r: &mut ChaCha8Rng) -> f64 {
    let coin = r.gen::<bool>();
    match cfg.polarity {
        Polarity::Both if coin => 1.0,
        Polarity::Both | Polarity::Down => -1.0,
        Polarity::Up => 1.0,
    }
}

/// The triangular pulse of a spike at step `i` of `len`: 1 at the middle, falling
/// linearly towards the ends, positive at every step.
fn spike_shape(i: usize, len: usize) -> f64 {
    let centre = (len as f64 - 1.0) / 2.0;
    1.0 - (i as f64 - centre).abs() / (len as f64 / 2.0 + 0.5)
}

/// [`AnomalyTarget::Sensors`]: draws the region's sensors and disturbs each on its own;
/// returns them, ascending.
fn plant_on_sensors(
    cfg: &SyntheticConfig,
    mixture: &Mixture,
    r: &mut ChaCha8Rng,
    test: &mut Array2<f64>,
    kind: AnomalyKind,
    span: Range<usize>,
) -> Vec<usize> {
    let (start, end) = (span.start, span.end);
    let magnitude = f64::from(cfg.magnitude);
    let n = r.gen_range(cfg.sensors_per_anomaly.clone());
    let mut sensors = sample(r, cfg.n_sensors, n).into_vec();
    sensors.sort_unstable();
    let len = end - start;
    for &f in &sensors {
        let sign = draw_sign(cfg, r);
        // A fresh driver of the main factor's kind, for a correlation break.
        let fresh = (kind == AnomalyKind::CorrelationBreak)
            .then(|| factor(r, mixture.main[f].is_multiple_of(2), len));
        for (i, t) in (start..end).enumerate() {
            let delta = match kind {
                AnomalyKind::Spike => sign * 2.0 * magnitude * spike_shape(i, len),
                AnomalyKind::LevelShift => sign * magnitude,
                AnomalyKind::NoiseBurst => magnitude * normal(r),
                AnomalyKind::CorrelationBreak => {
                    let z_new = fresh.as_ref().map_or(0.0, |z| z[i]);
                    let abs_t = cfg.n_train + t;
                    let z_old = mixture.factors[[abs_t, mixture.main[f]]];
                    mixture.value_with_main(abs_t, f, z_new)
                        - mixture.value_with_main(abs_t, f, z_old)
                }
            };
            test[[t, f]] += delta;
        }
    }
    sensors
}

/// [`AnomalyTarget::Factor`]: draws one factor, adds the anomaly's shape to it (so every
/// sensor moves by its loading over its range) and returns the sensors whose mean
/// absolute displacement reaches `min_displacement`, ascending (at least the one that
/// moves most).
fn plant_on_factor(
    cfg: &SyntheticConfig,
    mixture: &Mixture,
    r: &mut ChaCha8Rng,
    test: &mut Array2<f64>,
    kind: AnomalyKind,
    span: Range<usize>,
) -> Vec<usize> {
    let (start, end) = (span.start, span.end);
    let len = end - start;
    let magnitude = f64::from(cfg.magnitude);
    let k = r.gen_range(0..cfg.n_factors);
    let sign = draw_sign(cfg, r);
    let fresh =
        (kind == AnomalyKind::CorrelationBreak).then(|| factor(r, k.is_multiple_of(2), len));
    let delta: Vec<f64> = (0..len)
        .map(|i| match kind {
            AnomalyKind::Spike => sign * 2.0 * magnitude * spike_shape(i, len),
            AnomalyKind::LevelShift => sign * magnitude,
            AnomalyKind::NoiseBurst => magnitude * normal(r),
            AnomalyKind::CorrelationBreak => {
                let z_new = fresh.as_ref().map_or(0.0, |z| z[i]);
                z_new - mixture.factors[[cfg.n_train + start + i, k]]
            }
        })
        .collect();
    let mean_abs = delta.iter().map(|d| d.abs()).sum::<f64>() / len as f64;
    let threshold = f64::from(cfg.min_displacement);
    let mut sensors = Vec::new();
    let (mut strongest, mut largest) = (0, f64::NEG_INFINITY);
    for f in 0..cfg.n_sensors {
        // The sensor's value is (Σ_j w_fj z_j − lo_f) / range_f: a change d of factor k
        // moves it by w_fk d / range_f.
        let gain = mixture.weights[[f, k]] / mixture.range[f];
        for (i, d) in delta.iter().enumerate() {
            test[[start + i, f]] += gain * d;
        }
        let displacement = gain.abs() * mean_abs;
        if displacement >= threshold {
            sensors.push(f);
        }
        if displacement > largest {
            (strongest, largest) = (f, displacement);
        }
    }
    if sensors.is_empty() {
        sensors.push(strongest);
    }
    sensors
}

/// Generates a machine; see the module docs for the model.
///
/// # Errors
/// As [`SyntheticConfig::check`].
pub fn generate(cfg: &SyntheticConfig) -> Result<SyntheticMachine> {
    cfg.check()?;
    let mixture = Mixture::draw(cfg);
    let mut series = mixture.series();
    let mut noise_rng = rng(cfg.seed, STREAM_NOISE);
    if cfg.noise > 0.0 && cfg.noise_spread > 0.0 {
        let mut r = rng(cfg.seed, STREAM_NOISE_SPREAD);
        let spread = f64::from(cfg.noise_spread);
        let sd: Vec<f64> = (0..cfg.n_sensors)
            .map(|_| f64::from(cfg.noise) * (spread * r.gen_range(-1.0..=1.0)).exp())
            .collect();
        // Row-major, as below: the same normal draws land on the same cells.
        for ((_, f), v) in series.indexed_iter_mut() {
            *v += sd[f] * normal(&mut noise_rng);
        }
    } else if cfg.noise > 0.0 {
        let sd = f64::from(cfg.noise);
        series.mapv_inplace(|v| v + sd * normal(&mut noise_rng));
    }
    let train = series.slice(s![..cfg.n_train, ..]).mapv(|v| v as f32);
    let clean = series.slice(s![cfg.n_train.., ..]).to_owned();
    let mut test = clean.clone();

    let mut r = rng(cfg.seed, STREAM_ANOMALIES);
    let spans = place_regions(cfg, &mut r);
    let mut regions = Vec::with_capacity(spans.len());
    let mut kinds = Vec::with_capacity(spans.len());
    let mut labels = vec![false; cfg.n_test];
    for (start, end) in spans {
        let kind = cfg.kinds[r.gen_range(0..cfg.kinds.len())];
        let sensors = match cfg.target {
            AnomalyTarget::Sensors => {
                plant_on_sensors(cfg, &mixture, &mut r, &mut test, kind, start..end)
            }
            AnomalyTarget::Factor => {
                plant_on_factor(cfg, &mixture, &mut r, &mut test, kind, start..end)
            }
        };
        labels[start..end].iter_mut().for_each(|l| *l = true);
        regions.push(
            Region::new(start, end, sensors).map_err(|source| DataError::Region {
                context: "synthetic".into(),
                source,
            })?,
        );
        kinds.push(kind);
    }
    Ok(SyntheticMachine {
        train,
        test: test.mapv(|v| v as f32),
        clean_test: clean.mapv(|v| v as f32),
        regions,
        kinds,
        labels,
    })
}
