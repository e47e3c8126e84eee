//! A fully connected autoencoder for tabular records (paper 2's tabular experiments).
//!
//! With `hidden = [h1, .., hk]` (encoder widths, `hk` the bottleneck) the layers are
//!
//! ```text
//! Linear(input -> h1), ReLU, .., Linear(h(k-1) -> hk), bottleneck_activation,
//! Linear(hk -> h(k-1)), ReLU, .., Linear(h1 -> input), output_activation
//! ```
//!
//! so the decoder mirrors the encoder. Parameter names: `encoder.{i}.weight` /
//! `encoder.{i}.bias` for the `i`-th encoder linear layer (0-based) and `decoder.{i}.*`
//! likewise. With `bias = false` every linear layer is bias-free, which LRP's conservation
//! checks need (a bias absorbs or injects relevance).

use tch::{nn, Device, Tensor};

use crate::error::{ModelError, Result};
use crate::init::{Draw, ParamBuilder};
use crate::layer::{forward_layers, Activation, Layer};
use crate::layer_model::{check_input, LayerModel, Trainable};
use crate::persist::shapes::Shapes;
use crate::persist::{ParamShape, SavedModel};
use crate::state_dict::StateDict;

crate::checked_settings! {
/// Sizes and non-linearities of a [`DenseAe`].
#[derive(Debug, Clone, PartialEq)]
pub struct DenseAeConfig with serde(default, deny_unknown_fields) {
    /// Features per record.
    pub input: i64,
    /// Encoder widths, the last one the bottleneck; the decoder mirrors them.
    pub hidden: Vec<i64>,
    /// Non-linearity after the bottleneck layer; ReLU by default, `None` for a linear
    /// bottleneck (whose signed outputs LRP treats with epsilon or flat rules).
    pub bottleneck_activation: Option<Activation>,
    /// Non-linearity on the reconstruction; `None` by default, `Sigmoid` suits inputs
    /// scaled to `[0, 1]`.
    pub output_activation: Option<Activation>,
    /// Whether the linear layers have biases (default `true`).
    pub bias: bool,
}
}

// A configuration read from JSON is checked like one built in code.

impl Default for DenseAeConfig {
    /// A 30-feature model (the breast-cancer table) with encoder widths `[16, 8]`.
    fn default() -> Self {
        DenseAeConfig::new(30, vec![16, 8])
    }
}

impl DenseAeConfig {
    /// ReLU everywhere inside, linear output, with biases.
    pub fn new(input: i64, hidden: Vec<i64>) -> Self {
        DenseAeConfig {
            input,
            hidden,
            bottleneck_activation: Some(Activation::Relu),
            output_activation: None,
            bias: true,
        }
    }

    /// Checks every size.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for `input < 1`, no hidden layer or a width below 1.
    pub fn check(&self) -> Result<()> {
        if self.input < 1 {
            return Err(ModelError::InvalidParam {
                what: "DenseAeConfig",
                param: "input",
                value: self.input.to_string(),
                rule: "must be at least 1",
            });
        }
        if self.hidden.is_empty() || self.hidden.iter().any(|&h| h < 1) {
            return Err(ModelError::InvalidParam {
                what: "DenseAeConfig",
                param: "hidden",
                value: format!("{:?}", self.hidden),
                rule: "must hold at least one layer, each of at least 1 unit",
            });
        }
        Ok(())
    }
}

/// A fully connected autoencoder (see the module docs for the layer list).
///
/// ```
/// use ae_models::{Activation, LayerModel, DenseAe, DenseAeConfig, LayerKind};
/// use tch::{Device, Kind, Tensor};
/// let mut cfg = DenseAeConfig::new(6, vec![4, 2]);
/// cfg.output_activation = Some(Activation::Sigmoid);
/// let ae = DenseAe::seeded(&cfg, Device::Cpu, 0)?;
/// assert_eq!(ae.layers().len(), 8);
/// assert_eq!(ae.layers()[7].kind(), LayerKind::Activation(Activation::Sigmoid));
/// let y = ae.forward(&Tensor::rand([5, 6], (Kind::Float, Device::Cpu)))?;
/// assert_eq!(y.size(), vec![5, 6]);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
pub struct DenseAe {
    config: DenseAeConfig,
    layers: Vec<Layer>,
    params: Vec<(String, Tensor)>,
    device: Device,
}

impl DenseAe {
    /// Creates the model's variables under `path`, drawn from libtorch's global generator.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad config (see [`DenseAeConfig::check`]).
    pub fn new(path: &nn::Path<'_>, config: &DenseAeConfig) -> Result<Self> {
        Self::build(path, config, Draw::Torch)
    }

