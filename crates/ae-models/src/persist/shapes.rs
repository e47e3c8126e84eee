//! The parameters a configuration builds, computed without building it.
//!
//! Loading compares these names and shapes with the manifest and with the weights file's
//! header before it allocates the model, so a corrupted configuration (say a layer of
//! 10¹¹ units) is an error instead of an allocation that aborts the process. The lists
//! mirror the models' constructors (`dense.rs`, `lstm.rs`, `attention.rs`, `conv.rs`,
//! `forecaster.rs`); tests build every kind and compare, so the two cannot drift apart
//! unnoticed.

use crate::conv::ConvAeConfig;
use crate::dense::DenseAeConfig;
use crate::error::{ModelError, Result};
use crate::forecaster::LstmForecasterConfig;
use crate::lstm::LstmAeConfig;
use crate::persist::ParamShape;

/// Collects parameters in creation order.
#[derive(Default)]
struct Shapes(Vec<ParamShape>);

impl Shapes {
    fn push(&mut self, name: String, shape: Vec<i64>) {
        self.0.push(ParamShape { name, shape });
    }

    /// A weight and, when `bias`, a bias of `[weight[0]]`, as the models' affine layers.
    fn affine(&mut self, prefix: &str, weight: Vec<i64>, bias: bool) {
        let out = weight[0];
        self.push(format!("{prefix}.weight"), weight);
        if bias {
            self.push(format!("{prefix}.bias"), vec![out]);
        }
    }

    /// The weights of LSTM layer `k`; a `hidden` whose 4 gates overflow is an error naming
    /// `config`, the config type and its hidden-size parameter.
    fn lstm(
        &mut self,
        config: (&'static str, &'static str),
        prefix: &str,
        k: usize,
        input: i64,
        hidden: i64,
    ) -> Result<()> {
        let gates = hidden
            .checked_mul(4)
            .ok_or_else(|| ModelError::InvalidParam {
                what: config.0,
                param: config.1,
                value: hidden.to_string(),
                rule: "is too large (4 gates of it overflow)",
            })?;
        self.push(format!("{prefix}.weight_ih_l{k}"), vec![gates, input]);
        self.push(format!("{prefix}.weight_hh_l{k}"), vec![gates, hidden]);
        self.push(format!("{prefix}.bias_ih_l{k}"), vec![gates]);
        self.push(format!("{prefix}.bias_hh_l{k}"), vec![gates]);
        Ok(())
    }
}

/// The parameters of a [`crate::DenseAe`] of `cfg`.
pub(crate) fn dense(cfg: &DenseAeConfig) -> Result<Vec<ParamShape>> {
    cfg.check()?;
    let mut widths = vec![cfg.input];
    widths.extend(&cfg.hidden);
    let k = cfg.hidden.len();
    let mut s = Shapes::default();
    for i in 0..k {
        s.affine(
            &format!("encoder.{i}"),
            vec![widths[i + 1], widths[i]],
            cfg.bias,
        );
    }
    for i in 0..k {
        s.affine(
            &format!("decoder.{i}"),
            vec![widths[k - i - 1], widths[k - i]],
            cfg.bias,
        );
    }
    Ok(s.0)
}

/// The config type and hidden-size parameter an LSTM autoencoder's overflow error names.
const LSTM_AE: (&str, &str) = ("LstmAeConfig", "hidden size");

/// The parameters of an [`crate::LstmAe`] of `cfg`, or of an [`crate::AttentionLstmAe`]
/// when `attention`.
pub(crate) fn lstm(cfg: &LstmAeConfig, attention: bool) -> Result<Vec<ParamShape>> {
    cfg.check()?;
    let mut s = Shapes::default();
    let f = cfg.n_features;
    if attention {
        s.affine("attention", vec![f, f], true);
    }
    let mut input = f;
    for (k, &h) in cfg.encoder_hidden.iter().enumerate() {
        s.lstm(LSTM_AE, "encoder", k, input, h)?;
        input = h;
    }
    if let Some(l) = cfg.latent {
        s.affine("latent", vec![l, input], true);
        input = l;
    }
    for (k, &h) in cfg.decoder_hidden.iter().enumerate() {
        s.lstm(LSTM_AE, "decoder", k, input, h)?;
        input = h;
    }
    s.affine("output", vec![f, input], true);
    Ok(s.0)
}

