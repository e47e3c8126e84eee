//! # anomaly-xai
//!
//! Tells the users of an anomaly detector *where* an anomaly is: which sensors of a
//! machine, which features of a record, which pixels of an image.
//!
//! For a live alarm without labels, [`explainer::Explainer`] is fitted once from a detector
//! and normal data and answers "which sensors?" for any span (see its module docs and
//! `docs/your-detector.md`). To score methods against labelled anomalies, as the papers do:
//! a detector, some methods and labelled anomalies in, a table of localization scores out:
//!
//! ```
//! use anomaly_xai::data::synthetic::{generate, Regime, SyntheticConfig};
//! use anomaly_xai::localizer::{Localizer, LocalizerConfig};
//! use anomaly_xai::method::{Context, MethodSpec};
//! use anomaly_xai::metrics::Protocol;
//! use anomaly_xai::models::convert::array_to_tensor;
//! use anomaly_xai::models::train::{train, TrainConfig};
//! use anomaly_xai::models::windows::sliding_windows;
//! use anomaly_xai::models::{ErrorNorm, LstmAe, LstmAeConfig, MinMaxScaler};
//! use tch::Device;
//!
//! // A small synthetic machine whose faults each move a few sensors, with their labels.
//! let cfg = SyntheticConfig { n_sensors: 8, n_train: 600, n_test: 400, n_anomalies: 3, min_gap: 40, anomaly_len: 8..=16, ..Regime::FewSensors.config(0) };
//! let machine = generate(&cfg)?;
//! // A detector: an LSTM autoencoder trained on windows of the scaled normal half.
//! let scaler = MinMaxScaler::fit(&machine.train.view())?;
//! let windows = sliding_windows(&scaler.transform(&machine.train.view())?.view(), 16, 4)?;
//! let normal = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
//! let model = LstmAe::seeded(&LstmAeConfig::new(8, 16, 16), Device::Cpu, 0)?;
//! train(&model, &normal, &TrainConfig { epochs: 2, quiet: true, ..TrainConfig::default() })?;
//! // Which sensors each labelled anomaly of the test half points at, scored per region.
//! let ctx = Context { reference: Some(&normal), ..Context::new(&model) };
//! let config = LocalizerConfig { window: 16, progress: false, ..LocalizerConfig::default() };
//! let localizer = Localizer::new(config, vec![MethodSpec::residual(ErrorNorm::L1)]);
//! let test = scaler.transform(&machine.test.view())?;
//! let run = localizer.run(&ctx, test.view(), &machine.regions, &Protocol::paper())?;
//! println!("{}", run.table()?.to_markdown());
//! # Ok::<(), anomaly_xai::Error>(())
//! ```
//!
//! [`defaults::methods`] is the set of methods to start from; `docs/your-detector.md`
//! walks through a detector of one's own (PyTorch, plain Rust, a forecaster).
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
//! - [`corruption`] (`corruption-eval`): paper 2's corruptions;
//! - `plot` and the pictures of [`image`] (`anomaly-xai-plot`): PNG charts, heatmaps and
//!   figure grids.
//!
//! Its own parts are the one method list and its context ([`method`]), the library's
//! default set of methods ([`defaults`]), the live-alarm explainer ([`explainer`]), the
//! series pipeline ([`localizer`]), the bridge and the one error ([`Error`]). It re-exports
//! the [`tch`] and [`ndarray`] it is built with.
//! The papers' experiments (SMD machine preparation and caching, paper 1's method sets,
//! the corruption validation run, the image pipeline) are the unpublished
//! `anomaly-xai-repro` package, which the examples run.
//!
//! ## Features
//!
//! Both are on by default; the demo and the examples need them. A library that only
//! localizes can turn them off (`default-features = false`) and skips compiling their
//! dependencies.
//!
//! | feature | turns on | compiles |
//! |---|---|---|
//! | `plot` | `plot` (PNG charts: paper 1's sensor figure, paper 2's recall curves, error curves, bar charts) | `anomaly-xai-plot`: `plotters` with its bitmap backend and font rasteriser, the embedded DejaVu Sans font |
//! | `image` | [`image`] (heatmaps, figure grids) and `anomaly_data::image` (defect data sets, paper 2's preprocessing, augmentation, synthetic defect images) | the `image` crate with its PNG and JPEG codecs, `rayon`, `anomaly-xai-plot` (heatmaps and grids, whose labels plotters draws), the embedded textures |
//!
//! Without them the series pipeline ([`localizer`]), every method ([`method`], [`attrib`],
//! [`lrp`]), the metrics, the corruptions and the table and series loaders remain.

pub use ae_models as models;
pub use anomaly_data as data;
#[cfg(feature = "plot")]
pub use anomaly_xai_plot as plot;
pub use loc_metrics as metrics;
pub use lrp_ae as lrp;
/// The `ndarray` this crate is built with (series are `ndarray::Array2<f32>`).
pub use ndarray;
/// The `tch` (libtorch) this crate is built with, so a user's code needs no second copy
/// to keep in step.
pub use tch;
pub use xai_attrib as attrib;

pub mod corruption;
pub mod defaults;
pub mod error;
pub mod explainer;
#[cfg(feature = "image")]
pub mod image;
pub mod localizer;
pub mod method;

pub use error::{Error, Result};

/// The how-to `docs/your-detector.md`, compiled: every Rust snippet is a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/your-detector.md")]
struct YourDetectorDoctests;

/// The README's code sample, compiled.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
