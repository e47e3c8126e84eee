//! The error type of image rendering: heatmaps, colormaps and figure grids.

use thiserror::Error;

/// Everything that can go wrong while rendering heatmaps and figures, or while loading,
/// preprocessing or generating the images they show ([`ImageError::Data`]). Variants name the offending path or value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Loading, preprocessing, augmenting or generating images failed (`anomaly-data`),
    /// or an image or map given to a renderer is empty or not finite.
    #[error(transparent)]
    Data(#[from] anomaly_data::DataError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be decoded or encoded as an image.
    #[error("{path}: {source}")]
    Codec {
        /// The file.
        path: String,
        /// The underlying error of the `image` crate.
        #[source]
        source: ::image::ImageError,
    },
    /// A setting outside its allowed range, e.g. "grid: cell = 0 must be in 1..=4096
    /// pixels".
    #[error("{what}: {param} = {value} {rule}")]
    InvalidParam {
        /// The routine whose setting is wrong.
        what: &'static str,
        /// The setting.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// An array or tensor of the wrong shape (images of different sizes in one batch, a
    /// panel of another size than its grid's cells).
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was checked.
        what: String,
        /// The expected shape, in words or as a pattern.
        expected: String,
        /// The shape that arrived.
        got: Vec<usize>,
    },
    /// Drawing a figure (text, layout) failed.
    #[error("drawing {what}: {reason}")]
    Draw {
        /// The figure being drawn.
        what: String,
        /// The backend's message.
        reason: String,
    },
}

/// Result alias of the image module.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;
