//! The z-box rule (Montavon et al. 2017; Zennit's `ZBox`): for a first layer whose input
//! lives in a known box, e.g. `[0, 1]` for min-max scaled data or pixels.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::bound::Bound;
use crate::error::{LrpError, Result};
use crate::rule::{
    check_eps, named, BasicRule, InputMod, ParamMod, Rule, Term, DEFAULT_STABILIZER,
};

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
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] naming both values otherwise.
    pub fn new(low: f64, high: f64) -> Result<Self> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Err(LrpError::InvalidParam {
                what: "z-box",
                param: "bounds",
                value: format!("[{low}, {high}]"),
                rule: "must be finite with low ≤ high",
            });
        }
        Self::with_bounds(Bound::scalar(low), Bound::scalar(high))
    }

    /// z-box with per-cell or per-channel bounds ([`Bound`], broadcast Zennit's way), with
    /// Zennit's default stabiliser `1e-6`.
    ///
    /// ```
    /// use lrp_ae::{rule::Rule, rules::ZBox, Bound};
    /// let low = Bound::new(vec![1, 3], vec![-1.0, -2.0, 0.0])?;
    /// let z = ZBox::with_bounds(low.clone(), Bound::scalar(1.0))?;
    /// assert_eq!(z.name(), "z-box[[1, 3]: [-1, -2, 0], 1]");
    /// assert!(ZBox::with_bounds(low, Bound::scalar(-1.5)).is_err()); // -1 > -1.5
    /// # Ok::<(), lrp_ae::LrpError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Bound::check_ordered`]: bounds that do not broadcast together, or `low > high`
    /// somewhere (the error names the index and both values).
    pub fn with_bounds(low: Bound, high: Bound) -> Result<Self> {
        Bound::check_ordered(&low, &high)?;
        Ok(ZBox {
            low,
            high,
            stabilizer: DEFAULT_STABILIZER,
        })
    }

    /// The same rule with another stabiliser `ε` of `z + ε·sign(z)` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] naming the value otherwise.
    pub fn with_stabilizer(mut self, stabilizer: f64) -> Result<Self> {
        self.stabilizer = check_eps("z-box", "stabilizer", stabilizer)?;
        Ok(self)
    }

    /// The stabiliser.
    pub fn stabilizer(&self) -> f64 {
        self.stabilizer
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
    /// `z-box[0, 1]`; tensor bounds show their values, or their range when there are many
    /// (see [`Bound`]'s `Display`).
    fn name(&self) -> String {
        named(
            &format!("z-box[{}, {}]", self.low, self.high),
            self.stabilizer,
        )
    }

    fn supports(&self, kind: LayerKind) -> bool {
        super::is_affine(kind)
    }

    fn propagate(&self, layer: &Layer, input: &Tensor, relevance: &Tensor) -> Result<Tensor> {
        self.basic()
            .propagate(&self.name(), layer, input, relevance)
    }
}
