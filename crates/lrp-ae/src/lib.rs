//! Layer-wise Relevance Propagation for autoencoders: which input cells make up the
//! reconstruction error.
//!
//! Paper 2's method: the reconstruction error is moved onto the output neurons by the
//! Deep-Taylor reconstruction rule ([`seed`], exact for L1 and L2, for any
//! [`ae_models::ExplainedError`]), then propagated
//! back through the network with ordinary LRP rules chosen per layer by a composite
//! ([`Preset`], [`composite`]). The propagation walks the explicit layer list of an
//! [`ae_models::LayerModel`] — dense, convolutional, upsampling, reshape, and, beyond the
//! paper, LSTM layers with the signal-take-all rule of Arras et al. ([`lstm`]).
//!
//! [`OutputLrp`] starts from any other output relevance instead (Zennit's `attr_output`: a
//! logit, a one-hot target, a given tensor), for any layer-list model, e.g. a classifier.
//!
//! [`Lrp`] implements [`xai_attrib::Attribution`], so every harness runs it like any other
//! method; [`Lrp::explain`] also returns the per-layer relevance sums ([`LrpTrace`]) that
//! show where relevance is conserved and where biases or stabilisers absorb it.
//!
//! [`deviation`] explains instead the deviation of the error from its value at a reference
//! point (the training mean, or the input's own reconstruction), with the ε rule on
//! deviations ([`rules::DeltaEpsilon`], DeepLIFT's rescale rule in LRP form): a sensor that
//! drops gets relevance as one that rises does, where paper 2's rules follow the signal
//! present and miss it ([`Preset::Deviation`]).
//!
//! Module map: [`seed`] (reconstruction rule), [`mod@attr_output`] (any output relevance),
//! [`rule`] (the rule trait and the shared propagation engine), [`rules`] (z⁺, w², z-box, ε,
//! γ, flat, pass, Δ-ε), [`bound`] (z-box bounds), [`lstm`], [`lstm_deviation`],
//! [`deviation`], [`composite`], [`presets`],
//! [`propagate`] (the sweep and its trace), [`lrp`] (the method). The maths, a worked LSTM
//! example and
//! measured results are in `docs/lrp.md`.

pub mod attr_output;
pub mod bound;
pub mod composite;
pub mod deviation;
pub mod error;
pub mod lrp;
pub mod lstm;
pub mod lstm_deviation;
pub mod presets;
pub mod propagate;
pub mod rule;
pub mod rules;
pub mod seed;

pub use attr_output::{attr_output, OutputCell, OutputExplanation, OutputLrp, OutputRelevance};
pub use bound::Bound;
pub use composite::{ByIndex, Composite, FirstLayer, InputSign, LayerClass, LayerCtx, LayerMap};
pub use deviation::{DeviationExplanation, Root, RootPoint};
pub use error::{LrpError, Result};
pub use lrp::{Explanation, Lrp, LrpConfig};
pub use presets::{
    epsilon_gamma_box, CompositeSpec, Preset, RuleSpec, DEVIATION_EPSILON, SIGNED_EPSILON,
};
pub use propagate::{LrpTrace, TraceEntry};
pub use rule::{Rule, DEFAULT_STABILIZER};
