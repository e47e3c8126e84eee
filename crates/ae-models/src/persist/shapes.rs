//! The parameters a configuration builds, computed without building it.
//!
//! Loading compares these names and shapes with the manifest and with the weights file's
//! header before it allocates the model, so a corrupted configuration (say a layer of
//! 10¹¹ units) is an error instead of an allocation that aborts the process. Each model's
//! list ([`crate::persist::SavedModel::parameter_shapes`], beside the model in `dense.rs`,
//! `lstm.rs`, `attention.rs`, `conv.rs`, `forecaster.rs`) mirrors its constructor with the
//! builder here; tests build every kind and compare, so the two cannot drift apart
//! unnoticed.

use crate::error::{ModelError, Result};
use crate::persist::ParamShape;

/// Collects parameters in creation order.
#[derive(Default)]
pub(crate) struct Shapes(pub(crate) Vec<ParamShape>);

impl Shapes {
    fn push(&mut self, name: String, shape: Vec<i64>) {
        self.0.push(ParamShape { name, shape });
    }

    /// A weight and, when `bias`, a bias of `[weight[0]]`, as the models' affine layers.
    pub(crate) fn affine(&mut self, prefix: &str, weight: Vec<i64>, bias: bool) {
        let out = weight[0];
        self.push(format!("{prefix}.weight"), weight);
        if bias {
            self.push(format!("{prefix}.bias"), vec![out]);
        }
    }

    /// The weights of LSTM layer `k`; a `hidden` whose 4 gates overflow is an error naming
    /// `config`, the config type and its hidden-size parameter.
    pub(crate) fn lstm(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::ConvAeConfig;
    use crate::dense::DenseAeConfig;
    use crate::forecaster::{ForecastNet, LstmForecasterConfig};
    use crate::lstm::LstmAeConfig;
    use crate::persist::SavedModel;
    use crate::{AttentionLstmAe, ConvAe, DenseAe, LstmAe, LstmForecaster, Trainable};
    use tch::Device;

    fn dense(cfg: &DenseAeConfig) -> Result<Vec<ParamShape>> {
        DenseAe::parameter_shapes(cfg)
    }

    fn lstm(cfg: &LstmAeConfig, attention: bool) -> Result<Vec<ParamShape>> {
        if attention {
            AttentionLstmAe::parameter_shapes(cfg)
        } else {
            LstmAe::parameter_shapes(cfg)
        }
    }

    fn conv(cfg: &ConvAeConfig) -> Result<Vec<ParamShape>> {
        ConvAe::parameter_shapes(cfg)
    }

    fn forecaster(cfg: &LstmForecasterConfig) -> Result<Vec<ParamShape>> {
        ForecastNet::parameter_shapes(cfg)
    }

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
