//! The z⁺ rule (Montavon et al. 2017; Zennit's `ZPlus`): only positive contributions.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::rule::{
    check_eps, named, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER,
};

/// `R_i = Σ_j (a_i⁺ w_ij⁺ + a_i⁻ w_ij⁻) / stab(z_j⁺) · R_j` with
/// `z_j⁺ = Σ_i (a_i⁺ w_ij⁺ + a_i⁻ w_ij⁻) + b_j⁺`.
///
/// For the non-negative inputs it is meant for (after a ReLU) this is the z⁺ rule of deep
/// Taylor decomposition: every neuron passes its relevance to the inputs that excite it.
/// Negative inputs are handled as in Zennit (α = 1, β = 0: a negative input times a
/// negative weight is a positive contribution). Only the positive part of the bias enters,
/// and it absorbs the share `b⁺ / z⁺`; without bias the rule conserves relevance exactly
/// (up to the stabiliser) wherever `z⁺ > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZPlus {
    stabilizer: f64,
}

impl Default for ZPlus {
    fn default() -> Self {
        ZPlus {
            stabilizer: DEFAULT_STABILIZER,
        }
    }
}

impl ZPlus {
    /// z⁺ with Zennit's default stabiliser `1e-6`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same rule with another stabiliser `ε` of `z + ε·sign(z)` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`crate::LrpError::InvalidParam`] naming the value otherwise.
    pub fn with_stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("z+", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The stabiliser.
    pub fn stabilizer(&self) -> f64 {
        self.stabilizer
    }

    /// The rule as data.
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![
                Term::new(InputMod::Positive, ParamMod::Positive),
                Term::new(InputMod::Negative, ParamMod::Negative).no_bias(),
            ],
            self.stabilizer,
        )
    }
}

impl Rule for ZPlus {
    fn name(&self) -> String {
        named("z+", self.stabilizer)
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
