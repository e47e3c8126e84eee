//! A convolutional autoencoder for images (paper 2's image experiment), described as data:
//! a list of convolutions, each optionally preceded by nearest-neighbour upsampling.
//!
//! [`ConvAeConfig::paper2`] is Table 2 of the LRP-for-autoencoders paper (after Bergmann et
//! al. 2019): input `1 × 128 × 128`, fourteen convolutions without padding, ReLU after
//! every one of them (the last included), nearest upsampling in the decoder.
//!
//! Table 2 prints the scale of the third upsampling as 3.0, but its own sizes say 2: the
//! layer before it outputs 10 × 10 and the layer after it expects 20 × 20 (a factor 3 would
//! give 30 × 30 and a final 248 × 248 image instead of 128 × 128). The sizes are
//! self-consistent only with 2, so that is what [`ConvAeConfig::paper2`] uses; a test checks
//! every output size of the table.
//!
//! The layer list is `[UpsampleNearest]?, Conv2d, Activation` per [`ConvSpec`], with the
//! last activation replaced by `output_activation` (or dropped when `None`). Parameters are
//! named `conv{i}.weight` / `conv{i}.bias` with `i` counted from 1, as in Table 2.

use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};

use crate::error::{ModelError, Result};
use crate::init::{Draw, ParamBuilder};
use crate::layer::{forward_layers, Activation, Layer};
use crate::layer_model::{check_input, LayerModel, Trainable};
use crate::persist::shapes::Shapes;
use crate::persist::{ParamShape, SavedModel};
use crate::state_dict::StateDict;

/// One square convolution, optionally preceded by nearest-neighbour upsampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvSpec {
    /// Output channels.
    pub out_channels: i64,
    /// Kernel side.
    pub kernel: i64,
    /// Stride in both directions.
    pub stride: i64,
    /// Zero padding on every side.
    pub padding: i64,
    /// Integer factor of a nearest-neighbour upsampling applied before the convolution.
    #[serde(default)]
    pub upsample_before: Option<i64>,
    /// Spacing between kernel taps in both directions (default 1: a plain convolution).
    #[serde(default = "one")]
    pub dilation: i64,
    /// Channel groups (default 1); input and output channels must be divisible by it.
    #[serde(default = "one")]
    pub groups: i64,
}

fn one() -> i64 {
    1
}

impl ConvSpec {
    /// A convolution with no upsampling before it.
    pub const fn new(out_channels: i64, kernel: i64, stride: i64, padding: i64) -> Self {
        ConvSpec {
            out_channels,
            kernel,
            stride,
            padding,
            upsample_before: None,
            dilation: 1,
            groups: 1,
        }
    }

    /// The same convolution with its kernel taps `dilation` apart.
    pub const fn dilated(mut self, dilation: i64) -> Self {
        self.dilation = dilation;
        self
    }

    /// The same convolution split into `groups` channel groups.
    pub const fn grouped(mut self, groups: i64) -> Self {
        self.groups = groups;
        self
    }

    /// The same convolution preceded by upsampling by `scale`.
    pub const fn after_upsample(mut self, scale: i64) -> Self {
        self.upsample_before = Some(scale);
        self
    }
}

crate::checked_settings! {
/// The architecture of a [`ConvAe`]: input shape, convolutions and non-linearities.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvAeConfig with serde(default, deny_unknown_fields) {
    /// Input shape `[channels, height, width]`; the output has the same shape.
    pub input: [i64; 3],
    /// The convolutions in order.
    pub convs: Vec<ConvSpec>,
    /// Non-linearity after every convolution but the last (ReLU in Table 2).
    pub hidden_activation: Activation,
    /// Non-linearity after the last convolution (ReLU in Table 2; `Sigmoid` suits images
    /// in `[0, 1]`; `None` leaves the output linear).
    pub output_activation: Option<Activation>,
    /// Whether the convolutions have biases (default `true`).
    pub bias: bool,
}
}

// A configuration read from JSON is checked like one built in code.

impl Default for ConvAeConfig {
    fn default() -> Self {
        ConvAeConfig::paper2()
    }
}

