//! The flat rule (Lapuschkin et al. 2019; Zennit's `Flat`).

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::rule::{check_eps, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER};

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

    /// Flat with another stabiliser (finite, ≥ 0).
    pub fn with_stabilizer(stabilizer: f64) -> Result<Self> {
        Ok(Flat {
            stabilizer: check_eps("flat", "stabilizer", stabilizer)?,
        })
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
        "flat".into()
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
