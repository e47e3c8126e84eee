//! Pictures of images and maps: colormaps ([`colormap`]), heatmaps and PNG files
//! ([`heatmap`]) and figure grids like paper 2's Figure 3 ([`grid`]).
//!
//! Inputs are plain `ndarray` arrays (`[height, width]`), so nothing here needs libtorch;
//! model tensors become such arrays with `ae_models::convert` (per image: the reproduction
//! package's `image::tensor`).

pub mod colormap;
mod error;
pub mod grid;
pub mod heatmap;

pub use error::{ImageError, Result};
