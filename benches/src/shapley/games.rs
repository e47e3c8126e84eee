//! The named games: which detector, which samples, which baseline, which groups.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anomaly_xai::attrib::{ErrorScorer, FnScorer, Scorer};
use anomaly_xai::data::load_breast_cancer;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::{DenseAe, DenseAeConfig, ErrorNorm, LstmAe, MinMaxScaler, Trainable};
use anomaly_xai::{Error, Result};
use tch::{Device, Kind, Tensor};

use crate::reference::{self, scaled_smd, Size};

/// A game of the measurement. Those with `M ≤ 16` groups are tabulated and compared with
/// exact values; the `_38` and `_30` ones (one group per sensor or feature) against a
/// reference estimate ([`GameName::is_large`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameName {
    /// A random two-layer tanh network of 16 features ([`mlp`]).
    SyntheticMlp,
    /// The dense autoencoder on breast cancer, 15 groups of two features ([`dense`]).
    DenseBreastCancer,
    /// Paper 1's LSTM autoencoder untrained, sensors in 16 groups ([`lstm`]); additive to
    /// within rounding, so every sampler is exact on it.
    LstmSmdSeeded,
    /// Paper 1's LSTM autoencoder trained, sensors in 16 groups.
    LstmSmdTrained,
    /// The tanh network on 38 features.
    SyntheticMlp38,
    /// The dense autoencoder, one group per feature.
    DenseBreastCancer30,
    /// The trained LSTM autoencoder, one group per sensor.
    LstmSmdTrained38,
}

impl GameName {
    /// Every game, in the order of the output.
    pub const ALL: [GameName; 7] = [
        GameName::SyntheticMlp,
        GameName::DenseBreastCancer,
        GameName::LstmSmdSeeded,
        GameName::LstmSmdTrained,
        GameName::SyntheticMlp38,
        GameName::DenseBreastCancer30,
        GameName::LstmSmdTrained38,
    ];

    /// The games run when none are named.
    pub const DEFAULT: [GameName; 3] = [
        GameName::SyntheticMlp,
        GameName::DenseBreastCancer,
        GameName::LstmSmdTrained,
    ];

    /// The name in files and output.
    pub fn name(self) -> &'static str {
        match self {
            GameName::SyntheticMlp => "synthetic_mlp",
            GameName::DenseBreastCancer => "dense_breast_cancer",
            GameName::LstmSmdSeeded => "lstm_smd_seeded",
            GameName::LstmSmdTrained => "lstm_smd_trained",
            GameName::SyntheticMlp38 => "synthetic_mlp_38",
            GameName::DenseBreastCancer30 => "dense_breast_cancer_30",
            GameName::LstmSmdTrained38 => "lstm_smd_trained_38",
        }
    }

    /// Whether the game has too many groups to enumerate (its truth is a reference).
    pub fn is_large(self) -> bool {
        matches!(
            self,
            GameName::SyntheticMlp38 | GameName::DenseBreastCancer30 | GameName::LstmSmdTrained38
        )
    }
}

impl fmt::Display for GameName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GameName {
    type Err = Error;

    /// ```
    /// use anomaly_xai_bench::shapley::games::GameName;
    /// assert_eq!("synthetic_mlp".parse::<GameName>()?, GameName::SyntheticMlp);
    /// assert!("mlp".parse::<GameName>().unwrap_err().to_string().contains("mlp"));
    /// # Ok::<(), anomaly_xai::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        GameName::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| Error::InvalidSetting {
                setting: "game",
                value: s.into(),
                rule: format!(
                    "is unknown; known: {}",
                    GameName::ALL.map(GameName::name).join(", ")
                ),
            })
    }
}

/// A model to rebuild in Python (`xtask/bench/kernel_shap_curve.py`): its kind and sizes,
/// and its weights.
#[derive(Debug)]
pub struct Export {
    /// Kind and sizes, written into the game's JSON under `model`.
    pub meta: serde_json::Value,
    /// Named weights, written as `NAME.model.safetensors`.
    pub weights: Vec<(String, Tensor)>,
}

