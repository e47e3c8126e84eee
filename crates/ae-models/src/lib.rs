//! Autoencoders for anomaly detection on libtorch (via `tch`): the models of both papers,
//! their training, their data preparation and their persistence.
//!
//! | task | items |
//! |---|---|
//! | models | [`LstmAe`] (paper 1), [`AttentionLstmAe`], [`DenseAe`] (paper 2, tables), [`ConvAe`] (paper 2, images: [`ConvAeConfig::paper2`]) |
//! | the model contract | [`LayerModel`] (layer list + forward), [`Trainable`] (named parameters) |
//! | what explanations explain | [`Detector`] (a per-cell error, differentiable or not), [`ExplainedError`] (which cells' error, in which norm) |
//! | detectors that are not this crate's autoencoders | [`TorchScriptDetector`] (a PyTorch model exported to TorchScript), [`ArrayDetector`] (a closure over `ndarray`), [`LstmForecaster`] (the forecast error of a window's last steps) |
//! | models from given weights | [`Sequential`] (any layer list, e.g. a classifier), [`state_dict::StateDict`] (a PyTorch `state_dict` for `LstmAe`, `DenseAe`, `ConvAe`) |
//! | the layer list LRP walks | [`Layer`], [`LayerKind`], [`layer::forward_recording`] |
//! | training | [`train::train`] (any [`TrainableDetector`]), [`train::TrainConfig`], [`train::TrainSummary`] |
//! | data preparation | [`MinMaxScaler`], [`windows::sliding_windows`] (loaders live in `anomaly-data`) |
//! | scores | [`recon_error`]: per sample, per time step, per feature, per cell; L1 / L2; [`anomaly_scores`]: any detector's score per sample or per window of a series, arrays in and out |
//! | persistence | [`persist::SavedModel`] (`save` / `load`), [`persist::load_any`] |
//!
//! Models expose their computation as an ordered list of typed [`Layer`]s, and their
//! forward pass folds the input through that very list, so explanation methods such as LRP
//! can walk them backwards without guessing.
//!
//! ```
//! use ae_models::{recon_error::{score, ErrorNorm}, train::{train, TrainConfig}, LayerModel,
//!                 LstmAe, LstmAeConfig, MinMaxScaler, windows::sliding_windows_tensor};
//! use ndarray::Array2;
//! use tch::Device;
//!
//! // A toy series of 3 sensors; scale, window, train, score.
//! let raw = Array2::from_shape_fn((60, 3), |(t, f)| ((t as f32) * 0.3 + f as f32).sin());
//! let scaled = MinMaxScaler::fit(&raw.view())?.transform(&raw.view())?;
//! let series = ae_models::convert::array_to_tensor(&scaled.view().into_dyn(), Device::Cpu)?;
//! let windows = sliding_windows_tensor(&series, 10, 2)?;
//! let ae = LstmAe::seeded(&LstmAeConfig::new(3, 10, 8), Device::Cpu, 0)?;
//! let cfg = TrainConfig { epochs: 2, batch_size: 8, quiet: true, ..TrainConfig::default() };
//! let summary = train(&ae, &windows, &cfg)?;
//! assert_eq!(summary.epochs_run, 2);
//! let scores = score(&ae, &windows, ErrorNorm::L1, 64)?;
//! assert_eq!(scores.size(), vec![26]);
//! # Ok::<(), ae_models::ModelError>(())
//! ```

pub mod anomaly_scores;
pub mod array_detector;
pub mod attention;
pub mod checks;
pub mod conv;
pub mod convert;
pub mod dense;
pub mod detector;
pub mod error;
pub mod explained_error;
pub mod forecaster;
mod init;
pub mod layer;
pub mod layer_model;
pub mod lstm;
pub mod persist;
pub mod recon_error;
pub mod scaler;
pub mod sequential;
pub mod state_dict;
pub mod torchscript;
pub mod train;
pub mod windows;

pub use array_detector::ArrayDetector;
pub use attention::AttentionLstmAe;
pub use conv::{ConvAe, ConvAeConfig, ConvSpec};
pub use dense::{DenseAe, DenseAeConfig};
pub use detector::Detector;
pub use error::{ModelError, Result};
pub use explained_error::{CellRestriction, ExplainedError, OutputCells, ResolvedError};
pub use forecaster::{LstmForecaster, LstmForecasterConfig};
pub use layer::{Activation, Layer, LayerKind, LstmWeights};
pub use layer_model::{LayerModel, Trainable};
pub use lstm::{LstmAe, LstmAeConfig};
pub use persist::{AnyAutoencoder, SavedModel};
pub use recon_error::ErrorNorm;
pub use scaler::MinMaxScaler;
pub use sequential::Sequential;
pub use torchscript::TorchScriptDetector;
pub use train::TrainableDetector;
pub use windows::Windows;