impl ConvAeConfig {
    /// Table 2 of paper 2: `1 × 128 × 128`, 14 convolutions, ReLU everywhere.
    pub fn paper2() -> Self {
        let c = ConvSpec::new;
        ConvAeConfig {
            input: [1, 128, 128],
            convs: vec![
                c(32, 5, 2, 0),
                c(32, 3, 2, 0),
                c(32, 3, 1, 0),
                c(64, 5, 2, 0),
                c(64, 3, 1, 0),
                c(128, 3, 2, 0),
                c(512, 3, 1, 0),
                c(128, 3, 1, 0).after_upsample(3),
                c(64, 3, 1, 0).after_upsample(3),
                c(64, 3, 1, 0).after_upsample(2),
                c(32, 3, 1, 0).after_upsample(2),
                c(32, 3, 1, 0).after_upsample(2),
                c(32, 3, 1, 0).after_upsample(2),
                c(1, 3, 1, 0),
            ],
            hidden_activation: Activation::Relu,
            output_activation: Some(Activation::Relu),
            bias: true,
        }
    }

    /// A six-convolution model for grayscale `side × side` images (`side` divisible by 4)
    /// for tests and quick runs: two stride-2 convolutions down to `side / 4` with
    /// `channels` and `2 · channels` channels, one at the bottleneck, two upsample-and-convolve
    /// steps back and a final 3 × 3 convolution to one channel. Padding 1 keeps sizes exact;
    /// ReLU everywhere as in Table 2.
    pub fn small(side: i64, channels: i64) -> Self {
        let c = ConvSpec::new;
        ConvAeConfig {
            input: [1, side, side],
            convs: vec![
                c(channels, 3, 2, 1),
                c(2 * channels, 3, 2, 1),
                c(2 * channels, 3, 1, 1),
                c(channels, 3, 1, 1).after_upsample(2),
                c(channels, 3, 1, 1).after_upsample(2),
                c(1, 3, 1, 1),
            ],
            hidden_activation: Activation::Relu,
            output_activation: Some(Activation::Relu),
            bias: true,
        }
    }

    /// The output shape `[channels, height, width]` of every convolution, in order.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a non-positive size, stride, kernel or scale, a
    /// negative padding, or a convolution that would leave no output pixel.
    pub fn shapes(&self) -> Result<Vec<[i64; 3]>> {
        let bad = |param, value: String, rule| ModelError::InvalidParam {
            what: "ConvAeConfig",
            param,
            value,
            rule,
        };
        if self.input.iter().any(|&d| d < 1) {
            return Err(bad(
                "input",
                format!("{:?}", self.input),
                "must be at least 1 in every dimension",
            ));
        }
        if self.convs.is_empty() {
            return Err(bad(
                "convs",
                "[]".into(),
                "must hold at least one convolution",
            ));
        }
        let [mut c, mut h, mut w] = self.input;
        let mut shapes = Vec::with_capacity(self.convs.len());
        for (i, s) in self.convs.iter().enumerate() {
            let n = i + 1;
            if s.out_channels < 1
                || s.kernel < 1
                || s.stride < 1
                || s.padding < 0
                || s.dilation < 1
                || s.groups < 1
            {
                return Err(bad(
                    "convs",
                    format!("conv{n} {s:?}"),
                    "needs out_channels, kernel, stride, dilation and groups of at least 1 and padding of at least 0",
                ));
            }
            if c % s.groups != 0 || s.out_channels % s.groups != 0 {
                return Err(bad(
                    "groups",
                    format!(
                        "{} (conv{n}: {c} input, {} output channels)",
                        s.groups, s.out_channels
                    ),
                    "must divide the input and the output channels",
                ));
            }
            if let Some(scale) = s.upsample_before {
                if scale < 1 {
                    return Err(bad(
                        "upsample_before",
                        format!("{scale} (conv{n})"),
                        "must be at least 1",
                    ));
                }
                (h, w) = match (h.checked_mul(scale), w.checked_mul(scale)) {
                    (Some(h), Some(w)) => (h, w),
                    _ => {
                        return Err(bad(
                            "upsample_before",
                            format!("{scale} (conv{n}, {h}x{w} input)"),
                            "makes the image larger than an i64 can count",
                        ))
                    }
                };
            }
            // Sizes come from user configs and saved manifests: every product is checked,
            // so an absurd value is an error, never an overflow.
            let sizes = s
                .kernel
                .checked_sub(1)
                .and_then(|k| s.dilation.checked_mul(k))
                .and_then(|d| d.checked_add(1))
                .zip(s.padding.checked_mul(2))
                .and_then(|(span, pad)| Some((span, h.checked_add(pad)?, w.checked_add(pad)?)));
            let Some((span, padded_h, padded_w)) = sizes else {
                return Err(bad(
                    "convs",
                    format!("conv{n} {s:?} on a {h}x{w} input"),
                    "has sizes larger than an i64 can count",
                ));
            };
            let out = |d: i64| (d - span).div_euclid(s.stride) + 1;
            let (oh, ow) = (out(padded_h), out(padded_w));
            if oh < 1 || ow < 1 || padded_h < span || padded_w < span {
                return Err(bad(
                    "convs",
                    format!(
                        "conv{n}: {h}x{w} input, kernel {}, dilation {}, padding {}",
                        s.kernel, s.dilation, s.padding
                    ),
                    "leaves no output pixel",
                ));
            }
            (c, h, w) = (s.out_channels, oh, ow);
            shapes.push([s.out_channels, h, w]);
        }
        Ok(shapes)
    }

