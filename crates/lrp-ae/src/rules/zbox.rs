//! The z-box rule (Montavon et al. 2017; Zennit's `ZBox`): for a first layer whose input
//! lives in a known box, e.g. `[0, 1]` for min-max scaled data or pixels.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::bound::Bound;
use crate::error::{LrpError, Result};
use crate::rule::{check_eps, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER};

/// `R_i = Σ_j (a_i w_ij − l_i w_ij⁺ − h_i w_ij⁻) / stab(z_j) · R_j` with
/// `z_j = Σ_i (a_i w_ij − l_i w_ij⁺ − h_i w_ij⁻)`: the deep Taylor root point is the corner
/// of the box `[l, h]` that minimises the neuron's input.
///
/// The bias cancels out of the denominator (Zennit keeps it in all three modified forward
/// passes, which subtract to zero), so the rule conserves relevance for every layer; the
/// denominators are non-negative when the input lies inside the box. Bounds broadcast as
/// described for [`Bound`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZBox {
    low: Bound,
    high: Bound,
    stabilizer: f64,
}

impl ZBox {
    /// z-box for inputs in `[low, high]` (finite, `low ≤ high`), with Zennit's default
    /// stabiliser `1e-6`.
    pub fn new(low: f64, high: f64) -> Result<Self> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Err(LrpError::InvalidParam {
                what: "z-box",
                param: "bounds",
                value: format!("[{low}, {high}]"),
                rule: "must be finite with low ≤ high",
            });
        }
        Ok(ZBox {
            low: Bound::scalar(low),
            high: Bound::scalar(high),
            stabilizer: DEFAULT_STABILIZER,
        })
    }

    /// z-box with per-cell or per-channel bounds.
    pub fn with_bounds(low: Bound, high: Bound) -> Self {
        ZBox {
            low,
            high,
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// The same rule with another stabiliser (finite, ≥ 0).
    pub fn stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("z-box", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The lower bound.
    pub fn low(&self) -> &Bound {
        &self.low
    }

    /// The upper bound.
    pub fn high(&self) -> &Bound {
        &self.high
    }

    /// The rule as data.
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![
                Term::new(InputMod::Identity, ParamMod::Identity),
                Term::new(InputMod::Bound(self.low.clone()), ParamMod::Positive).negated(),
                Term::new(InputMod::Bound(self.high.clone()), ParamMod::Negative).negated(),
            ],
            self.stabilizer,
        )
    }
}

impl Rule for ZBox {
    fn name(&self) -> String {
        match (self.low.as_scalar(), self.high.as_scalar()) {
            (Some(l), Some(h)) => format!("z-box[{l}, {h}]"),
            _ => format!("z-box[{:?}, {:?}]", self.low.shape(), self.high.shape()),
        }
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
