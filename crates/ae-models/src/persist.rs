//! Saving and loading trained models: weights as safetensors, configuration as JSON.
//!
//! A model saved to `dir/detector` becomes two files side by side:
//!
//! * `dir/detector.safetensors`: every parameter under its model-relative name
//!   ([`Trainable::parameters`]), f32, readable by any safetensors library (PyTorch:
//!   `safetensors.torch.load_file`);
//! * `dir/detector.json`: a [`Manifest`] with the model kind (`"LstmAe"`, ...), its
//!   configuration and every parameter's shape.
//!
//! (The extension of the given path, if any, is replaced.) Loading rebuilds the model from
//! the manifest alone, so a trained detector runs without its training code; the kind,
//! the configuration and every parameter's name and shape are checked before any weight is
//! copied, and any difference is a [`ModelError::ConfigMismatch`] naming it.

use std::collections::HashMap;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::attention::AttentionLstmAe;
use crate::autoencoder::{Autoencoder, Trainable};
use crate::conv::{ConvAe, ConvAeConfig};
use crate::dense::{DenseAe, DenseAeConfig};
use crate::error::{ModelError, Result};
use crate::layer::Layer;
use crate::lstm::{LstmAe, LstmAeConfig};

/// The `format` field of every manifest.
pub const FORMAT: &str = "anomaly-xai/ae-models";
/// The manifest version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The two files of a saved model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFiles {
    /// `<path>.safetensors`.
    pub weights: PathBuf,
    /// `<path>.json`.
    pub manifest: PathBuf,
}

impl SavedFiles {
    /// The files for `path`, its extension replaced.
    pub fn for_path(path: &Path) -> Self {
        SavedFiles {
            weights: path.with_extension("safetensors"),
            manifest: path.with_extension("json"),
        }
    }
}

/// The name and shape of one saved parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamShape {
    /// Model-relative name.
    pub name: String,
    /// Shape.
    pub shape: Vec<i64>,
}

/// The JSON side of a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at the time of writing.
    pub version: u32,
    /// The model type, [`SavedModel::KIND`].
    pub kind: String,
    /// The model's configuration, as its config type serialises.
    pub config: serde_json::Value,
    /// Every parameter, in the model's order.
    pub parameters: Vec<ParamShape>,
}

/// A model that can be rebuilt from its configuration, and therefore saved and loaded.
pub trait SavedModel: Trainable + Sized {
    /// The kind tag written to the manifest.
    const KIND: &'static str;
    /// The configuration type.
    type Config: Serialize + DeserializeOwned + PartialEq + Debug + Clone;

    /// The configuration the model was built from.
    fn saved_config(&self) -> &Self::Config;

    /// A fresh model of this configuration on `device` (its weights are then loaded).
    ///
    /// # Errors
    /// An invalid configuration.
    fn from_config(config: &Self::Config, device: Device) -> Result<Self>;

    /// Saves weights and manifest (see the module docs); creates missing parent folders.
    ///
    /// # Errors
    /// As [`save_model`].
    fn save(&self, path: impl AsRef<Path>) -> Result<SavedFiles> {
        save_model(self, path.as_ref())
    }

    /// Loads a model saved with [`SavedModel::save`] onto `device`.
    ///
    /// # Errors
    /// As [`load_model`].
    fn load(path: impl AsRef<Path>, device: Device) -> Result<Self> {
        load_model(path.as_ref(), device)
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn mismatch(path: &Path, reason: String) -> ModelError {
    ModelError::ConfigMismatch {
        path: path.display().to_string(),
        reason,
    }
}

/// Writes `model` to `<path>.safetensors` and `<path>.json`.
///
/// ```
/// use ae_models::{DenseAe, DenseAeConfig, persist::SavedModel};
/// let dir = std::env::temp_dir().join(format!("ae-models-doc-{}", std::process::id()));
/// let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![2]), tch::Device::Cpu, 0)?;
/// let files = ae.save(dir.join("dense"))?;
/// let back = DenseAe::load(dir.join("dense"), tch::Device::Cpu)?;
/// assert_eq!(back.config(), ae.config());
/// assert!(files.weights.ends_with("dense.safetensors"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::Io`] naming the file that could not be written; [`ModelError::Torch`] if
/// a parameter cannot be serialised.
pub fn save_model<M: SavedModel>(model: &M, path: &Path) -> Result<SavedFiles> {
    let files = SavedFiles::for_path(path);
    if let Some(parent) = files.weights.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let mut tensors = Vec::with_capacity(model.parameters().len());
    let mut shapes = Vec::with_capacity(model.parameters().len());
    for (name, t) in model.parameters() {
        let cpu = t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?;
        shapes.push(ParamShape {
            name: name.clone(),
            shape: cpu.size(),
        });
        tensors.push((name.clone(), cpu));
    }
    Tensor::write_safetensors(&tensors, &files.weights)
        .map_err(|e| io_error(&files.weights, std::io::Error::other(e.to_string())))?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        kind: M::KIND.into(),
        config: serde_json::to_value(model.saved_config())?,
        parameters: shapes,
    };
    let json = serde_json::to_string_pretty(&manifest)?;
    fs::write(&files.manifest, json + "\n").map_err(|e| io_error(&files.manifest, e))?;
    Ok(files)
}

/// Reads and checks the manifest of a saved model (`path`'s extension is replaced by
/// `.json`).
///
/// # Errors
/// [`ModelError::Io`] if it cannot be read; [`ModelError::Data`] if it is not a manifest
/// of a supported format and version.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let file = SavedFiles::for_path(path).manifest;
    let text = fs::read_to_string(&file).map_err(|e| io_error(&file, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ModelError::Data {
        path: file.display().to_string(),
        reason: format!("not a model manifest: {e}"),
    })?;
    if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
        return Err(ModelError::Data {
            path: file.display().to_string(),
            reason: format!(
                "format {:?} version {}, expected {FORMAT:?} version {FORMAT_VERSION}",
                manifest.format, manifest.version
            ),
        });
    }
    Ok(manifest)
}

