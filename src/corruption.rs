//! Corruption-based validation of explanations (paper 2, §4.1 and appendix A).
//!
//! The corruptions themselves (null, random, adversarial I-FGSM), their settings and the
//! score normaliser are the `corruption-eval` crate, re-exported here; see its docs for
//! the protocol. The whole experiment on a real table (train, corrupt, explain with each
//! method, recall@m, timing) is the reproduction package's corruption run
//! (`anomaly_xai_repro::corruption`); `examples/corruption_validation.rs` is its command
//! line.
//!
//! ```no_run
//! use anomaly_xai::corruption::{Corruption, CorruptionGenerator, CorruptionParams};
//! # fn demo(ae: &dyn ae_models::LayerModel, train: &tch::Tensor, pool: &tch::Tensor)
//! #     -> Result<(), anomaly_xai::corruption::CorruptionError> {
//! let recon = |x: &tch::Tensor| ae.forward(x);
//! let generator = CorruptionGenerator::new(&recon, train, CorruptionParams::default())?;
//! let set = generator.generate(pool, Corruption::Adversarial, 100)?;
//! println!("{} samples in {} tries", set.samples.len(), set.summary.tries);
//! # Ok(()) }
//! ```

pub use corruption_eval::*;
