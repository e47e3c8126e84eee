//! The explicit layer list every model is made of.
//!
//! tch modules have no hooks, so explanation methods that walk a network backwards (LRP)
//! cannot discover its structure. Instead every model in this crate *is* an ordered list of
//! typed [`Layer`]s: the forward pass folds the input through that list, and
//! [`forward_recording`] keeps every intermediate activation for a backward sweep. What the
//! forward pass computes and what LRP propagates through are therefore the same thing by
//! construction.
//!
//! Tensors inside a layer are shallow clones of the model's trainable variables: they
//! share storage, so a list taken before training sees the trained weights.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{ModelError, Result};

/// Non-linearities that keep the shape. LRP's `Pass` rule carries relevance through them
/// unchanged, cell by cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `e^{x_k} / Σ_j e^{x_j}` over the last dimension (a classifier head: `[B, K]` logits
    /// to probabilities, or `[B, T, K]` per time step). Unlike the others it mixes the
    /// cells of that dimension; LRP's `Pass` gives the relevance of probability `k` to
    /// logit `k`.
    Softmax,
}

impl Activation {
    /// Applies the activation.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => x.f_relu()?,
            Activation::Sigmoid => x.f_sigmoid()?,
            Activation::Tanh => x.f_tanh()?,
            Activation::Softmax => x.f_softmax(-1, x.kind())?,
        })
    }
}

/// Parameters of one LSTM layer in PyTorch's layout and gate order (input, forget, cell,
/// output): `w_ih: [4H, I]`, `w_hh: [4H, H]`, `b_ih: [4H]`, `b_hh: [4H]`.
#[derive(Debug)]
pub struct LstmWeights {
    /// Input-to-hidden weights `[4H, I]`.
    pub w_ih: Tensor,
    /// Hidden-to-hidden weights `[4H, H]`.
    pub w_hh: Tensor,
    /// Input-to-hidden bias `[4H]`.
    pub b_ih: Tensor,
    /// Hidden-to-hidden bias `[4H]`.
    pub b_hh: Tensor,
}

impl LstmWeights {
    /// Hidden size `H`.
    pub fn hidden_size(&self) -> i64 {
        self.w_hh.size()[1]
    }

    /// Input size `I`.
    pub fn input_size(&self) -> i64 {
        self.w_ih.size()[1]
    }
}

impl Clone for LstmWeights {
    fn clone(&self) -> Self {
        LstmWeights {
            w_ih: self.w_ih.shallow_clone(),
            w_hh: self.w_hh.shallow_clone(),
            b_ih: self.b_ih.shallow_clone(),
            b_hh: self.b_hh.shallow_clone(),
        }
    }
}

/// One step of a model's computation. Shapes are written with the batch dimension `B`
/// first; every layer maps a batch to a batch.
#[derive(Debug)]
#[non_exhaustive]
pub enum Layer {
    /// `y = x Wᵀ + b` on the last dimension, so `[B, T, I] -> [B, T, O]` applies it at
    /// every time step. `weight: [O, I]`, `bias: [O]`.
    Linear {
        /// `[out, in]`.
        weight: Tensor,
        /// `[out]`.
        bias: Option<Tensor>,
    },
    /// 2-D convolution `[B, C, H, W] -> [B, O, H', W']`, PyTorch's `nn.Conv2d`: along each
    /// spatial dimension `H' = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1`; with
    /// `groups = g` the channels split into `g` groups convolved separately (`C` and `O`
    /// divisible by `g`; `g = C` is a depthwise convolution).
    Conv2d {
        /// `[out_channels, in_channels / groups, kh, kw]`.
        weight: Tensor,
        /// `[out_channels]`.
        bias: Option<Tensor>,
        /// Stride (rows, columns).
        stride: [i64; 2],
        /// Zero padding (rows, columns).
        padding: [i64; 2],
        /// Spacing between kernel taps (rows, columns); `[1, 1]` is a plain convolution.
        dilation: [i64; 2],
        /// Number of channel groups; 1 is a plain convolution.
        groups: i64,
    },
    /// An element-wise non-linearity.
    Activation(Activation),
    /// Nearest-neighbour upsampling of `[B, C, H, W]` by an integer factor in both
    /// spatial dimensions.
    UpsampleNearest {
        /// The factor.
        scale: i64,
    },
    /// Reshape every sample to `shape` (batch dimension kept), e.g. flatten with `[-1]`.
    Reshape {
        /// Per-sample target shape; one entry may be `-1`.
        shape: Vec<i64>,
    },
    /// One unidirectional LSTM layer over a sequence, zero initial state:
    /// `[B, T, I] -> [B, T, H]` (the hidden state at every step).
    Lstm(LstmWeights),
    /// The last time step of a sequence: `[B, T, H] -> [B, H]`.
    LastStep,
    /// Repeats a vector over time: `[B, H] -> [B, steps, H]`.
    RepeatSteps {
        /// Number of time steps `T`.
        steps: i64,
    },
    /// Feature attention on a sequence `[B, T, F]`: scores `s = x Wᵀ + b`, weights
    /// `a = softmax_F(s)` per time step, output `F · a ⊙ x`. The factor `F` makes uniform
    /// attention the identity, so attention only re-weights sensors.
    FeatureAttention {
        /// `[F, F]`.
        weight: Tensor,
        /// `[F]`.
        bias: Tensor,
    },
}

