//! # anomaly-xai-cli
//!
//! The `anomaly-xai` command (`cargo install --path crates/anomaly-xai-cli`):
//!
//! - `evaluate`: paper 1's sensor localization over a directory of entities in the SMD
//!   layout, the same run and tables as the `smd_localization` example
//!   ([`anomaly_xai_repro::localization`]); one shard of the entities per worker
//!   ([`shard`]), each entity's result written on its own with what produced it
//!   ([`output`]), skipped on a re-run when it exists and matches;
//! - `merge`: the per-entity results pooled into the report ([`merge`]).
//!
//! A fleet runs as many `evaluate` workers as the batch engine starts (a Kubernetes Indexed
//! Job, a Slurm array; `docs/deploy.md`), all writing to one output directory, then one
//! `merge`.

pub mod error;
pub mod evaluate;
pub mod merge;
pub mod output;
pub mod shard;

pub use error::{CliError, Result};
