//! Routing through layers without parameters: relevance is moved, never re-weighted.

use ae_models::layer::attention_weights;
use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::rule::{stabilize, Rule, DEFAULT_STABILIZER};

/// Moves relevance back along a parameter-free layer's wiring, conserving it exactly:
///
/// * activations (ReLU, sigmoid, tanh) pass relevance through unchanged (Zennit's `Pass`:
///   an element-wise non-linearity does not mix neurons, and LRP does not multiply by its
///   derivative);
/// * nearest upsampling sums the relevance of every copy back onto the source pixel;
/// * reshape / flatten reshape it back;
/// * `LastStep` puts it on the last time step, zeros elsewhere; `RepeatSteps` sums it over
///   time;
/// * feature attention `F·a ⊙ x` treats the attention weights as gates (signal-take-all,
///   as for LSTM gates): the relevance of each output goes to its input cell one to one.
///
/// It is not defined for dense, convolutional or LSTM layers.
///
/// **Deviations** ([`Rule::propagate_deviation`], for deviation LRP): routing layers are
/// linear and activations element-wise, so the relevance of an output's deviation from the
/// reference passes to the input's deviation unchanged — DeepLIFT's rescale rule in
/// relevance form (its multiplier `Δy/Δx` times `Δx` is `Δy`). Feature attention keeps the
/// attention weights as gates: of `Δy = F·(a ⊙ Δx + x₀ ⊙ Δa)` the signal keeps its share
/// and the gate's share `F·x₀ ⊙ Δa / stab(Δy)` (the changed attention acting on the
/// reference's input) is absorbed, so with `x₀ = 0` it is the plain pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass;

impl Rule for Pass {
    fn name(&self) -> String {
        "pass".into()
    }

    fn supports(&self, kind: LayerKind) -> bool {
        matches!(
            kind,
            LayerKind::Activation(_)
                | LayerKind::UpsampleNearest
                | LayerKind::Reshape
                | LayerKind::LastStep
                | LayerKind::RepeatSteps
                | LayerKind::FeatureAttention
        )
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        let a = input.size();
        let r = relevance.size();
        let mismatch = |expected: String| LrpError::ShapeMismatch {
            what: format!("relevance of the {:?} layer output", layer.kind()),
            expected,
            got: r.clone(),
        };
        match layer {
            Layer::Activation(_) | Layer::FeatureAttention { .. } => {
                if r != a {
                    return Err(mismatch(format!("the input's shape {a:?}")));
                }
                Ok(relevance.shallow_clone())
            }
            Layer::UpsampleNearest { scale } => {
                let s = *scale;
                let want = (a.len() == 4).then(|| vec![a[0], a[1], a[2] * s, a[3] * s]);
                if want.as_deref() != Some(r.as_slice()) {
                    return Err(mismatch(format!("the input {a:?} upsampled {s}×")));
                }
                Ok(relevance
                    .f_reshape([a[0], a[1], a[2], s, a[3], s])?
                    .f_sum_dim_intlist([3i64, 5].as_slice(), false, relevance.kind())?)
            }
            Layer::Reshape { .. } => {
                if r.first() != a.first() || r.iter().product::<i64>() != a.iter().product::<i64>()
                {
                    return Err(mismatch(format!("as many cells as the input {a:?}")));
                }
                Ok(relevance.f_reshape(&a)?)
            }
            Layer::LastStep => {
                if a.len() != 3 || r != [a[0], a[2]] {
                    return Err(mismatch(format!("[B, H] of the input {a:?}")));
                }
                let zeros = Tensor::f_zeros(
                    [a[0], a[1] - 1, a[2]],
                    (relevance.kind(), relevance.device()),
                )?;
                Ok(Tensor::f_cat(&[zeros, relevance.f_unsqueeze(1)?], 1)?)
            }
            Layer::RepeatSteps { steps } => {
                if a.len() != 2 || r != [a[0], *steps, a[1]] {
                    return Err(mismatch(format!(
                        "the input {a:?} repeated over {steps} steps"
                    )));
                }
                Ok(relevance.f_sum_dim_intlist([1i64].as_slice(), false, relevance.kind())?)
            }
            other => Err(LrpError::UnsupportedLayer {
                rule: self.name(),
                kind: other.kind(),
                layer: None,
            }),
        }
    }

    fn supports_deviation(&self, kind: LayerKind) -> bool {
        self.supports(kind)
    }

    fn propagate_deviation(
        &self,
        layer: &Layer,
        input: &Tensor,
        reference: &Tensor,
        relevance: &Tensor,
    ) -> Result<Tensor> {
        match layer {
            Layer::FeatureAttention { weight, bias } => {
                let f = *input.size().last().unwrap_or(&1) as f64;
                let a = attention_weights(input, weight, bias)?;
                let a0 = attention_weights(reference, weight, bias)?;
                let dy = layer.forward(input)?.f_sub(&layer.forward(reference)?)?;
                if relevance.size() != dy.size() {
                    return Err(LrpError::ShapeMismatch {
                        what: "relevance of the FeatureAttention layer output".into(),
                        expected: format!("the input's shape {:?}", dy.size()),
                        got: relevance.size(),
                    });
                }
                let gate = reference
                    .f_mul(&a.f_sub(&a0)?)?
                    .f_mul_scalar(f)?
                    .f_div(&stabilize(&dy, DEFAULT_STABILIZER)?)?;
                Ok(relevance.f_sub(&relevance.f_mul(&gate)?)?)
            }
            _ => self.propagate(layer, input, relevance),
        }
    }
}
