//! Rules and composites as serialisable configuration: [`RuleSpec`] names a rule,
//! [`Preset`] names a composite (the counterpart of Zennit's `register_composite`),
//! [`CompositeSpec`] is a preset with explicit rules for chosen layers.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bound::Bound;
use crate::composite::{ByIndex, Composite, FirstLayer, InputSign, LayerClass, LayerMap};
use crate::deviation::RootPoint;
use crate::error::{LrpError, Result};
use crate::rule::{Rule, DEFAULT_STABILIZER};
use crate::rules::{DeltaEpsilon, Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus};

/// The ε of the paper presets' fallback for layers with signed input, and of every layer
/// of [`Preset::LstmDefault`]: the `0.001` of Arras et al.'s LSTM experiments. Small
/// against activations of order one, so it only stabilises, yet large enough to damp
/// near-zero denominators of signed sums.
pub const SIGNED_EPSILON: f64 = 1e-3;

/// The ε of [`Preset::Deviation`] unless given: Zennit's `1e-6`. Deviations from a
/// reference are much smaller than activations, and Δ-ε divides by them: on the trained
/// LSTM autoencoder of `examples/planted_faults.rs` ε = [`SIGNED_EPSILON`] absorbed 3–86 %
/// of the explained deviation, `1e-6` less than 0.1 %, with the same rankings.
pub const DEVIATION_EPSILON: f64 = DEFAULT_STABILIZER;

/// A rule by name and parameters, as configuration; [`RuleSpec::build`] makes the rule.
/// Stabilisers default to Zennit's `1e-6` when a field is left out, and z-box bounds are
/// a number or a tensor ([`Bound`]).
///
/// ```
/// use lrp_ae::RuleSpec;
/// let spec: RuleSpec = serde_json::from_str(
///     r#"{"z-box": {"low": {"shape": [1, 2], "values": [0.0, -1.0]}, "high": 1.0, "stabilizer": 1e-3}}"#,
/// )?;
/// assert_eq!(spec.build()?.name(), "z-box[[1, 2]: [0, -1], 1](stabilizer=0.001)");
/// let plus: RuleSpec = serde_json::from_str(r#"{"z-plus": {}}"#)?;
/// assert_eq!(plus, RuleSpec::z_plus());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum RuleSpec {
    /// [`ZPlus`].
    ZPlus {
        /// Stabiliser.
        #[serde(default = "default_stabilizer")]
        stabilizer: f64,
    },
    /// [`WSquare`].
    WSquare {
        /// Stabiliser.
        #[serde(default = "default_stabilizer")]
        stabilizer: f64,
    },
    /// [`ZBox`], scalar or tensor bounds.
    ZBox {
        /// Lowest input value(s).
        low: Bound,
        /// Highest input value(s).
        high: Bound,
        /// Stabiliser.
        #[serde(default = "default_stabilizer")]
        stabilizer: f64,
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
        /// Stabiliser.
        #[serde(default = "default_stabilizer")]
        stabilizer: f64,
    },
    /// [`Flat`].
    Flat {
        /// Stabiliser.
        #[serde(default = "default_stabilizer")]
        stabilizer: f64,
    },
    /// [`Pass`].
    Pass,
    /// [`DeltaEpsilon`] (deviation LRP only).
    DeltaEpsilon {
        /// ε.
        eps: f64,
    },
}

fn default_stabilizer() -> f64 {
    DEFAULT_STABILIZER
}