    /// Checks the config and that the output shape equals the input shape.
    ///
    /// # Errors
    /// As [`ConvAeConfig::shapes`], and [`ModelError::ShapeMismatch`] when the last
    /// convolution's output differs from the input shape.
    pub fn check(&self) -> Result<()> {
        let shapes = self.shapes()?;
        let last = shapes[shapes.len() - 1];
        if last != self.input {
            return Err(ModelError::ShapeMismatch {
                what: "ConvAeConfig output (must reconstruct the input)".into(),
                expected: format!("{:?}", self.input),
                got: last.to_vec(),
            });
        }
        Ok(())
    }
}

/// A convolutional autoencoder (see the module docs).
///
/// ```
/// use ae_models::{LayerModel, ConvAe, ConvAeConfig};
/// use tch::{Device, Kind, Tensor};
/// let ae = ConvAe::seeded(&ConvAeConfig::small(16, 2), Device::Cpu, 0)?;
/// let x = Tensor::rand([2, 1, 16, 16], (Kind::Float, Device::Cpu));
/// assert_eq!(ae.forward(&x)?.size(), vec![2, 1, 16, 16]);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
pub struct ConvAe {
    config: ConvAeConfig,
    layers: Vec<Layer>,
    params: Vec<(String, Tensor)>,
    device: Device,
}

impl ConvAe {
    /// Creates the model's variables under `path`, drawn from libtorch's global generator.
    ///
    /// # Errors
    /// As [`ConvAeConfig::check`].
    pub fn new(path: &nn::Path<'_>, config: &ConvAeConfig) -> Result<Self> {
        Self::build(path, config, Draw::Torch)
    }

