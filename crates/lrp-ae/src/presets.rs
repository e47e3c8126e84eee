//! Rules and composites as serialisable configuration: [`RuleSpec`] names a rule,
//! [`Preset`] names a composite (the counterpart of Zennit's `register_composite`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::composite::{Composite, FirstLayer, InputSign, LayerClass, LayerMap};
use crate::error::{LrpError, Result};
use crate::rule::{Rule, DEFAULT_STABILIZER};
use crate::rules::{Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus};

/// The ε of the paper presets' fallback for layers with signed input, and of every layer
/// of [`Preset::LstmDefault`]: the `0.001` of Arras et al.'s LSTM experiments. Small
/// against activations of order one, so it only stabilises, yet large enough to damp
/// near-zero denominators of signed sums.
pub const SIGNED_EPSILON: f64 = 1e-3;

/// A rule by name and parameters; [`RuleSpec::build`] makes the rule (stabilisers are
/// Zennit's default `1e-6`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleSpec {
    /// [`ZPlus`].
    ZPlus,
    /// [`WSquare`].
    WSquare,
    /// [`ZBox`] with scalar bounds.
    ZBox {
        /// Lowest input value.
        low: f64,
        /// Highest input value.
        high: f64,
    },
    /// [`Epsilon`] (on LSTM layers: the signal-take-all rule).
    Epsilon {
        /// ε.
        eps: f64,
    },
    /// [`Gamma`].
    Gamma {
        /// γ.
        gamma: f64,
    },
    /// [`Flat`].
    Flat,
    /// [`Pass`].
    Pass,
}

impl RuleSpec {
    /// Builds the rule, checking its parameters.
    pub fn build(&self) -> Result<Arc<dyn Rule>> {
        Ok(match *self {
            RuleSpec::ZPlus => Arc::new(ZPlus::new()),
            RuleSpec::WSquare => Arc::new(WSquare::new()),
            RuleSpec::ZBox { low, high } => Arc::new(ZBox::new(low, high)?),
            RuleSpec::Epsilon { eps } => Arc::new(Epsilon::new(eps)?),
            RuleSpec::Gamma { gamma } => Arc::new(Gamma::new(gamma)?),
            RuleSpec::Flat => Arc::new(Flat::new()),
            RuleSpec::Pass => Arc::new(Pass),
        })
    }
}

/// Named composites.
///
/// | preset | first layer with parameters | dense / conv, input ≥ 0 | dense / conv, signed input | LSTM | rest |
/// |---|---|---|---|---|---|
/// | `paper2-dense` | dense: w² | z⁺ | ε = [`SIGNED_EPSILON`] | ε (Arras) | pass |
/// | `paper2-conv` | conv: z-box `[low, high]` | z⁺ | ε = [`SIGNED_EPSILON`] | ε (Arras) | pass |
/// | `epsilon-plus-flat` | dense or conv: flat | conv z⁺, dense ε = 1e-6 | same | ε = 1e-6 | pass |
/// | `lstm-default` | — | ε = [`SIGNED_EPSILON`] | ε = [`SIGNED_EPSILON`] | ε = [`SIGNED_EPSILON`] | pass |
/// | `epsilon:E` | — | ε = E | ε = E | ε = E | pass |
///
/// "rest" is activations, upsampling, reshape, time routing and feature attention.
///
/// * The two paper presets are paper 2's: w² on the first dense layer and z⁺ on the others
///   (its SQL-log experiment), z-box on the first convolution and z⁺ on the others (its
///   image experiment). Like the paper they apply z⁺ to the output layer too, whatever its
///   activation (only the *input* sign matters to z⁺). Where a layer's input can be
///   negative (a linear bottleneck, a tanh, an LSTM's hidden state) z⁺ is undefined in
///   Montavon et al.'s sense, and these presets use ε instead.
/// * `epsilon-plus-flat` is Zennit's `EpsilonPlusFlat`, rule for rule, except that its flat
///   rule goes to the first layer with parameters (see [`FirstLayer`]). On an LSTM
///   autoencoder that layer is an LSTM, which has no flat rule, so there the preset is
///   `lstm-default` with Zennit's ε of `1e-6` instead of [`SIGNED_EPSILON`].
/// * `lstm-default` is for recurrent autoencoders: signed activations everywhere, so ε on
///   every map, the Arras et al. rule through the LSTM cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Paper 2's dense preset.
    Paper2Dense,
    /// Paper 2's convolutional preset, with the input box of the first convolution.
    Paper2Conv {
        /// Lowest input value (0 for min-max scaled images).
        low: f64,
        /// Highest input value (1 for min-max scaled images).
        high: f64,
    },
    /// Zennit's `EpsilonPlusFlat`.
    EpsilonPlusFlat,
    /// ε everywhere, for LSTM autoencoders.
    LstmDefault,
    /// ε on every dense, convolutional and LSTM layer: the rule that follows the
    /// gradient × input most closely, as a reference for the others.
    Epsilon {
        /// ε (at least 0).
        eps: f64,
    },
}

