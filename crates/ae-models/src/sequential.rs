//! A model that is just its layer list: PyTorch's `nn.Sequential` for this crate's
//! [`Layer`]s.
//!
//! Build it from layers holding given weights (linear, convolutional with stride, padding,
//! dilation and groups, ReLU / sigmoid / tanh / softmax, reshape and flatten, nearest
//! upsampling, LSTM, time routing); [`Sequential::new`] checks every layer and runs a probe
//! batch through the list, so a model that does not fit together is rejected at
//! construction with the failing layer named.
//!
//! It implements [`LayerModel`] (input shape, layer list, forward) and [`Trainable`], so
//! every attribution method and LRP take it. Its output shape may differ from its input
//! shape — a classifier with a softmax head, a detector head — which is why it is a
//! *layer-list model* rather than an autoencoder in the narrow sense: what needs a
//! reconstruction (the reconstruction-error scorer, LRP's reconstruction seed, training on
//! the reconstruction loss) checks the output shape and fails with a shape error otherwise,
//! while LRP from any output relevance (`lrp_ae::attr_output`) and a scorer that picks an
//! output take any output shape. [`Sequential::reconstructs`] tells which it is.
//!
//! Parameters are named like PyTorch's `nn.Sequential` `state_dict`: `{i}.weight`,
//! `{i}.bias` (`{i}.weight_ih_l0`, ... for an LSTM layer) with `i` the layer's position,
//! so the tensors of `nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))` are
//! `0.weight`, `0.bias`, `2.weight`, `2.bias`.
//!
//! ```
//! use ae_models::{Activation, LayerModel, Layer, Sequential};
//! use tch::{Device, Kind, Tensor};
//! let w = |o: i64, i: i64| Tensor::randn([o, i], (Kind::Float, Device::Cpu));
//! let classifier = Sequential::new(
//!     vec![
//!         Layer::Linear { weight: w(4, 6), bias: None },
//!         Layer::Activation(Activation::Relu),
//!         Layer::Linear { weight: w(3, 4), bias: None },
//!         Layer::Activation(Activation::Softmax),
//!     ],
//!     [6],
//! )?;
//! assert_eq!(classifier.output_shape(), &[3]);
//! assert!(!classifier.reconstructs());
//! let p = classifier.forward(&Tensor::rand([2, 6], (Kind::Float, Device::Cpu)))?;
//! assert!((p.sum(Kind::Float).double_value(&[]) - 2.0).abs() < 1e-5);
//! // A layer that does not fit is named at construction.
//! let err = Sequential::new(vec![Layer::Linear { weight: w(4, 5), bias: None }], [6]).unwrap_err();
//! assert!(err.to_string().ends_with("(layer 0, Linear)"), "{err}");
//! # Ok::<(), ae_models::ModelError>(())
//! ```

use tch::{Device, Kind, Tensor};

use crate::checks::check_finite;
use crate::error::{ModelError, Result};
use crate::layer::{forward_layers, Layer, LstmWeights};
use crate::layer_model::{check_batch, LayerModel, Trainable};

/// A model that is its layer list (see the module docs).
#[derive(Debug)]
pub struct Sequential {
    layers: Vec<Layer>,
    input_shape: Vec<i64>,
    output_shape: Vec<i64>,
    params: Vec<(String, Tensor)>,
    device: Device,
    dtype: Kind,
}

