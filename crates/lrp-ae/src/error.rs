//! The one error type of this crate.

use ae_models::checks::first_non_finite;
use ae_models::{LayerKind, LayerModel, ModelError};
use tch::Tensor;
use thiserror::Error;
use xai_attrib::XaiError;

/// Everything that can go wrong while propagating relevance. Variants name the offending
/// value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LrpError {
    /// The composite assigns no rule to a layer. A layer without a rule is an error, never a
    /// silent pass-through.
    #[error("layer {layer} ({kind:?}): the composite assigns no rule to it")]
    NoRule {
        /// Index of the layer in the model's layer list.
        layer: usize,
        /// The layer's kind.
        kind: LayerKind,
    },
    /// A rule was asked to propagate through a layer kind it is not defined for (e.g. z+
    /// through an LSTM).
    #[error("rule `{rule}` is not defined for {kind:?} layers{}", at_layer(.layer))]
    UnsupportedLayer {
        /// The rule's name.
        rule: String,
        /// The layer's kind.
        kind: LayerKind,
        /// Index of the layer, where known.
        layer: Option<usize>,
    },
    /// A rule without a deviation form (z⁺, w², z-box, flat, γ, ε) in the composite of a
    /// deviation LRP, which needs `delta-epsilon` on layers with parameters and `pass`
    /// elsewhere.
    #[error("rule `{rule}` does not propagate deviations from a reference, on a {kind:?} layer{}; deviation LRP takes delta-epsilon on dense, convolutional and LSTM layers and pass elsewhere", at_layer(.layer))]
    NoDeviationRule {
        /// The rule's name.
        rule: String,
        /// The layer's kind.
        kind: LayerKind,
        /// Index of the layer, where known.
        layer: Option<usize>,
    },
    /// A tensor of the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// What was checked.
        what: String,
        /// The expected shape, in words or as a pattern.
        expected: String,
        /// The shape that arrived.
        got: Vec<i64>,
    },
    /// A NaN or infinite value where finite numbers are required.
    #[error("{what}: non-finite value at flat index {index}")]
    NonFinite {
        /// What was checked.
        what: String,
        /// Flat (row-major) index of the first non-finite value.
        index: usize,
    },
    /// A setting outside its allowed range, e.g. "epsilon: eps = -1 must be finite and ≥ 0".
    #[error("{what}: {param} = {value} {rule}")]
    InvalidParam {
        /// The rule, seed or selection whose setting is wrong.
        what: &'static str,
        /// The setting's name.
        param: &'static str,
        /// The rejected value, rendered.
        value: String,
        /// The constraint it breaks.
        rule: &'static str,
    },
    /// An input that is unusable for another reason than its shape: an integer dtype, no
    /// values, a feature mask with out-of-range group ids.
    #[error("{what}: {reason}")]
    InvalidInput {
        /// What was checked.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Every cell's relevance is zero while the explained error is not: the rules' biases
    /// and stabilisers absorbed all of it, typically because the model's output does not
    /// depend on its input (a collapsed model; see `ae_models::train::TrainSummary`).
    #[error(
        "relevance vanished for {count} sample(s), first sample {sample}: its explained \
         error {error:.3e} was absorbed by biases and stabilisers, none reached the input \
         (does the model's output depend on its input?)"
    )]
    VanishedRelevance {
        /// The first sample whose relevance vanished.
        sample: usize,
        /// How many samples of the batch.
        count: usize,
        /// That sample's explained error.
        error: f64,
    },
    /// An error from the model (e.g. its forward pass rejected the input).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A libtorch failure.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

fn at_layer(layer: &Option<usize>) -> String {
    layer.map(|l| format!(" (layer {l})")).unwrap_or_default()
}

/// Result alias of this crate.
pub type Result<T, E = LrpError> = std::result::Result<T, E>;

