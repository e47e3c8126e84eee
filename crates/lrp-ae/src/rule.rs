//! The rule contract and the one propagation engine that dense and convolutional rules
//! share.
//!
//! Every rule for an affine layer (`z = W a + b`, dense or convolutional) is Zennit's
//! `BasicHook` with a handful of modifiers, written here as data ([`BasicRule`]):
//!
//! 1. each [`Term`] modifies the input (`a`, `a⁺`, `a⁻`, ones, a bound) and the parameters
//!    (`W`, `W⁺`, `W⁻`, `W²`, ones, `W + γW⁺`, ...; the bias gets the same modifier or is
//!    dropped) and computes `z_k = W_k a_k + b_k`;
//! 2. a [`TermGroup`] adds its terms with signs, `z = Σ ±z_k`, and divides the upper
//!    relevance by the stabilised sum, `s = R / stab(z)` (optionally only where the
//!    unmodified output is positive or negative);
//! 3. every term sends `s` back through its modified parameters (the transposed operation:
//!    a matrix product for dense layers, a transposed convolution for convolutions) and
//!    multiplies by its modified input: `R_in = Σ ±a_k ⊙ W_kᵀ s`.
//!
//! Each file in `rules/` states only its modifiers. The transposed operation is computed
//! explicitly rather than through autograd, so propagation runs under no-grad and costs
//! one modified forward and one transposed operation per term.

use std::fmt;

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::bound::Bound;
use crate::error::{LrpError, Result};

/// Zennit's default stabiliser, used by every rule except epsilon (whose epsilon is its
/// parameter).
pub const DEFAULT_STABILIZER: f64 = 1e-6;

/// An LRP rule: how the relevance of a layer's output is redistributed onto its input.
///
/// Rules are object safe so that composites can hold any mix of them. A rule says which
/// layer kinds it is defined for; propagation checks every layer before it starts.
pub trait Rule: fmt::Debug + Send + Sync {
    /// A short name for traces and errors, with its parameters (e.g. `epsilon(0.001)`).
    fn name(&self) -> String;

    /// Whether the rule is defined for layers of `kind`.
    fn supports(&self, kind: LayerKind) -> bool;

    /// Redistributes `relevance` (shaped like `layer`'s output for `input`) onto `input`.
    /// The result has `input`'s shape.
    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor>;

    /// Whether [`Rule::propagate_deviation`] is defined for layers of `kind`. Rules of
    /// paper 2 (z⁺, w², z-box, flat, γ, ε) are not: they explain the signal present, not
    /// a deviation from a reference. The default is `false`.
    fn supports_deviation(&self, kind: LayerKind) -> bool {
        let _ = kind;
        false
    }

    /// Deviation LRP (`crate::deviation`): redistributes `relevance`, the relevance of the
    /// deviation of `layer`'s output from the output of the reference, onto the deviation
    /// `input − reference` of its input. `reference` is the layer input of the reference
    /// point, shaped like `input` or with a batch dimension of 1 (one reference for every
    /// sample). The result has `input`'s shape.
    ///
    /// # Errors
    /// The default: [`LrpError::NoDeviationRule`] naming the rule.
    fn propagate_deviation(
        &self,
        layer: &Layer,
        input: &Tensor,
        reference: &Tensor,
        relevance: &Tensor,
    ) -> Result<Tensor> {
        let _ = (input, reference, relevance);
        Err(LrpError::NoDeviationRule {
            rule: self.name(),
            kind: layer.kind(),
            layer: None,
        })
    }
}

/// Zennit's stabiliser `z + ε·sign(z)` with `sign(0) = +1`, so that no denominator is
/// zero and the sign of `z` is kept.
pub fn stabilize(z: &Tensor, eps: f64) -> Result<Tensor> {
    let sign = z
        .f_ge(0.0)?
        .f_to_kind(z.kind())?
        .f_mul_scalar(2.0)?
        .f_sub_scalar(1.0)?;
    Ok(z.f_add(&sign.f_mul_scalar(eps)?)?)
}

/// `base` with the stabiliser appended when it is not [`DEFAULT_STABILIZER`], e.g.
/// `z+(stabilizer=0.001)`: the rule names of traces tell rules apart.
pub(crate) fn named(base: &str, stabilizer: f64) -> String {
    if stabilizer == DEFAULT_STABILIZER {
        base.to_string()
    } else {
        format!("{base}(stabilizer={stabilizer})")
    }
}

