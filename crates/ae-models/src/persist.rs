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
//! The extensions are *appended* to the given path, so `run-lr0.001` and `run-lr0.01` are
//! different models; a path that already ends in `.safetensors` or `.json` names the pair
//! without its extension (see [`SavedFiles::for_path`]).
//!
//! **Saving never replaces another model by accident.** By default ([`Overwrite::SameModel`])
//! existing files are replaced only when their manifest holds the same kind and
//! configuration, which is what re-saving a model (after training it again, say) looks
//! like; anything else is a [`ModelError::WouldOverwrite`] and nothing is written. Both
//! files are written under temporary names first and then renamed, so an interrupted save
//! leaves no half-written file under the real names.
//!
//! **Loading checks before it allocates.** It reads the manifest, computes from its
//! configuration the name and shape of every parameter the model will have (without
//! building it), compares them with the manifest and with the weights file's safetensors
//! header (names, shapes, dtype, byte ranges, file length), and only then builds the model
//! and copies the weights, each of which must be finite. A difference is a
//! [`ModelError::ConfigMismatch`], a truncated or malformed weights file a
//! [`ModelError::CorruptFile`], a NaN or infinite weight a [`ModelError::NonFinite`] naming
//! the tensor and the first bad index; all of them name the file.

mod any;
pub(crate) mod header;
pub(crate) mod shapes;

pub use any::{load_any, AnyAutoencoder};

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use self::header::{read_header, read_tensors, TensorInfo};
use crate::checks::check_finite;
use crate::error::{ModelError, Result};
use crate::layer_model::Trainable;

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
    /// The files for `path`: `.safetensors` and `.json` appended to it, after removing one
    /// of those two extensions if `path` already ends in it. Any other dot stays part of
    /// the name.
    ///
    /// ```
    /// use ae_models::persist::SavedFiles;
    /// use std::path::Path;
    /// let a = SavedFiles::for_path(Path::new("runs/lr0.001"));
    /// let b = SavedFiles::for_path(Path::new("runs/lr0.01"));
    /// assert_eq!(a.weights, Path::new("runs/lr0.001.safetensors"));
    /// assert_ne!(a.weights, b.weights);
    /// // Naming either file of the pair gives the same pair.
    /// assert_eq!(SavedFiles::for_path(Path::new("m.safetensors")), SavedFiles::for_path(Path::new("m")));
    /// assert_eq!(SavedFiles::for_path(Path::new("m.json")).manifest, Path::new("m.json"));
    /// ```
    pub fn for_path(path: &Path) -> Self {
        let base = match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors" | "json") => path.with_extension(""),
            _ => path.to_path_buf(),
        };
        let with = |ext: &str| {
            let mut name = OsString::from(base.as_os_str());
            name.push(ext);
            PathBuf::from(name)
        };
        SavedFiles {
            weights: with(".safetensors"),
            manifest: with(".json"),
        }
    }
}