impl RuleSpec {
    /// z⁺ with the default stabiliser.
    pub fn z_plus() -> Self {
        RuleSpec::ZPlus {
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// w² with the default stabiliser.
    pub fn w_square() -> Self {
        RuleSpec::WSquare {
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// z-box on `[low, high]` with the default stabiliser.
    pub fn z_box(low: f64, high: f64) -> Self {
        RuleSpec::ZBox {
            low: Bound::scalar(low),
            high: Bound::scalar(high),
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// ε.
    pub fn epsilon(eps: f64) -> Self {
        RuleSpec::Epsilon { eps }
    }

    /// γ with the default stabiliser.
    pub fn gamma(gamma: f64) -> Self {
        RuleSpec::Gamma {
            gamma,
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// Flat with the default stabiliser.
    pub fn flat() -> Self {
        RuleSpec::Flat {
            stabilizer: DEFAULT_STABILIZER,
        }
    }

    /// Builds the rule, checking its parameters with the rule's own constructors.
    ///
    /// # Errors
    /// Those of the rule's constructor, naming the rejected value.
    pub fn build(&self) -> Result<Arc<dyn Rule>> {
        Ok(match self {
            RuleSpec::ZPlus { stabilizer } => Arc::new(ZPlus::new().with_stabilizer(*stabilizer)?),
            RuleSpec::WSquare { stabilizer } => {
                Arc::new(WSquare::new().with_stabilizer(*stabilizer)?)
            }
            RuleSpec::ZBox {
                low,
                high,
                stabilizer,
            } => Arc::new(
                ZBox::with_bounds(low.clone(), high.clone())?.with_stabilizer(*stabilizer)?,
            ),
            RuleSpec::Epsilon { eps } => Arc::new(Epsilon::new(*eps)?),
            RuleSpec::Gamma { gamma, stabilizer } => {
                Arc::new(Gamma::new(*gamma)?.with_stabilizer(*stabilizer)?)
            }
            RuleSpec::Flat { stabilizer } => Arc::new(Flat::new().with_stabilizer(*stabilizer)?),
            RuleSpec::Pass => Arc::new(Pass),
            RuleSpec::DeltaEpsilon { eps } => Arc::new(DeltaEpsilon::new(*eps)?),
        })
    }
}

/// A preset with explicit rules for chosen layers, as configuration: [`ByIndex`] over the
/// preset's composite (or over nothing, when every layer is listed).
///
/// ```
/// use lrp_ae::{CompositeSpec, Preset, RuleSpec};
/// let spec: CompositeSpec = serde_json::from_str(
///     r#"{"preset": "epsilon-plus-flat", "layers": {"4": {"epsilon": {"eps": 0.25}}}}"#,
/// )?;
/// assert_eq!(spec.preset, Some(Preset::EpsilonPlusFlat));
/// assert_eq!(spec.layers[&4], RuleSpec::epsilon(0.25));
/// let _composite = spec.composite()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeSpec {
    /// The composite for the layers not listed; `None`: every layer must be listed.
    #[serde(default)]
    pub preset: Option<Preset>,
    /// Rules for chosen layers, by position in the layer list.
    #[serde(default)]
    pub layers: BTreeMap<usize, RuleSpec>,
}

impl CompositeSpec {
    /// Builds the composite, checking every rule's parameters.
    ///
    /// # Errors
    /// Those of [`Preset::composite`] and [`RuleSpec::build`].
    pub fn composite(&self) -> Result<Arc<dyn Composite>> {
        let mut c = match self.preset {
            Some(p) => ByIndex::over(p.composite()?),
            None => ByIndex::new(),
        };
        for (&index, spec) in &self.layers {
            c = c.set_arc(index, spec.build()?);
        }
        Ok(Arc::new(c))
    }
}

/// Zennit's `EpsilonGammaBox(low, high, epsilon, gamma, stabilizer)` as a composite: z-box
/// on the first layer with parameters when it is a convolution, γ on the other
/// convolutions, ε on dense (and LSTM) layers, pass elsewhere. Tensor bounds go here;
/// [`Preset::EpsilonGammaBox`] is this with scalar bounds and Zennit's defaults
/// (`epsilon = 1e-6`, `gamma = 0.25`, `stabilizer = 1e-6`).
///
/// # Errors
/// Those of [`ZBox::with_bounds`], [`Gamma::new`], [`Epsilon::new`] and the stabilisers'
/// checks.
pub fn epsilon_gamma_box(
    low: Bound,
    high: Bound,
    epsilon: f64,
    gamma: f64,
    stabilizer: f64,
) -> Result<Arc<dyn Composite>> {
    let eps = Epsilon::new(epsilon)?;
    let rest = pass_map()
        .on(
            LayerClass::Conv2d,
            Gamma::new(gamma)?.with_stabilizer(stabilizer)?,
        )
        .on(LayerClass::Linear, eps)
        .on(LayerClass::Lstm, eps);
    let first = LayerMap::new().on(
        LayerClass::Conv2d,
        ZBox::with_bounds(low, high)?.with_stabilizer(stabilizer)?,
    );
    Ok(Arc::new(FirstLayer::new(first, rest)))
}

/// Pass on activations, routing layers and feature attention, the start of every preset.
fn pass_map() -> LayerMap {
    LayerMap::new()
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Routing, Pass)
        .on(LayerClass::FeatureAttention, Pass)
}

/// `rule` on every dense, convolutional and LSTM layer, pass elsewhere.
fn uniform(rule: impl Rule + Copy + 'static) -> Arc<dyn Composite> {
    Arc::new(
        pass_map()
            .on(LayerClass::Affine, rule)
            .on(LayerClass::Lstm, rule),
    )
}

/// Named composites.
///
/// | preset | first layer with parameters | dense / conv, input ≥ 0 | dense / conv, signed input | LSTM | rest |
/// |---|---|---|---|---|---|
/// | `paper2-dense` | dense: w² | z⁺ | ε = [`SIGNED_EPSILON`] | ε (Arras) | pass |
/// | `paper2-conv` | conv: z-box `[low, high]` | z⁺ | ε = [`SIGNED_EPSILON`] | ε (Arras) | pass |
/// | `epsilon-plus-flat` | dense or conv: flat | conv z⁺, dense ε = 1e-6 | same | ε = 1e-6 | pass |
/// | `epsilon-gamma-box` | conv: z-box `[low, high]` | conv γ = 0.25, dense ε = 1e-6 | same | ε = 1e-6 | pass |
/// | `lstm-default` | — | ε = [`SIGNED_EPSILON`] | ε = [`SIGNED_EPSILON`] | ε = [`SIGNED_EPSILON`] | pass |
/// | `epsilon:E` | — | ε = E | ε = E | ε = E | pass |
/// | `deviation:ROOT[:E]` | — | Δ-ε = E (1e-6) | Δ-ε = E | Δ-ε = E | pass |
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
/// * `epsilon-gamma-box` is Zennit's `EpsilonGammaBox` with its defaults (γ = 0.25, ε and
///   stabilisers `1e-6`), with the same first-layer difference; [`epsilon_gamma_box`] takes
///   tensor bounds and other parameters.
/// * `lstm-default` is for recurrent autoencoders: signed activations everywhere, so ε on
///   every map, the Arras et al. rule through the LSTM cells.
/// * `deviation:ROOT[:E]` is not one of paper 2's: deviation LRP ([`crate::deviation`]),
///   the relevance of the input's deviation from a reference point — `baseline` (one
///   given, or the request's baseline) or `reconstruction` (the input's own `x̂`) — with
///   [`DeltaEpsilon`] (`E` defaults to [`DEVIATION_EPSILON`]) on every layer with parameters.
///   It sees a sensor that drops as one that rises.
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
    /// Zennit's `EpsilonGammaBox`, with the input box of the first convolution.
    EpsilonGammaBox {
        /// Lowest input value.
        low: f64,
        /// Highest input value.
        high: f64,
    },
    /// ε everywhere, for LSTM autoencoders.
    LstmDefault,
    /// ε on every dense, convolutional and LSTM layer: the rule that follows the
    /// gradient × input most closely, as a reference for the others.
    Epsilon {
        /// ε (at least 0).
        eps: f64,
    },
    /// Deviation LRP: [`DeltaEpsilon`] on every dense, convolutional and LSTM layer, pass
    /// elsewhere, explaining the deviation from `root`.
    Deviation {
        /// ε of the Δ-ε rule (at least 0).
        eps: f64,
        /// The reference point.
        root: RootPoint,
    },
}

impl Preset {
    /// The composite this preset names.
    ///
    /// # Errors
    /// [`LrpError::InvalidParam`] for bounds that are not finite or not ordered.
    pub fn composite(&self) -> Result<Arc<dyn Composite>> {
        let pass = pass_map;
        let signed = Epsilon::new(SIGNED_EPSILON)?;
        let paper = |first: LayerMap| -> Arc<dyn Composite> {
            let rest = pass()
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
                    .on(LayerClass::Conv2d, ZPlus::new())
                    .on(LayerClass::Linear, eps)
                    .on(LayerClass::Lstm, eps);
                Arc::new(FirstLayer::new(
                    LayerMap::new().on(LayerClass::Affine, Flat::new()),
                    rest,
                ))
            }
            Preset::EpsilonGammaBox { low, high } => {
                ZBox::new(low, high)?;
                epsilon_gamma_box(
                    Bound::scalar(low),
                    Bound::scalar(high),
                    DEFAULT_STABILIZER,
                    0.25,
                    DEFAULT_STABILIZER,
                )?
            }
            Preset::LstmDefault => uniform(signed),
            Preset::Epsilon { eps } => uniform(Epsilon::new(eps)?),
            Preset::Deviation { eps, .. } => uniform(DeltaEpsilon::new(eps)?),
        })
    }

    /// The reference point of a deviation preset; `None` for the others.
    pub fn root(&self) -> Option<RootPoint> {
        match self {
            Preset::Deviation { root, .. } => Some(*root),
            _ => None,
        }
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
            Preset::EpsilonGammaBox { low, high } if *low == 0.0 && *high == 1.0 => {
                f.write_str("epsilon-gamma-box")
            }
            Preset::EpsilonGammaBox { low, high } => write!(f, "epsilon-gamma-box:{low}:{high}"),
            Preset::LstmDefault => f.write_str("lstm-default"),
            Preset::Epsilon { eps } => write!(f, "epsilon:{eps}"),
            Preset::Deviation { eps, root } => {
                let root = match root {
                    RootPoint::Baseline => "baseline",
                    RootPoint::Reconstruction => "reconstruction",
                };
                if *eps == DEVIATION_EPSILON {
                    write!(f, "deviation:{root}")
                } else {
                    write!(f, "deviation:{root}:{eps}")
                }
            }
        }
    }
}

/// Parses `paper2-dense`, `paper2-conv` (input box `[0, 1]`), `paper2-conv:LOW:HIGH`,
/// `epsilon-plus-flat`, `epsilon-gamma-box` (input box `[0, 1]`),
/// `epsilon-gamma-box:LOW:HIGH`, `lstm-default`, `epsilon:E` and `deviation:ROOT[:E]`
/// (`ROOT` is `baseline` or `reconstruction`, `E` defaults to [`DEVIATION_EPSILON`]).
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
            rule: "must be paper2-dense, paper2-conv[:LOW:HIGH], epsilon-plus-flat, epsilon-gamma-box[:LOW:HIGH], lstm-default, epsilon:E or deviation:baseline|reconstruction[:E]",
        }
        };
        let bounds = |rest: &str| -> Result<(f64, f64)> {
            let (low, high) = rest.split_once(':').ok_or_else(bad)?;
            let low: f64 = low.trim().parse().map_err(|_| bad())?;
            let high: f64 = high.trim().parse().map_err(|_| bad())?;
            ZBox::new(low, high)?;
            Ok((low, high))
        };
        match s {
            "paper2-dense" => Ok(Preset::Paper2Dense),
            "paper2-conv" => Ok(Preset::Paper2Conv {
                low: 0.0,
                high: 1.0,
            }),
            "epsilon-plus-flat" => Ok(Preset::EpsilonPlusFlat),
            "epsilon-gamma-box" => Ok(Preset::EpsilonGammaBox {
                low: 0.0,
                high: 1.0,
            }),
            "lstm-default" => Ok(Preset::LstmDefault),
            _ if s.starts_with("deviation:") => {
                let mut parts = s["deviation:".len()..].splitn(2, ':');
                let root = match parts.next().map(str::trim) {
                    Some("baseline") => RootPoint::Baseline,
                    Some("reconstruction") => RootPoint::Reconstruction,
                    _ => return Err(bad()),
                };
                let eps = match parts.next() {
                    Some(e) => e.trim().parse().map_err(|_| bad())?,
                    None => DEVIATION_EPSILON,
                };
                DeltaEpsilon::new(eps)?;
                Ok(Preset::Deviation { eps, root })
            }
            _ if s.starts_with("epsilon:") => {
                let eps: f64 = s["epsilon:".len()..].trim().parse().map_err(|_| bad())?;
                Ok(Preset::Epsilon { eps })
            }
            _ => {
                if let Some(rest) = s.strip_prefix("paper2-conv:") {
                    let (low, high) = bounds(rest)?;
                    Ok(Preset::Paper2Conv { low, high })
                } else if let Some(rest) = s.strip_prefix("epsilon-gamma-box:") {
                    let (low, high) = bounds(rest)?;
                    Ok(Preset::EpsilonGammaBox { low, high })
                } else {
                    Err(bad())
                }
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
            dilation: [1, 1],
            groups: 1,
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
        let deviation: Preset = "deviation:reconstruction".parse().unwrap();
        assert_eq!(
            deviation,
            Preset::Deviation {
                eps: DEVIATION_EPSILON,
                root: RootPoint::Reconstruction,
            }
        );
        let delta = "delta-epsilon(0.000001)";
        assert_eq!(
            names(deviation, &lstm_ae),
            vec![delta, "pass", "pass", delta, delta]
        );
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
            Preset::EpsilonGammaBox {
                low: 0.0,
                high: 1.0,
            },
            Preset::EpsilonGammaBox {
                low: -2.0,
                high: 0.5,
            },
            Preset::LstmDefault,
            Preset::Epsilon { eps: 1e-6 },
            Preset::Deviation {
                eps: DEVIATION_EPSILON,
                root: RootPoint::Baseline,
            },
            Preset::Deviation {
                eps: 0.0,
                root: RootPoint::Reconstruction,
            },
        ] {
            assert_eq!(p.to_string().parse::<Preset>().unwrap(), p);
            assert!(p.composite().is_ok());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Preset>(&json).unwrap(), p);
        }
        assert!(Preset::Epsilon { eps: -1.0 }.composite().is_err());
        let e = "paper2-conv:1:0".parse::<Preset>().unwrap_err();
        assert!(e.to_string().contains("[1, 0]"), "{e}");
        for bad in [
            "deviation",
            "deviation:",
            "deviation:mean",
            "deviation:baseline:x",
        ] {
            let e = bad.parse::<Preset>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        let e = "deviation:reconstruction:-1".parse::<Preset>().unwrap_err();
        assert!(e.to_string().contains("eps = -1"), "{e}");
        assert_eq!(
            "deviation:reconstruction".parse::<Preset>().unwrap().root(),
            Some(RootPoint::Reconstruction)
        );
        assert_eq!(Preset::LstmDefault.root(), None);
    }

    #[test]
    fn rule_specs_check_their_parameters() {
        assert!(RuleSpec::epsilon(-1.0).build().is_err());
        assert!(RuleSpec::gamma(f64::NAN).build().is_err());
        let e = RuleSpec::z_box(2.0, 1.0).build().unwrap_err().to_string();
        assert!(e.contains("low 2 > high 1"), "{e}");
        for bad in [
            RuleSpec::ZPlus { stabilizer: -1.0 },
            RuleSpec::WSquare {
                stabilizer: f64::INFINITY,
            },
            RuleSpec::Flat {
                stabilizer: f64::NAN,
            },
            RuleSpec::Gamma {
                gamma: 0.25,
                stabilizer: -0.5,
            },
        ] {
            let e = bad.build().unwrap_err().to_string();
            assert!(e.contains("stabilizer = "), "{e}");
        }
        let r = RuleSpec::z_box(0.0, 1.0).build().unwrap();
        assert_eq!(r.name(), "z-box[0, 1]");
        let json = serde_json::to_string(&RuleSpec::epsilon(0.5)).unwrap();
        assert_eq!(json, r#"{"epsilon":{"eps":0.5}}"#);
        let all = [
            RuleSpec::z_plus(),
            RuleSpec::w_square(),
            RuleSpec::z_box(-1.0, 1.0),
            RuleSpec::epsilon(0.1),
            RuleSpec::gamma(0.5),
            RuleSpec::flat(),
            RuleSpec::Pass,
            RuleSpec::DeltaEpsilon { eps: 0.01 },
            RuleSpec::ZBox {
                low: Bound::new(vec![1, 2], vec![0.0, 0.5]).unwrap(),
                high: Bound::scalar(1.0),
                stabilizer: 1e-3,
            },
        ];
        for spec in all {
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(
                serde_json::from_str::<RuleSpec>(&json).unwrap(),
                spec,
                "{json}"
            );
        }
        assert!(serde_json::from_str::<RuleSpec>(r#"{"z-plus": {"eps": 1}}"#).is_err());
    }

    #[test]
    fn epsilon_gamma_box_is_zbox_first_gamma_on_convs_epsilon_on_dense() {
        let conv = |o, i| Layer::Conv2d {
            weight: z(&[o, i, 3, 3]),
            bias: None,
            stride: [1, 1],
            padding: [1, 1],
            dilation: [1, 1],
            groups: 1,
        };
        let layers = vec![
            conv(2, 1),
            Layer::Activation(Activation::Relu),
            conv(2, 2),
            Layer::Reshape { shape: vec![-1] },
            Layer::Linear {
                weight: z(&[3, 8]),
                bias: None,
            },
            Layer::Activation(Activation::Softmax),
        ];
        let p = Preset::EpsilonGammaBox {
            low: -1.0,
            high: 1.0,
        };
        assert_eq!(
            names(p, &layers),
            vec![
                "z-box[-1, 1]",
                "pass",
                "gamma(0.25)",
                "pass",
                "epsilon(0.000001)",
                "pass"
            ]
        );
        // A first dense layer gets ε, as in Zennit (its first map holds convolutions only).
        assert_eq!(
            names(p, &layers[3..]),
            vec!["pass", "epsilon(0.000001)", "pass"]
        );
        let low = Bound::new(vec![1, 1, 2], vec![0.0, 0.5]).unwrap();
        let c = epsilon_gamma_box(low, Bound::scalar(1.0), 0.1, 0.5, 1e-3).unwrap();
        let ctx = layer_contexts(&layers);
        assert_eq!(
            c.rule(&ctx[0]).unwrap().name(),
            "z-box[[1, 1, 2]: [0, 0.5], 1](stabilizer=0.001)"
        );
        assert_eq!(
            c.rule(&ctx[2]).unwrap().name(),
            "gamma(0.5)(stabilizer=0.001)"
        );
        assert_eq!(c.rule(&ctx[4]).unwrap().name(), "epsilon(0.1)");
    }

    #[test]
    fn composite_specs_override_presets_and_check_indices() {
        let lin = |o, i| Layer::Linear {
            weight: z(&[o, i]),
            bias: None,
        };
        let layers = vec![lin(3, 4), Layer::Activation(Activation::Relu), lin(4, 3)];
        let spec: CompositeSpec = serde_json::from_str(
            r#"{"preset": "paper2-dense", "layers": {"2": {"epsilon": {"eps": 0.5}}}}"#,
        )
        .unwrap();
        let c = spec.composite().unwrap();
        let ctx = layer_contexts(&layers);
        let got: Vec<String> = ctx.iter().map(|x| c.rule(x).unwrap().name()).collect();
        assert_eq!(got, vec!["w2", "pass", "epsilon(0.5)"]);
        let only = CompositeSpec {
            preset: None,
            layers: [(0, RuleSpec::flat()), (7, RuleSpec::Pass)]
                .into_iter()
                .collect(),
        };
        let e = crate::propagate::resolve_rules(&layers, &*only.composite().unwrap()).unwrap_err();
        assert!(e.to_string().contains("7 (the model has 3 layers)"), "{e}");
        let bad = CompositeSpec {
            preset: None,
            layers: [(0, RuleSpec::epsilon(f64::NAN))].into_iter().collect(),
        };
        assert!(bad.composite().is_err());
    }
}
