//! The ε rule on deviations from a reference point (DeepLIFT's linear rule, stabilised):
//! the rule of deviation LRP ([`crate::deviation`]) for dense, convolutional and LSTM
//! layers.

use ae_models::{Layer, LayerKind};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::lstm_deviation::lstm_deviation_relevance;
use crate::rule::{check_eps, BasicRule, InputMod, ParamMod, Rule, Term};

/// `R_i = Σ_j Δa_i w_ij / stab(Δz_j) · R_j` with `Δa = a − a₀` the deviation of the layer
/// input from its value `a₀` at the reference point, `Δz_j = Σ_i w_ij Δa_i` the deviation
/// of the output (the bias cancels) and `stab(z) = z + ε·sign(z)`.
///
/// This is ε-LRP applied to differences, and DeepLIFT's linear rule (Shrikumar et al.
/// 2017) with a stabiliser: with activations passing relevance unchanged ([`super::Pass`],
/// DeepLIFT's rescale rule in relevance form), the relevances of every layer sum to the
/// deviation of the explained quantity from its value at the reference, up to the share
/// `ε / |stab(Δz_j)|` that ε absorbs. Because the bias cancels, no bias absorbs relevance.
/// With a reference whose activations are all zero (a zero input to a bias-free ReLU
/// network) `Δa = a` and `Δz = z`, and the rule is [`super::Epsilon`] exactly.
///
/// On an [`Layer::Lstm`] it is the signal-take-all rule of Arras et al. applied to
/// deviations (see [`crate::lstm_deviation`]).
///
/// It only exists for deviations: [`Rule::supports`] is `false` for every kind, so an
/// ordinary sweep ([`crate::Lrp::explain`]) rejects it before any computation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeltaEpsilon {
    eps: f64,
}

impl DeltaEpsilon {
    /// Δ-ε with `eps` (finite, ≥ 0).
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] naming the value otherwise.
    ///
    /// ```
    /// use lrp_ae::rules::DeltaEpsilon;
    /// use lrp_ae::Rule;
    /// assert_eq!(DeltaEpsilon::new(1e-3)?.name(), "delta-epsilon(0.001)");
    /// let e = DeltaEpsilon::new(-1.0).unwrap_err().to_string();
    /// assert!(e.contains("eps = -1"), "{e}");
    /// # Ok::<(), lrp_ae::LrpError>(())
    /// ```
    pub fn new(eps: f64) -> Result<Self> {
        Ok(DeltaEpsilon {
            eps: check_eps("delta-epsilon", "eps", eps)?,
        })
    }

    /// ε.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The rule as data, applied to the input deviation `Δa` in place of the input: one
    /// term, identity modifiers, no bias.
    pub fn basic(&self) -> BasicRule {
        BasicRule::single(
            vec![Term::new(InputMod::Identity, ParamMod::Identity).no_bias()],
            self.eps,
        )
    }
}

impl Rule for DeltaEpsilon {
    fn name(&self) -> String {
        format!("delta-epsilon({})", self.eps)
    }

    fn supports(&self, _kind: LayerKind) -> bool {
        false
    }

    fn propagate(&self, layer: &Layer, _input: &Tensor, _relevance: &Tensor) -> Result<Tensor> {
        Err(LrpError::UnsupportedLayer {
            rule: self.name(),
            kind: layer.kind(),
            layer: None,
        })
    }

    fn supports_deviation(&self, kind: LayerKind) -> bool {
        super::is_affine(kind) || kind == LayerKind::Lstm
    }

    fn propagate_deviation(
        &self,
        layer: &Layer,
        input: &Tensor,
        reference: &Tensor,
        relevance: &Tensor,
    ) -> Result<Tensor> {
        match layer {
            Layer::Lstm(w) => lstm_deviation_relevance(w, input, reference, relevance, self.eps),
            _ => {
                let delta = input.f_sub(reference)?;
                self.basic()
                    .propagate(&self.name(), layer, &delta, relevance)
            }
        }
    }
}