fn config_of<M: SavedModel>(manifest: &Manifest, file: &Path) -> Result<M::Config> {
    if manifest.kind != M::KIND {
        return Err(mismatch(
            file,
            format!("the file holds a {}, not a {}", manifest.kind, M::KIND),
        ));
    }
    serde_json::from_value(manifest.config.clone()).map_err(|e| {
        mismatch(
            file,
            format!("config is not a valid {} config: {e}", M::KIND),
        )
    })
}

/// Loads a model saved with [`save_model`] onto `device`, rebuilding it from its manifest.
///
/// # Errors
/// As [`read_manifest`]; [`ModelError::ConfigMismatch`] for another model kind, an invalid
/// config, or weights whose names or shapes differ from what the config builds.
pub fn load_model<M: SavedModel>(path: &Path, device: Device) -> Result<M> {
    let manifest = read_manifest(path)?;
    let files = SavedFiles::for_path(path);
    let config = config_of::<M>(&manifest, &files.manifest)?;
    let model = M::from_config(&config, device)?;
    copy_weights(&model, &files.weights)?;
    Ok(model)
}

/// Loads saved weights into an existing model, which must have been built from the same
/// kind and configuration as the saved one.
///
/// # Errors
/// As [`load_model`]; a different configuration is a [`ModelError::ConfigMismatch`]
/// showing both.
pub fn load_weights_into<M: SavedModel>(model: &M, path: &Path) -> Result<()> {
    let manifest = read_manifest(path)?;
    let files = SavedFiles::for_path(path);
    let saved = config_of::<M>(&manifest, &files.manifest)?;
    if &saved != model.saved_config() {
        return Err(mismatch(
            &files.manifest,
            format!(
                "saved config {saved:?} differs from the model's {:?}",
                model.saved_config()
            ),
        ));
    }
    copy_weights(model, &files.weights)
}

/// Checks every name and shape first, then copies, so a failed load changes nothing.
fn copy_weights<M: Trainable + ?Sized>(model: &M, file: &Path) -> Result<()> {
    if let Err(e) = fs::metadata(file) {
        return Err(io_error(file, e));
    }
    let saved: HashMap<String, Tensor> = Tensor::read_safetensors(file)
        .map_err(|e| ModelError::Data {
            path: file.display().to_string(),
            reason: e.to_string(),
        })?
        .into_iter()
        .collect();
    for (name, p) in model.parameters() {
        let src = saved.get(name).ok_or_else(|| {
            mismatch(
                file,
                format!("parameter {name} is missing from the weights"),
            )
        })?;
        if src.size() != p.size() {
            return Err(mismatch(
                file,
                format!(
                    "parameter {name} has shape {:?} in the file, the model needs {:?}",
                    src.size(),
                    p.size()
                ),
            ));
        }
    }
    if saved.len() != model.parameters().len() {
        let mut extra: Vec<&String> = saved
            .keys()
            .filter(|k| !model.parameters().iter().any(|(n, _)| n == *k))
            .collect();
        extra.sort();
        return Err(mismatch(
            file,
            format!("the weights hold parameters the model lacks: {extra:?}"),
        ));
    }
    let _guard = tch::no_grad_guard();
    for (name, p) in model.parameters() {
        p.shallow_clone().f_copy_(&saved[name])?;
    }
    Ok(())
}

impl SavedModel for LstmAe {
    const KIND: &'static str = "LstmAe";
    type Config = LstmAeConfig;

