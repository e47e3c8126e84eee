//! The LSTM autoencoder with a feature-attention layer in front: paper 1's
//! attention-based explanation reads the per-sensor weights this layer learns.
//!
//! The first layer is a [`Layer::FeatureAttention`]: per time step, scores `s = x Wᵀ + b`
//! over the `F` sensors, weights `a = softmax_F(s)`, output `F · a ⊙ x`; the rest is the
//! [`crate::LstmAe`] stack. [`AttentionLstmAe::attention`] gives the weights averaged over
//! time, `[B, F]`, each row summing to one. Parameters: `attention.weight [F, F]`,
//! `attention.bias [F]` (initialised like `nn.Linear(F, F)`), then those of the LSTM stack.

use std::sync::Mutex;

use tch::{nn, Device, Tensor};

use crate::error::{ModelError, Result};
use crate::init::{Draw, ParamBuilder};
use crate::layer::{attention_weights, forward_layers, Layer};
use crate::layer_model::{check_input, LayerModel, Trainable};
use crate::lstm::{build_stack, LstmAeConfig};
use crate::persist::shapes::Shapes;
use crate::persist::{ParamShape, SavedModel};

/// An LSTM autoencoder whose input first passes a feature-attention layer.
///
/// ```
/// use ae_models::{LayerModel, AttentionLstmAe, LstmAeConfig};
/// use tch::{Device, Kind, Tensor};
/// let ae = AttentionLstmAe::seeded(&LstmAeConfig::new(4, 6, 8), Device::Cpu, 0)?;
/// let x = Tensor::rand([2, 6, 4], (Kind::Float, Device::Cpu));
/// let w = ae.attention(&x)?;
/// assert_eq!(w.size(), vec![2, 4]);
/// assert!((w.sum(tch::Kind::Float).double_value(&[]) - 2.0).abs() < 1e-5);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
pub struct AttentionLstmAe {
    config: LstmAeConfig,
    layers: Vec<Layer>,
    params: Vec<(String, Tensor)>,
    device: Device,
    /// Shallow clones of the first layer's parameters.
    att_weight: Tensor,
    att_bias: Tensor,
    last: Mutex<Option<Tensor>>,
}

impl AttentionLstmAe {
    /// Creates the model's variables under `path`, drawn from libtorch's global generator.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad config (see [`LstmAeConfig::check`]).
    pub fn new(path: &nn::Path<'_>, config: &LstmAeConfig) -> Result<Self> {
        Self::build(path, config, Draw::Torch)
    }

    /// Creates the model in a var store of its own, its initial weights a pure function of
    /// `seed`.
    ///
    /// # Errors
    /// As [`AttentionLstmAe::new`].
    pub fn seeded(config: &LstmAeConfig, device: Device, seed: u64) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::seeded(seed))
    }

    fn build(path: &nn::Path<'_>, config: &LstmAeConfig, draw: Draw) -> Result<Self> {
        config.check()?;
        let mut b = ParamBuilder::new(path, draw);
        let f = config.n_features;
        let (weight, bias) = b.affine("attention", &[f, f], true)?;
        let bias = bias.ok_or_else(|| ModelError::InvalidParam {
            what: "AttentionLstmAe",
            param: "attention.bias",
            value: "none".into(),
            rule: "is required by the attention layer",
        })?;
        let (att_weight, att_bias) = (weight.shallow_clone(), bias.shallow_clone());
        let mut layers = vec![Layer::FeatureAttention { weight, bias }];
        layers.extend(build_stack(&mut b, config)?);
        let device = b.device();
        Ok(AttentionLstmAe {
            config: config.clone(),
            layers,
            params: b.finish(),
            device,
            att_weight,
            att_bias,
            last: Mutex::new(None),
        })
    }

    /// The configuration of the LSTM stack.
    pub fn config(&self) -> &LstmAeConfig {
        &self.config
    }

    /// The attention weights per time step, `[B, T, F]`, each row summing to one.
    ///
    /// # Errors
    /// Shape, dtype or non-finite errors of the input (see [`check_input`]).
    pub fn attention_per_step(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "AttentionLstmAe")?;
        attention_weights(x, &self.att_weight, &self.att_bias)
    }

    /// Per-sample, per-sensor attention `[B, F]`: the softmax weights averaged over the
    /// window's time steps (each row sums to one). This is the attention-based explanation
    /// of paper 1; it is differentiable, and a pure function of `x`.
    ///
    /// # Errors
    /// As [`AttentionLstmAe::attention_per_step`].
    pub fn attention(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .attention_per_step(x)?
            .f_mean_dim([1i64].as_slice(), false, None)?)
    }

    /// The `[B, F]` attention of the most recent successful [`LayerModel::forward`] call
    /// (on any thread), detached from the graph; `None` before the first call.
    pub fn last_attention(&self) -> Option<Tensor> {
        self.last.lock().ok()?.as_ref().map(Tensor::shallow_clone)
    }
}