    /// Creates the model in a var store of its own, its initial weights a pure function of
    /// `seed`.
    ///
    /// # Errors
    /// As [`DenseAe::new`].
    pub fn seeded(config: &DenseAeConfig, device: Device, seed: u64) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::seeded(seed))
    }

    /// Creates the model in a var store of its own on `device`, its initial weights the
    /// tensors of `state_dict` under the names of the module docs (converted to `f32`).
    ///
    /// # Errors
    /// As [`DenseAe::new`], and [`ModelError::ConfigMismatch`] naming a missing parameter,
    /// one whose shape differs from what `config` needs, or a tensor the model has no place
    /// for.
    pub fn from_state_dict(
        config: &DenseAeConfig,
        state_dict: StateDict,
        device: Device,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::Given(state_dict))
    }

    fn build(path: &nn::Path<'_>, config: &DenseAeConfig, draw: Draw) -> Result<Self> {
        config.check()?;
        let mut b = ParamBuilder::new(path, draw);
        let mut widths = vec![config.input];
        widths.extend(&config.hidden);
        let k = config.hidden.len();
        let mut layers = Vec::new();
        for i in 0..k {
            let (weight, bias) = b.affine(
                &format!("encoder.{i}"),
                &[widths[i + 1], widths[i]],
                config.bias,
            )?;
            layers.push(Layer::Linear { weight, bias });
            let act = if i + 1 == k {
                config.bottleneck_activation
            } else {
                Some(Activation::Relu)
            };
            layers.extend(act.map(Layer::Activation));
        }
        for i in 0..k {
            let (from, to) = (widths[k - i], widths[k - i - 1]);
            let (weight, bias) = b.affine(&format!("decoder.{i}"), &[to, from], config.bias)?;
            layers.push(Layer::Linear { weight, bias });
            let act = if i + 1 == k {
                config.output_activation
            } else {
                Some(Activation::Relu)
            };
            layers.extend(act.map(Layer::Activation));
        }
        b.check_consumed()?;
        let device = b.device();
        Ok(DenseAe {
            config: config.clone(),
            layers,
            params: b.finish(),
            device,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DenseAeConfig {
        &self.config
    }
}

impl LayerModel for DenseAe {
    fn sample_shape(&self) -> Vec<i64> {
        vec![self.config.input]
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "DenseAe")?;
        forward_layers(&self.layers, x)
    }
}

impl Trainable for DenseAe {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

impl SavedModel for DenseAe {
    const KIND: &'static str = "DenseAe";
    type Config = DenseAeConfig;

    fn saved_config(&self) -> &DenseAeConfig {
        self.config()
    }

    fn from_config(config: &DenseAeConfig, device: Device) -> Result<Self> {
        DenseAe::seeded(config, device, 0)
    }

    fn parameter_shapes(config: &DenseAeConfig) -> Result<Vec<ParamShape>> {
        config.check()?;
        let mut widths = vec![config.input];
        widths.extend(&config.hidden);
        let k = config.hidden.len();
        let mut s = Shapes::default();
        for i in 0..k {
            s.affine(
                &format!("encoder.{i}"),
                vec![widths[i + 1], widths[i]],
                config.bias,
            );
        }
        for i in 0..k {
            s.affine(
                &format!("decoder.{i}"),
                vec![widths[k - i - 1], widths[k - i]],
                config.bias,
            );
        }
        Ok(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::LayerKind;
    use tch::Kind;

    #[test]
    fn decoder_mirrors_encoder() {
        let ae = DenseAe::seeded(&DenseAeConfig::new(10, vec![7, 5, 3]), Device::Cpu, 0).unwrap();
        let shapes: Vec<(String, Vec<i64>)> = ae
            .parameters()
            .iter()
            .map(|(n, t)| (n.clone(), t.size()))
            .collect();
        let weights: Vec<Vec<i64>> = shapes
            .iter()
            .filter(|(n, _)| n.ends_with("weight"))
            .map(|(_, s)| s.clone())
            .collect();
        let expected = [[7, 10], [5, 7], [3, 5], [5, 3], [7, 5], [10, 7]];
        assert_eq!(weights, expected.map(|s| s.to_vec()).to_vec());
        assert_eq!(shapes[0].0, "encoder.0.weight");
        assert_eq!(shapes[11].0, "decoder.2.bias");
        let kinds: Vec<LayerKind> = ae.layers().iter().map(Layer::kind).collect();
        let relu = LayerKind::Activation(Activation::Relu);
        use LayerKind::Linear;
        assert_eq!(
            kinds,
            vec![Linear, relu, Linear, relu, Linear, relu, Linear, relu, Linear, relu, Linear]
        );
    }

    #[test]
    fn bias_free_and_linear_bottleneck() {
        let mut cfg = DenseAeConfig::new(4, vec![2]);
        cfg.bias = false;
        cfg.bottleneck_activation = None;
        let ae = DenseAe::seeded(&cfg, Device::Cpu, 0).unwrap();
        assert_eq!(ae.parameters().len(), 2);
        assert_eq!(ae.layers().len(), 2);
        // Bias-free and purely linear: the zero record reconstructs to zero.
        let y = ae
            .forward(&Tensor::zeros([1, 4], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!(y.abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    #[test]
    fn wrong_width_is_an_error_naming_the_shape() {
        let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![2]), Device::Cpu, 0).unwrap();
        let err = ae
            .forward(&Tensor::zeros([3, 5], (Kind::Float, Device::Cpu)))
            .unwrap_err();
        assert!(
            err.to_string().contains("[batch, 4]") && err.to_string().contains("[3, 5]"),
            "{err}"
        );
        let err = DenseAe::seeded(&DenseAeConfig::new(4, vec![2, 0]), Device::Cpu, 0).unwrap_err();
        assert!(err.to_string().contains("hidden = [2, 0]"), "{err}");
    }
}