impl Sequential {
    /// The model `layers` for samples of `input_shape` (without the batch dimension).
    ///
    /// The parameters become trainable leaves that share storage with the given tensors
    /// (writing into one changes the other); every parameter must have one floating-point
    /// dtype and live on one device, which become the model's.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for an empty list or an input shape with a dimension
    /// below 1; [`ModelError::AtLayer`] naming the first layer that fails its own check
    /// ([`Layer::check`]), disagrees with the others on dtype or device, or does not accept
    /// the previous layer's output.
    pub fn new(layers: Vec<Layer>, input_shape: impl Into<Vec<i64>>) -> Result<Self> {
        let input_shape = input_shape.into();
        if layers.is_empty() {
            return Err(ModelError::InvalidParam {
                what: "Sequential",
                param: "layers",
                value: "[]".into(),
                rule: "must hold at least one layer",
            });
        }
        if input_shape.iter().any(|&d| d < 1) {
            return Err(ModelError::InvalidParam {
                what: "Sequential",
                param: "input_shape",
                value: format!("{input_shape:?}"),
                rule: "must be at least 1 in every dimension",
            });
        }
        let at = |index: usize, layer: &Layer, e: ModelError| ModelError::AtLayer {
            index,
            kind: format!("{:?}", layer.kind()),
            source: Box::new(e),
        };
        let mut reference: Option<(usize, Kind, Device)> = None;
        for (i, layer) in layers.iter().enumerate() {
            layer.check().map_err(|e| at(i, layer, e))?;
            if let Some((_, p)) = layer.parameters().first() {
                match reference {
                    None => reference = Some((i, p.kind(), p.device())),
                    Some((first, kind, device)) if p.kind() != kind || p.device() != device => {
                        let e = ModelError::UnsupportedDtype {
                            what: "layer parameters (every layer of a model needs the same dtype and device)",
                            dtype: format!(
                                "{:?} on {:?}, layer {first} has {kind:?} on {device:?}",
                                p.kind(),
                                p.device()
                            ),
                        };
                        return Err(at(i, layer, e));
                    }
                    Some(_) => {}
                }
            }
        }
        let (dtype, device) = reference.map_or((Kind::Float, Device::Cpu), |(_, k, d)| (k, d));
        let mut params = Vec::new();
        let layers: Vec<Layer> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let leaf = with_leaf_parameters(l).map_err(|e| at(i, l, e))?;
                for (name, t) in leaf.parameters() {
                    params.push((format!("{i}.{name}"), t.shallow_clone()));
                }
                Ok(leaf)
            })
            .collect::<Result<_>>()?;
        let mut probe_shape = vec![1];
        probe_shape.extend(&input_shape);
        let mut a = Tensor::f_zeros(&probe_shape, (dtype, device))?;
        let _guard = tch::no_grad_guard();
        for (i, layer) in layers.iter().enumerate() {
            a = layer.forward(&a).map_err(|e| at(i, layer, e))?;
        }
        let output_shape = a.size()[1..].to_vec();
        Ok(Sequential {
            layers,
            input_shape,
            output_shape,
            params,
            device,
            dtype,
        })
    }

    /// The shape of one input sample.
    pub fn input_shape(&self) -> &[i64] {
        &self.input_shape
    }

    /// The shape of one output sample.
    pub fn output_shape(&self) -> &[i64] {
        &self.output_shape
    }

    /// Whether the output has the input's shape, so that a reconstruction error is
    /// defined.
    pub fn reconstructs(&self) -> bool {
        self.output_shape == self.input_shape
    }

    /// The dtype of the parameters (`Float` for a model without parameters), which inputs
    /// must have.
    pub fn dtype(&self) -> Kind {
        self.dtype
    }
}

/// The layer with every parameter replaced by a trainable leaf sharing its storage.
fn with_leaf_parameters(layer: &Layer) -> Result<Layer> {
    let leaf = |t: &Tensor| -> Result<Tensor> { Ok(t.f_detach()?.set_requires_grad(true)) };
    let opt = |b: &Option<Tensor>| b.as_ref().map(leaf).transpose();
    Ok(match layer {
        Layer::Linear { weight, bias } => Layer::Linear {
            weight: leaf(weight)?,
            bias: opt(bias)?,
        },
        Layer::Conv2d {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        } => Layer::Conv2d {
            weight: leaf(weight)?,
            bias: opt(bias)?,
            stride: *stride,
            padding: *padding,
            dilation: *dilation,
            groups: *groups,
        },
        Layer::Lstm(w) => Layer::Lstm(LstmWeights {
            w_ih: leaf(&w.w_ih)?,
            w_hh: leaf(&w.w_hh)?,
            b_ih: leaf(&w.b_ih)?,
            b_hh: leaf(&w.b_hh)?,
        }),
        Layer::FeatureAttention { weight, bias } => Layer::FeatureAttention {
            weight: leaf(weight)?,
            bias: leaf(bias)?,
        },
        other => other.clone(),
    })
}