/// The parameters of an [`crate::LstmForecaster`] of `cfg`.
pub(crate) fn forecaster(cfg: &LstmForecasterConfig) -> Result<Vec<ParamShape>> {
    cfg.check()?;
    let mut s = Shapes::default();
    let mut input = cfg.n_features;
    for (k, &h) in cfg.hidden.iter().enumerate() {
        s.lstm(("LstmForecasterConfig", "hidden"), "encoder", k, input, h)?;
        input = h;
    }
    s.affine("output", vec![cfg.horizon * cfg.n_features, input], true);
    Ok(s.0)
}

/// The parameters of a [`crate::ConvAe`] of `cfg`.
pub(crate) fn conv(cfg: &ConvAeConfig) -> Result<Vec<ParamShape>> {
    cfg.check()?;
    let mut s = Shapes::default();
    let mut in_ch = cfg.input[0];
    for (i, c) in cfg.convs.iter().enumerate() {
        s.affine(
            &format!("conv{}", i + 1),
            vec![c.out_channels, in_ch, c.kernel, c.kernel],
            cfg.bias,
        );
        in_ch = c.out_channels;
    }
    Ok(s.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttentionLstmAe, ConvAe, DenseAe, LstmAe, LstmForecaster, Trainable};
    use tch::Device;

    fn built<M: Trainable>(m: &M) -> Vec<ParamShape> {
        m.parameters()
            .iter()
            .map(|(name, t)| ParamShape {
                name: name.clone(),
                shape: t.size(),
            })
            .collect()
    }

    #[test]
    fn the_lists_equal_what_the_constructors_build() {
        for (hidden, bias) in [(vec![2], true), (vec![5, 3, 2], false)] {
            let mut cfg = DenseAeConfig::new(7, hidden);
            cfg.bias = bias;
            let m = DenseAe::seeded(&cfg, Device::Cpu, 0).unwrap();
            assert_eq!(dense(&cfg).unwrap(), built(&m));
        }
        let mut cfgs = vec![LstmAeConfig::new(3, 4, 5)];
        let mut c = LstmAeConfig::new(4, 3, 6);
        c.encoder_hidden = vec![6, 5, 2];
        c.decoder_hidden = vec![3];
        c.latent = Some(2);
        cfgs.push(c);
        for cfg in &cfgs {
            let m = LstmAe::seeded(cfg, Device::Cpu, 0).unwrap();
            assert_eq!(lstm(cfg, false).unwrap(), built(&m));
            let m = AttentionLstmAe::seeded(cfg, Device::Cpu, 0).unwrap();
            assert_eq!(lstm(cfg, true).unwrap(), built(&m));
        }
        let mut cfg = ConvAeConfig::small(16, 3);
        let m = ConvAe::seeded(&cfg, Device::Cpu, 0).unwrap();
        assert_eq!(conv(&cfg).unwrap(), built(&m));
        cfg.bias = false;
        let m = ConvAe::seeded(&cfg, Device::Cpu, 0).unwrap();
        assert_eq!(conv(&cfg).unwrap(), built(&m));
    }

    #[test]
    fn the_forecaster_list_equals_what_its_constructor_builds() {
        let cfg = LstmForecasterConfig {
            n_features: 3,
            context: 6,
            horizon: 2,
            hidden: vec![5, 4],
        };
        let f = LstmForecaster::seeded(&cfg, Device::Cpu, 0).unwrap();
        let built: Vec<ParamShape> = f
            .parameters()
            .iter()
            .map(|(n, t)| ParamShape {
                name: n.clone(),
                shape: t.size(),
            })
            .collect();
        assert_eq!(forecaster(&cfg).unwrap(), built);
    }

    #[test]
    fn absurd_sizes_are_computed_not_allocated() {
        let shapes = dense(&DenseAeConfig::new(7, vec![100_000_000_000, 2])).unwrap();
        assert_eq!(shapes[0].shape, vec![100_000_000_000, 7]);
        let err = lstm(&LstmAeConfig::new(3, 4, i64::MAX / 2), false).unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
        assert!(dense(&DenseAeConfig::new(7, vec![0])).is_err());
    }
}