/// What [`save_model`] may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overwrite {
    /// Replace existing files only when their manifest holds a model of the same kind and
    /// configuration (re-saving a model, e.g. a cache entry after retraining); refuse
    /// anything else: another kind or configuration, a file this crate cannot read as a
    /// manifest, a weights file without its manifest. The default.
    #[default]
    SameModel,
    /// Replace whatever is there.
    Always,
    /// Never replace an existing file.
    Never,
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

    /// The name and shape of every parameter a model of `config` has, in
    /// [`Trainable::parameters`] order, computed without allocating them: loading compares
    /// them with the files before it builds anything.
    ///
    /// # Errors
    /// An invalid configuration.
    fn parameter_shapes(config: &Self::Config) -> Result<Vec<ParamShape>>;

    /// Saves weights and manifest (see the module docs) without replacing another model
    /// ([`Overwrite::SameModel`]); creates missing parent folders.
    ///
    /// # Errors
    /// As [`save_model`].
    fn save(&self, path: impl AsRef<Path>) -> Result<SavedFiles> {
        save_model(self, path.as_ref(), Overwrite::SameModel)
    }

    /// [`SavedModel::save`] with an explicit [`Overwrite`] rule.
    ///
    /// # Errors
    /// As [`save_model`].
    fn save_with(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<SavedFiles> {
        save_model(self, path.as_ref(), overwrite)
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

/// Writes `model` to `<path>.safetensors` and `<path>.json` (see [`SavedFiles::for_path`]),
/// replacing existing files only as `overwrite` allows.
///
/// ```
/// use ae_models::{DenseAe, DenseAeConfig, ModelError, persist::{Overwrite, SavedModel}};
/// let dir = std::env::temp_dir().join(format!("ae-models-doc-{}", std::process::id()));
/// let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![2]), tch::Device::Cpu, 0)?;
/// let files = ae.save(dir.join("dense"))?;
/// let back = DenseAe::load(dir.join("dense"), tch::Device::Cpu)?;
/// assert_eq!(back.config(), ae.config());
/// assert!(files.weights.ends_with("dense.safetensors"));
/// // The same model again: fine. Another configuration: refused unless asked.
/// ae.save(dir.join("dense"))?;
/// let other = DenseAe::seeded(&DenseAeConfig::new(4, vec![3]), tch::Device::Cpu, 0)?;
/// assert!(matches!(other.save(dir.join("dense")), Err(ModelError::WouldOverwrite { .. })));
/// other.save_with(dir.join("dense"), Overwrite::Always)?;
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::WouldOverwrite`] naming an existing file that `overwrite` protects;
/// [`ModelError::InvalidParam`] for a path without a file name; [`ModelError::NonFinite`]
/// for a NaN or infinite weight (naming the tensor); [`ModelError::Io`] naming the file
/// that could not be written; [`ModelError::Torch`] if a parameter cannot be serialised.
pub fn save_model<M: SavedModel>(
    model: &M,
    path: &Path,
    overwrite: Overwrite,
) -> Result<SavedFiles> {
    let files = SavedFiles::for_path(path);
    if path.file_name().is_none() {
        return Err(ModelError::InvalidParam {
            what: "save_model",
            param: "path",
            value: format!("{path:?}"),
            rule: "must end in a file name",
        });
    }
    check_overwrite(model, &files, overwrite)?;
    if let Some(parent) = files.weights.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let mut tensors = Vec::with_capacity(model.parameters().len());
    let mut shapes = Vec::with_capacity(model.parameters().len());
    for (name, t) in model.parameters() {
        let cpu = t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?;
        check_finite(
            &cpu,
            &format!("not saving {}: parameter {name}", path.display()),
        )?;
        shapes.push(ParamShape {
            name: name.clone(),
            shape: cpu.size(),
        });
        tensors.push((name.clone(), cpu));
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        kind: M::KIND.into(),
        config: serde_json::to_value(model.saved_config())?,
        parameters: shapes,
    };
    let json = serde_json::to_string_pretty(&manifest)? + "\n";
    let (tmp_weights, tmp_manifest) = (partial(&files.weights), partial(&files.manifest));
    let written = Tensor::write_safetensors(&tensors, &tmp_weights)
        .map_err(|e| io_error(&files.weights, std::io::Error::other(e.to_string())))
        .and_then(|()| fs::write(&tmp_manifest, json).map_err(|e| io_error(&files.manifest, e)))
        .and_then(|()| {
            fs::rename(&tmp_weights, &files.weights).map_err(|e| io_error(&files.weights, e))
        })
        .and_then(|()| {
            fs::rename(&tmp_manifest, &files.manifest).map_err(|e| io_error(&files.manifest, e))
        });
    if written.is_err() {
        let _ = fs::remove_file(&tmp_weights);
        let _ = fs::remove_file(&tmp_manifest);
    }
    written.map(|()| files)
}

/// A temporary name beside `file`, unique to this process.
fn partial(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    file.with_file_name(name)
}

fn check_overwrite<M: SavedModel>(
    model: &M,
    files: &SavedFiles,
    overwrite: Overwrite,
) -> Result<()> {
    let exists = |p: &Path| p.symlink_metadata().is_ok();
    let refuse = |p: &Path, reason: String| {
        Err(ModelError::WouldOverwrite {
            path: p.display().to_string(),
            reason,
        })
    };
    let (weights, manifest) = (exists(&files.weights), exists(&files.manifest));
    if !(weights || manifest) || overwrite == Overwrite::Always {
        return Ok(());
    }
    if overwrite == Overwrite::Never {
        let p = if manifest {
            &files.manifest
        } else {
            &files.weights
        };
        return refuse(p, "the file exists and Overwrite::Never was asked".into());
    }
    if !manifest {
        return refuse(
            &files.weights,
            format!(
                "it has no manifest {} beside it, so it is not a model this crate saved",
                files.manifest.display()
            ),
        );
    }
    let saved = match read_manifest(&files.manifest) {
        Ok(m) => m,
        Err(e) => return refuse(&files.manifest, format!("it is not a model manifest ({e})")),
    };
    if saved.kind != M::KIND {
        return refuse(
            &files.manifest,
            format!("it holds a {}, this is a {}", saved.kind, M::KIND),
        );
    }
    match serde_json::from_value::<M::Config>(saved.config.clone()) {
        Ok(c) if &c == model.saved_config() => Ok(()),
        _ => refuse(
            &files.manifest,
            format!(
                "it holds a {} of configuration {}, this one has {}",
                M::KIND,
                saved.config,
                serde_json::to_value(model.saved_config())?
            ),
        ),
    }
}

/// Reads and checks the manifest of a saved model (the `.json` of
/// [`SavedFiles::for_path`]`(path)`).
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

/// The parameters `config` builds, checked against the manifest's list and the weights
/// file's header. Nothing is allocated but the header.
fn check_files<M: SavedModel>(
    config: &M::Config,
    manifest: &Manifest,
    files: &SavedFiles,
) -> Result<Vec<ParamShape>> {
    let expected = M::parameter_shapes(config).map_err(|e| {
        mismatch(
            &files.manifest,
            format!("config is not a valid {} config: {e}", M::KIND),
        )
    })?;
    if let Some(reason) = first_difference(&expected, &manifest.parameters) {
        return Err(mismatch(&files.manifest, reason));
    }
    let header = read_header(&files.weights)?;
    check_header(&expected, &header, &files.weights)?;
    Ok(expected)
}

/// How the manifest's parameter list differs from what the config builds, if it does.
fn first_difference(built: &[ParamShape], listed: &[ParamShape]) -> Option<String> {
    for (i, b) in built.iter().enumerate() {
        match listed.get(i) {
            None => {
                return Some(format!(
                    "the config builds parameter {} {:?}, which the manifest does not list",
                    b.name, b.shape
                ))
            }
            Some(l) if l != b => {
                return Some(format!(
                    "the config builds parameter {} with shape {:?}, the manifest lists {} with shape {:?}",
                    b.name, b.shape, l.name, l.shape
                ))
            }
            Some(_) => {}
        }
    }
    listed.get(built.len()).map(|l| {
        format!(
            "the manifest lists parameter {} {:?}, which the config does not build",
            l.name, l.shape
        )
    })
}

fn check_header(
    expected: &[ParamShape],
    header: &BTreeMap<String, TensorInfo>,
    file: &Path,
) -> Result<()> {
    for p in expected {
        let t = header.get(&p.name).ok_or_else(|| {
            mismatch(
                file,
                format!("parameter {} is missing from the weights", p.name),
            )
        })?;
        if t.shape != p.shape {
            return Err(mismatch(
                file,
                format!(
                    "parameter {} has shape {:?} in the file, the model needs {:?}",
                    p.name, t.shape, p.shape
                ),
            ));
        }
        if t.dtype != "F32" {
            return Err(mismatch(
                file,
                format!(
                    "parameter {} is stored as {}, the model holds F32",
                    p.name, t.dtype
                ),
            ));
        }
    }
    if header.len() != expected.len() {
        let extra: Vec<&String> = header
            .keys()
            .filter(|k| !expected.iter().any(|p| &p.name == *k))
            .collect();
        return Err(mismatch(
            file,
            format!("the weights hold parameters the model lacks: {extra:?}"),
        ));
    }
    Ok(())
}

/// Loads a model saved with [`save_model`] onto `device`, rebuilding it from its manifest
/// after checking the manifest against the weights file (see the module docs).
///
/// # Errors
/// As [`read_manifest`]; [`ModelError::ConfigMismatch`] for another model kind, an invalid
/// config, or a config, manifest and weights whose parameter names, shapes or dtypes
/// differ; [`ModelError::CorruptFile`] for a truncated or malformed weights file;
/// [`ModelError::NonFinite`] for a NaN or infinite weight, naming the tensor.
pub fn load_model<M: SavedModel>(path: &Path, device: Device) -> Result<M> {
    let manifest = read_manifest(path)?;
    let files = SavedFiles::for_path(path);
    let config = config_of::<M>(&manifest, &files.manifest)?;
    check_files::<M>(&config, &manifest, &files)?;
    let model = M::from_config(&config, device)?;
    copy_weights(&model, &files.weights)?;
    Ok(model)
}

/// Loads saved weights into an existing model, which must have been built from the same
/// kind and configuration as the saved one.
///
/// # Errors
/// As [`load_model`]; a different configuration is a [`ModelError::ConfigMismatch`]
/// showing both. A failed load leaves the model unchanged.
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
    check_files::<M>(&saved, &manifest, &files)?;
    copy_weights(model, &files.weights)
}

/// Reads the weights (whose header [`check_files`] accepted), checks every value is
/// finite, then copies, so a failed load changes nothing.
fn copy_weights<M: Trainable + ?Sized>(model: &M, file: &Path) -> Result<()> {
    let saved = read_tensors(file)?;
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
        check_finite(src, &format!("{}: parameter {name}", file.display()))?;
    }
    let _guard = tch::no_grad_guard();
    for (name, p) in model.parameters() {
        p.shallow_clone().f_copy_(&saved[name])?;
    }
    Ok(())
}
