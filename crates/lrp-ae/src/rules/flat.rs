//! The flat rule (Lapuschkin et al. 2019; Zennit's `Flat`).

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::rule::{
    check_eps, named, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER,
};

/// `R_i = Σ_j 1 / stab(n_j) · R_j`, where `n_j` counts the inputs connected to output `j`:
/// every connected input gets an equal share, whatever the weights and input values.
///
/// The bias is dropped (as in Zennit), so the rule always conserves relevance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Flat {
    stabilizer: f64,
}

impl Default for Flat {
    fn default() -> Self {
        Flat {
            stabilizer: DEFAULT_STABILIZER,
        }
    }
}

impl Flat {
    /// Flat with Zennit's default stabiliser `1e-6`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same rule with another stabiliser `ε` of `z + ε·sign(z)` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`crate::LrpError::InvalidParam`] naming the value otherwise.
    pub fn with_stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("flat", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The stabiliser.
    pub fn stabilizer(&self) -> f64 {
        self.stabilizer
    }

    /// The rule as data.
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![Term::new(InputMod::Ones, ParamMod::Ones).no_bias()],
            self.stabilizer,
        )
    }
}

impl Rule for Flat {
    fn name(&self) -> String {
        named("flat", self.stabilizer)
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
