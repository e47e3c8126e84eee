//! # anomaly-xai
//!
//! Tells the users of an anomaly detector *where* an anomaly is: which sensors of a
//! machine, which features of a record, which pixels of an image.
//!
//! This facade ties the workspace together:
//! - [`models`] (`ae-models`): LSTM, dense and convolutional autoencoders on libtorch;
//! - [`attrib`] (`xai-attrib`): the [`Attribution`](attrib::Attribution) trait and every
//!   saliency method (Occlusion, Kernel SHAP, Shapley sampling, IG, Gradient SHAP, ...);
//! - [`lrp`] (`lrp-ae`): Layer-wise Relevance Propagation for autoencoders;
//! - [`metrics`] (`loc-metrics`): localization scores (top-k IoU/F1/Acc, HitRate, NDCG,
//!   pixel AP, recall@m);
//! - [`data`] (`anomaly-data`): SMD series and labels, tables (breast cancer, NSL-KDD,
//!   any labelled CSV), defect images, the synthetic generators, augmentation;
//! - [`corruption`] (`corruption-eval` and its validation run): paper 2's corruptions.
//!
//! Its own parts are the pipelines that tie them together ([`localizer`],
//! [`corruption::validation`]), the image side that needs libtorch or drawing
//! ([`image`]), and the plots ([`plot`]).
//!
//! ## Features
//!
//! Both are on by default; the demo and the examples need them. A library that only
//! localizes can turn them off (`default-features = false`) and skips compiling their
//! dependencies.
//!
//! | feature | turns on | compiles |
//! |---|---|---|
//! | `plot` | [`plot`] (PNG charts: paper 1's sensor figure, paper 2's recall curves, bar charts), `corruption::validation::ValidationReport::panels` | `plotters` with its bitmap backend and font rasteriser, the embedded DejaVu Sans font |
//! | `image` | [`image`] (heatmaps, figure grids, image tensors) and `anomaly_data::image` (defect data sets, paper 2's preprocessing, augmentation, synthetic defect images) | the `image` crate with its PNG and JPEG codecs, `rayon`, `plotters` (grid labels), the embedded textures |
//!
//! Without them the series pipeline ([`localizer`]), every method ([`method`], [`attrib`],
//! [`lrp`]), the metrics, the table and series loaders and the corruption validation
//! remain.

pub use ae_models as models;
pub use anomaly_data as data;
pub use loc_metrics as metrics;
pub use lrp_ae as lrp;
pub use xai_attrib as attrib;

pub mod corruption;
pub mod error;
#[cfg(feature = "image")]
pub mod image;
pub mod localizer;
pub mod method;
#[cfg(feature = "plot")]
pub mod plot;
pub(crate) mod stats;

pub use error::{Error, Result};

/// The how-to `docs/your-detector.md`, compiled: every Rust snippet is a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/your-detector.md")]
struct YourDetectorDoctests;

/// The README's code sample, compiled.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
