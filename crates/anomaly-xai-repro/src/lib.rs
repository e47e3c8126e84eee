//! # anomaly-xai-repro
//!
//! The experiments of the two papers that anomaly-xai reproduces, built on the library
//! (`anomaly-xai`) and run by its examples, tests and benches. Not published: a user's
//! program needs the library only.
//!
//! - [`machine`]: one SMD machine made ready for the series localizer (paper 1 §5.2):
//!   scaling, windows, an LSTM autoencoder trained once and cached by everything that
//!   determines its weights, baseline and reference windows;
//! - [`paper1`]: paper 1's Table 1 as method sets and report columns;
//! - [`localization`]: paper 1's localization over SMD machines as the
//!   `smd_localization` example and the `anomaly-xai evaluate` command run it (their shared
//!   flags, one machine's run, the pooled report);
//! - [`corruption`]: paper 2's corruption validation on a real table, end to end;
//! - `image` (feature `image`): paper 2's defect-image experiment: train a convolutional
//!   autoencoder, explain every defective image, score pixel AP per defect group, draw the
//!   figure grids.
//!
//! The pages of `docs/reproduction/` give each experiment's command, tables and reading.

pub mod corruption;
#[cfg(feature = "image")]
pub mod image;
pub mod localization;
pub mod machine;
pub mod paper1;

pub use machine::{MachineSettings, PreparedMachine};
