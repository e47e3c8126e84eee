//! The LSTM autoencoder of paper 1 (Ameli et al.): a stacked LSTM encoder whose top layer's
//! last hidden state is the bottleneck, repeated over the window and decoded by a stacked
//! LSTM decoder with a linear read-out to the features.
//!
//! Shapes: `[B, T, F] -> [B, T, F]` with `T = window`, `F = n_features`. The layer list is
//!
//! ```text
//! Lstm(encoder l0) .. Lstm(encoder lN)      [B, T, F] -> [B, T, H_enc]
//! LastStep                                  -> [B, H_enc]
//! Linear(latent)            (if `latent`)   -> [B, L]
//! Activation                (if `latent_activation`)
//! RepeatSteps(T)                            -> [B, T, L]
//! Lstm(decoder l0) .. Lstm(decoder lM)      -> [B, T, H_dec]
//! Linear(output)                            -> [B, T, F]
//! ```
//!
//! Parameter names follow PyTorch's `nn.LSTM` / `nn.Linear` `state_dict`, so a model
//! `encoder = nn.LSTM(F, H, 2, batch_first=True)`, `decoder = nn.LSTM(H, H, 2,
//! batch_first=True)`, `output = nn.Linear(H, F)` maps one to one: `encoder.weight_ih_l0`,
//! `encoder.weight_hh_l0`, `encoder.bias_ih_l0`, `encoder.bias_hh_l0`, ...,
//! `latent.weight`, `latent.bias`, `decoder.*`, `output.weight`, `output.bias`.

use tch::{nn, Device, Tensor};

use crate::error::{ModelError, Result};
use crate::init::{Draw, ParamBuilder};
use crate::layer::{forward_layers, Activation, Layer, LstmWeights};
use crate::layer_model::{check_input, LayerModel, Trainable};
use crate::persist::shapes::Shapes;
use crate::persist::{ParamShape, SavedModel};
use crate::state_dict::StateDict;

crate::checked_settings! {
/// Sizes of an [`LstmAe`] (and of an [`crate::AttentionLstmAe`]). The default is paper 1's
/// model for one SMD machine: 38 sensors, windows of 50 steps, two LSTM layers of 64 units
/// in the encoder and in the decoder, the top encoder state as the bottleneck.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmAeConfig with serde(default, deny_unknown_fields) {
    /// Features (sensors) per time step, `F`.
    pub n_features: i64,
    /// Time steps per window, `T`.
    pub window: i64,
    /// Hidden size of each encoder LSTM layer, bottom first (one entry per layer).
    pub encoder_hidden: Vec<i64>,
    /// Hidden size of each decoder LSTM layer, bottom first.
    pub decoder_hidden: Vec<i64>,
    /// Size of a linear projection of the top encoder state; `None` (the default, paper 1)
    /// uses that state itself as the bottleneck.
    pub latent: Option<i64>,
    /// Non-linearity applied to the bottleneck vector (after the projection, if any);
    /// `None` by default.
    pub latent_activation: Option<Activation>,
}
}

// A configuration read from JSON is checked like one built in code.

impl Default for LstmAeConfig {
    fn default() -> Self {
        LstmAeConfig::new(38, 50, 64)
    }
}

impl LstmAeConfig {
    /// Two encoder and two decoder layers of `hidden` units, no projection (paper 1's
    /// depths; [`LstmAeConfig::with_depths`] chooses others).
    pub fn new(n_features: i64, window: i64, hidden: i64) -> Self {
        Self::with_depths(n_features, window, hidden, 2, 2)
    }

