//! A forecasting detector: an LSTM that predicts the last steps of a window from the steps
//! before them. Its anomaly score is the forecast error, and what explanations explain is
//! that error.
//!
//! A window `[T, F]` with `T = context + horizon` splits into the `context` steps the model
//! reads and the `horizon` steps it predicts. The layer list of the forecasting network is
//!
//! ```text
//! Lstm(encoder l0) .. Lstm(encoder lN)      [B, C, F] -> [B, C, H]
//! LastStep                                  -> [B, H]
//! Linear(output)                            -> [B, horizon · F]
//! Reshape([horizon, F])                     -> [B, horizon, F]
//! ```
//!
//! with PyTorch's names (`encoder.weight_ih_l0`, ..., `output.weight`, `output.bias`; the
//! encoder as `nn.LSTM(F, H, N, batch_first=True)`). As a [`Detector`],
//! [`Detector::cell_errors`] of a window is the forecast error at the `horizon` predicted
//! steps and 0 at the context steps, and [`Detector::predicted_cells`] names the predicted
//! steps, so an explained error covers only them. Gradients flow to every input cell: the
//! context through the forecast, the predicted steps through the target. Training
//! ([`crate::train::train`]) minimises the mean forecast error of the predicted steps.
//!
//! ```
//! use ae_models::{train::{train, TrainConfig}, Detector, ErrorNorm, LstmForecaster, LstmForecasterConfig};
//! use tch::{Device, Kind, Tensor};
//! // Windows of 8 steps of 3 sensors: 7 steps of context, the 8th predicted.
//! let f = LstmForecaster::seeded(&LstmForecasterConfig::new(3, 7, 1, 16), Device::Cpu, 0)?;
//! let windows = Tensor::rand([40, 8, 3], (Kind::Float, Device::Cpu));
//! let cfg = TrainConfig { epochs: 2, batch_size: 8, quiet: true, ..TrainConfig::default() };
//! train(&f, &windows, &cfg)?;
//! let errors = f.cell_errors(&windows.narrow(0, 0, 2), ErrorNorm::L1)?;
//! assert_eq!(errors.size(), vec![2, 8, 3]);
//! // Zero at the 7 context steps, the forecast error at the last one.
//! assert_eq!(errors.narrow(1, 0, 7).abs().sum(Kind::Float).double_value(&[]), 0.0);
//! # Ok::<(), ae_models::ModelError>(())
//! ```

use std::path::Path;

use tch::{nn, Device, Tensor};

use crate::checks::check_f32_samples;
use crate::detector::Detector;
use crate::error::{ModelError, Result};
use crate::explained_error::{CellRestriction, OutputCells};
use crate::init::{Draw, ParamBuilder};
use crate::layer::{forward_layers, Layer};
use crate::layer_model::{check_input, LayerModel, Trainable};
use crate::lstm::lstm_weights;
use crate::persist::shapes::Shapes;
use crate::persist::{Overwrite, ParamShape, SavedFiles, SavedModel};
use crate::recon_error::{cell_errors, ErrorNorm};
use crate::state_dict::StateDict;
use crate::train::TrainableDetector;

crate::checked_settings! {
/// Sizes of an [`LstmForecaster`].
///
/// [`LstmForecasterConfig::default`] is a forecaster for SMD windows next to paper 1's
/// autoencoder: the same windows of 50 steps of 38 sensors, of which the first 49 are the
/// context and the last one is predicted (the next-step forecast of LSTM detectors such as
/// Hundman et al., KDD 2018), and the same capacity as that autoencoder's encoder (two
/// LSTM layers of 64 units).
#[derive(Debug, Clone, PartialEq)]
pub struct LstmForecasterConfig with serde(default, deny_unknown_fields) {
    /// Features (sensors) per time step, `F`.
    pub n_features: i64,
    /// Steps the model reads, `C`.
    pub context: i64,
    /// Steps it predicts after them.
    pub horizon: i64,
    /// Hidden size of each encoder LSTM layer, bottom first.
    pub hidden: Vec<i64>,
}
}

impl Default for LstmForecasterConfig {
    fn default() -> Self {
        LstmForecasterConfig::new(38, 49, 1, 64)
    }
}

impl LstmForecasterConfig {
    /// Two LSTM layers of `hidden` units reading `context` steps of `n_features` sensors
    /// and predicting the next `horizon` steps.
    pub fn new(n_features: i64, context: i64, horizon: i64, hidden: i64) -> Self {
        LstmForecasterConfig {
            n_features,
            context,
            horizon,
            hidden: vec![hidden; 2],
        }
    }