/// Checks a stabiliser or epsilon: finite and non-negative.
pub(crate) fn check_eps(what: &'static str, param: &'static str, eps: f64) -> Result<f64> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(eps)
    } else {
        Err(LrpError::InvalidParam {
            what,
            param,
            value: eps.to_string(),
            rule: "must be finite and ≥ 0",
        })
    }
}

/// How a term modifies the layer input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InputMod {
    /// `a` unchanged.
    Identity,
    /// `max(a, 0)`.
    Positive,
    /// `min(a, 0)`.
    Negative,
    /// All ones (the input drops out: w² and flat).
    Ones,
    /// A constant bound broadcast to the input (z-box's `l` or `h`).
    Bound(Bound),
}

/// How a term modifies the layer parameters (weight and, unless dropped, bias).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ParamMod {
    /// `W` unchanged.
    Identity,
    /// `max(W, 0)`.
    Positive,
    /// `min(W, 0)`.
    Negative,
    /// `W²`.
    Square,
    /// All ones.
    Ones,
    /// `W + γ·max(W, 0)` (Zennit's `GammaMod(min=0)`).
    GammaPositive(f64),
    /// `W + γ·min(W, 0)` (Zennit's `GammaMod(max=0)`).
    GammaNegative(f64),
}

impl ParamMod {
    fn apply(self, p: &Tensor) -> Result<Tensor> {
        Ok(match self {
            ParamMod::Identity => p.shallow_clone(),
            ParamMod::Positive => p.f_clamp_min(0.0)?,
            ParamMod::Negative => p.f_clamp_max(0.0)?,
            ParamMod::Square => p.f_square()?,
            ParamMod::Ones => p.f_ones_like()?,
            ParamMod::GammaPositive(g) => p.f_add(&p.f_clamp_min(0.0)?.f_mul_scalar(g)?)?,
            ParamMod::GammaNegative(g) => p.f_add(&p.f_clamp_max(0.0)?.f_mul_scalar(g)?)?,
        })
    }
}

/// One modified forward pass `z_k = W_k a_k + b_k` of a [`BasicRule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The input modifier.
    pub input: InputMod,
    /// The parameter modifier (applied to the weight, and to the bias when kept).
    pub params: ParamMod,
    /// Whether the bias takes part (modified like the weight) or is dropped.
    pub keep_bias: bool,
    /// `+1` or `-1`: how the term enters the group's sum and the input relevance.
    pub sign: f64,
}

impl Term {
    /// A term with sign `+1` that keeps the (modified) bias.
    pub fn new(input: InputMod, params: ParamMod) -> Self {
        Term {
            input,
            params,
            keep_bias: true,
            sign: 1.0,
        }
    }

    /// The same term without bias.
    pub fn no_bias(mut self) -> Self {
        self.keep_bias = false;
        self
    }

    /// The same term subtracted instead of added.
    pub fn negated(mut self) -> Self {
        self.sign = -self.sign;
        self
    }
}

/// Which output neurons a [`TermGroup`] redistributes, by the sign of the unmodified
/// output `z = W a + b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputGate {
    /// Every output neuron.
    All,
    /// Only neurons with `z > 0`.
    Positive,
    /// Only neurons with `z < 0`.
    Negative,
}

/// Terms that share one denominator `stab(Σ ±z_k)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermGroup {
    /// Which output neurons this group serves.
    pub gate: OutputGate,
    /// The terms whose signed sum is the denominator.
    pub terms: Vec<Term>,
}

/// A rule for dense and convolutional layers as data: Zennit's `BasicHook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasicRule {
    /// Groups, each with its own denominator; their input relevances add up.
    pub groups: Vec<TermGroup>,
    /// The `ε` of `stab(z) = z + ε·sign(z)`.
    pub stabilizer: f64,
}

impl BasicRule {
    /// A rule of one group over all outputs.
    pub fn single(terms: Vec<Term>, stabilizer: f64) -> Self {
        BasicRule {
            groups: vec![TermGroup {
                gate: OutputGate::All,
                terms,
            }],
            stabilizer,
        }
    }