    /// `encoder_layers` encoder and `decoder_layers` decoder layers of `hidden` units, no
    /// projection: PyTorch's `nn.LSTM(F, hidden, encoder_layers)` and
    /// `nn.LSTM(hidden, hidden, decoder_layers)`. Layers of different widths are set with
    /// the fields `encoder_hidden` / `decoder_hidden`. A depth of 0 is rejected by
    /// [`LstmAeConfig::check`].
    ///
    /// ```
    /// use ae_models::LstmAeConfig;
    /// let cfg = LstmAeConfig::with_depths(38, 50, 64, 1, 3);
    /// assert_eq!((cfg.encoder_hidden, cfg.decoder_hidden), (vec![64], vec![64, 64, 64]));
    /// ```
    pub fn with_depths(
        n_features: i64,
        window: i64,
        hidden: i64,
        encoder_layers: usize,
        decoder_layers: usize,
    ) -> Self {
        LstmAeConfig {
            n_features,
            window,
            encoder_hidden: vec![hidden; encoder_layers],
            decoder_hidden: vec![hidden; decoder_layers],
            latent: None,
            latent_activation: None,
        }
    }

    /// The size of the bottleneck vector.
    pub fn latent_size(&self) -> i64 {
        self.latent
            .unwrap_or_else(|| self.encoder_hidden.last().copied().unwrap_or(0))
    }