    /// The window a sample spans: `context + horizon` steps.
    pub fn window(&self) -> i64 {
        self.context + self.horizon
    }

    /// Checks every size.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] naming the first size below 1, an empty layer list, or
    /// sizes whose products overflow.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| ModelError::InvalidParam {
            what: "LstmForecasterConfig",
            param,
            value,
            rule,
        };
        for (param, v) in [
            ("n_features", self.n_features),
            ("context", self.context),
            ("horizon", self.horizon),
        ] {
            if v < 1 {
                return Err(bad(param, v.to_string(), "must be at least 1"));
            }
        }
        if self.hidden.is_empty() || self.hidden.iter().any(|&h| h < 1) {
            return Err(bad(
                "hidden",
                format!("{:?}", self.hidden),
                "must hold at least one layer, each of at least 1 unit",
            ));
        }
        if self.context.checked_add(self.horizon).is_none()
            || self.horizon.checked_mul(self.n_features).is_none()
        {
            return Err(bad(
                "context / horizon",
                format!("{} / {}", self.context, self.horizon),
                "are too large (the window or the output size overflows)",
            ));
        }
        Ok(())
    }
}

/// The forecasting network `[B, C, F] -> [B, horizon, F]` as a layer list. It is a layer-list
/// model like the autoencoders (so the trainer's parameters, the persistence and the layer
/// checks apply), but not a detector of its own: [`LstmForecaster`] is.
#[derive(Debug)]
pub(crate) struct ForecastNet {
    config: LstmForecasterConfig,
    layers: Vec<Layer>,
    params: Vec<(String, Tensor)>,
    device: Device,
}

impl ForecastNet {
    fn build(path: &nn::Path<'_>, config: &LstmForecasterConfig, draw: Draw) -> Result<Self> {
        config.check()?;
        let mut b = ParamBuilder::new(path, draw);
        let mut layers = Vec::new();
        let mut input = config.n_features;
        for (k, &h) in config.hidden.iter().enumerate() {
            layers.push(Layer::Lstm(lstm_weights(&mut b, "encoder", k, input, h)?));
            input = h;
        }
        layers.push(Layer::LastStep);
        let (weight, bias) =
            b.affine("output", &[config.horizon * config.n_features, input], true)?;
        layers.push(Layer::Linear { weight, bias });
        layers.push(Layer::Reshape {
            shape: vec![config.horizon, config.n_features],
        });
        b.check_consumed()?;
        let device = b.device();
        Ok(ForecastNet {
            config: config.clone(),
            layers,
            params: b.finish(),
            device,
        })
    }

    pub(crate) fn seeded(config: &LstmForecasterConfig, device: Device, seed: u64) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Self::build(&vs.root(), config, Draw::seeded(seed))
    }

    pub(crate) fn config(&self) -> &LstmForecasterConfig {
        &self.config
    }
}

impl LayerModel for ForecastNet {
    fn sample_shape(&self) -> Vec<i64> {
        vec![self.config.context, self.config.n_features]
    }

    fn layers(&self) -> &[Layer] {
        &self.layers
    }

    fn device(&self) -> Device {
        self.device
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, "LstmForecaster context")?;
        forward_layers(&self.layers, x)
    }
}

impl Trainable for ForecastNet {
    fn parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }
}

/// How a window splits into the steps a forecaster reads and the steps it predicts; shared
/// by every forecasting detector (the native [`LstmForecaster`], a TorchScript
/// forecaster).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForecastSplit {
    pub(crate) context: i64,
    pub(crate) horizon: i64,
}

impl ForecastSplit {
    /// The predicted steps, `context .. context + horizon`, as output cells of a window.
    pub(crate) fn predicted_cells(self) -> OutputCells {
        OutputCells::all().and(CellRestriction::Axis {
            axis: -2,
            indices: (self.context..self.context + self.horizon).collect(),
        })
    }

    /// `(context steps, predicted steps)` of windows `[B, C + horizon, F]`.
    pub(crate) fn split(self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            x.f_narrow(1, 0, self.context)?,
            x.f_narrow(1, self.context, self.horizon)?,
        ))
    }

    /// The per-cell error `[B, C + horizon, F]` of windows `x` for the forecast
    /// `[B, horizon, F]` of their predicted steps: the error there, 0 at the context steps.
    pub(crate) fn cell_errors(
        self,
        x: &Tensor,
        forecast: &Tensor,
        norm: ErrorNorm,
    ) -> Result<Tensor> {
        let (_, target) = self.split(x)?;
        let errors = cell_errors(&target, forecast, norm)?;
        let size = x.size();
        let zeros = Tensor::f_zeros(
            [size[0], self.context, size[2]],
            (errors.kind(), errors.device()),
        )?;
        Ok(Tensor::f_cat(&[zeros, errors], 1)?)
    }
}