    /// Creates the model in a var store of its own, its initial weights a pure function of
    /// `seed`.
    ///
    /// # Errors
    /// As [`ConvAeConfig::check`].
    pub fn seeded(config: &ConvAeConfig, device: Device, seed: u64) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::seeded(seed))
    }

    /// Creates the model in a var store of its own on `device`, its initial weights the
    /// tensors of `state_dict` under the names of the module docs (converted to `f32`).
    ///
    /// # Errors
    /// As [`ConvAe::new`], and [`ModelError::ConfigMismatch`] naming a missing parameter,
    /// one whose shape differs from what `config` needs, or a tensor the model has no place
    /// for.
    pub fn from_state_dict(
        config: &ConvAeConfig,
        state_dict: StateDict,
        device: Device,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::Given(state_dict))
    }

    fn build(path: &nn::Path<'_>, config: &ConvAeConfig, draw: Draw) -> Result<Self> {
        config.check()?;
        let mut b = ParamBuilder::new(path, draw);
        let mut layers = Vec::new();
        let mut in_ch = config.input[0];
        let n = config.convs.len();
        for (i, s) in config.convs.iter().enumerate() {
            if let Some(scale) = s.upsample_before {
                layers.push(Layer::UpsampleNearest { scale });
            }
            let dims = [s.out_channels, in_ch / s.groups, s.kernel, s.kernel];
            let (weight, bias) = b.affine(&format!("conv{}", i + 1), &dims, config.bias)?;
            layers.push(Layer::Conv2d {
                weight,
                bias,
                stride: [s.stride; 2],
                padding: [s.padding; 2],
                dilation: [s.dilation; 2],
                groups: s.groups,
            });
            let act = if i + 1 == n {
                config.output_activation
            } else {
                Some(config.hidden_activation)
            };
            layers.extend(act.map(Layer::Activation));
            in_ch = s.out_channels;
        }
        b.check_consumed()?;
        let device = b.device();
        Ok(ConvAe {
            config: config.clone(),
            layers,
            params: b.finish(),
            device,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ConvAeConfig {
        &self.config
    }
}

impl LayerModel for ConvAe {
    fn sample_shape(&self) -> Vec<i64> {
        self.config.input.to_vec()
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "ConvAe")?;
        forward_layers(&self.layers, x)
    }
}

impl Trainable for ConvAe {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

impl SavedModel for ConvAe {
    const KIND: &'static str = "ConvAe";
    type Config = ConvAeConfig;

    fn saved_config(&self) -> &ConvAeConfig {
        self.config()
    }

    fn from_config(config: &ConvAeConfig, device: Device) -> Result<Self> {
        ConvAe::seeded(config, device, 0)
    }

    fn parameter_shapes(config: &ConvAeConfig) -> Result<Vec<ParamShape>> {
        config.check()?;
        let mut s = Shapes::default();
        let mut in_ch = config.input[0];
        for (i, c) in config.convs.iter().enumerate() {
            s.affine(
                &format!("conv{}", i + 1),
                vec![c.out_channels, in_ch, c.kernel, c.kernel],
                config.bias,
            );
            in_ch = c.out_channels;
        }
        Ok(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{forward_recording, LayerKind};
    use tch::Kind;

    #[test]
    fn paper2_reproduces_every_size_of_table_2() {
        // Output sizes of Table 2, (height = width, channels), Conv 1 .. Conv 14.
        let table = [
            (62, 32),
            (30, 32),
            (28, 32),
            (12, 64),
            (10, 64),
            (4, 128),
            (2, 512),
            (4, 128),
            (10, 64),
            (18, 64),
            (34, 32),
            (66, 32),
            (130, 32),
            (128, 1),
        ];
        let shapes = ConvAeConfig::paper2().shapes().unwrap();
        let got: Vec<(i64, i64)> = shapes.iter().map(|s| (s[1], s[0])).collect();
        assert_eq!(got, table.to_vec());
        assert!(shapes.iter().all(|s| s[1] == s[2]));
    }

    #[test]
    fn paper2_layer_list_and_forward() {
        let ae = ConvAe::seeded(&ConvAeConfig::paper2(), Device::Cpu, 0).unwrap();
        let kinds: Vec<LayerKind> = ae.layers().iter().map(Layer::kind).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == LayerKind::Conv2d).count(),
            14
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == LayerKind::UpsampleNearest)
                .count(),
            6
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == LayerKind::Activation(Activation::Relu))
                .count(),
            14
        );
        assert_eq!(kinds.last(), Some(&LayerKind::Activation(Activation::Relu)));
        let x = Tensor::rand([1, 1, 128, 128], (Kind::Float, Device::Cpu));
        let acts = forward_recording(ae.layers(), &x).unwrap();
        // The upsampling between Conv 9 (10 x 10) and Conv 10 doubles, as the sizes demand.
        let up = acts
            .iter()
            .map(|a| a.size())
            .position(|s| s == vec![1, 64, 20, 20]);
        assert!(up.is_some());
        assert_eq!(acts.last().unwrap().size(), vec![1, 1, 128, 128]);
    }

    #[test]
    fn small_variant_works_for_several_sides() {
        for side in [16, 32, 64] {
            let ae = ConvAe::seeded(&ConvAeConfig::small(side, 4), Device::Cpu, 1).unwrap();
            let y = ae
                .forward(&Tensor::rand(
                    [2, 1, side, side],
                    (Kind::Float, Device::Cpu),
                ))
                .unwrap();
            assert_eq!(y.size(), vec![2, 1, side, side]);
        }
    }

    #[test]
    fn inconsistent_architectures_are_rejected() {
        let err = ConvAe::seeded(&ConvAeConfig::small(30, 2), Device::Cpu, 0).unwrap_err();
        assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err}");
        let mut cfg = ConvAeConfig::paper2();
        cfg.convs[9].upsample_before = Some(3);
        let err = cfg.check().unwrap_err();
        assert!(err.to_string().contains("[1, 128, 128]"), "{err}");
        let mut cfg = ConvAeConfig::small(8, 2);
        cfg.input = [1, 2, 2];
        cfg.convs[0].padding = 0;
        let err = cfg.check().unwrap_err().to_string();
        assert!(
            err.contains("conv1: 2x2 input, kernel 3") && err.contains("no output pixel"),
            "{err}"
        );
        let mut cfg = ConvAeConfig::small(8, 2);
        cfg.convs[0].stride = 0;
        assert!(cfg.check().unwrap_err().to_string().contains("conv1"));
    }
}
