//! The one error type of the image module.

use thiserror::Error;

/// Everything that can go wrong while loading, preprocessing, generating or rendering
/// defect images. Variants name the offending path or value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageError {
    /// A directory or file that the layout requires does not exist.
    #[error("{path}: {what} not found")]
    Missing {
        /// The path that was looked for.
        path: String,
        /// What it should have been, e.g. "mask of test image `x.jpg`".
        what: String,
    },
    /// A folder exists but its content does not follow the expected layout (no images,
    /// a mask of a different size than its image, an unrecognised folder structure).
    #[error("{path}: {reason}")]
    Layout {
        /// The folder or file concerned.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read or written.
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
    /// A setting outside its allowed range, e.g.
    /// "gaussian blur: kernel = 4 must be odd and at least 1".
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
    /// An array or tensor of the wrong shape (an empty image, images of different sizes
    /// in one batch, a mask that does not match its image).
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was checked.
        what: String,
        /// The expected shape, in words or as a pattern.
        expected: String,
        /// The shape that arrived.
        got: Vec<usize>,
    },
    /// A NaN or infinite value in an image or a map.
    #[error("{what}: non-finite value at flat index {index}")]
    NonFinite {
        /// What was checked.
        what: String,
        /// Flat (row-major) index of the first non-finite value.
        index: usize,
    },
    /// Drawing a figure (text, layout) failed.
    #[error("drawing {what}: {reason}")]
    Draw {
        /// The figure being drawn.
        what: String,
        /// The backend's message.
        reason: String,
    },
    /// A conversion to or from tensors failed.
    #[error(transparent)]
    Model(#[from] ae_models::ModelError),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result alias of the image module.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;

/// Checks that every value of `values` is finite, naming `what` in the error.
pub(crate) fn check_finite<'a>(
    what: &str,
    values: impl IntoIterator<Item = &'a f32>,
) -> Result<()> {
    match values.into_iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ImageError::NonFinite {
            what: what.into(),
            index,
        }),
        None => Ok(()),
    }
}

/// Checks that a 2-D array is not empty, naming `what` in the error.
pub(crate) fn check_non_empty(what: &str, shape: &[usize]) -> Result<()> {
    if shape.contains(&0) {
        return Err(ImageError::ShapeMismatch {
            what: what.into(),
            expected: "at least 1×1 pixels".into(),
            got: shape.to_vec(),
        });
    }
    Ok(())
}
