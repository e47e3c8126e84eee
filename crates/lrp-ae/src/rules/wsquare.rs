//! The w² rule (Montavon et al. 2017; Zennit's `WSquare`): for the first layer of
//! unbounded real-valued input.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::rule::{
    check_eps, named, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER,
};

/// `R_i = Σ_j w_ij² / stab(Σ_i' w_i'j² + b_j²) · R_j`: relevance follows the squared
/// weights and ignores the input values (the root point of deep Taylor decomposition on an
/// unbounded domain).
///
/// As in Zennit the squared bias stays in the denominator, so a layer with bias absorbs the
/// share `b_j² / (Σ w² + b_j²)`; without bias the rule conserves relevance exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WSquare {
    stabilizer: f64,
}

impl Default for WSquare {
    fn default() -> Self {
        WSquare {
            stabilizer: DEFAULT_STABILIZER,
        }
    }
}

impl WSquare {
    /// w² with Zennit's default stabiliser `1e-6`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same rule with another stabiliser `ε` of `z + ε·sign(z)` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`crate::LrpError::InvalidParam`] naming the value otherwise.
    pub fn with_stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("w2", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The stabiliser.
    pub fn stabilizer(&self) -> f64 {
        self.stabilizer
    }

    /// The rule as data.
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![Term::new(InputMod::Ones, ParamMod::Square)],
            self.stabilizer,
        )
    }
}

impl Rule for WSquare {
    fn name(&self) -> String {
        named("w2", self.stabilizer)
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
