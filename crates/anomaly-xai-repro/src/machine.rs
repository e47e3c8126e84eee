//! One machine of a multi-sensor data set made ready for localization (paper 1 §5.2):
//! min-max scaling fitted on the training half, windows, an LSTM autoencoder (and, when
//! asked, its attention variant) trained once and cached by everything that determines
//! its weights, training windows for baselines and normal windows for the comparison.

use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::{Device, Tensor};

use anomaly_xai::data::SmdMachine;
use anomaly_xai::error::{Error, Result};
use anomaly_xai::method::Context;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::persist::{Overwrite, SavedFiles, SavedModel};
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{AttentionLstmAe, LstmAe, LstmAeConfig, MinMaxScaler, Trainable};

/// How a machine is prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineSettings {
    /// Window length (paper 1: 50).
    pub window: usize,
    /// Stride of the training windows (1 in the paper; larger trains faster).
    pub train_stride: usize,
    /// Hidden size of the LSTM autoencoder (paper 1: 64).
    pub hidden: i64,
    /// Training settings.
    pub train: TrainConfig,
    /// Test values are clipped to `[-clip, clip]` after scaling (a test value far outside
    /// the training range must not dominate every window it is in).
    pub clip: f32,
    /// About this many normal reference windows, evenly spaced through the validation
    /// part of the training windows (the last `train.val_fraction`), which training never
    /// fitted.
    pub reference_windows: i64,
    /// At most this many training windows, evenly spaced, for baselines built from
    /// training data (means, background sets).
    pub baseline_windows: i64,
    /// Also train the attention variant (for the attention read-out).
    pub attention: bool,
}

impl Default for MachineSettings {
    fn default() -> Self {
        MachineSettings {
            window: 50,
            train_stride: 10,
            hidden: 64,
            train: TrainConfig {
                epochs: 20,
                patience: Some(3),
                ..TrainConfig::default()
            },
            clip: 3.0,
            reference_windows: 32,
            baseline_windows: 2048,
            attention: true,
        }
    }
}

/// A machine ready for [`anomaly_xai::localizer::Localizer::run`].
pub struct PreparedMachine {
    /// The machine's name.
    pub name: String,
    /// The scaler fitted on the training half.
    pub scaler: MinMaxScaler,
    /// The scaled (and clipped) test half `[T, F]`.
    pub test: Array2<f32>,
    /// The detector.
    pub model: LstmAe,
    /// Its attention variant, when asked for.
    pub attention: Option<AttentionLstmAe>,
    /// Training windows for baselines.
    pub baseline_windows: Tensor,
    /// Normal reference windows.
    pub reference: Tensor,
    /// Training windows in all.
    pub n_train_windows: usize,
    /// Seconds spent training (0 when every model came from the cache).
    pub train_seconds: f64,
    /// `sha256:` and the hex SHA-256 of every weight of the detector (and of its
    /// attention variant), names and shapes included ([`fingerprint`]): equal exactly when
    /// the trained weights are.
    pub fingerprint: String,
}

impl PreparedMachine {
    /// Scales, windows and trains (or loads from `cache`, unless `retrain`) for `machine`.
    ///
    /// # Errors
    /// Invalid settings, data that does not fit them, training or cache failures. A cached
    /// model that does not load is reported with its path and a hint to retrain.
    pub fn prepare(
        machine: &SmdMachine,
        settings: &MachineSettings,
        cache: Option<&Path>,
        retrain: bool,
    ) -> Result<Self> {
        if settings.train_stride == 0 || settings.window == 0 {
            return Err(Error::InvalidSetting {
                setting: "window / train_stride",
                value: format!("{} / {}", settings.window, settings.train_stride),
                rule: "must both be at least 1".into(),
            });
        }
        if settings.reference_windows < 2 || settings.baseline_windows < 1 {
            return Err(Error::InvalidSetting {
                setting: "reference_windows / baseline_windows",
                value: format!(
                    "{} / {}",
                    settings.reference_windows, settings.baseline_windows
                ),
                rule: "need at least 2 reference windows and 1 baseline window".into(),
            });
        }
        settings.train.check()?;
        let scaler = MinMaxScaler::fit(&machine.train.view())?;
        let train_scaled = scaler.transform(&machine.train.view())?;
        let test = scaler
            .with_clip(-settings.clip, settings.clip)?
            .transform(&machine.test.view())?;
        let windows =
            sliding_windows(&train_scaled.view(), settings.window, settings.train_stride)?;
        let train_t = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
        let config = LstmAeConfig::new(
            machine.n_features() as i64,
            settings.window as i64,
            settings.hidden,
        );
        let key = cache_key(machine, &config, settings);
        let stem = |kind: &str| cache.map(|dir| dir.join(format!("{}-{kind}-{key}", machine.name)));
        let mut train_seconds = 0.0;
        let model = train_or_load(
            stem("lstm").as_deref(),
            retrain,
            || LstmAe::seeded(&config, Device::Cpu, 0),
            &train_t,
            &settings.train,
            &mut train_seconds,
        )?;
        let attention = if settings.attention {
            Some(train_or_load(
                stem("attention").as_deref(),
                retrain,
                || AttentionLstmAe::seeded(&config, Device::Cpu, 0),
                &train_t,
                &settings.train,
                &mut train_seconds,
            )?)
        } else {
            None
        };
        let n = train_t.size()[0];
        let step = (n / settings.baseline_windows).max(1);
        let baseline_windows = train_t.f_slice(0, 0, n, step)?;
        let val_start = n - (n as f64 * settings.train.val_fraction) as i64;
        let ref_step = ((n - val_start) / settings.reference_windows).max(1);
        let reference = train_t.f_slice(0, val_start, n, ref_step)?;
        let mut params = vec![model.parameters()];
        if let Some(a) = &attention {
            params.push(a.parameters());
        }
        let fingerprint = fingerprint(&params)?;
        Ok(PreparedMachine {
            name: machine.name.clone(),
            scaler,
            test,
            model,
            attention,
            baseline_windows,
            reference,
            n_train_windows: windows.starts.len(),
            train_seconds,
            fingerprint,
        })
    }