impl Clone for Layer {
    fn clone(&self) -> Self {
        let opt = |b: &Option<Tensor>| b.as_ref().map(Tensor::shallow_clone);
        match self {
            Layer::Linear { weight, bias } => Layer::Linear {
                weight: weight.shallow_clone(),
                bias: opt(bias),
            },
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => Layer::Conv2d {
                weight: weight.shallow_clone(),
                bias: opt(bias),
                stride: *stride,
                padding: *padding,
                dilation: *dilation,
                groups: *groups,
            },
            Layer::Activation(a) => Layer::Activation(*a),
            Layer::UpsampleNearest { scale } => Layer::UpsampleNearest { scale: *scale },
            Layer::Reshape { shape } => Layer::Reshape {
                shape: shape.clone(),
            },
            Layer::Lstm(w) => Layer::Lstm(w.clone()),
            Layer::LastStep => Layer::LastStep,
            Layer::RepeatSteps { steps } => Layer::RepeatSteps { steps: *steps },
            Layer::FeatureAttention { weight, bias } => Layer::FeatureAttention {
                weight: weight.shallow_clone(),
                bias: bias.shallow_clone(),
            },
        }
    }
}

/// The kind of a layer without its parameters, for composites that choose an LRP rule by
/// kind and for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerKind {
    /// [`Layer::Linear`].
    Linear,
    /// [`Layer::Conv2d`].
    Conv2d,
    /// [`Layer::Activation`].
    Activation(Activation),
    /// [`Layer::UpsampleNearest`].
    UpsampleNearest,
    /// [`Layer::Reshape`].
    Reshape,
    /// [`Layer::Lstm`].
    Lstm,
    /// [`Layer::LastStep`].
    LastStep,
    /// [`Layer::RepeatSteps`].
    RepeatSteps,
    /// [`Layer::FeatureAttention`].
    FeatureAttention,
}

impl Layer {
    /// The layer's kind.
    pub fn kind(&self) -> LayerKind {
        match self {
            Layer::Linear { .. } => LayerKind::Linear,
            Layer::Conv2d { .. } => LayerKind::Conv2d,
            Layer::Activation(a) => LayerKind::Activation(*a),
            Layer::UpsampleNearest { .. } => LayerKind::UpsampleNearest,
            Layer::Reshape { .. } => LayerKind::Reshape,
            Layer::Lstm(_) => LayerKind::Lstm,
            Layer::LastStep => LayerKind::LastStep,
            Layer::RepeatSteps { .. } => LayerKind::RepeatSteps,
            Layer::FeatureAttention { .. } => LayerKind::FeatureAttention,
        }
    }

    /// Whether the layer has trainable parameters (LRP rules apply to these; the others
    /// only route relevance).
    pub fn has_parameters(&self) -> bool {
        matches!(
            self,
            Layer::Linear { .. }
                | Layer::Conv2d { .. }
                | Layer::Lstm(_)
                | Layer::FeatureAttention { .. }
        )
    }

    /// The layer's parameters with their PyTorch names (`weight`, `bias`; `weight_ih_l0`,
    /// `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` for an LSTM layer), in that order.
    pub fn parameters(&self) -> Vec<(&'static str, &Tensor)> {
        match self {
            Layer::Linear { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                let mut p = vec![("weight", weight)];
                p.extend(bias.as_ref().map(|b| ("bias", b)));
                p
            }
            Layer::Lstm(w) => vec![
                ("weight_ih_l0", &w.w_ih),
                ("weight_hh_l0", &w.w_hh),
                ("bias_ih_l0", &w.b_ih),
                ("bias_hh_l0", &w.b_hh),
            ],
            Layer::FeatureAttention { weight, bias } => vec![("weight", weight), ("bias", bias)],
            _ => Vec::new(),
        }
    }

