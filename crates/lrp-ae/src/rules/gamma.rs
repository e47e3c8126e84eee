//! The generalised γ rule (Montavon et al. 2019; Andéol et al. 2021; Zennit's `Gamma`).

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::rule::{
    check_eps, named, BasicRule, InputMod, OutputGate, ParamMod, Rule, Term, TermGroup,
    DEFAULT_STABILIZER,
};

/// Favours positive contributions by `γ`: for an output with `z_j > 0`,
/// `R_i = Σ_j (a_i⁺ (w + γw⁺)_ij + a_i⁻ (w + γw⁻)_ij) / stab(z_j^γ) · R_j`, and the mirror
/// image (with `w + γw⁻` on positive inputs) for `z_j < 0`; outputs with `z_j = 0` pass
/// nothing. `γ = 0` is LRP-0 (up to the stabiliser), `γ → ∞` approaches z⁺.
///
/// As in Zennit, the modified bias `b + γb^±` takes part in the positive-input term, so it
/// absorbs its share of relevance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gamma {
    gamma: f64,
    stabilizer: f64,
}

impl Gamma {
    /// γ with Zennit's default stabiliser `1e-6`. `gamma` must be finite and ≥ 0 (Zennit's
    /// default is 0.25).
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] naming the value otherwise.
    pub fn new(gamma: f64) -> Result<Self> {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(LrpError::InvalidParam {
                what: "gamma",
                param: "gamma",
                value: gamma.to_string(),
                rule: "must be finite and ≥ 0",
            });
        }
        Ok(Gamma {
            gamma,
            stabilizer: DEFAULT_STABILIZER,
        })
    }

    /// The same rule with another stabiliser `ε` of `z + ε·sign(z)` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] naming the value otherwise.
    pub fn with_stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("gamma", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The stabiliser.
    pub fn stabilizer(&self) -> f64 {
        self.stabilizer
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The rule as data.
    pub fn basic(&self) -> BasicRule {
        let (up, down) = (
            ParamMod::GammaPositive(self.gamma),
            ParamMod::GammaNegative(self.gamma),
        );
        BasicRule {
            groups: vec![
                TermGroup {
                    gate: OutputGate::Positive,
                    terms: vec![
                        Term::new(InputMod::Positive, up),
                        Term::new(InputMod::Negative, down).no_bias(),
                    ],
                },
                TermGroup {
                    gate: OutputGate::Negative,
                    terms: vec![
                        Term::new(InputMod::Positive, down),
                        Term::new(InputMod::Negative, up).no_bias(),
                    ],
                },
            ],
            stabilizer: self.stabilizer,
        }
    }
}

impl Rule for Gamma {
    fn name(&self) -> String {
        named(&format!("gamma({})", self.gamma), self.stabilizer)
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
