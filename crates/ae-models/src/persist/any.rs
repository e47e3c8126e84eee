//! Any model of this crate behind one type, for a saved detector whose kind is known only
//! from its manifest.

use std::path::Path;

use tch::{Device, Tensor};

use crate::attention::AttentionLstmAe;
use crate::conv::ConvAe;
use crate::dense::DenseAe;
use crate::error::Result;
use crate::layer::Layer;
use crate::layer_model::{LayerModel, Trainable};
use crate::lstm::LstmAe;
use crate::persist::{load_model, mismatch, read_manifest, Overwrite, SavedFiles, SavedModel};

/// Any model of this crate, for loading a saved detector whose kind is known only from its
/// manifest.
///
/// ```
/// use ae_models::{persist::{load_any, AnyAutoencoder, SavedModel}, LayerModel, LstmAe, LstmAeConfig};
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

    /// Saves the model without replacing another one (see [`save_model`](crate::persist::save_model)).
    ///
    /// # Errors
    /// As [`save_model`](crate::persist::save_model).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<SavedFiles> {
        delegate!(self, m => m.save(path))
    }

    /// Saves the model with an explicit [`Overwrite`] rule.
    ///
    /// # Errors
    /// As [`save_model`](crate::persist::save_model).
    pub fn save_with(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<SavedFiles> {
        delegate!(self, m => m.save_with(path, overwrite))
    }
}

impl LayerModel for AnyAutoencoder {
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
/// As [`load_model`], and [`ModelError::ConfigMismatch`](crate::ModelError::ConfigMismatch) for an unknown kind.
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