    /// Checks the layer on its own: parameter shapes that fit together, one floating-point
    /// dtype and one device for all parameters, and settings in range (strides, dilations,
    /// scales and steps ≥ 1, padding ≥ 0, groups dividing the channels, at most one `-1` in
    /// a reshape). Whether consecutive layers fit is checked by running them
    /// ([`crate::Sequential::new`] does).
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] naming the parameter and both shapes,
    /// [`ModelError::InvalidParam`] naming the setting and its value,
    /// [`ModelError::UnsupportedDtype`] for integer parameters or mixed dtypes.
    pub fn check(&self) -> Result<()> {
        let kind = self.kind();
        let shape = |name: &str, t: &Tensor, expected: String| -> Result<()> {
            Err(ModelError::ShapeMismatch {
                what: format!("{kind:?} layer parameter `{name}`"),
                expected,
                got: t.size(),
            })
        };
        let params = self.parameters();
        if let Some((_, first)) = params.first() {
            for (name, p) in &params {
                if !matches!(
                    p.kind(),
                    tch::Kind::Float | tch::Kind::Double | tch::Kind::Half | tch::Kind::BFloat16
                ) || p.kind() != first.kind()
                    || p.device() != first.device()
                {
                    return Err(ModelError::UnsupportedDtype {
                        what: "layer parameter (all parameters of a layer need one floating-point dtype and one device)",
                        dtype: format!("{name}: {:?} on {:?}, weight: {:?} on {:?}", p.kind(), p.device(), first.kind(), first.device()),
                    });
                }
            }
        }
        let bad = |param, value: String, rule| {
            Err(ModelError::InvalidParam {
                what: "layer",
                param,
                value,
                rule,
            })
        };
        let bias_fits = |bias: Option<&Tensor>, out: i64| -> Result<()> {
            match bias {
                Some(b) if b.size() != [out] => shape("bias", b, format!("[{out}]")),
                _ => Ok(()),
            }
        };
        match self {
            Layer::Linear { weight, bias } => {
                let w = weight.size();
                if w.len() != 2 || w.contains(&0) {
                    return shape("weight", weight, "[out ≥ 1, in ≥ 1]".into());
                }
                bias_fits(bias.as_ref(), w[0])
            }
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                let w = weight.size();
                if w.len() != 4 || w.contains(&0) {
                    return shape(
                        "weight",
                        weight,
                        "[out ≥ 1, in / groups ≥ 1, kh ≥ 1, kw ≥ 1]".into(),
                    );
                }
                if stride.iter().any(|&s| s < 1) {
                    return bad(
                        "stride",
                        format!("{stride:?}"),
                        "must be ≥ 1 in both dimensions",
                    );
                }
                if dilation.iter().any(|&d| d < 1) {
                    return bad(
                        "dilation",
                        format!("{dilation:?}"),
                        "must be ≥ 1 in both dimensions",
                    );
                }
                if padding.iter().any(|&p| p < 0) {
                    return bad(
                        "padding",
                        format!("{padding:?}"),
                        "must be ≥ 0 in both dimensions",
                    );
                }
                if *groups < 1 || w[0] % groups != 0 {
                    return bad(
                        "groups",
                        format!("{groups} (out_channels {})", w[0]),
                        "must be ≥ 1 and divide the output channels",
                    );
                }
                bias_fits(bias.as_ref(), w[0])
            }
            Layer::Lstm(lw) => {
                let four_h = lw.w_hh.size().first().copied().unwrap_or(0);
                let h = four_h / 4;
                if lw.w_hh.size().len() != 2 || four_h % 4 != 0 || h < 1 || lw.w_hh.size()[1] != h {
                    return shape("weight_hh_l0", &lw.w_hh, "[4H, H] with H ≥ 1".into());
                }
                let wi = lw.w_ih.size();
                if wi.len() != 2 || wi[0] != 4 * h || wi[1] < 1 {
                    return shape("weight_ih_l0", &lw.w_ih, format!("[{}, in ≥ 1]", 4 * h));
                }
                for (name, b) in [("bias_ih_l0", &lw.b_ih), ("bias_hh_l0", &lw.b_hh)] {
                    if b.size() != [4 * h] {
                        return shape(name, b, format!("[{}]", 4 * h));
                    }
                }
                Ok(())
            }
            Layer::FeatureAttention { weight, bias } => {
                let w = weight.size();
                if w.len() != 2 || w[0] != w[1] || w[0] < 1 {
                    return shape("weight", weight, "[F, F] with F ≥ 1".into());
                }
                bias_fits(Some(bias), w[0])
            }
            Layer::UpsampleNearest { scale } if *scale < 1 => {
                bad("scale", scale.to_string(), "must be ≥ 1")
            }
            Layer::RepeatSteps { steps } if *steps < 1 => {
                bad("steps", steps.to_string(), "must be ≥ 1")
            }
            Layer::Reshape { shape: target }
                if target.iter().filter(|&&d| d == -1).count() > 1
                    || target.iter().any(|&d| d < -1 || d == 0) =>
            {
                bad(
                    "shape",
                    format!("{target:?}"),
                    "must hold sizes ≥ 1 and at most one -1",
                )
            }
            _ => Ok(()),
        }
    }

    /// Applies the layer to a batch.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.size();
        let need = |n: usize, pattern: &str| -> Result<()> {
            if dims.len() == n {
                Ok(())
            } else {
                Err(ModelError::ShapeMismatch {
                    what: format!("{:?} layer input", self.kind()),
                    expected: pattern.into(),
                    got: dims.clone(),
                })
            }
        };
        let width = |have: i64, want: i64, pattern: String| -> Result<()> {
            if have == want {
                Ok(())
            } else {
                Err(ModelError::ShapeMismatch {
                    what: format!("{:?} layer input", self.kind()),
                    expected: pattern,
                    got: dims.clone(),
                })
            }
        };
        Ok(match self {
            Layer::Linear { weight, bias } => {
                let i = weight.size()[1];
                width(
                    dims.last().copied().unwrap_or(-1),
                    i,
                    format!("[B, .., {i}]"),
                )?;
                x.f_linear(weight, bias.as_ref())?
            }
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                need(4, "[B, C, H, W]")?;
                let c = weight.size()[1] * groups;
                width(dims[1], c, format!("[B, {c}, H, W]"))?;
                x.f_conv2d(weight, bias.as_ref(), stride, padding, dilation, *groups)?
            }
            Layer::Activation(a) => a.apply(x)?,
            Layer::UpsampleNearest { scale } => {
                need(4, "[B, C, H, W]")?;
                let out = [dims[2] * scale, dims[3] * scale];
                x.f_upsample_nearest2d(out, Some(*scale as f64), Some(*scale as f64))?
            }
            Layer::Reshape { shape } => {
                let mut full = vec![dims[0]];
                full.extend(shape);
                x.f_reshape(&full)?
            }
            Layer::Lstm(w) => {
                need(3, "[B, T, I]")?;
                let i = w.input_size();
                width(dims[2], i, format!("[B, T, {i}]"))?;
                let h = w.hidden_size();
                let zeros = Tensor::f_zeros([1, dims[0], h], (x.kind(), x.device()))?;
                let params = [
                    w.w_ih.shallow_clone(),
                    w.w_hh.shallow_clone(),
                    w.b_ih.shallow_clone(),
                    w.b_hh.shallow_clone(),
                ];
                // `train = true`: with dropout 0 it changes no value, but cuDNN refuses to
                // differentiate an RNN run with `train = false`, and gradient-based
                // explanations differentiate these layers outside of training too.
                let (out, _, _) = x.f_lstm(
                    &[zeros.shallow_clone(), zeros],
                    &params,
                    true,
                    1,
                    0.0,
                    true,
                    false,
                    true,
                )?;
                out
            }
            Layer::LastStep => {
                need(3, "[B, T, H]")?;
                x.f_select(1, -1)?
            }
            Layer::RepeatSteps { steps } => {
                need(2, "[B, H]")?;
                x.f_unsqueeze(1)?.f_repeat([1, *steps, 1])?
            }
            Layer::FeatureAttention { weight, bias } => {
                need(3, "[B, T, F]")?;
                let a = attention_weights(x, weight, bias)?;
                a.f_mul(x)?.f_mul_scalar(dims[2] as f64)?
            }
        })
    }
}

