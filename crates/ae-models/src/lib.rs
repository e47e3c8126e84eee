//! Autoencoders for anomaly detection on libtorch (via `tch`).
//!
//! Models expose their computation as an ordered list of typed [`layer::Layer`]s so that
//! explanation methods such as LRP can walk them backwards without guessing.

pub mod autoencoder;
pub mod convert;
pub mod error;
pub mod layer;

pub use autoencoder::Autoencoder;
pub use error::{ModelError, Result};
pub use layer::{Activation, Layer, LayerKind, LstmWeights};