impl LayerModel for Sequential {
    fn sample_shape(&self) -> Vec<i64> {
        self.input_shape.clone()
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    /// Runs a batch `[B, ..input_shape]` (of the model's dtype, finite) through the layers;
    /// the result is `[B, ..output_shape]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_batch(self, x).map_err(|e| match e {
            ModelError::ShapeMismatch { expected, got, .. } => ModelError::ShapeMismatch {
                what: "Sequential input".into(),
                expected,
                got,
            },
            other => other,
        })?;
        if x.kind() != self.dtype {
            return Err(ModelError::UnsupportedDtype {
                what: "Sequential input (must have the parameters' dtype)",
                dtype: format!("{:?}, the parameters are {:?}", x.kind(), self.dtype),
            });
        }
        check_finite(x, "Sequential input")?;
        forward_layers(&self.layers, x)
    }
}

impl Trainable for Sequential {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Activation;

    fn t(dims: &[i64]) -> Tensor {
        Tensor::randn(dims, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn parameters_are_named_like_pytorch_sequential_and_trainable() {
        let m = Sequential::new(
            vec![
                Layer::Linear {
                    weight: t(&[4, 6]),
                    bias: Some(t(&[4])),
                },
                Layer::Activation(Activation::Relu),
                Layer::Linear {
                    weight: t(&[6, 4]),
                    bias: None,
                },
            ],
            [6],
        )
        .unwrap();
        let names: Vec<&str> = m.parameters().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight"]);
        assert!(m.parameters().iter().all(|(_, p)| p.requires_grad()));
        assert!(m.reconstructs());
        assert_eq!(m.n_parameters(), 24 + 4 + 24);
    }

    #[test]
    fn parameters_share_storage_with_the_given_tensors() {
        let w = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
        let m = Sequential::new(
            vec![Layer::Linear {
                weight: w.shallow_clone(),
                bias: None,
            }],
            [2],
        )
        .unwrap();
        let _ = w.shallow_clone().fill_(3.0);
        let y = m
            .forward(&Tensor::ones([1, 2], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!(y.double_value(&[0, 0]), 6.0);
    }

    #[test]
    fn bad_models_and_inputs_are_rejected_by_name() {
        let e = Sequential::new(vec![], [3]).unwrap_err().to_string();
        assert!(e.contains("layers = []"), "{e}");
        let e = Sequential::new(vec![Layer::LastStep], [0, 2])
            .unwrap_err()
            .to_string();
        assert!(e.contains("input_shape = [0, 2]"), "{e}");
        let mixed = vec![
            Layer::Linear {
                weight: t(&[2, 2]),
                bias: None,
            },
            Layer::Linear {
                weight: t(&[2, 2]).to_kind(Kind::Double),
                bias: None,
            },
        ];
        let e = Sequential::new(mixed, [2]).unwrap_err().to_string();
        assert!(
            e.ends_with("(layer 1, Linear)") && e.contains("Double"),
            "{e}"
        );
        let conv = Layer::Conv2d {
            weight: t(&[4, 2, 3, 3]),
            bias: None,
            stride: [1, 1],
            padding: [0, 0],
            dilation: [2, 2],
            groups: 2,
        };
        // 4 input channels in 2 groups of 2; a 5 x 5 image leaves 1 x 1 with dilation 2.
        let m = Sequential::new(vec![conv.clone()], [4, 5, 5]).unwrap();
        assert_eq!(m.output_shape(), &[4, 1, 1]);
        let e = Sequential::new(vec![conv.clone()], [3, 5, 5])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[B, 4, H, W]") && e.contains("[1, 3, 5, 5]"),
            "{e}"
        );
        let e = Sequential::new(vec![conv], [4, 4, 4])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("libtorch") && e.ends_with("(layer 0, Conv2d)"),
            "{e}"
        );
        let m = Sequential::new(vec![Layer::Activation(Activation::Tanh)], [3]).unwrap();
        let e = m
            .forward(&Tensor::zeros([2, 3], (Kind::Double, Device::Cpu)))
            .unwrap_err();
        assert!(e.to_string().contains("Double"), "{e}");
        let e = m
            .forward(&Tensor::zeros([2, 4], (Kind::Float, Device::Cpu)))
            .unwrap_err();
        assert!(e.to_string().contains("[batch, 3]"), "{e}");
    }
}
