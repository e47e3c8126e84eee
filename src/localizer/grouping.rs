//! Which input cells the perturbation methods perturb together: a setting of the pipeline,
//! not of each method, so every method of a run groups alike.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::attrib::correlation_clusters::DEFAULT_MIN_CORRELATION;
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
    /// Every step of a *cluster of sensors that move together on normal data*: sensors
    /// whose pairwise correlations over the training windows all reach
    /// [`DEFAULT_MIN_CORRELATION`] in absolute value (complete linkage,
    /// [`FeatureMask::correlated`]), learned from the normal training windows only
    /// ([`crate::method::Context::train`]). A cluster is perturbed as a whole and its
    /// effect is shared equally among its sensors, so the sensors' scores sum to the
    /// cluster's effect (under a normalization that divides each sensor's score by its
    /// usual one, the share cancels and every member carries the cluster's score).
    ///
    /// Where a fault displaces a correlated group together and the detector follows it
    /// for every member, perturbing one sensor at a time puts that sensor at odds with
    /// its group and raises the error: the displaced sensors get negative effects.
    /// Perturbing the cluster asks what its displacement did. Where a fault is on one
    /// sensor of a cluster, though, every member carries its score: on synthetic machines
    /// of correlated faults Feature Permutation, Shapley sampling and Kernel SHAP gain 10
    /// to 24 GT@120% IoU points with it, and where faults sit on few independent sensors
    /// they lose 21 to 23 (`docs/reproduction/regimes.md`). A setting for systems of
    /// correlated faults; paper 1 perturbs sensors one by one ([`Grouping::PerSensor`],
    /// the default).
    Correlated,
}

impl Grouping {
    /// The feature mask of windows of `steps × sensors`; [`Grouping::Correlated`] learns
    /// its clusters from `train` (normal windows `[N, T, sensors]`).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for patches of fewer than one step, and for
    /// [`Grouping::Correlated`] without training windows.
    pub fn mask_from(
        &self,
        steps: i64,
        sensors: i64,
        train: Option<&Tensor>,
    ) -> Result<FeatureMask> {
        match (self, train) {
            (Grouping::Correlated, Some(train)) => Ok(FeatureMask::correlated(
                train,
                steps,
                DEFAULT_MIN_CORRELATION,
            )?),
            _ => self.mask(steps, sensors),
        }
    }

    /// The feature mask of windows of `steps × sensors`, for the groupings that need no
    /// data.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for patches of fewer than one step, and for
    /// [`Grouping::Correlated`], which learns its clusters from training windows
    /// ([`Grouping::mask_from`]).
    pub fn mask(&self, steps: i64, sensors: i64) -> Result<FeatureMask> {
        Ok(match *self {
            Grouping::Correlated => {
                return Err(Error::InvalidSetting {
                    setting: "grouping",
                    value: "correlated".into(),
                    rule: "learns its clusters from the normal training windows; give them in Context::train".into(),
                })
            }
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

    #[test]
    fn correlated_groups_come_from_the_training_windows_only() {
        // Sensors 0 and 1 move together (1 = 2·0 + noise-free offset), 2 alone.
        let t = Tensor::f_arange(40, (Kind::Float, Device::Cpu)).unwrap();
        let s0 = t.sin();
        let s1 = &s0 * 2.0 + 1.0;
        let s2 = (&t * 0.37).cos();
        let train = Tensor::stack(&[s0, s1, s2], 1).reshape([4, 10, 3]);
        let m = Grouping::Correlated.mask_from(5, 3, Some(&train)).unwrap();
        assert_eq!(m.n_groups(), 2);
        assert_eq!(
            Vec::<i64>::try_from(m.ids().flatten(0, -1)).unwrap()[..3],
            [0, 0, 1]
        );
        let err = Grouping::Correlated.mask_from(5, 3, None).unwrap_err();
        assert!(err.to_string().contains("Context::train"), "{err}");
    }
}
