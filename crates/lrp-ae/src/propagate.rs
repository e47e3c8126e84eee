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
    resolve_with(layers, composite, false)
}

/// As [`resolve_rules`], for deviation LRP: every rule must propagate deviations from a
/// reference ([`Rule::supports_deviation`]), else [`LrpError::NoDeviationRule`] names the
/// rule and the layer.
pub fn resolve_deviation_rules(
    layers: &[Layer],
    composite: &dyn Composite,
) -> Result<Vec<Arc<dyn Rule>>> {
    resolve_with(layers, composite, true)
}

fn resolve_with(
    layers: &[Layer],
    composite: &dyn Composite,
    deviation: bool,
) -> Result<Vec<Arc<dyn Rule>>> {
    let contexts = layer_contexts(layers);
    composite.check_layers(&contexts)?;
    contexts
        .iter()
        .map(|ctx| {
            let rule = composite.rule(ctx).ok_or(LrpError::NoRule {
                layer: ctx.index,
                kind: ctx.kind,
            })?;
            if deviation && !rule.supports_deviation(ctx.kind) {
                return Err(LrpError::NoDeviationRule {
                    rule: rule.name(),
                    kind: ctx.kind,
                    layer: Some(ctx.index),
                });
            }
            if !deviation && !rule.supports(ctx.kind) {
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
    check_sweep(layers, rules, acts, r_out)?;
    sweep(layers, rules, acts, r_out, |rule, layer, index, r| {
        rule.propagate(layer, &acts[index], r)
    })
}

/// Deviation LRP's sweep: propagates `r_out`, the relevance of the deviation of the model
/// output from the reference's output, back through `layers` with `rules` (from
/// [`resolve_deviation_rules`]), given the activations `acts` of the input and
/// `reference_acts` of the reference point (`[B, ..]` like `acts`, or `[1, ..]`: one
/// reference for every sample). Returns the relevance of the input's deviation and the
/// per-layer trace. Runs under no-grad.
///
/// ```
/// use ae_models::Layer;
/// use lrp_ae::propagate::{propagate_deviation, resolve_deviation_rules};
/// use lrp_ae::{composite::{LayerClass, LayerMap}, rules::DeltaEpsilon};
/// use tch::Tensor;
/// // y = w·x + b: the relevance of Δy = y − y₀ is (x − x₀) ⊙ w, exactly (ε = 0).
/// let layers = vec![Layer::Linear {
///     weight: Tensor::from_slice(&[2.0f64, -1.0, 0.5]).reshape([1, 3]),
///     bias: Some(Tensor::from_slice(&[4.0f64])),
/// }];
/// let rules = resolve_deviation_rules(
///     &layers,
///     &LayerMap::new().on(LayerClass::Linear, DeltaEpsilon::new(0.0)?),
/// )?;
/// let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0]).reshape([1, 3]);
/// let x0 = Tensor::from_slice(&[0.5f64, 0.5, 0.5]).reshape([1, 3]);
/// let (y, y0) = (layers[0].forward(&x)?, layers[0].forward(&x0)?);
/// let (r, _) = propagate_deviation(&layers, &rules, &[x, y.shallow_clone()], &[x0, y0.shallow_clone()], &(y - y0))?;
/// assert_eq!(Vec::<f64>::try_from(r.flatten(0, -1)).unwrap(), vec![1.0, -1.5, 1.25]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn propagate_deviation(
    layers: &[Layer],
    rules: &[Arc<dyn Rule>],
    acts: &[Tensor],
    reference_acts: &[Tensor],
    r_out: &Tensor,
) -> Result<(Tensor, LrpTrace)> {
    check_sweep(layers, rules, acts, r_out)?;
    if reference_acts.len() != acts.len() {
        return Err(LrpError::ShapeMismatch {
            what: "reference activations".into(),
            expected: format!(
                "{} activations, one per layer input and the output",
                acts.len()
            ),
            got: vec![reference_acts.len() as i64],
        });
    }
    for (index, (a, r)) in acts.iter().zip(reference_acts).enumerate() {
        let (sa, sr) = (a.size(), r.size());
        if sr.len() != sa.len() || (sr[0] != 1 && sr[0] != sa[0]) || sr[1..] != sa[1..] {
            return Err(LrpError::ShapeMismatch {
                what: format!("reference activation {index}"),
                expected: format!("the activation's shape {sa:?}, or a batch of 1"),
                got: sr,
            });
        }
    }
    sweep(layers, rules, acts, r_out, |rule, layer, index, r| {
        rule.propagate_deviation(layer, &acts[index], &reference_acts[index], r)
    })
}

fn check_sweep(
    layers: &[Layer],
    rules: &[Arc<dyn Rule>],
    acts: &[Tensor],
    r_out: &Tensor,
) -> Result<()> {
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
    Ok(())
}

/// The backward walk shared by both sweeps: `step(rule, layer, index, r)` moves the
/// relevance of layer `index`'s output onto its input.
fn sweep(
    layers: &[Layer],
    rules: &[Arc<dyn Rule>],
    acts: &[Tensor],
    r_out: &Tensor,
    step: impl Fn(&dyn Rule, &Layer, usize, &Tensor) -> Result<Tensor>,
) -> Result<(Tensor, LrpTrace)> {
    tch::no_grad(|| {
        let output_sums = tensor_to_f64s(&per_sample_sum(r_out)?)?;
        let mut entries = Vec::with_capacity(layers.len());
        let mut r = r_out.shallow_clone();
        for (index, (layer, rule)) in layers.iter().zip(rules).enumerate().rev() {
            let input = &acts[index];
            r = step(&**rule, layer, index, &r).map_err(|e| match e {
                LrpError::UnsupportedLayer {
                    rule,
                    kind,
                    layer: None,
                } => LrpError::UnsupportedLayer {
                    rule,
                    kind,
                    layer: Some(index),
                },
                LrpError::NoDeviationRule {
                    rule,
                    kind,
                    layer: None,
                } => LrpError::NoDeviationRule {
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