    /// The context the localizer explains: the detector, its attention variant, the
    /// baseline and the reference windows.
    pub fn context(&self) -> Context<'_> {
        Context {
            detector: &self.model,
            attention: self.attention.as_ref(),
            train: Some(&self.baseline_windows),
            reference: Some(&self.reference),
        }
    }
}

/// `sha256:` and the hex SHA-256 of the named parameters of one or more models
/// ([`Trainable::parameters`]), in order: each one's name, shape and f32 values
/// (little-endian). Two detectors have the same fingerprint exactly when their weights
/// are equal bit for bit.
///
/// # Errors
/// A parameter that cannot be read as f32.
pub fn fingerprint(models: &[&[(String, Tensor)]]) -> Result<String> {
    let mut h = Sha256::new();
    for params in models {
        for (name, t) in params.iter() {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            for d in t.size() {
                h.update(d.to_le_bytes());
            }
            let values = Vec::<f32>::try_from(t.detach().to_device(Device::Cpu).flatten(0, -1))
                .map_err(|e| Error::InvalidSetting {
                    setting: "detector",
                    value: name.clone(),
                    rule: format!("has a parameter that is not f32 ({e})"),
                })?;
            for v in values {
                h.update(v.to_le_bytes());
            }
        }
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

/// A key of everything that determines the trained weights: the SHA-256 of the training
/// half (shape and values), the model configuration, the training settings that change
/// the weights and the stride, as 16 hex digits. Stable across builds and machines, so
/// that workers of one fleet share a cache directory.
fn cache_key(machine: &SmdMachine, model: &LstmAeConfig, settings: &MachineSettings) -> String {
    let mut h = Sha256::new();
    for d in machine.train.shape() {
        h.update((*d as u64).to_le_bytes());
    }
    for v in machine.train.iter() {
        h.update(v.to_le_bytes());
    }
    h.update(serde_json::to_string(model).unwrap_or_default());
    // Only what changes the weights: progress output does not.
    let train = TrainConfig {
        quiet: false,
        ..settings.train.clone()
    };
    h.update(serde_json::to_string(&train).unwrap_or_default());
    h.update((settings.train_stride as u64).to_le_bytes());
    let digest = format!("{:x}", h.finalize());
    digest[..16].to_string()
}

/// The model saved under `stem` when there is one (and no retraining is asked for), else
/// a new one from `build`, trained on `data` and saved under `stem`.
fn train_or_load<M: SavedModel>(
    stem: Option<&Path>,
    retrain: bool,
    build: impl FnOnce() -> anomaly_xai::models::Result<M>,
    data: &Tensor,
    cfg: &TrainConfig,
    seconds: &mut f64,
) -> Result<M> {
    if let Some(stem) = stem {
        if !retrain && SavedFiles::for_path(stem).manifest.exists() {
            if !cfg.quiet {
                eprintln!("  loading cached weights {}", stem.display());
            }
            return M::load(stem, Device::Cpu).map_err(|e| Error::InvalidSetting {
                setting: "cached model",
                value: stem.display().to_string(),
                rule: format!("does not load ({e}); run again with --retrain (or delete it)"),
            });
        }
    }
    let model = build()?;
    let summary = train(&model, data, cfg)?;
    *seconds += summary.seconds;
    if !cfg.quiet {
        eprintln!("  {summary}");
    }
    if let Some(stem) = stem {
        if let Some(dir) = stem.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        // The cache key names everything the weights depend on, so replacing the entry
        // (a retrain, or a damaged manifest) is what is meant.
        model.save_with(stem, Overwrite::Always)?;
    }
    Ok(model)
}