/// The attention weights `softmax_F(x Wᵀ + b)` of a [`Layer::FeatureAttention`], shape
/// `[B, T, F]`, each row summing to one.
pub fn attention_weights(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    Ok(x.f_linear(weight, Some(bias))?.f_softmax(-1, x.kind())?)
}

/// Folds `x` through `layers`.
pub fn forward_layers(layers: &[Layer], x: &Tensor) -> Result<Tensor> {
    let mut a = x.shallow_clone();
    for layer in layers {
        a = layer.forward(&a)?;
    }
    Ok(a)
}

/// Folds `x` through `layers` and keeps every activation: element `l` is the input of
/// layer `l`, and the last element is the model's output (`layers.len() + 1` tensors).
pub fn forward_recording(layers: &[Layer], x: &Tensor) -> Result<Vec<Tensor>> {
    let mut acts = Vec::with_capacity(layers.len() + 1);
    acts.push(x.shallow_clone());
    for layer in layers {
        let next = layer.forward(acts.last().expect("starts non-empty"))?;
        acts.push(next);
    }
    Ok(acts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn linear_is_time_distributed() {
        let l = Layer::Linear {
            weight: t(&[1., 2., 0., -1.], &[2, 2]),
            bias: None,
        };
        let x = t(&[1., 1., 2., 3.], &[1, 2, 2]);
        let y = l.forward(&x).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(y.flatten(0, -1)).unwrap(),
            vec![3., -1., 8., -3.]
        );
    }

    #[test]
    fn upsample_and_reshape_shapes() {
        let x = Tensor::ones([2, 3, 4, 5], (Kind::Float, Device::Cpu));
        let y = Layer::UpsampleNearest { scale: 3 }.forward(&x).unwrap();
        assert_eq!(y.size(), vec![2, 3, 12, 15]);
        let z = Layer::Reshape { shape: vec![-1] }.forward(&y).unwrap();
        assert_eq!(z.size(), vec![2, 3 * 12 * 15]);
    }

    #[test]
    fn lstm_layer_matches_a_hand_written_cell() {
        tch::manual_seed(3);
        let (i, h) = (3, 4);
        let w = LstmWeights {
            w_ih: Tensor::randn([4 * h, i], (Kind::Float, Device::Cpu)),
            w_hh: Tensor::randn([4 * h, h], (Kind::Float, Device::Cpu)),
            b_ih: Tensor::randn([4 * h], (Kind::Float, Device::Cpu)),
            b_hh: Tensor::randn([4 * h], (Kind::Float, Device::Cpu)),
        };
        let x = Tensor::randn([2, 5, i], (Kind::Float, Device::Cpu));
        let fused = Layer::Lstm(w.clone()).forward(&x).unwrap();
        let mut hs = Tensor::zeros([2, h], (Kind::Float, Device::Cpu));
        let mut cs = Tensor::zeros([2, h], (Kind::Float, Device::Cpu));
        for step in 0..5 {
            let z = x.select(1, step).linear(&w.w_ih, Some(&w.b_ih))
                + hs.linear(&w.w_hh, Some(&w.b_hh));
            let g = z.chunk(4, 1);
            let (ig, fg, gg, og) = (g[0].sigmoid(), g[1].sigmoid(), g[2].tanh(), g[3].sigmoid());
            cs = fg * &cs + ig * gg;
            hs = og * cs.tanh();
            let diff = (fused.select(1, step) - &hs).abs().max().double_value(&[]);
            assert!(diff < 1e-5, "step {step}: {diff}");
        }
    }

    #[test]
    fn uniform_attention_is_the_identity() {
        let f = 4;
        let layer = Layer::FeatureAttention {
            weight: Tensor::zeros([f, f], (Kind::Float, Device::Cpu)),
            bias: Tensor::zeros([f], (Kind::Float, Device::Cpu)),
        };
        let x = Tensor::randn([2, 3, f], (Kind::Float, Device::Cpu));
        let y = layer.forward(&x).unwrap();
        assert!(y.allclose(&x, 1e-6, 1e-6, false));
    }

    #[test]
    fn recording_keeps_every_activation() {
        let layers = vec![
            Layer::Linear {
                weight: t(&[1., -1.], &[1, 2]),
                bias: Some(t(&[0.5], &[1])),
            },
            Layer::Activation(Activation::Relu),
        ];
        let acts = forward_recording(&layers, &t(&[1., 3.], &[1, 2])).unwrap();
        assert_eq!(acts.len(), 3);
        assert_eq!(acts[1].double_value(&[0, 0]), -1.5);
        assert_eq!(acts[2].double_value(&[0, 0]), 0.0);
    }

    #[test]
    fn wrong_rank_is_an_error_naming_the_shape() {
        let err = Layer::LastStep.forward(&Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)));
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("[2, 3]") && msg.contains("[B, T, H]"), "{msg}");
    }
}