impl Preset {
    /// The composite this preset names.
    pub fn composite(&self) -> Result<Arc<dyn Composite>> {
        let pass = || {
            LayerMap::new()
                .on(LayerClass::Activation, Pass)
                .on(LayerClass::Routing, Pass)
        };
        let signed = Epsilon::new(SIGNED_EPSILON)?;
        let paper = |first: LayerMap| -> Arc<dyn Composite> {
            let rest = pass()
                .on(LayerClass::FeatureAttention, Pass)
                .on_input(LayerClass::Affine, InputSign::Signed, signed)
                .on(LayerClass::Affine, ZPlus::new())
                .on(LayerClass::Lstm, signed);
            Arc::new(FirstLayer::new(first, rest))
        };
        Ok(match *self {
            Preset::Paper2Dense => paper(LayerMap::new().on(LayerClass::Linear, WSquare::new())),
            Preset::Paper2Conv { low, high } => {
                paper(LayerMap::new().on(LayerClass::Conv2d, ZBox::new(low, high)?))
            }
            Preset::EpsilonPlusFlat => {
                let eps = Epsilon::new(DEFAULT_STABILIZER)?;
                let rest = pass()
                    .on(LayerClass::FeatureAttention, Pass)
                    .on(LayerClass::Conv2d, ZPlus::new())
                    .on(LayerClass::Linear, eps)
                    .on(LayerClass::Lstm, eps);
                Arc::new(FirstLayer::new(
                    LayerMap::new().on(LayerClass::Affine, Flat::new()),
                    rest,
                ))
            }
            Preset::LstmDefault => Arc::new(
                pass()
                    .on(LayerClass::FeatureAttention, Pass)
                    .on(LayerClass::Affine, signed)
                    .on(LayerClass::Lstm, signed),
            ),
            Preset::Epsilon { eps } => {
                let eps = Epsilon::new(eps)?;
                Arc::new(
                    pass()
                        .on(LayerClass::FeatureAttention, Pass)
                        .on(LayerClass::Affine, eps)
                        .on(LayerClass::Lstm, eps),
                )
            }
        })
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Preset::Paper2Dense => f.write_str("paper2-dense"),
            Preset::Paper2Conv { low, high } if *low == 0.0 && *high == 1.0 => {
                f.write_str("paper2-conv")
            }
            Preset::Paper2Conv { low, high } => write!(f, "paper2-conv:{low}:{high}"),
            Preset::EpsilonPlusFlat => f.write_str("epsilon-plus-flat"),
            Preset::LstmDefault => f.write_str("lstm-default"),
            Preset::Epsilon { eps } => write!(f, "epsilon:{eps}"),
        }
    }
}

