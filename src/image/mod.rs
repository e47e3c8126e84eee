//! Images with pixel-level defects: the data side (loading, paper 2's preprocessing,
//! augmentation, a synthetic defect set with exact masks) from `anomaly-data`, re-exported
//! here, plus what needs libtorch or a drawing backend: batches for the model, heatmaps
//! and figure grids.
//!
//! The pipeline of paper 2's image experiment (section 4.2), piece by piece:
//!
//! | step | here |
//! |---|---|
//! | read a folder of defect-free and defective images with masks | [`DefectDataset::load`] (magnetic-tile, MVTec and a generic [`Layout`]) |
//! | or make one from CC0 textures with pasted blobs and scratches | [`synthetic::generate`] |
//! | grayscale, Gaussian filter (kernel 3, σ 0.5), resize to 128×128 | [`preprocess::Preprocess::paper2`] |
//! | 10 % validation, random rotations and flips | [`augment::train_val_split`], [`augment::Augment`] |
//! | batches for the model, `[N, 1, S, S]` | [`tensor::samples_to_tensor`], [`tensor::tensor_to_maps`] |
//! | heatmaps and a Figure-3-like grid as PNG | [`heatmap::write_map_png`], [`grid::Grid`] |
//! | all of it: train, explain, score per defect group | [`pipeline`]: [`train_image_model`], [`ImageLocalizer`], [`ImageRun`] |
//!
//! ```
//! use anomaly_xai::image::{augment, preprocess::Preprocess, synthetic, tensor};
//! let cfg = synthetic::SyntheticConfig { size: 32, crop: 64, n_train: 10, n_test_per_group: 2, ..Default::default() };
//! let data = synthetic::generate(&cfg)?.preprocess(&Preprocess::with_size(32))?;
//! let (train, val) = augment::train_val_split(&data.train, 0.1, 0)?;
//! let train = augment::Augment::default().expand(&train, 40, 1)?;
//! let x = tensor::samples_to_tensor(&train, tch::Device::Cpu)?;
//! assert_eq!(x.size(), vec![40, 1, 32, 32]);
//! assert_eq!(val.len(), 1);
//! # Ok::<(), anomaly_xai::image::ImageError>(())
//! ```

pub mod colormap;
pub mod error;
pub mod grid;
pub mod heatmap;
pub mod pipeline;
pub mod tensor;

pub use anomaly_data::image::{augment, dataset, preprocess, sample, synthetic};
pub use anomaly_data::image::{DefectDataset, ImageSample, Layout, GOOD_GROUP};
pub use error::{ImageError, Result};
pub use pipeline::{
    paper2_methods, train_image_model, ImageLocalizer, ImageModelSettings, ImageRun,
};