impl Export {
    /// A model's kind and sizes and its named parameters.
    pub fn of(meta: serde_json::Value, model: &impl Trainable) -> Export {
        Export {
            meta,
            weights: model
                .parameters()
                .iter()
                .map(|(n, t)| (n.clone(), t.shallow_clone()))
                .collect(),
        }
    }
}

fn tensor(a: ndarray::Array2<f32>) -> Result<Tensor> {
    Ok(array_to_tensor(&a.view().into_dyn(), Device::Cpu)?)
}

/// `Σ_h a_h tanh(w_hᵀ x + b_h)` on `m` features, 32 units, `w ~ N(0, 4/m)` so that the
/// pre-activations have about the same spread for every `m`, from libtorch's generator
/// seeded with 7; its weights (`w`, `b`, `a`).
pub fn mlp(m: i64) -> (impl Scorer, Export) {
    const H: i64 = 32;
    tch::manual_seed(7);
    let w = Tensor::randn([m, H], (Kind::Double, Device::Cpu)) / (m as f64 / 4.0).sqrt();
    let b = Tensor::randn([H], (Kind::Double, Device::Cpu)) / 2.0;
    let a = Tensor::randn([H], (Kind::Double, Device::Cpu));
    let export = Export {
        meta: serde_json::json!({ "kind": "mlp" }),
        weights: vec![
            ("w".to_string(), w.shallow_clone()),
            ("b".to_string(), b.shallow_clone()),
            ("a".to_string(), a.shallow_clone()),
        ],
    };
    let f = FnScorer::new("synthetic_mlp", move |x: &Tensor| {
        Ok(x.f_matmul(&w)?.f_add(&b)?.f_tanh()?.f_matmul(&a)?)
    });
    (f, export)
}

/// The description of [`mlp`]`(m)` and its samples.
pub fn mlp_description(m: i64) -> String {
    format!(
        "Σ_h a_h tanh(w_hᵀx + b_h), {m} features, 32 units, w ~ N(0, 4/{m}), b ~ N(0, 1/4), \
         a ~ N(0, 1), standard normal points, zero baseline"
    )
}

/// A dense autoencoder (30-16-8-16-30, seeded) trained on the benign rows of the
/// breast-cancer table in `dir` (min-max scaled); the `samples` malignant rows it
/// reconstructs worst, `[samples, 30]`; the benign means, `[30]`; a description.
///
/// # Errors
/// The loader's error for a missing or malformed table; training's error.
pub fn dense(dir: &Path, samples: usize) -> Result<(DenseAe, Tensor, Tensor, String)> {
    let table = load_breast_cancer(dir)?;
    let benign = table.select(&table.normal_indices())?.features;
    let malignant = table.select(&table.anomalous_indices())?.features;
    let scaler = MinMaxScaler::fit(&benign.view())?;
    let benign = tensor(scaler.transform(&benign.view())?)?;
    let malignant = tensor(scaler.transform(&malignant.view())?)?;
    let model = DenseAe::seeded(&DenseAeConfig::new(30, vec![16, 8]), Device::Cpu, 0)?;
    let cfg = TrainConfig {
        epochs: 300,
        batch_size: 32,
        patience: Some(20),
        quiet: true,
        ..TrainConfig::default()
    };
    let summary = train(&model, &benign, &cfg)?;
    let errors = tch::no_grad(|| ErrorScorer::new(&model, ErrorNorm::L1)?.score(&malignant))?;
    let order = errors.argsort(0, true).narrow(0, 0, samples as i64);
    let x = malignant.index_select(0, &order);
    let means = benign.mean_dim(0, false, Kind::Float);
    let note = format!(
        "DenseAe 30-16-8-16-30 trained on the 357 benign rows ({} epochs, validation L1 \
         {:.4}), the {samples} malignant rows of largest L1 reconstruction error, benign \
         means as baseline, mean L1 reconstruction error",
        summary.epochs_run,
        summary.best_val_loss.unwrap_or(f64::NAN),
    );
    Ok((model, x, means, note))
}

