//! Which input cells the perturbation methods perturb together: a setting of the pipeline,
//! not of each method, so every method of a run groups alike.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::attrib::FeatureMask;
use crate::error::{Error, Result};

/// How the cells of a `[T, F]` window are grouped for the methods that perturb groups
/// (Feature Ablation, Feature Permutation, Shapley Value Sampling, Kernel SHAP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// Every step of one sensor together: one group per sensor (paper 1: "which sensor").
    #[default]
    PerSensor,
    /// Patches of `steps` consecutive steps of one sensor (the last patch may be
    /// shorter): localizes in time as well, at `⌈T / steps⌉` times the groups.
    Patches {
        /// Steps per patch, at least 1.
        steps: i64,
    },
    /// Every cell its own group (costly: `T · F` groups).
    Cells,
}

impl Grouping {
    /// The feature mask of windows of `steps × sensors`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for patches of fewer than one step.
    pub fn mask(&self, steps: i64, sensors: i64) -> Result<FeatureMask> {
        Ok(match *self {
            Grouping::PerSensor => FeatureMask::per_sensor(steps, sensors)?,
            Grouping::Cells => FeatureMask::per_cell(&[steps, sensors])?,
            Grouping::Patches { steps: p } => {
                if p < 1 {
                    return Err(Error::InvalidSetting {
                        setting: "grouping.patches.steps",
                        value: p.to_string(),
                        rule: "must be at least 1".into(),
                    });
                }
                // Patch k of sensor f is group k·F + f: ids are 0..⌈T/p⌉·F, all used.
                let t = Tensor::f_arange(steps, (Kind::Int64, Device::Cpu))?
                    .f_floor_divide_scalar(p)?
                    .f_mul_scalar(sensors)?
                    .f_unsqueeze(1)?;
                let f = Tensor::f_arange(sensors, (Kind::Int64, Device::Cpu))?.f_unsqueeze(0)?;
                FeatureMask::from_tensor(&t.f_add(&f)?)?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_number_steps_then_sensors() {
        let m = Grouping::Patches { steps: 2 }.mask(5, 2).unwrap();
        assert_eq!(m.n_groups(), 6);
        assert_eq!(
            Vec::<i64>::try_from(m.ids().flatten(0, -1)).unwrap(),
            vec![0, 1, 0, 1, 2, 3, 2, 3, 4, 5]
        );
        assert_eq!(Grouping::PerSensor.mask(5, 2).unwrap().n_groups(), 2);
        assert_eq!(Grouping::Cells.mask(5, 2).unwrap().n_groups(), 10);
        let err = Grouping::Patches { steps: 0 }.mask(5, 2).unwrap_err();
        assert!(
            err.to_string().contains("grouping.patches.steps = 0"),
            "{err}"
        );
    }
}