/// An LSTM forecaster as a detector (see the module docs).
#[derive(Debug)]
pub struct LstmForecaster {
    net: ForecastNet,
}

impl LstmForecaster {
    /// Creates the model's variables under `path`, drawn from libtorch's global generator
    /// (seed it with `tch::manual_seed`).
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad config (see [`LstmForecasterConfig::check`]).
    pub fn new(path: &nn::Path<'_>, config: &LstmForecasterConfig) -> Result<Self> {
        Ok(LstmForecaster {
            net: ForecastNet::build(path, config, Draw::Torch)?,
        })
    }

    /// Creates the model in a var store of its own on `device`, its initial weights a pure
    /// function of `seed`.
    ///
    /// # Errors
    /// As [`LstmForecaster::new`].
    pub fn seeded(config: &LstmForecasterConfig, device: Device, seed: u64) -> Result<Self> {
        Ok(LstmForecaster {
            net: ForecastNet::seeded(config, device, seed)?,
        })
    }

    /// Creates the model from given weights under the names of the module docs (PyTorch's
    /// `nn.LSTM` and `nn.Linear` names), e.g. a model trained in PyTorch.
    ///
    /// # Errors
    /// As [`LstmForecaster::new`], and [`ModelError::ConfigMismatch`] naming a missing,
    /// misshapen or unexpected parameter.
    pub fn from_state_dict(
        config: &LstmForecasterConfig,
        state_dict: StateDict,
        device: Device,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        Ok(LstmForecaster {
            net: ForecastNet::build(&vs.root(), config, Draw::Given(state_dict))?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LstmForecasterConfig {
        self.net.config()
    }

    fn split(&self) -> ForecastSplit {
        ForecastSplit {
            context: self.net.config.context,
            horizon: self.net.config.horizon,
        }
    }

    /// The forecast `[B, horizon, F]` of the steps after `context: [B, C, F]`.
    ///
    /// # Errors
    /// Shape, dtype or non-finite errors of the input.
    pub fn forecast(&self, context: &Tensor) -> Result<Tensor> {
        self.net.forward(context)
    }

    /// Every trainable parameter with its name (see the module docs).
    pub fn parameters(&self) -> &[(String, Tensor)] {
        &self.net.params
    }

    /// Saves weights and manifest as [`SavedModel::save`] does for the autoencoders (kind
    /// `"LstmForecaster"`).
    ///
    /// # Errors
    /// As [`crate::persist::save_model`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<SavedFiles> {
        self.net.save(path)
    }

    /// [`LstmForecaster::save`] with an explicit [`Overwrite`] rule.
    ///
    /// # Errors
    /// As [`crate::persist::save_model`].
    pub fn save_with(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<SavedFiles> {
        self.net.save_with(path, overwrite)
    }

    /// Loads a forecaster saved with [`LstmForecaster::save`] onto `device`.
    ///
    /// # Errors
    /// As [`crate::persist::load_model`] (another kind of model is a
    /// [`ModelError::ConfigMismatch`]).
    pub fn load(path: impl AsRef<Path>, device: Device) -> Result<Self> {
        Ok(LstmForecaster {
            net: ForecastNet::load(path, device)?,
        })
    }

    /// Checks a batch of windows: shape, `f32`, finite.
    fn check_windows(&self, x: &Tensor) -> Result<()> {
        check_f32_samples(
            "LstmForecaster",
            &Detector::sample_shape(self),
            x,
            "LstmForecaster input (the model holds f32 parameters)",
        )
    }
}

impl Detector for LstmForecaster {
    fn sample_shape(&self) -> Vec<i64> {
        let c = &self.net.config;
        vec![c.window(), c.n_features]
    }

    fn device(&self) -> Device {
        self.net.device
    }

    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
        self.check_windows(x)?;
        let (context, _) = self.split().split(x)?;
        // The context is part of the windows just checked: no second check.
        self.split()
            .cell_errors(x, &forward_layers(&self.net.layers, &context)?, norm)
    }

    fn predicted_cells(&self) -> OutputCells {
        self.split().predicted_cells()
    }

    fn weights(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self
            .net
            .params
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect())
    }

    fn describe(&self) -> String {
        let c = &self.net.config;
        format!(
            "LSTM forecaster ({} context steps, {} predicted)",
            c.context, c.horizon
        )
    }
}

impl TrainableDetector for LstmForecaster {
    fn named_parameters(&self) -> &[(String, Tensor)] {
        &self.net.params
    }

