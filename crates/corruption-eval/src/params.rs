//! Settings of the corruption generator, serialisable and checked once.

use serde::{Deserialize, Serialize};

use crate::corruption::Corruption;
use crate::error::{CorruptionError, Result};

/// Acceptance thresholds on the normalised anomaly score, one per corruption. A corrupted
/// sample is kept when its score is strictly greater than its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Null corruption (paper: 0.3).
    pub null: f64,
    /// Random corruption (paper: 0.5).
    pub random: f64,
    /// Adversarial corruption (paper: 0.3).
    pub adversarial: f64,
}

impl Default for Thresholds {
    /// The paper's values: 0.3 / 0.5 / 0.3 for null / random / adversarial.
    fn default() -> Self {
        Thresholds {
            null: 0.3,
            random: 0.5,
            adversarial: 0.3,
        }
    }
}

impl Thresholds {
    /// The threshold of `kind`.
    pub fn get(&self, kind: Corruption) -> f64 {
        match kind {
            Corruption::Null => self.null,
            Corruption::Random => self.random,
            Corruption::Adversarial => self.adversarial,
        }
    }
}

/// Settings of the adversarial corruption (paper 2, appendix A). The paper gives no
/// values; the defaults are ours, for features scaled to `[0, 1]`.
///
/// `θ` decides where the optimisation goes. Near a clean sample a smooth autoencoder
/// behaves like a projection, and moving `x_c` by `Δ` raises `φ(x, c)` and
/// `Σ_{i≠c} φ(x, i)` both roughly in proportion to `Δ²`; so for large `θ` the ascent walks
/// `x_c` back to its clean value (the sample stops being anomalous and is rejected by the
/// threshold), and for small `θ` it pushes `x_c` to the edge of its range. On the
/// breast-cancer table with a `DenseAe` `[16, 8]`, `θ ≥ 0.8` returned every one of 256
/// tries to below `T = 0.3`, while `θ = 0.5` kept about a fifth; hence the default 0.5.
///
/// Each step moves `x_c` by `α_b · sign(∂r_adv/∂x_c)` and clips it to the feature's
/// reference range `[lo_c, hi_c]`. The paper drops I-FGSM's ε-ball around the original
/// (its point 3); we keep the sample inside the data domain instead, which is also the
/// range the random corruption draws from. Every `halve_every` steps, a sample's step size
/// `α_b` is halved when, compared with `halve_every` steps earlier, `φ(x, c)` did not
/// decrease *and* `Σ_{i≠c} φ(x, i)` did not increase (the paper's step-size updater).
///
/// The result is the iterate with the largest `r_adv` along the trajectory (the starting
/// point included), not necessarily the last one: sign steps overshoot until the step
/// size has shrunk, and the best iterate is what the optimisation was after. So the
/// returned sample never has a smaller objective than the random corruption it started
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IfgsmParams {
    /// `θ ≥ 0`: weight of the corrupted feature's own error in `r_adv` (eq. 18).
    pub theta: f64,
    /// `α > 0`: the initial step size, in the data's units.
    pub alpha: f64,
    /// `k ≥ 1`: steps between two checks of the halving rule.
    pub halve_every: usize,
    /// Number of sign-gradient steps (at least 1).
    pub max_steps: usize,
}

impl Default for IfgsmParams {
    /// `θ = 0.5`, `α = 0.05`, `k = 10`, 100 steps.
    fn default() -> Self {
        IfgsmParams {
            theta: 0.5,
            alpha: 0.05,
            halve_every: 10,
            max_steps: 100,
        }
    }
}

/// All settings of [`CorruptionGenerator`](crate::CorruptionGenerator); checked when the generator is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorruptionParams {
    /// Acceptance thresholds on the normalised score, each in `[0, 1)`.
    pub thresholds: Thresholds,
    /// Adversarial (I-FGSM) settings.
    pub ifgsm: IfgsmParams,
    /// The value the null corruption writes (paper: 0). Must be finite.
    pub null_value: f32,
    /// Pool rows whose raw score is at most this quantile of the reference scores are
    /// clean (`(0, 1]`; default 0.5, the median).
    pub clean_quantile: f64,
    /// The quantile of the reference scores that normalises to 1 (`(0, 1]`; default 1.0,
    /// the largest reference score).
    pub score_upper_quantile: f64,
    /// Stop after this many tries per corruption even if fewer than `K` samples passed.
    pub max_tries: usize,
    /// Tries evaluated together (and rows per reconstruction call when scoring).
    pub batch_size: usize,
    /// Seed of the ChaCha8 stream that picks rows, features and random values.
    pub seed: u64,
}

impl Default for CorruptionParams {
    fn default() -> Self {
        CorruptionParams {
            thresholds: Thresholds::default(),
            ifgsm: IfgsmParams::default(),
            null_value: 0.0,
            clean_quantile: 0.5,
            score_upper_quantile: 1.0,
            max_tries: 100_000,
            batch_size: 256,
            seed: 0,
        }
    }
}

impl CorruptionParams {
    /// Checks every setting against its rule; the first violation is returned.
    pub fn check(&self) -> Result<()> {
        let bad =
            |param, value: String, rule| Err(CorruptionError::InvalidParam { param, value, rule });
        let unit = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
        for (param, v) in [
            ("thresholds.null", self.thresholds.null),
            ("thresholds.random", self.thresholds.random),
            ("thresholds.adversarial", self.thresholds.adversarial),
        ] {
            if !unit(v) {
                return bad(
                    param,
                    v.to_string(),
                    "must be in [0, 1) (scores are normalised to [0, 1])",
                );
            }
        }
        let p = &self.ifgsm;
        if !(p.theta.is_finite() && p.theta >= 0.0) {
            return bad(
                "ifgsm.theta",
                p.theta.to_string(),
                "must be finite and >= 0",
            );
        }
        if !(p.alpha.is_finite() && p.alpha > 0.0) {
            return bad("ifgsm.alpha", p.alpha.to_string(), "must be finite and > 0");
        }
        if p.halve_every == 0 {
            return bad("ifgsm.halve_every", "0".into(), "must be at least 1");
        }
        if p.max_steps == 0 {
            return bad("ifgsm.max_steps", "0".into(), "must be at least 1");
        }
        if !self.null_value.is_finite() {
            return bad("null_value", self.null_value.to_string(), "must be finite");
        }
        let quantile = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        if !quantile(self.clean_quantile) {
            return bad(
                "clean_quantile",
                self.clean_quantile.to_string(),
                "must be in (0, 1]",
            );
        }
        if !quantile(self.score_upper_quantile) {
            return bad(
                "score_upper_quantile",
                self.score_upper_quantile.to_string(),
                "must be in (0, 1]",
            );
        }
        if self.max_tries == 0 {
            return bad("max_tries", "0".into(), "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be at least 1");
        }
        Ok(())
    }
}
