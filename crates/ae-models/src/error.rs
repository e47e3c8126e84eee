//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while building, training, running, saving or loading an
/// autoencoder, or while preparing its data. Variants name the offending value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A tensor or array does not have the shape an operation needs.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was being checked (e.g. "LstmAe input").
        what: String,
        /// The expected shape, in words or as a pattern such as `[batch, 50, 38]`.
        expected: String,
        /// The shape that arrived.
        got: Vec<i64>,
    },
    /// A NaN or infinite value where finite numbers are required.
    #[error("{what}: non-finite value at flat index {index}")]
    NonFinite {
        /// What was being checked.
        what: String,
        /// Flat (row-major) index of the first non-finite value.
        index: usize,
    },
    /// A setting outside its allowed range.
    #[error("{what}: {param} = {value} {rule}")]
    InvalidParam {
        /// The model or routine whose setting is wrong.
        what: &'static str,
        /// The setting's name.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The rule it breaks, e.g. "must be at least 1".
        rule: &'static str,
    },
    /// A tensor had a dtype the operation does not support.
    #[error("{what}: unsupported dtype {dtype}")]
    UnsupportedDtype {
        /// What was being converted.
        what: &'static str,
        /// The dtype found, rendered with `{:?}`.
        dtype: String,
    },
    /// A saved model does not match the configuration it is loaded into.
    #[error("{path}: saved model does not match the configuration: {reason}")]
    ConfigMismatch {
        /// The file being loaded.
        path: String,
        /// What differs.
        reason: String,
    },
    /// A data file is missing, unreadable or malformed.
    #[error("{path}: {reason}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong with it, including the line number where there is one.
        reason: String,
    },
    /// A saved model's file is truncated, corrupt or not what its name says (for example a
    /// weights file whose header promises more bytes than it holds). Saving the model again
    /// (retraining it, for a cache) replaces the file.
    #[error("{path}: truncated or corrupt saved model file: {reason}")]
    CorruptFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Saving would replace a file that does not hold this very model (another kind or
    /// configuration, or a file this crate did not write). Nothing was written; save with
    /// [`crate::persist::Overwrite::Always`] to replace it on purpose.
    #[error("{path}: not overwritten: {reason}")]
    WouldOverwrite {
        /// The existing file.
        path: String,
        /// What it holds instead.
        reason: String,
    },
    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Training produced a NaN or infinite loss. The model is left holding the best
    /// weights seen before (its initial weights if no epoch finished).
    #[error("training diverged: {what} loss {loss} in epoch {epoch}; the model keeps its best earlier weights")]
    Diverged {
        /// Which loss ("training" or "validation").
        what: &'static str,
        /// The 1-based epoch.
        epoch: usize,
        /// The value seen.
        loss: f64,
    },
    /// An error inside one layer of a layer list, e.g. while [`crate::Sequential::new`]
    /// checks that the layers fit together.
    #[error("{source} (layer {index}, {kind})")]
    AtLayer {
        /// Position in the layer list.
        index: usize,
        /// The layer's kind, rendered (e.g. `Linear`).
        kind: String,
        /// What went wrong there.
        #[source]
        source: Box<ModelError>,
    },
    /// A TorchScript module that loads but does not behave as its detector needs: its
    /// `forward` fails on a batch of the given sample shape, or returns something other
    /// than one tensor.
    #[error("{path}: TorchScript module: {reason}")]
    TorchScript {
        /// The module's file.
        path: String,
        /// What went wrong, with the shapes involved.
        reason: String,
    },
    /// A JSON (de)serialisation failure, e.g. of a model configuration.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Makes serde deserialisation of `$ty` run `$ty::check`, so a value read from JSON obeys the
/// same rules as one built in code and a bad file fails where it is read, naming the value.
///
/// The type derives `Serialize` and `Deserialize` with `#[serde(remote = "Self")]`, which
/// turns the derived code into inherent functions; the trait impls written here call them
/// (inherent functions take precedence over trait methods in `<$ty>::deserialize`). The
/// other crates of the workspace use it for their checked settings too; the caller needs
/// `serde` as a dependency.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Debug, Serialize, Deserialize)]
/// #[serde(remote = "Self")]
/// struct Window { len: usize }
/// impl Window {
///     fn check(&self) -> Result<(), String> {
///         if self.len == 0 { Err(format!("len = {} must be at least 1", self.len)) } else { Ok(()) }
///     }
/// }
/// ae_models::checked_serde!(Window);
/// assert!(serde_json::from_str::<Window>(r#"{"len": 0}"#).unwrap_err().to_string().contains("len = 0"));
/// ```
#[macro_export]
macro_rules! checked_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <$ty>::deserialize(d)?;
                value.check().map_err(serde::de::Error::custom)?;
                Ok(value)
            }
        }
    };
}
pub use crate::checked_serde;