/// Parses `paper2-dense`, `paper2-conv` (input box `[0, 1]`), `paper2-conv:LOW:HIGH`,
/// `epsilon-plus-flat`, `lstm-default` and `epsilon:E`.
///
/// ```
/// use lrp_ae::Preset;
/// let p: Preset = "paper2-conv:-1:1".parse()?;
/// assert_eq!(p, Preset::Paper2Conv { low: -1.0, high: 1.0 });
/// assert_eq!(p.to_string().parse::<Preset>()?, p);
/// assert!("zplus-everywhere".parse::<Preset>().is_err());
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
impl FromStr for Preset {
    type Err = LrpError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            LrpError::InvalidParam {
            what: "lrp",
            param: "preset",
            value: format!("{s:?}"),
            rule: "must be paper2-dense, paper2-conv[:LOW:HIGH], epsilon-plus-flat, lstm-default or epsilon:E",
        }
        };
        match s {
            "paper2-dense" => Ok(Preset::Paper2Dense),
            "paper2-conv" => Ok(Preset::Paper2Conv {
                low: 0.0,
                high: 1.0,
            }),
            "epsilon-plus-flat" => Ok(Preset::EpsilonPlusFlat),
            "lstm-default" => Ok(Preset::LstmDefault),
            _ if s.starts_with("epsilon:") => {
                let eps: f64 = s["epsilon:".len()..].trim().parse().map_err(|_| bad())?;
                Ok(Preset::Epsilon { eps })
            }
            _ => {
                let rest = s.strip_prefix("paper2-conv:").ok_or_else(bad)?;
                let (low, high) = rest.split_once(':').ok_or_else(bad)?;
                let low: f64 = low.trim().parse().map_err(|_| bad())?;
                let high: f64 = high.trim().parse().map_err(|_| bad())?;
                ZBox::new(low, high)?;
                Ok(Preset::Paper2Conv { low, high })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composite::layer_contexts;
    use ae_models::{Activation, Layer, LstmWeights};
    use tch::{Device, Kind, Tensor};

    fn z(shape: &[i64]) -> Tensor {
        Tensor::zeros(shape, (Kind::Float, Device::Cpu))
    }

    fn names(preset: Preset, layers: &[Layer]) -> Vec<String> {
        let c = preset.composite().unwrap();
        layer_contexts(layers)
            .iter()
            .map(|ctx| {
                c.rule(ctx)
                    .map(|r| r.name())
                    .unwrap_or_else(|| "none".into())
            })
            .collect()
    }

    #[test]
    fn paper_dense_preset_on_a_dense_ae_with_a_linear_bottleneck() {
        let lin = |o, i| Layer::Linear {
            weight: z(&[o, i]),
            bias: Some(z(&[o])),
        };
        let layers = vec![
            lin(4, 6),
            Layer::Activation(Activation::Relu),
            lin(2, 4),
            lin(4, 2),
            Layer::Activation(Activation::Relu),
            lin(6, 4),
            Layer::Activation(Activation::Sigmoid),
        ];
        assert_eq!(
            names(Preset::Paper2Dense, &layers),
            vec!["w2", "pass", "z+", "epsilon(0.001)", "pass", "z+", "pass"]
        );
    }

    #[test]
    fn paper_conv_preset_puts_zbox_first_and_falls_back_on_lstm_models() {
        let conv = |o, i| Layer::Conv2d {
            weight: z(&[o, i, 3, 3]),
            bias: None,
            stride: [1, 1],
            padding: [0, 0],
        };
        let layers = vec![
            conv(2, 1),
            Layer::Activation(Activation::Relu),
            Layer::UpsampleNearest { scale: 2 },
            conv(1, 2),
        ];
        assert_eq!(
            names(
                Preset::Paper2Conv {
                    low: 0.0,
                    high: 1.0
                },
                &layers
            ),
            vec!["z-box[0, 1]", "pass", "pass", "z+"]
        );
        let lstm = |i, h| {
            Layer::Lstm(LstmWeights {
                w_ih: z(&[4 * h, i]),
                w_hh: z(&[4 * h, h]),
                b_ih: z(&[4 * h]),
                b_hh: z(&[4 * h]),
            })
        };
        let lstm_ae = vec![
            lstm(3, 5),
            Layer::LastStep,
            Layer::RepeatSteps { steps: 4 },
            lstm(5, 5),
            Layer::Linear {
                weight: z(&[3, 5]),
                bias: None,
            },
        ];
        let expected = vec![
            "epsilon(0.001)",
            "pass",
            "pass",
            "epsilon(0.001)",
            "epsilon(0.001)",
        ];
        assert_eq!(names(Preset::Paper2Dense, &lstm_ae), expected);
        assert_eq!(names(Preset::LstmDefault, &lstm_ae), expected);
    }

    #[test]
    fn presets_round_trip_through_strings_and_json() {
        for p in [
            Preset::Paper2Dense,
            Preset::Paper2Conv {
                low: 0.0,
                high: 1.0,
            },
            Preset::Paper2Conv {
                low: -3.0,
                high: 3.0,
            },
            Preset::EpsilonPlusFlat,
            Preset::LstmDefault,
            Preset::Epsilon { eps: 1e-6 },
        ] {
            assert_eq!(p.to_string().parse::<Preset>().unwrap(), p);
            assert!(p.composite().is_ok());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Preset>(&json).unwrap(), p);
        }
        assert!(Preset::Epsilon { eps: -1.0 }.composite().is_err());
        let e = "paper2-conv:1:0".parse::<Preset>().unwrap_err();
        assert!(e.to_string().contains("[1, 0]"), "{e}");
    }

    #[test]
    fn rule_specs_check_their_parameters() {
        assert!(RuleSpec::Epsilon { eps: -1.0 }.build().is_err());
        assert!(RuleSpec::Gamma { gamma: f64::NAN }.build().is_err());
        assert!(RuleSpec::ZBox {
            low: 2.0,
            high: 1.0
        }
        .build()
        .is_err());
        let r = RuleSpec::ZBox {
            low: 0.0,
            high: 1.0,
        }
        .build()
        .unwrap();
        assert_eq!(r.name(), "z-box[0, 1]");
        let json = serde_json::to_string(&RuleSpec::Epsilon { eps: 0.5 }).unwrap();
        assert_eq!(json, r#"{"epsilon":{"eps":0.5}}"#);
    }
}
