//! Images with pixel-level defects: the data side (loading, paper 2's preprocessing,
//! augmentation, a synthetic defect set with exact masks) from `anomaly-data`, the
//! pictures (colormaps, heatmaps, figure grids) from `anomaly-xai-plot`, both re-exported
//! here.
//!
//! Paper 2's image experiment, piece by piece:
//!
//! | step | here |
//! |---|---|
//! | read a folder of defect-free and defective images with masks | [`DefectDataset::load`] (magnetic-tile, MVTec and a generic [`Layout`]) |
//! | or make one from CC0 textures with pasted blobs and scratches | [`synthetic::generate`] |
//! | grayscale, Gaussian filter (kernel 3, σ 0.5), resize to 128×128 | [`preprocess::Preprocess::paper2`] |
//! | 10 % validation, random rotations and flips | [`augment::train_val_split`], [`augment::Augment`] |
//! | batches for the model, `[N, 1, S, S]` | `anomaly_xai_repro::image::tensor` |
//! | explain every defective image with every method ([`crate::method::MethodSpec`]) | [`crate::method::PreparedMethod::explain`] |
//! | heatmaps and a Figure-3-like grid as PNG | [`heatmap::write_map_png`], [`grid::Grid`] |
//!
//! The whole experiment (train, explain, score per defect group) is the reproduction
//! package's image pipeline (`anomaly_xai_repro::image`), which `examples/image_defects.rs`
//! runs.
//!
//! ```
//! use anomaly_xai::image::{augment, preprocess::Preprocess, synthetic};
//! let cfg = synthetic::SyntheticConfig { size: 32, crop: 64, n_train: 10, n_test_per_group: 2, ..Default::default() };
//! let data = synthetic::generate(&cfg)?.preprocess(&Preprocess::with_size(32))?;
//! let (train, val) = augment::train_val_split(&data.train, 0.1, 0)?;
//! let train = augment::Augment::default().expand(&train, 40, 1)?;
//! assert_eq!((train.len(), train[0].image.dim()), (40, (32, 32)));
//! assert_eq!(val.len(), 1);
//! # Ok::<(), anomaly_xai::data::DataError>(())
//! ```

pub use anomaly_data::image::{augment, dataset, preprocess, sample, synthetic};
pub use anomaly_data::image::{DefectDataset, ImageSample, Layout, GOOD_GROUP};
pub use anomaly_xai_plot::image::{colormap, grid, heatmap, ImageError, Result};