    fn targets_and_predictions(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        self.check_windows(x)?;
        let (context, target) = self.split().split(x)?;
        // The context is part of the windows just checked: no second check.
        Ok((target, forward_layers(&self.net.layers, &context)?))
    }
}

/// The forecasting network of an [`crate::LstmForecaster`], saved and loaded through
/// [`crate::LstmForecaster::save`] and [`crate::LstmForecaster::load`].
impl SavedModel for ForecastNet {
    const KIND: &'static str = "LstmForecaster";
    type Config = LstmForecasterConfig;

    fn saved_config(&self) -> &LstmForecasterConfig {
        self.config()
    }

    fn from_config(config: &LstmForecasterConfig, device: Device) -> Result<Self> {
        ForecastNet::seeded(config, device, 0)
    }

    fn parameter_shapes(config: &LstmForecasterConfig) -> Result<Vec<ParamShape>> {
        config.check()?;
        let mut s = Shapes::default();
        let mut input = config.n_features;
        for (k, &h) in config.hidden.iter().enumerate() {
            s.lstm(("LstmForecasterConfig", "hidden"), "encoder", k, input, h)?;
            input = h;
        }
        s.affine(
            "output",
            vec![config.horizon * config.n_features, input],
            true,
        );
        Ok(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explained_error::ExplainedError;
    use tch::Kind;

    #[test]
    fn errors_sit_at_the_predicted_steps_and_gradients_reach_the_context() {
        let cfg = LstmForecasterConfig::new(3, 5, 2, 4);
        let f = LstmForecaster::seeded(&cfg, Device::Cpu, 0).unwrap();
        assert_eq!(Detector::sample_shape(&f), vec![7, 3]);
        let x = Tensor::rand([2, 7, 3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let e = f.cell_errors(&x, ErrorNorm::SquaredL2).unwrap();
        // The predicted steps' error is the forecast's.
        let forecast = f.forecast(&x.narrow(1, 0, 5)).unwrap();
        let want = (x.narrow(1, 5, 2) - &forecast).square();
        assert!(e.narrow(1, 5, 2).allclose(&want, 0.0, 0.0, false));
        assert_eq!(
            e.narrow(1, 0, 5).abs().sum(Kind::Float).double_value(&[]),
            0.0
        );
        e.sum(Kind::Float).backward();
        let g = x.grad();
        assert!(g.narrow(1, 0, 5).abs().sum(Kind::Float).double_value(&[]) > 0.0);
        // The explained error covers only the predicted steps: 2 × 3 cells.
        let r = ExplainedError::new(ErrorNorm::L1)
            .within(&f.predicted_cells())
            .resolve(&[7, 3], Device::Cpu)
            .unwrap();
        assert_eq!(r.count(), 6);
    }

    #[test]
    fn training_targets_are_the_predicted_steps() {
        let f =
            LstmForecaster::seeded(&LstmForecasterConfig::new(2, 3, 1, 4), Device::Cpu, 1).unwrap();
        let x = Tensor::rand([4, 4, 2], (Kind::Float, Device::Cpu));
        let (t, y) = f.targets_and_predictions(&x).unwrap();
        assert!(t.equal(&x.narrow(1, 3, 1)));
        assert_eq!(y.size(), vec![4, 1, 2]);
        let err = f
            .targets_and_predictions(&Tensor::rand([4, 3, 2], (Kind::Float, Device::Cpu)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[batch, 4, 2]") && err.contains("[4, 3, 2]"),
            "{err}"
        );
    }

    #[test]
    fn bad_configs_are_named() {
        for (cfg, needle) in [
            (LstmForecasterConfig::new(3, 0, 1, 4), "context = 0"),
            (LstmForecasterConfig::new(3, 4, 0, 4), "horizon = 0"),
            (LstmForecasterConfig::new(3, 4, 1, 0), "hidden = [0, 0]"),
            (LstmForecasterConfig::new(3, i64::MAX, 1, 4), "overflow"),
        ] {
            let err = LstmForecaster::seeded(&cfg, Device::Cpu, 0)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
        let err = serde_json::from_str::<LstmForecasterConfig>(r#"{"horizon": 0}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("horizon = 0"), "{err}");
    }
}
