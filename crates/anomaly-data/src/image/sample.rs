//! One grayscale image with its optional defect mask: the unit every image routine of
//! this crate reads, transforms and writes.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Name of the group of defect-free images (training images and MVTec's `test/good`).
pub const GOOD_GROUP: &str = "good";

/// One grayscale image with its optional defect mask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSample {
    /// A name unique within its group (the file stem for loaded data).
    pub name: String,
    /// Pixels, `[height, width]`, values in `[0, 1]`.
    pub image: Array2<f32>,
    /// Defect mask of the same shape, 1.0 on defect pixels and 0.0 elsewhere; `None`
    /// for a defect-free image.
    pub mask: Option<Array2<f32>>,
    /// The defect group (class) this image belongs to, [`GOOD_GROUP`] when defect-free.
    pub group: String,
}

impl ImageSample {
    /// The mask, or an all-zero mask of the image's shape for a defect-free image.
    pub fn mask_or_zeros(&self) -> Array2<f32> {
        self.mask
            .clone()
            .unwrap_or_else(|| Array2::zeros(self.image.raw_dim()))
    }
}
