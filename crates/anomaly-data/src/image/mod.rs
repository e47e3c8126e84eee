//! Images with pixel-level defects: loading, paper 2's preprocessing, augmentation, and a
//! synthetic defect set with exact masks.
//!
//! | step | here |
//! |---|---|
//! | read a folder of defect-free and defective images with masks | [`DefectDataset::load`] (magnetic-tile, MVTec and a generic [`Layout`]) |
//! | or make one from CC0 textures with pasted blobs and scratches | [`synthetic::generate`] |
//! | grayscale, Gaussian filter (kernel 3, σ 0.5), resize to 128×128 | [`preprocess::Preprocess::paper2`] |
//! | 10 % validation, random rotations and flips | [`augment::train_val_split`], [`augment::Augment`] |
//!
//! Images are `Array2<f32>` `[height, width]` in `[0, 1]`; one image with its mask is an
//! [`ImageSample`]. Turning samples into model batches and heatmaps into figures needs
//! libtorch and a plotting backend, so it lives in the `anomaly-xai` facade.
//!
//! ```
//! use anomaly_data::image::{augment, preprocess::Preprocess, synthetic};
//! let cfg = synthetic::SyntheticConfig { size: 32, crop: 64, n_train: 10, n_test_per_group: 2, ..Default::default() };
//! let data = synthetic::generate(&cfg)?.preprocess(&Preprocess::with_size(32))?;
//! let (train, val) = augment::train_val_split(&data.train, 0.1, 0)?;
//! let train = augment::Augment::default().expand(&train, 40, 1)?;
//! assert_eq!((train.len(), val.len()), (40, 1));
//! assert_eq!(train[0].image.dim(), (32, 32));
//! # Ok::<(), anomaly_data::DataError>(())
//! ```

pub mod augment;
pub mod dataset;
pub mod preprocess;
pub mod sample;
pub mod synthetic;

pub use dataset::{DefectDataset, Layout};
pub use sample::{ImageSample, GOOD_GROUP};