    /// Redistributes `relevance` of a [`Layer::Linear`] or [`Layer::Conv2d`] output onto
    /// `input`. `name` is the rule's name for errors.
    pub fn propagate(
        &self,
        name: &str,
        layer: &Layer,
        input: &Tensor,
        relevance: &Tensor,
    ) -> Result<Tensor> {
        let op = AffineOp::of(name, layer)?;
        let gated = self.groups.iter().any(|g| g.gate != OutputGate::All);
        let plain = if gated {
            Some(op.forward(input, ParamMod::Identity, true)?)
        } else {
            None
        };
        // A term on the negative (positive) part of an input that has none, without a bias,
        // is identically zero; skipping it halves z⁺ on ReLU outputs without changing a value.
        let has_bias = op.has_bias();
        let mut vanishes = [None, None];
        let mut skip = |term: &Term| -> Result<bool> {
            let slot = match term.input {
                InputMod::Negative => 0,
                InputMod::Positive => 1,
                _ => return Ok(false),
            };
            if term.keep_bias && has_bias {
                return Ok(false);
            }
            if vanishes[slot].is_none() {
                let present = if slot == 0 {
                    input.f_lt(0.0)?
                } else {
                    input.f_gt(0.0)?
                };
                vanishes[slot] = Some(present.f_any()?.f_int64_value(&[])? == 0);
            }
            Ok(vanishes[slot] == Some(true))
        };
        let mut total: Option<Tensor> = None;
        for group in &self.groups {
            let mut inputs = Vec::with_capacity(group.terms.len());
            let mut terms = Vec::with_capacity(group.terms.len());
            let mut z: Option<Tensor> = None;
            for term in &group.terms {
                if skip(term)? {
                    continue;
                }
                let a = modify_input(&term.input, input)?;
                let zk = op
                    .forward(&a, term.params, term.keep_bias)?
                    .f_mul_scalar(term.sign)?;
                z = Some(match z {
                    None => zk,
                    Some(acc) => acc.f_add(&zk)?,
                });
                inputs.push(a);
                terms.push(term);
            }
            let Some(z) = z else { continue };
            if z.size() != relevance.size() {
                return Err(LrpError::ShapeMismatch {
                    what: format!("relevance of the {:?} layer output", layer.kind()),
                    expected: format!("the layer output's shape {:?}", z.size()),
                    got: relevance.size(),
                });
            }
            let mut s = relevance.f_div(&stabilize(&z, self.stabilizer)?)?;
            if let Some(plain) = &plain {
                s = match group.gate {
                    OutputGate::All => s,
                    OutputGate::Positive => s.f_mul(&plain.f_gt(0.0)?.f_to_kind(s.kind())?)?,
                    OutputGate::Negative => s.f_mul(&plain.f_lt(0.0)?.f_to_kind(s.kind())?)?,
                };
            }
            for (term, a) in terms.iter().zip(&inputs) {
                let c = op.transpose(&s, term.params, &input.size())?;
                let r = match term.input {
                    InputMod::Ones => c,
                    _ => a.f_mul(&c)?,
                };
                let r = r.f_mul_scalar(term.sign)?;
                total = Some(match total {
                    None => r,
                    Some(acc) => acc.f_add(&r)?,
                });
            }
        }
        match total {
            Some(t) => Ok(t),
            None => Ok(input.f_zeros_like()?),
        }
    }
}

fn modify_input(m: &InputMod, a: &Tensor) -> Result<Tensor> {
    Ok(match m {
        InputMod::Identity => a.shallow_clone(),
        InputMod::Positive => a.f_clamp_min(0.0)?,
        InputMod::Negative => a.f_clamp_max(0.0)?,
        InputMod::Ones => a.f_ones_like()?,
        InputMod::Bound(b) => b.expand_to(a)?,
    })
}

/// The affine map of a dense or convolutional layer, with its transpose.
enum AffineOp<'a> {
    Linear {
        weight: &'a Tensor,
        bias: Option<&'a Tensor>,
    },
    Conv {
        weight: &'a Tensor,
        bias: Option<&'a Tensor>,
        stride: [i64; 2],
        padding: [i64; 2],
        dilation: [i64; 2],
        groups: i64,
    },
}