    /// Checks every size.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] naming the first size below 1 or an empty layer list.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| ModelError::InvalidParam {
            what: "LstmAeConfig",
            param,
            value,
            rule,
        };
        for (param, v) in [("n_features", self.n_features), ("window", self.window)] {
            if v < 1 {
                return Err(bad(param, v.to_string(), "must be at least 1"));
            }
        }
        for (param, sizes) in [
            ("encoder_hidden", &self.encoder_hidden),
            ("decoder_hidden", &self.decoder_hidden),
        ] {
            if sizes.is_empty() || sizes.iter().any(|&h| h < 1) {
                return Err(bad(
                    param,
                    format!("{sizes:?}"),
                    "must hold at least one layer, each of at least 1 unit",
                ));
            }
        }
        if let Some(l) = self.latent {
            if l < 1 {
                return Err(bad("latent", l.to_string(), "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Builds the layers of the LSTM stack described in the module docs.
pub(crate) fn build_stack(b: &mut ParamBuilder<'_>, cfg: &LstmAeConfig) -> Result<Vec<Layer>> {
    cfg.check()?;
    let mut layers = Vec::new();
    let mut input = cfg.n_features;
    for (k, &h) in cfg.encoder_hidden.iter().enumerate() {
        layers.push(Layer::Lstm(lstm_weights(b, "encoder", k, input, h)?));
        input = h;
    }
    layers.push(Layer::LastStep);
    if let Some(l) = cfg.latent {
        let (weight, bias) = b.affine("latent", &[l, input], true)?;
        layers.push(Layer::Linear { weight, bias });
        input = l;
    }
    if let Some(a) = cfg.latent_activation {
        layers.push(Layer::Activation(a));
    }
    layers.push(Layer::RepeatSteps { steps: cfg.window });
    for (k, &h) in cfg.decoder_hidden.iter().enumerate() {
        layers.push(Layer::Lstm(lstm_weights(b, "decoder", k, input, h)?));
        input = h;
    }
    let (weight, bias) = b.affine("output", &[cfg.n_features, input], true)?;
    layers.push(Layer::Linear { weight, bias });
    Ok(layers)
}

pub(crate) fn lstm_weights(
    b: &mut ParamBuilder<'_>,
    prefix: &str,
    k: usize,
    input: i64,
    hidden: i64,
) -> Result<LstmWeights> {
    let bound = 1.0 / (hidden as f64).sqrt();
    Ok(LstmWeights {
        w_ih: b.uniform(
            &format!("{prefix}.weight_ih_l{k}"),
            &[4 * hidden, input],
            bound,
        )?,
        w_hh: b.uniform(
            &format!("{prefix}.weight_hh_l{k}"),
            &[4 * hidden, hidden],
            bound,
        )?,
        b_ih: b.uniform(&format!("{prefix}.bias_ih_l{k}"), &[4 * hidden], bound)?,
        b_hh: b.uniform(&format!("{prefix}.bias_hh_l{k}"), &[4 * hidden], bound)?,
    })
}

/// Paper 1's LSTM autoencoder (see the module docs for the layer list).
///
/// ```
/// use ae_models::{LayerModel, LstmAe, LstmAeConfig};
/// use tch::{Device, Kind, Tensor};
/// let cfg = LstmAeConfig::new(3, 8, 4);
/// let ae = LstmAe::seeded(&cfg, Device::Cpu, 0)?;
/// let x = Tensor::rand([2, 8, 3], (Kind::Float, Device::Cpu));
/// assert_eq!(ae.forward(&x)?.size(), vec![2, 8, 3]);
/// assert_eq!(ae.encode(&x)?.size(), vec![2, 4]);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
pub struct LstmAe {
    config: LstmAeConfig,
    layers: Vec<Layer>,
    params: Vec<(String, Tensor)>,
    device: Device,
}

impl LstmAe {
    /// Creates the model's variables under `path`, drawn from libtorch's global generator
    /// (seed it with `tch::manual_seed`).
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad config (see [`LstmAeConfig::check`]).
    pub fn new(path: &nn::Path<'_>, config: &LstmAeConfig) -> Result<Self> {
        Self::build(path, config, Draw::Torch)
    }

    /// Creates the model in a var store of its own on `device`, its initial weights a pure
    /// function of `seed`.
    ///
    /// # Errors
    /// As [`LstmAe::new`].
    pub fn seeded(config: &LstmAeConfig, device: Device, seed: u64) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::seeded(seed))
    }

    /// Creates the model in a var store of its own on `device`, its initial weights the
    /// tensors of `state_dict` under the names of the module docs (PyTorch's, converted to
    /// `f32`): a model trained in PyTorch, read with [`StateDict::read_safetensors`].
    ///
    /// ```
    /// use ae_models::{state_dict::StateDict, LstmAe, LstmAeConfig, Trainable};
    /// use tch::Device;
    /// let cfg = LstmAeConfig::with_depths(3, 5, 4, 1, 1);
    /// let trained = LstmAe::seeded(&cfg, Device::Cpu, 7)?;
    /// let sd = StateDict::new(trained.parameters().iter().map(|(n, t)| (n.clone(), t.copy())));
    /// let again = LstmAe::from_state_dict(&cfg, sd, Device::Cpu)?;
    /// assert!(again.parameters()[0].1.equal(&trained.parameters()[0].1));
    /// # Ok::<(), ae_models::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// As [`LstmAe::new`], and [`ModelError::ConfigMismatch`] naming a missing parameter, one
    /// whose shape differs from what `config` needs, or a tensor the model has no place for.
    pub fn from_state_dict(
        config: &LstmAeConfig,
        state_dict: StateDict,
        device: Device,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::Given(state_dict))
    }

    fn build(path: &nn::Path<'_>, config: &LstmAeConfig, draw: Draw) -> Result<Self> {
        let mut b = ParamBuilder::new(path, draw);
        let layers = build_stack(&mut b, config)?;
        b.check_consumed()?;
        let device = b.device();
        Ok(LstmAe {
            config: config.clone(),
            layers,
            params: b.finish(),
            device,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LstmAeConfig {
        &self.config
    }

    /// The bottleneck vectors `[B, latent_size]` of a batch `[B, T, F]`.
    ///
    /// # Errors
    /// Shape, dtype or non-finite errors of the input (see [`check_input`]).
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "LstmAe")?;
        let end = self
            .layers
            .iter()
            .position(|l| matches!(l, Layer::RepeatSteps { .. }))
            .unwrap_or(self.layers.len());
        forward_layers(&self.layers[..end], x)
    }
}

impl LayerModel for LstmAe {
    fn sample_shape(&self) -> Vec<i64> {
        vec![self.config.window, self.config.n_features]
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "LstmAe")?;
        forward_layers(&self.layers, x)
    }
}

impl Trainable for LstmAe {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

/// The config type and hidden-size parameter an LSTM autoencoder's overflow error names.
pub(crate) const LSTM_AE: (&str, &str) = ("LstmAeConfig", "hidden size");

impl SavedModel for LstmAe {
    const KIND: &'static str = "LstmAe";
    type Config = LstmAeConfig;

    fn saved_config(&self) -> &LstmAeConfig {
        self.config()
    }

    fn from_config(config: &LstmAeConfig, device: Device) -> Result<Self> {
        LstmAe::seeded(config, device, 0)
    }

    fn parameter_shapes(config: &LstmAeConfig) -> Result<Vec<ParamShape>> {
        config.check()?;
        let mut s = Shapes::default();
        let f = config.n_features;
        let mut input = f;
        for (k, &h) in config.encoder_hidden.iter().enumerate() {
            s.lstm(LSTM_AE, "encoder", k, input, h)?;
            input = h;
        }
        if let Some(l) = config.latent {
            s.affine("latent", vec![l, input], true);
            input = l;
        }
        for (k, &h) in config.decoder_hidden.iter().enumerate() {
            s.lstm(LSTM_AE, "decoder", k, input, h)?;
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
    fn default_is_paper_one_on_smd() {
        let ae = LstmAe::seeded(&LstmAeConfig::default(), Device::Cpu, 0).unwrap();
        assert_eq!(ae.sample_shape(), vec![50, 38]);
        let kinds: Vec<LayerKind> = ae.layers().iter().map(Layer::kind).collect();
        use LayerKind::*;
        assert_eq!(
            kinds,
            vec![Lstm, Lstm, LastStep, RepeatSteps, Lstm, Lstm, Linear]
        );
        let names: Vec<&str> = ae.parameters().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            &names[..4],
            [
                "encoder.weight_ih_l0",
                "encoder.weight_hh_l0",
                "encoder.bias_ih_l0",
                "encoder.bias_hh_l0"
            ]
        );
        assert_eq!(&names[names.len() - 2..], ["output.weight", "output.bias"]);
        // PyTorch's parameter count for LSTM(38,64,2) + LSTM(64,64,2) + Linear(64,38).
        let lstm = |i: i64, h: i64| 4 * h * (i + h) + 8 * h;
        let expected = lstm(38, 64) + lstm(64, 64) + 2 * lstm(64, 64) + 64 * 38 + 38;
        assert_eq!(ae.n_parameters(), expected);
    }

    #[test]
    fn projection_and_uneven_layers_give_the_right_shapes() {
        let cfg = LstmAeConfig {
            n_features: 5,
            window: 7,
            encoder_hidden: vec![6, 4, 3],
            decoder_hidden: vec![9],
            latent: Some(2),
            latent_activation: Some(Activation::Tanh),
        };
        let ae = LstmAe::seeded(&cfg, Device::Cpu, 1).unwrap();
        let x = Tensor::rand([4, 7, 5], (Kind::Float, Device::Cpu));
        assert_eq!(ae.forward(&x).unwrap().size(), vec![4, 7, 5]);
        let z = ae.encode(&x).unwrap();
        assert_eq!(z.size(), vec![4, 2]);
        assert!(
            z.abs().max().double_value(&[]) < 1.0,
            "tanh bounds the bottleneck"
        );
    }

    #[test]
    fn path_constructor_registers_variables_under_the_path() {
        let vs = nn::VarStore::new(Device::Cpu);
        let ae = LstmAe::new(&(vs.root() / "ae"), &LstmAeConfig::new(2, 3, 4)).unwrap();
        let vars = vs.variables();
        assert!(vars.contains_key("ae.encoder.weight_ih_l1"));
        assert!(vars.contains_key("ae.output.bias"));
        assert_eq!(vars.len(), ae.parameters().len());
    }

    #[test]
    fn bad_sizes_are_rejected_by_name() {
        let mut cfg = LstmAeConfig::new(3, 4, 5);
        cfg.decoder_hidden = vec![];
        let err = LstmAe::seeded(&cfg, Device::Cpu, 0).unwrap_err();
        assert!(err.to_string().contains("decoder_hidden"), "{err}");
        let err = LstmAe::seeded(&LstmAeConfig::new(3, 0, 5), Device::Cpu, 0).unwrap_err();
        assert!(err.to_string().contains("window = 0"), "{err}");
    }
}
