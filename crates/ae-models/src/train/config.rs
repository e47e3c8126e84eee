//! Training settings.

use crate::error::{ModelError, Result};
use crate::recon_error::ErrorNorm;

crate::checked_settings! {
/// How [`crate::train::train`] trains. The defaults follow paper 1: Adam with learning
/// rate 1e-3, mini-batches of 64, the last 20 % of the samples for validation and early
/// stopping, gradient-norm clipping at 5.0, the L1 (MAE) loss. The paper does not state
/// its epoch budget or patience; the defaults are 50 epochs and patience 5, and
/// [`TrainConfig::reference_protocol`] gives the measured reference run's 15 and 3.
///
/// Missing fields take their defaults, unknown fields are an error, and a config read with
/// serde is checked as [`TrainConfig::check`] does, so `{"epochs": 0}` fails where it is
/// read, not when training starts.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig with serde(default, deny_unknown_fields) {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mini-batch size (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Adam learning rate (betas 0.9 / 0.999, eps 1e-8, no weight decay: PyTorch's
    /// defaults).
    pub lr: f64,
    /// Fraction of the samples, taken from the *end* (time order kept), held out for
    /// validation; 0 disables validation, and then the training loss is monitored.
    pub val_fraction: f64,
    /// Stop after this many epochs without improvement of the monitored loss; `None`
    /// trains for all `epochs`. Either way the best epoch's weights are restored.
    pub patience: Option<usize>,
    /// Smallest decrease of the monitored loss that counts as an improvement.
    pub min_delta: f64,
    /// Rescale the gradients when their global L2 norm exceeds this; `None` disables.
    pub clip_norm: Option<f64>,
    /// Loss: mean cell error, L1 (MAE) or L2 (MSE).
    pub loss: ErrorNorm,
    /// Seed of the mini-batch shuffle. Models draw their initial weights separately (see
    /// their `seeded` constructors); with both fixed, runs on CPU repeat exactly.
    pub seed: u64,
    /// Whether to shuffle the training samples every epoch.
    pub shuffle: bool,
    /// Stop after the first epoch that ends later than this many seconds after the start.
    pub max_seconds: Option<f64>,
    /// Hide the progress bar even on a terminal.
    pub quiet: bool,
}
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 50,
            batch_size: 64,
            lr: 1e-3,
            val_fraction: 0.2,
            patience: Some(5),
            min_delta: 0.0,
            clip_norm: Some(5.0),
            loss: ErrorNorm::L1,
            seed: 0,
            shuffle: true,
            max_seconds: None,
            quiet: false,
        }
    }
}

impl TrainConfig {
    /// The protocol of the measured reference run of DESIGN §7b: the defaults with at
    /// most 15 epochs and patience 3.
    pub fn reference_protocol() -> Self {
        TrainConfig {
            epochs: 15,
            patience: Some(3),
            ..TrainConfig::default()
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] naming the first bad setting.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| {
            Err(ModelError::InvalidParam {
                what: "TrainConfig",
                param,
                value,
                rule,
            })
        };
        if self.epochs == 0 {
            return bad("epochs", "0".into(), "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr.to_string(), "must be finite and positive");
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            return bad(
                "val_fraction",
                self.val_fraction.to_string(),
                "must lie in [0, 1)",
            );
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return bad(
                "min_delta",
                self.min_delta.to_string(),
                "must be finite and non-negative",
            );
        }
        if let Some(c) = self.clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return bad("clip_norm", c.to_string(), "must be finite and positive");
            }
        }
        if let Some(s) = self.max_seconds {
            if !(s.is_finite() && s > 0.0) {
                return bad("max_seconds", s.to_string(), "must be finite and positive");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_setting_is_named() {
        let cases: Vec<(TrainConfig, &str)> = vec![
            (
                TrainConfig {
                    epochs: 0,
                    ..Default::default()
                },
                "epochs = 0",
            ),
            (
                TrainConfig {
                    batch_size: 0,
                    ..Default::default()
                },
                "batch_size = 0",
            ),
            (
                TrainConfig {
                    lr: -1.0,
                    ..Default::default()
                },
                "lr = -1",
            ),
            (
                TrainConfig {
                    lr: f64::NAN,
                    ..Default::default()
                },
                "lr = NaN",
            ),
            (
                TrainConfig {
                    val_fraction: 1.0,
                    ..Default::default()
                },
                "val_fraction = 1",
            ),
            (
                TrainConfig {
                    min_delta: -0.1,
                    ..Default::default()
                },
                "min_delta = -0.1",
            ),
            (
                TrainConfig {
                    clip_norm: Some(0.0),
                    ..Default::default()
                },
                "clip_norm = 0",
            ),
            (
                TrainConfig {
                    max_seconds: Some(f64::INFINITY),
                    ..Default::default()
                },
                "max_seconds = inf",
            ),
        ];
        for (cfg, needle) in cases {
            let err = cfg.check().unwrap_err().to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
        TrainConfig::default().check().unwrap();
        TrainConfig::reference_protocol().check().unwrap();
    }

    #[test]
    fn partial_json_fills_in_defaults_and_typos_are_rejected() {
        let cfg: TrainConfig = serde_json::from_str(r#"{"epochs": 3, "loss": "L2"}"#).unwrap();
        assert_eq!(cfg.epochs, 3);
        assert_eq!(cfg.loss, ErrorNorm::SquaredL2);
        assert_eq!(cfg.batch_size, 64);
        assert!(serde_json::from_str::<TrainConfig>(r#"{"epoch": 3}"#).is_err());
    }

    #[test]
    fn json_is_checked_like_code() {
        for (json, needle) in [
            (r#"{"epochs": 0}"#, "epochs = 0"),
            (r#"{"batch_size": 0}"#, "batch_size = 0"),
            (r#"{"lr": -0.5}"#, "lr = -0.5"),
            (r#"{"val_fraction": 1.5}"#, "val_fraction = 1.5"),
            (r#"{"clip_norm": 0.0}"#, "clip_norm = 0"),
            (r#"{"max_seconds": -1.0}"#, "max_seconds = -1"),
        ] {
            let err = serde_json::from_str::<TrainConfig>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
        let cfg = TrainConfig::reference_protocol();
        let back: TrainConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }
}