impl<'a> AffineOp<'a> {
    fn of(name: &str, layer: &'a Layer) -> Result<Self> {
        match layer {
            Layer::Linear { weight, bias } => Ok(AffineOp::Linear {
                weight,
                bias: bias.as_ref(),
            }),
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => Ok(AffineOp::Conv {
                weight,
                bias: bias.as_ref(),
                stride: *stride,
                padding: *padding,
                dilation: *dilation,
                groups: *groups,
            }),
            other => Err(LrpError::UnsupportedLayer {
                rule: name.into(),
                kind: other.kind(),
                layer: None,
            }),
        }
    }

    fn has_bias(&self) -> bool {
        match self {
            AffineOp::Linear { bias, .. } | AffineOp::Conv { bias, .. } => bias.is_some(),
        }
    }

    fn forward(&self, a: &Tensor, m: ParamMod, keep_bias: bool) -> Result<Tensor> {
        let (weight, bias) = match self {
            AffineOp::Linear { weight, bias } | AffineOp::Conv { weight, bias, .. } => {
                (weight, bias)
            }
        };
        let w = m.apply(weight)?;
        let b = match (keep_bias, bias) {
            (true, Some(b)) => Some(m.apply(b)?),
            _ => None,
        };
        Ok(match self {
            AffineOp::Linear { .. } => a.f_linear(&w, b.as_ref())?,
            AffineOp::Conv {
                stride,
                padding,
                dilation,
                groups,
                ..
            } => a.f_conv2d(&w, b.as_ref(), stride, padding, dilation, *groups)?,
        })
    }

    /// `Wᵀ s` for the modified weight: the gradient of `W a` with respect to `a`.
    fn transpose(&self, s: &Tensor, m: ParamMod, input_size: &[i64]) -> Result<Tensor> {
        Ok(match self {
            AffineOp::Linear { weight, .. } => s.f_matmul(&m.apply(weight)?)?,
            AffineOp::Conv {
                weight,
                stride,
                padding,
                dilation,
                groups,
                ..
            } => {
                let w = m.apply(weight)?;
                let (k, out) = (w.size(), s.size());
                // The forward convolution floors; output_padding restores the rows and columns
                // it dropped so the result has the input's exact size. A grouped weight
                // `[O, C/g, kh, kw]` is already the transposed convolution's layout.
                let mut extra = [0i64; 2];
                for d in 0..2 {
                    let span = dilation[d] * (k[2 + d] - 1) + 1;
                    let covered = (out[2 + d] - 1) * stride[d] - 2 * padding[d] + span;
                    extra[d] = input_size[2 + d] - covered;
                }
                s.f_conv_transpose2d(
                    &w,
                    None::<Tensor>,
                    stride,
                    padding,
                    extra,
                    *groups,
                    dilation,
                )?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn stabilizer_keeps_the_sign_and_moves_zero_up() {
        let z = Tensor::from_slice(&[-2.0f64, 0.0, 3.0]);
        let s = stabilize(&z, 0.5).unwrap();
        assert_eq!(Vec::<f64>::try_from(s).unwrap(), vec![-2.5, 0.5, 3.5]);
    }

    #[test]
    fn conv_transpose_matches_autograd_for_odd_sizes_dilations_and_groups() {
        tch::manual_seed(1);
        let opts = (Kind::Double, Device::Cpu);
        // (weight, stride, padding, dilation, groups, input)
        let cases = [
            ([3, 2, 3, 2], [2, 3], [1, 0], [1, 1], 1, [2, 2, 8, 9]),
            ([4, 2, 3, 3], [1, 1], [2, 2], [2, 2], 2, [2, 4, 7, 6]),
            ([6, 1, 2, 3], [2, 1], [0, 1], [3, 1], 3, [1, 3, 9, 8]),
        ];
        for (wdims, stride, padding, dilation, groups, xdims) in cases {
            let layer = Layer::Conv2d {
                weight: Tensor::randn(wdims, opts),
                bias: None,
                stride,
                padding,
                dilation,
                groups,
            };
            let x = Tensor::randn(xdims, opts).set_requires_grad(true);
            let y = layer.forward(&x).unwrap();
            let s = Tensor::randn(y.size(), opts);
            let g = Tensor::run_backward(&[(&y * &s).sum(Kind::Double)], &[&x], false, false);
            let op = AffineOp::of("test", &layer).unwrap();
            let t = op.transpose(&s, ParamMod::Identity, &x.size()).unwrap();
            assert!(
                t.allclose(&g[0], 1e-10, 1e-10, false),
                "{wdims:?} {dilation:?} {groups}"
            );
        }
    }
}
