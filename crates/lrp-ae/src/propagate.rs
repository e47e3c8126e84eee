//! The backward sweep: from the output relevance, layer by layer, to the input.

use std::sync::Arc;

use ae_models::convert::tensor_to_f64s;
use ae_models::explained_error::per_sample_sum;
use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::composite::{layer_contexts, Composite};
use crate::error::{LrpError, Result};
use crate::rule::Rule;

/// Relevance sums of one layer's input, per sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEntry {
    /// Position in the layer list.
    pub index: usize,
    /// The layer's kind.
    pub kind: LayerKind,
    /// The rule that propagated through it.
    pub rule: String,
    /// `Σ R` over the layer's input cells, one value per sample.
    pub input_sums: Vec<f64>,
}

/// Per-layer relevance sums of one sweep, for conservation checks: in a conservative
/// network every `input_sums` equals `output_sums`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrpTrace {
    /// `Σ R` of the output layer (the seed) per sample.
    pub output_sums: Vec<f64>,
    /// One entry per layer, in layer order (the sweep itself runs backwards).
    pub layers: Vec<TraceEntry>,
}

impl LrpTrace {
    /// The largest `|Σ R_in(layer) − Σ R_out| / max(|Σ R_out|, floor)` over layers and
    /// samples: how far the sweep is from conserving relevance.
    pub fn max_relative_gap(&self, floor: f64) -> f64 {
        self.layers
            .iter()
            .flat_map(|l| l.input_sums.iter().zip(&self.output_sums))
            .map(|(r, o)| (r - o).abs() / o.abs().max(floor))
            .fold(0.0, f64::max)
    }
}

/// The rule of every layer, checked before any computation: a layer without a rule or with
/// a rule not defined for its kind is an error naming the layer.
pub fn resolve_rules(layers: &[Layer], composite: &dyn Composite) -> Result<Vec<Arc<dyn Rule>>> {
    let contexts = layer_contexts(layers);
    composite.check_layers(&contexts)?;
    contexts
        .iter()
        .map(|ctx| {
            let rule = composite.rule(ctx).ok_or(LrpError::NoRule {
                layer: ctx.index,
                kind: ctx.kind,
            })?;
            if !rule.supports(ctx.kind) {
                return Err(LrpError::UnsupportedLayer {
                    rule: rule.name(),
                    kind: ctx.kind,
                    layer: Some(ctx.index),
                });
            }
            Ok(rule)
        })
        .collect()
}

/// Propagates `r_out` (shaped like the model output) back through `layers` with `rules`
/// (one per layer, from [`resolve_rules`]), given the recorded activations `acts`
/// (`acts[l]` is the input of layer `l`, as from [`ae_models::layer::forward_recording`]).
/// Returns the input relevance and the per-layer trace. Runs under no-grad.
pub fn propagate(
    layers: &[Layer],
    rules: &[Arc<dyn Rule>],
    acts: &[Tensor],
    r_out: &Tensor,
) -> Result<(Tensor, LrpTrace)> {
    if rules.len() != layers.len() || acts.len() != layers.len() + 1 {
        return Err(LrpError::ShapeMismatch {
            what: "propagation inputs".into(),
            expected: format!(
                "{} rules and {} activations",
                layers.len(),
                layers.len() + 1
            ),
            got: vec![rules.len() as i64, acts.len() as i64],
        });
    }
    let out = &acts[layers.len()];
    if r_out.size() != out.size() {
        return Err(LrpError::ShapeMismatch {
            what: "output relevance".into(),
            expected: format!("the model output's shape {:?}", out.size()),
            got: r_out.size(),
        });
    }
    tch::no_grad(|| {
        let output_sums = tensor_to_f64s(&per_sample_sum(r_out)?)?;
        let mut entries = Vec::with_capacity(layers.len());
        let mut r = r_out.shallow_clone();
        for (index, (layer, rule)) in layers.iter().zip(rules).enumerate().rev() {
            let input = &acts[index];
            r = rule.propagate(layer, input, &r).map_err(|e| match e {
                LrpError::UnsupportedLayer {
                    rule,
                    kind,
                    layer: None,
                } => LrpError::UnsupportedLayer {
                    rule,
                    kind,
                    layer: Some(index),
                },
                other => other,
            })?;
            if r.size() != input.size() {
                return Err(LrpError::ShapeMismatch {
                    what: format!(
                        "relevance returned by rule `{}` for layer {index}",
                        rule.name()
                    ),
                    expected: format!("the layer input's shape {:?}", input.size()),
                    got: r.size(),
                });
            }
            entries.push(TraceEntry {
                index,
                kind: layer.kind(),
                rule: rule.name(),
                input_sums: tensor_to_f64s(&per_sample_sum(&r)?)?,
            });
        }
        entries.reverse();
        Ok((
            r,
            LrpTrace {
                output_sums,
                layers: entries,
            },
        ))
    })
}
