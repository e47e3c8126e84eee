//! The ε rule (Bach et al. 2015; Zennit's `Epsilon`), also the rule for LSTM layers.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::lstm::lstm_relevance;
use crate::rule::{check_eps, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER};

/// `R_i = Σ_j a_i w_ij / stab(z_j) · R_j` with `z_j = Σ_i a_i w_ij + b_j` and
/// `stab(z) = z + ε·sign(z)`. `ε = 0` is LRP-0, which on a bias-free ReLU network equals
/// Input × Gradient.
///
/// Defined for every input sign, so it is the safe choice for layers whose input is signed
/// (a linear bottleneck, a tanh, an LSTM read-out). The bias absorbs the share `b_j / z_j`
/// and ε the share `ε / |stab(z_j)|` of each output's relevance.
///
/// On an [`Layer::Lstm`] it is the signal-take-all rule of Arras et al. (2017), with this ε
/// in every division (see [`crate::lstm`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epsilon {
    eps: f64,
}

impl Default for Epsilon {
    fn default() -> Self {
        Epsilon {
            eps: DEFAULT_STABILIZER,
        }
    }
}

impl Epsilon {
    /// ε rule with `eps` (finite, ≥ 0; Zennit's default is `1e-6`). ε is this rule's
    /// stabiliser, so it has no `with_stabilizer`.
    ///
    /// # Errors
    /// [`crate::LrpError::InvalidParam`] naming the value otherwise.
    pub fn new(eps: f64) -> Result<Self> {
        Ok(Epsilon {
            eps: check_eps("epsilon", "eps", eps)?,
        })
    }

    /// ε.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The rule as data (for dense and convolutional layers).
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![Term::new(InputMod::Identity, ParamMod::Identity)],
            self.eps,
        )
    }
}

impl Rule for Epsilon {
    fn name(&self) -> String {
        format!("epsilon({})", self.eps)
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind) || kind == LayerKind::Lstm
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        match layer {
            Layer::Lstm(w) => lstm_relevance(w, input, relevance, self.eps),
            _ => self
                .basic()
                .propagate(&self.name(), layer, input, relevance),
        }
    }
}