impl LayerModel for AttentionLstmAe {
    fn sample_shape(&self) -> Vec<i64> {
        vec![self.config.window, self.config.n_features]
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    /// Folds the layer list, computing the attention weights once and keeping their mean
    /// over time for [`AttentionLstmAe::last_attention`]. The operations are those of
    /// [`Layer::FeatureAttention`], so the result equals `forward_layers(self.layers(), x)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "AttentionLstmAe")?;
        let a = attention_weights(x, &self.att_weight, &self.att_bias)?;
        let attended = a.f_mul(x)?.f_mul_scalar(self.config.n_features as f64)?;
        let out = forward_layers(&self.layers[1..], &attended)?;
        let summary = a.f_detach()?.f_mean_dim([1i64].as_slice(), false, None)?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some(summary);
        }
        Ok(out)
    }
}

impl Trainable for AttentionLstmAe {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

impl SavedModel for AttentionLstmAe {
    const KIND: &'static str = "AttentionLstmAe";
    type Config = LstmAeConfig;

    fn saved_config(&self) -> &LstmAeConfig {
        self.config()
    }

    fn from_config(config: &LstmAeConfig, device: Device) -> Result<Self> {
        AttentionLstmAe::seeded(config, device, 0)
    }

    fn parameter_shapes(config: &LstmAeConfig) -> Result<Vec<ParamShape>> {
        config.check()?;
        let mut s = Shapes::default();
        let f = config.n_features;
        s.affine("attention", vec![f, f], true);
        let mut input = f;
        for (k, &h) in config.encoder_hidden.iter().enumerate() {
            s.lstm(crate::lstm::LSTM_AE, "encoder", k, input, h)?;
            input = h;
        }
        if let Some(l) = config.latent {
            s.affine("latent", vec![l, input], true);
            input = l;
        }
        for (k, &h) in config.decoder_hidden.iter().enumerate() {
            s.lstm(crate::lstm::LSTM_AE, "decoder", k, input, h)?;
            input = h;
        }
        s.affine("output", vec![f, input], true);
        Ok(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::LayerKind;
    use tch::Kind;

    #[test]
    fn forward_equals_the_layer_fold_and_records_attention() {
        let ae = AttentionLstmAe::seeded(&LstmAeConfig::new(5, 4, 6), Device::Cpu, 3).unwrap();
        assert_eq!(ae.layers()[0].kind(), LayerKind::FeatureAttention);
        assert!(ae.last_attention().is_none());
        let x = Tensor::rand([3, 4, 5], (Kind::Float, Device::Cpu));
        let y = ae.forward(&x).unwrap();
        let folded = forward_layers(ae.layers(), &x).unwrap();
        assert!(y.allclose(&folded, 1e-6, 1e-6, false));
        let last = ae.last_attention().unwrap();
        assert!(last.allclose(&ae.attention(&x).unwrap(), 1e-6, 1e-6, false));
        let sums = last.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        assert!(sums.allclose(
            &Tensor::ones([3], (Kind::Float, Device::Cpu)),
            1e-5,
            1e-5,
            false
        ));
    }

    #[test]
    fn attention_is_differentiable_with_respect_to_the_input() {
        let ae = AttentionLstmAe::seeded(&LstmAeConfig::new(3, 2, 4), Device::Cpu, 0).unwrap();
        let x = Tensor::rand([1, 2, 3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        ae.attention(&x)
            .unwrap()
            .select(1, 0)
            .sum(Kind::Float)
            .backward();
        assert!(x.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn parameters_start_with_the_attention_layer() {
        let ae = AttentionLstmAe::seeded(&LstmAeConfig::new(3, 2, 4), Device::Cpu, 0).unwrap();
        assert_eq!(ae.parameters()[0].0, "attention.weight");
        assert_eq!(ae.parameters()[0].1.size(), vec![3, 3]);
        assert_eq!(ae.parameters()[1].0, "attention.bias");
    }
}
