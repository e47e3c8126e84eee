//! The reference model and the windows it explains.
//!
//! The model is paper 1's LSTM autoencoder with seeded, untrained weights: the cost of a
//! dense recurrent pass does not depend on the weights' values, nor on the inputs', so
//! criterion benches feed seeded noise while the report feeds real SMD windows.

use std::path::{Path, PathBuf};

use anomaly_xai::data::SmdMachine;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::windows::sliding_windows_tensor;
use anomaly_xai::models::{LstmAe, LstmAeConfig, MinMaxScaler};
use anomaly_xai::{Error, Result};
use ndarray::Array2;
use tch::{Device, Kind, Tensor};

/// The model's size: sensors per step, steps per window, LSTM units per layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Sensors (features) per time step.
    pub sensors: i64,
    /// Time steps per window.
    pub steps: i64,
    /// Units of each LSTM layer.
    pub hidden: i64,
}

impl Size {
    /// Paper 1's model on SMD: 38 sensors, windows of 50 steps, 64 units.
    pub const PAPER1: Size = Size {
        sensors: 38,
        steps: 50,
        hidden: 64,
    };

    /// A small model for smoke checks in debug builds (5 sensors, 8 steps, 8 units).
    pub const SMALL: Size = Size {
        sensors: 5,
        steps: 8,
        hidden: 8,
    };

    /// The shape of one window, `[steps, sensors]`.
    pub fn sample(&self) -> [i64; 2] {
        [self.steps, self.sensors]
    }

    /// A short description for reports: "lstm_ae(F=38, T=50, H=64, 2+2 layers)".
    pub fn describe(&self) -> String {
        format!(
            "lstm_ae(F={}, T={}, H={}, 2+2 layers)",
            self.sensors, self.steps, self.hidden
        )
    }
}

/// The model of `size` on `device`, weights seeded with 0 (the same on every run).
pub fn model(size: Size, device: Device) -> Result<LstmAe> {
    Ok(LstmAe::seeded(
        &LstmAeConfig::new(size.sensors, size.steps, size.hidden),
        device,
        0,
    )?)
}

/// `n` windows `[n, steps, sensors]` of uniform noise in [0, 1] from libtorch's generator
/// seeded with `seed`.
pub fn noise_windows(size: Size, n: i64, seed: i64, device: Device) -> Result<Tensor> {
    tch::manual_seed(seed);
    Ok(Tensor::f_rand(
        [n, size.steps, size.sensors],
        (Kind::Float, device),
    )?)
}

/// The SMD data embedded in the repository (`data/smd`, machine-1-2).
pub fn embedded_smd() -> PathBuf {
    crate::workspace_root().join("data").join("smd")
}

/// Machine-1-2 of the Server Machine Dataset in `dir` (the SMD layout) with its training
/// and test halves `[steps, sensors]`, min-max scaled on the training half and clipped to
/// [-3, 3] (DESIGN §7b).
///
/// # Errors
/// The loader's error for a missing or malformed machine.
pub fn scaled_smd(dir: &Path) -> Result<(SmdMachine, Array2<f32>, Array2<f32>)> {
    let machine = SmdMachine::load(dir, "machine-1-2")?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?.with_clip(-3.0, 3.0)?;
    let train = scaler.transform(&machine.train.view())?;
    let test = scaler.transform(&machine.test.view())?;
    Ok((machine, train, test))
}

/// Real windows of paper 1's size from machine-1-2 of the Server Machine Dataset in `dir`
/// (the SMD layout), min-max scaled on the training half and clipped to [-3, 3] (DESIGN
/// §7b): `windows` stride-1 windows of the test half from step `start`, and the first
/// `background` stride-1 windows of the training half.
///
/// # Errors
/// [`Error::InvalidSetting`] for a count below 1 or windows past the end of the test
/// half; the loader's error for a missing or malformed machine.
pub fn smd_windows(
    dir: &Path,
    start: i64,
    windows: i64,
    background: i64,
    device: Device,
) -> Result<(Tensor, Tensor)> {
    let steps = Size::PAPER1.steps;
    for (setting, value) in [("windows", windows), ("background", background)] {
        if value < 1 {
            return Err(Error::InvalidSetting {
                setting,
                value: value.to_string(),
                rule: "must be at least 1".into(),
            });
        }
    }
    if start < 0 {
        return Err(Error::InvalidSetting {
            setting: "start",
            value: start.to_string(),
            rule: "must be at least 0".into(),
        });
    }
    let (_, train, test) = scaled_smd(dir)?;
    let test = array_to_tensor(&test.into_dyn().view(), device)?;
    let train = array_to_tensor(&train.into_dyn().view(), device)?;
    let rows = start + windows + steps - 1;
    if rows > test.size()[0] {
        return Err(Error::InvalidSetting {
            setting: "start + windows",
            value: format!("{start} + {windows}"),
            rule: format!(
                "needs {rows} test steps; machine-1-2 has {}",
                test.size()[0]
            ),
        });
    }
    let x = sliding_windows_tensor(
        &test.f_narrow(0, start, windows + steps - 1)?,
        steps as usize,
        1,
    )?;
    let bg_rows = (background + steps - 1).min(train.size()[0]);
    let bg = sliding_windows_tensor(&train.f_narrow(0, 0, bg_rows)?, steps as usize, 1)?;
    Ok((x.f_contiguous()?, bg.f_contiguous()?))
}