    fn saved_config(&self) -> &LstmAeConfig {
        self.config()
    }

    fn from_config(config: &LstmAeConfig, device: Device) -> Result<Self> {
        LstmAe::seeded(config, device, 0)
    }
}

impl SavedModel for AttentionLstmAe {
    const KIND: &'static str = "AttentionLstmAe";
    type Config = LstmAeConfig;

    fn saved_config(&self) -> &LstmAeConfig {
        self.config()
    }

    fn from_config(config: &LstmAeConfig, device: Device) -> Result<Self> {
        AttentionLstmAe::seeded(config, device, 0)
    }
}

impl SavedModel for DenseAe {
    const KIND: &'static str = "DenseAe";
    type Config = DenseAeConfig;

    fn saved_config(&self) -> &DenseAeConfig {
        self.config()
    }

    fn from_config(config: &DenseAeConfig, device: Device) -> Result<Self> {
        DenseAe::seeded(config, device, 0)
    }
}

impl SavedModel for ConvAe {
    const KIND: &'static str = "ConvAe";
    type Config = ConvAeConfig;

    fn saved_config(&self) -> &ConvAeConfig {
        self.config()
    }

    fn from_config(config: &ConvAeConfig, device: Device) -> Result<Self> {
        ConvAe::seeded(config, device, 0)
    }
}

/// Any model of this crate, for loading a saved detector whose kind is known only from its
/// manifest.
///
/// ```
/// use ae_models::{persist::{load_any, AnyAutoencoder, SavedModel}, Autoencoder, LstmAe, LstmAeConfig};
/// let dir = std::env::temp_dir().join(format!("ae-models-any-{}", std::process::id()));
/// LstmAe::seeded(&LstmAeConfig::new(3, 5, 4), tch::Device::Cpu, 0)?.save(dir.join("m"))?;
/// let any = load_any(&dir.join("m"), tch::Device::Cpu)?;
/// assert_eq!(any.kind(), "LstmAe");
/// assert_eq!(any.sample_shape(), vec![5, 3]);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyAutoencoder {
    /// An [`LstmAe`].
    Lstm(LstmAe),
    /// An [`AttentionLstmAe`].
    AttentionLstm(AttentionLstmAe),
    /// A [`DenseAe`].
    Dense(DenseAe),
    /// A [`ConvAe`].
    Conv(ConvAe),
}

macro_rules! delegate {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AnyAutoencoder::Lstm($m) => $e,
            AnyAutoencoder::AttentionLstm($m) => $e,
            AnyAutoencoder::Dense($m) => $e,
            AnyAutoencoder::Conv($m) => $e,
        }
    };
}

impl AnyAutoencoder {
    /// The kind tag, as in the manifest.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyAutoencoder::Lstm(_) => LstmAe::KIND,
            AnyAutoencoder::AttentionLstm(_) => AttentionLstmAe::KIND,
            AnyAutoencoder::Dense(_) => DenseAe::KIND,
            AnyAutoencoder::Conv(_) => ConvAe::KIND,
        }
    }

    /// Saves the model (see [`save_model`]).
    ///
    /// # Errors
    /// As [`save_model`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<SavedFiles> {
        delegate!(self, m => m.save(path))
    }
}

impl Autoencoder for AnyAutoencoder {
    fn sample_shape(&self) -> Vec<i64> {
        delegate!(self, m => m.sample_shape())
    }

    fn layers(&self) -> &[Layer] {
        delegate!(self, m => m.layers())
    }

    fn device(&self) -> Device {
        delegate!(self, m => m.device())
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        delegate!(self, m => m.forward(x))
    }
}

impl Trainable for AnyAutoencoder {
    fn parameters(&self) -> &[(String, Tensor)] {
        delegate!(self, m => m.parameters())
    }
}

/// Loads whichever model `path` holds.
///
/// # Errors
/// As [`load_model`], and [`ModelError::ConfigMismatch`] for an unknown kind.
pub fn load_any(path: &Path, device: Device) -> Result<AnyAutoencoder> {
    let manifest = read_manifest(path)?;
    Ok(match manifest.kind.as_str() {
        LstmAe::KIND => AnyAutoencoder::Lstm(load_model(path, device)?),
        AttentionLstmAe::KIND => AnyAutoencoder::AttentionLstm(load_model(path, device)?),
        DenseAe::KIND => AnyAutoencoder::Dense(load_model(path, device)?),
        ConvAe::KIND => AnyAutoencoder::Conv(load_model(path, device)?),
        other => {
            return Err(mismatch(
                &SavedFiles::for_path(path).manifest,
                format!("unknown model kind {other:?}"),
            ))
        }
    })
}