/// Paper 1's LSTM autoencoder (seeded with 0; with `train_epochs`, trained for that many
/// epochs on stride-5 training windows) on machine-1-2 of the SMD data in `smd_dir`
/// (min-max scaled on the training half, clipped to [-3, 3]); `samples` windows of the
/// test half starting at labelled regions; the training means `[38]`; a description.
///
/// # Errors
/// The loader's error for a missing or malformed machine; training's error.
pub fn lstm(
    smd_dir: &Path,
    train_epochs: Option<usize>,
    samples: usize,
) -> Result<(LstmAe, Tensor, Tensor, String)> {
    let steps = Size::PAPER1.steps as usize;
    let (machine, train_s, test_s) = scaled_smd(smd_dir)?;
    let model = reference::model(Size::PAPER1, Device::Cpu)?;
    let mut note = "seeded, untrained".to_string();
    if let Some(epochs) = train_epochs {
        let windows = sliding_windows(&train_s.view(), steps, 5)?;
        let data = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu)?;
        let cfg = TrainConfig {
            epochs,
            patience: None,
            quiet: true,
            ..TrainConfig::reference_protocol()
        };
        let s = train(&model, &data, &cfg)?;
        note = format!(
            "trained {} epochs on {} stride-5 training windows, validation L1 {:.4}",
            s.epochs_run,
            data.size()[0],
            s.best_val_loss.unwrap_or(f64::NAN)
        );
    }
    let test = tensor(test_s)?;
    let t_len = test.size()[0] as usize;
    let starts: Vec<i64> = machine
        .regions
        .iter()
        .map(|r| r.start.min(t_len - steps) as i64)
        .take(samples)
        .collect();
    let x = Tensor::f_stack(
        &starts
            .iter()
            .map(|&s| test.narrow(0, s, Size::PAPER1.steps))
            .collect::<Vec<_>>(),
        0,
    )?;
    let means = tensor(train_s)?.mean_dim(0, false, Kind::Float);
    let note = format!(
        "LstmAe 38 sensors x 50 steps, 2 + 2 layers of 64 ({note}); {} windows of \
         machine-1-2's test half starting at labelled regions {starts:?}; training means as \
         baseline; mean L1 reconstruction error",
        starts.len()
    );
    Ok((model, x, means, note))
}

/// What [`Export`] says of [`lstm`]'s model.
pub fn lstm_meta() -> serde_json::Value {
    serde_json::json!({
        "kind": "lstm_ae", "n_features": Size::PAPER1.sensors, "window": Size::PAPER1.steps,
        "hidden": Size::PAPER1.hidden,
        "layers": 2, "norm": "L1",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for g in GameName::ALL {
            assert_eq!(g.name().parse::<GameName>().unwrap(), g);
            assert_eq!(
                g.is_large(),
                g.name().ends_with("_38") || g.name().ends_with("_30")
            );
        }
        let err = "lstm".parse::<GameName>().unwrap_err().to_string();
        assert!(
            err.contains("lstm") && err.contains("synthetic_mlp_38"),
            "{err}"
        );
    }

    #[test]
    fn mlp_is_the_same_function_every_time() {
        let x = Tensor::randn([3, 5], (Kind::Double, Device::Cpu));
        let (f, e) = mlp(5);
        let (g, _) = mlp(5);
        assert!(f.score(&x).unwrap().equal(&g.score(&x).unwrap()));
        let shapes: Vec<Vec<i64>> = e.weights.iter().map(|(_, t)| t.size()).collect();
        assert_eq!(shapes, vec![vec![5, 32], vec![32], vec![32]]);
    }
}
