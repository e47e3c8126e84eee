//! Data for anomaly localization, in pure Rust (no libtorch): the series, tables and
//! images that detectors are trained on and explanations are scored against, with their
//! ground truth.
//!
//! | data | items |
//! |---|---|
//! | multi-sensor series in the SMD layout | [`SmdMachine`] (train, test, point labels, labelled regions), [`smd::parse_series`] |
//! | SMD label files | [`smd_labels`] (`interpretation_label`, `test_label`) |
//! | tables with a normal/anomalous flag | [`Table`]; [`CsvTable`] (any CSV with a header and a label column), [`load_breast_cancer`], [`load_nsl_kdd`] |
//! | a synthetic machine with planted anomalies | [`synthetic::generate`] |
//! | defect images with masks | [`image::DefectDataset`] (magnetic tile, MVTec, generic folders), [`image::preprocess`], [`image::augment`] |
//! | synthetic defect images from embedded CC0 textures | [`image::synthetic::generate`] |
//! | where the shared data lives | [`find_data_dir`] |
//!
//! Every loader fails with a [`DataError`] that names the file and line (and the column
//! of a table), every generator with one that names the setting and its value; nothing
//! panics on user input. Generators and splits take an explicit seed and give the same
//! data for the same seed on every machine and thread count.
//!
//! Labelled regions are [`loc_metrics::Region`]s, the type the localization scores of
//! `loc-metrics` take, with 0-based, end-exclusive time ranges and 0-based features.
//!
//! ```
//! use anomaly_data::synthetic::{generate, SyntheticConfig};
//! use anomaly_data::CsvTable;
//!
//! // A machine with planted anomalies, as an SMD machine.
//! let cfg = SyntheticConfig { n_train: 300, n_test: 200, n_anomalies: 2, ..SyntheticConfig::default() };
//! let machine = generate(&cfg)?.into_smd("synthetic-0");
//! assert_eq!(machine.test_labels.len(), 200);
//! assert_eq!(machine.regions.len(), 2);
//!
//! // A labelled table: `status` says which rows are normal.
//! let table = CsvTable::new("status", "ok").parse("x,y,status\n1,2,ok\n9,9,fault\n", "m.csv")?;
//! assert_eq!(table.normal_indices(), [0]);
//! # Ok::<(), anomaly_data::DataError>(())
//! ```

mod breast_cancer;
mod csv_table;
mod data_dir;
mod error;
#[cfg(feature = "image")]
pub mod image;
mod nsl_kdd;
pub mod smd;
pub mod smd_labels;
pub mod synthetic;
mod table;
mod text;

pub use breast_cancer::load_breast_cancer;
pub use csv_table::CsvTable;
pub use data_dir::find_data_dir;
pub use error::{check_finite, check_non_empty, DataError, Result};
pub use nsl_kdd::{load_nsl_kdd, load_nsl_kdd_file, NslKddSplit, NSL_KDD_CATEGORICAL};
pub use smd::{SmdFiles, SmdMachine};
pub use table::Table;
pub use text::read_text;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