/// Harnesses see LRP through [`xai_attrib::Attribution`], whose error type is
/// [`XaiError`]. Variants map one to one where `XaiError` has a counterpart; the three
/// composite errors (no rule, rule undefined for a layer, no deviation form) become an invalid input named
/// "lrp composite", with the layer and kind in the reason.
impl From<XaiError> for LrpError {
    fn from(e: XaiError) -> Self {
        match e {
            XaiError::ShapeMismatch {
                what,
                expected,
                got,
            } => LrpError::ShapeMismatch {
                what,
                expected,
                got,
            },
            XaiError::NonFinite { what, index } => LrpError::NonFinite { what, index },
            XaiError::InvalidInput { what, reason } => LrpError::InvalidInput { what, reason },
            XaiError::Model(m) => LrpError::Model(m),
            XaiError::Torch(t) => LrpError::Torch(t),
            other => LrpError::InvalidInput {
                what: "lrp".into(),
                reason: other.to_string(),
            },
        }
    }
}

impl From<LrpError> for XaiError {
    fn from(e: LrpError) -> Self {
        match e {
            e @ (LrpError::NoRule { .. }
            | LrpError::UnsupportedLayer { .. }
            | LrpError::NoDeviationRule { .. }) => XaiError::InvalidInput {
                what: "lrp composite".into(),
                reason: e.to_string(),
            },
            LrpError::ShapeMismatch {
                what,
                expected,
                got,
            } => XaiError::ShapeMismatch {
                what,
                expected,
                got,
            },
            LrpError::NonFinite { what, index } => XaiError::NonFinite { what, index },
            LrpError::InvalidParam {
                what: _,
                param,
                value,
                rule,
            } => XaiError::InvalidParam {
                method: "lrp",
                param,
                value,
                rule,
            },
            LrpError::InvalidInput { what, reason } => XaiError::InvalidInput { what, reason },
            e @ LrpError::VanishedRelevance { .. } => XaiError::InvalidInput {
                what: "lrp".into(),
                reason: e.to_string(),
            },
            LrpError::Model(m) => XaiError::Model(m),
            LrpError::Torch(t) => XaiError::Torch(t),
        }
    }
}

/// Fails with [`LrpError::NonFinite`] naming `what` and the flat index of the first NaN or
/// infinite value of `t`.
pub(crate) fn check_finite(what: &str, t: &Tensor) -> Result<()> {
    match first_non_finite(t)? {
        None => Ok(()),
        Some(index) => Err(LrpError::NonFinite {
            what: what.into(),
            index,
        }),
    }
}

/// Checks `x` at the public boundary (one check for every LRP entry point) and moves it to
/// the model's device and to the dtype of its first parameter.
pub(crate) fn checked_input<A: LayerModel + ?Sized>(model: &A, x: &Tensor) -> Result<Tensor> {
    xai_attrib::validate::check_batch("lrp", x)?;
    ae_models::layer_model::check_batch(model, x)?;
    let kind = model
        .layers()
        .iter()
        .find_map(|l| l.parameters().first().map(|(_, p)| p.kind()))
        .unwrap_or(x.kind());
    Ok(x.f_to_device(model.device())?.f_to_kind(kind)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_layer_and_the_value() {
        let e = LrpError::UnsupportedLayer {
            rule: "z+".into(),
            kind: LayerKind::Lstm,
            layer: Some(3),
        };
        assert_eq!(
            e.to_string(),
            "rule `z+` is not defined for Lstm layers (layer 3)"
        );
        let e = LrpError::NoRule {
            layer: 2,
            kind: LayerKind::Conv2d,
        };
        assert!(e.to_string().contains("layer 2 (Conv2d)"), "{e}");
        let x: XaiError = e.into();
        assert!(x.to_string().contains("layer 2 (Conv2d)"), "{x}");
        let x: XaiError = LrpError::NonFinite {
            what: "input".into(),
            index: 7,
        }
        .into();
        assert!(matches!(x, XaiError::NonFinite { index: 7, .. }));
    }
}
