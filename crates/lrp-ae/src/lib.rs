//! Layer-wise Relevance Propagation for autoencoders: which input cells make up the
//! reconstruction error.
//!
//! Paper 2's method: the reconstruction error is moved onto the output neurons by the
//! Deep-Taylor reconstruction rule ([`seed`], exact for L1 and L2, for any
//! [`ae_models::ExplainedError`]), then propagated
//! back through the network with ordinary LRP rules chosen per layer by a composite
//! ([`Preset`], [`composite`]). The propagation walks the explicit layer list of an
//! [`ae_models::Autoencoder`] — dense, convolutional, upsampling, reshape, and, beyond the
//! paper, LSTM layers with the signal-take-all rule of Arras et al. ([`lstm`]).
//!
//! [`Lrp`] implements [`xai_attrib::Attribution`], so every harness runs it like any other
//! method; [`Lrp::explain`] also returns the per-layer relevance sums ([`LrpTrace`]) that
//! show where relevance is conserved and where biases or stabilisers absorb it.
//!
//! Module map: [`seed`] (reconstruction rule), [`rule`] (the rule trait and the shared
//! propagation engine), [`rules`] (z⁺, w², z-box, ε, γ, flat, pass), [`bound`] (z-box
//! bounds), [`lstm`], [`composite`], [`presets`], [`propagate`] (the sweep and its trace),
//! [`lrp`] (the method). The maths, a worked LSTM example and
//! measured results are in `docs/lrp.md`.

pub mod bound;
pub mod composite;
pub mod error;
pub mod lrp;
pub mod lstm;
pub mod presets;
pub mod propagate;
pub mod rule;
pub mod rules;
pub mod seed;

pub use bound::Bound;
pub use composite::{Composite, FirstLayer, InputSign, LayerClass, LayerCtx, LayerMap};
pub use error::{LrpError, Result};
pub use lrp::{Explanation, Lrp, LrpConfig};
pub use presets::{Preset, RuleSpec, SIGNED_EPSILON};
pub use propagate::{LrpTrace, TraceEntry};
pub use rule::{Rule, DEFAULT_STABILIZER};
