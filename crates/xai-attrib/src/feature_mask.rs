//! Feature masks: which input cells are attributed together.
//!
//! Paper 1 asks *which sensor* is anomalous, so the natural unit is a sensor: all time
//! steps of one sensor form one group ([`FeatureMask::per_sensor`]). Perturbation methods
//! perturb a group as a whole and give its effect to every cell of the group; gradient
//! methods sum their per-cell attributions over a group and likewise put the total on
//! every cell. Read one value per group back with [`FeatureMask::group_means`].

use tch::{Device, Kind, Tensor};

use crate::error::{Result, XaiError};
use crate::validate::{broadcasts_to, shape_str};

/// Group ids for the cells of one sample: an `Int64` tensor of the sample's shape (or
/// broadcastable to it) with values `0..n_groups`, every id used. Cells sharing an id are
/// perturbed together and share one attribution. Every constructor checks the ids, so a
/// mask is always valid.
#[derive(Debug)]
pub struct FeatureMask {
    ids: Tensor,
    n_groups: i64,
}

impl Clone for FeatureMask {
    fn clone(&self) -> Self {
        FeatureMask {
            ids: self.ids.shallow_clone(),
            n_groups: self.n_groups,
        }
    }
}

fn positive(what: &'static str, v: i64) -> Result<()> {
    if v < 1 {
        return Err(XaiError::InvalidParam {
            method: "feature_mask",
            param: what,
            value: v.to_string(),
            rule: "must be at least 1",
        });
    }
    Ok(())
}

impl FeatureMask {
    /// One group per sensor of `[steps, sensors]` windows: `ids[t, f] = f`.
    ///
    /// ```
    /// use xai_attrib::FeatureMask;
    /// let m = FeatureMask::per_sensor(3, 2)?;
    /// assert_eq!(m.n_groups(), 2);
    /// assert_eq!(Vec::<i64>::try_from(m.ids().flatten(0, -1)).unwrap(), vec![0, 1, 0, 1, 0, 1]);
    /// # Ok::<(), xai_attrib::XaiError>(())
    /// ```
    pub fn per_sensor(steps: i64, sensors: i64) -> Result<FeatureMask> {
        positive("steps", steps)?;
        positive("sensors", sensors)?;
        let ids = Tensor::f_arange(sensors, (Kind::Int64, Device::Cpu))?
            .f_unsqueeze(0)?
            .f_expand([steps, sensors], false)?
            .f_contiguous()?;
        Ok(FeatureMask {
            ids,
            n_groups: sensors,
        })
    }

    /// One group per time step of `[steps, sensors]` windows: `ids[t, f] = t`.
    pub fn per_time_step(steps: i64, sensors: i64) -> Result<FeatureMask> {
        positive("steps", steps)?;
        positive("sensors", sensors)?;
        let ids = Tensor::f_arange(steps, (Kind::Int64, Device::Cpu))?
            .f_unsqueeze(1)?
            .f_expand([steps, sensors], false)?
            .f_contiguous()?;
        Ok(FeatureMask {
            ids,
            n_groups: steps,
        })
    }

    /// Every cell of a sample of `sample_shape` its own group (row-major numbering), the
    /// same as passing no mask.
    pub fn per_cell(sample_shape: &[i64]) -> Result<FeatureMask> {
        for &d in sample_shape {
            positive("sample dimension", d)?;
        }
        let n: i64 = sample_shape.iter().product();
        let ids = Tensor::f_arange(n, (Kind::Int64, Device::Cpu))?.f_reshape(sample_shape)?;
        Ok(FeatureMask { ids, n_groups: n })
    }

    /// A user mask: any integer tensor whose ids are exactly `0..n` (every id used).
    pub fn from_tensor(ids: &Tensor) -> Result<FeatureMask> {
        let ids = to_int64(ids)?;
        if ids.numel() == 0 {
            return Err(XaiError::InvalidMask {
                reason: format!("shape {:?} holds no ids", ids.size()),
            });
        }
        let n_groups = ids.f_max()?.f_int64_value(&[])? + 1;
        let mask = FeatureMask { ids, n_groups };
        mask.check_ids()?;
        Ok(mask)
    }

    /// The group id of every cell of one sample (`Int64`).
    pub fn ids(&self) -> &Tensor {
        &self.ids
    }

    /// Number of groups (`max id + 1`).
    pub fn n_groups(&self) -> i64 {
        self.n_groups
    }

    /// Checks that the ids are `0..n_groups` with every group non-empty.
    fn check_ids(&self) -> Result<()> {
        let ids = to_int64(&self.ids)?;
        if ids.numel() == 0 {
            return Err(XaiError::InvalidMask {
                reason: format!("shape {:?} holds no ids", ids.size()),
            });
        }
        let min = ids.f_min()?.f_int64_value(&[])?;
        let max = ids.f_max()?.f_int64_value(&[])?;
        if min < 0 {
            return Err(XaiError::InvalidMask {
                reason: format!("id {min} is negative; ids must be 0..n"),
            });
        }
        if max >= self.n_groups {
            return Err(XaiError::InvalidMask {
                reason: format!("id {max} is not below n_groups = {}", self.n_groups),
            });
        }
        let counts = ids
            .f_flatten(0, -1)?
            .f_to_device(Device::Cpu)?
            .f_bincount(None::<Tensor>, self.n_groups)?;
        let counts: Vec<i64> = Vec::<i64>::try_from(&counts)?;
        if let Some(missing) = counts.iter().position(|&c| c == 0) {
            return Err(XaiError::InvalidMask {
                reason: format!(
                    "group {missing} has no cells; ids must be contiguous 0..{} with every id used",
                    self.n_groups
                ),
            });
        }
        Ok(())
    }

    /// Spreads group scores `[B, n_groups]` over the cells of samples of `sample_shape`:
    /// every cell gets its group's score.
    pub fn expand(&self, group_scores: &Tensor, sample_shape: &[i64]) -> Result<Tensor> {
        let groups = Groups::from_mask(self, sample_shape, group_scores.device())?;
        let size = group_scores.size();
        if size.len() != 2 || size[1] != self.n_groups {
            return Err(XaiError::ShapeMismatch {
                what: "group scores".into(),
                expected: format!("[batch, {}]", self.n_groups),
                got: size,
            });
        }
        groups.expand(group_scores)
    }

    /// One value per group `[B, n_groups]` from per-cell scores `[B, ..]`: the mean over
    /// the group's cells (for masked attributions, where every cell carries the group's
    /// value, this reads that value back).
    pub fn group_means(&self, scores: &Tensor) -> Result<Tensor> {
        let groups = Groups::from_mask(self, &scores.size()[1..], scores.device())?;
        let sums = groups.sum(scores)?;
        let counts = groups.counts()?.f_to_kind(scores.kind())?;
        Ok(sums.f_div(&counts)?)
    }

    /// The sum over each group's cells, `[B, n_groups]`, of per-cell scores `[B, ..]`.
    pub fn group_sums(&self, scores: &Tensor) -> Result<Tensor> {
        Groups::from_mask(self, &scores.size()[1..], scores.device())?.sum(scores)
    }
}

fn to_int64(ids: &Tensor) -> Result<Tensor> {
    match ids.kind() {
        Kind::Int64 => Ok(ids.shallow_clone()),
        Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8 => Ok(ids.f_to_kind(Kind::Int64)?),
        k => Err(XaiError::InvalidMask {
            reason: format!("ids have dtype {k:?}; an integer dtype is needed"),
        }),
    }
}

/// A feature mask resolved against one sample shape: the flat group id of every cell.
#[derive(Debug)]
pub(crate) struct Groups {
    /// `[cells]` Int64 group ids.
    ids: Tensor,
    n: i64,
    sample_shape: Vec<i64>,
    per_cell: bool,
}

impl Groups {
    /// The groups of `mask` for samples of `x`, or one group per cell without a mask.
    pub(crate) fn resolve(mask: Option<&FeatureMask>, x: &Tensor) -> Result<Groups> {
        let sample = &x.size()[1..];
        match mask {
            Some(m) => Groups::from_mask(m, sample, x.device()),
            None => {
                let n: i64 = sample.iter().product();
                Ok(Groups {
                    ids: Tensor::f_arange(n, (Kind::Int64, x.device()))?,
                    n,
                    sample_shape: sample.to_vec(),
                    per_cell: true,
                })
            }
        }
    }

    fn from_mask(mask: &FeatureMask, sample: &[i64], device: Device) -> Result<Groups> {
        let ids = &mask.ids;
        if !broadcasts_to(&ids.size(), sample) {
            return Err(XaiError::ShapeMismatch {
                what: "feature mask".into(),
                expected: format!(
                    "a shape that broadcasts to one sample {}",
                    shape_str(sample)
                ),
                got: ids.size(),
            });
        }
        let flat = ids
            .f_expand(sample, false)?
            .f_contiguous()?
            .f_flatten(0, -1)?
            .f_to_device(device)?;
        Ok(Groups {
            ids: flat,
            n: mask.n_groups,
            sample_shape: sample.to_vec(),
            per_cell: false,
        })
    }

    /// Number of groups.
    pub(crate) fn n(&self) -> i64 {
        self.n
    }

    /// Whether every cell is its own group (no mask given).
    pub(crate) fn is_per_cell(&self) -> bool {
        self.per_cell
    }

    /// Number of cells of one sample.
    pub(crate) fn cells(&self) -> i64 {
        self.ids.size()[0]
    }

    /// `[k, cells]` booleans: the cells of groups `first..first + k`.
    pub(crate) fn members(&self, first: i64, k: i64) -> Result<Tensor> {
        let g = Tensor::f_arange_start(first, first + k, (Kind::Int64, self.ids.device()))?;
        Ok(self.ids.f_unsqueeze(0)?.f_eq_tensor(&g.f_unsqueeze(1)?)?)
    }

    /// `[k, cells]` booleans: the cells present under coalitions `z: [k, n]` (bool).
    pub(crate) fn present(&self, z: &Tensor) -> Result<Tensor> {
        Ok(z.f_index_select(1, &self.ids)?)
    }

    /// Group values `[B, n]` spread over cells: `[B, ..sample]`.
    pub(crate) fn expand(&self, g: &Tensor) -> Result<Tensor> {
        let b = g.size()[0];
        let mut shape = vec![b];
        shape.extend_from_slice(&self.sample_shape);
        Ok(g.f_index_select(1, &self.ids)?.f_reshape(&shape)?)
    }

    /// Per-group sums `[B, n]` of per-cell values `[B, ..]`.
    pub(crate) fn sum(&self, cells: &Tensor) -> Result<Tensor> {
        let b = cells.size()[0];
        let flat = cells.f_reshape([b, -1])?;
        let zeros = Tensor::f_zeros([b, self.n], (cells.kind(), cells.device()))?;
        Ok(zeros.f_index_add(1, &self.ids, &flat)?)
    }

    /// Cells per group, `[n]` (Int64).
    pub(crate) fn counts(&self) -> Result<Tensor> {
        let ones = Tensor::f_ones([self.cells()], (Kind::Int64, self.ids.device()))?;
        Ok(Tensor::f_zeros([self.n], (Kind::Int64, self.ids.device()))?
            .f_index_add(0, &self.ids, &ones)?)
    }

    /// With a mask, replaces per-cell attributions `[B, ..]` by their group sums spread
    /// over the group (so every cell carries its group's total); without one, returns
    /// them unchanged.
    pub(crate) fn group_cells(&self, cells: &Tensor) -> Result<Tensor> {
        if self.per_cell {
            return Ok(cells.shallow_clone());
        }
        self.expand(&self.sum(cells)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn per_sensor_and_per_time_step_number_the_right_axis() {
        let s = FeatureMask::per_sensor(2, 3).unwrap();
        assert_eq!(
            Vec::<i64>::try_from(s.ids().flatten(0, -1)).unwrap(),
            vec![0, 1, 2, 0, 1, 2]
        );
        let t = FeatureMask::per_time_step(2, 3).unwrap();
        assert_eq!(
            Vec::<i64>::try_from(t.ids().flatten(0, -1)).unwrap(),
            vec![0, 0, 0, 1, 1, 1]
        );
        assert_eq!(t.n_groups(), 2);
    }

    #[test]
    fn from_tensor_rejects_gaps_negatives_and_floats() {
        let err = FeatureMask::from_tensor(&ids(&[0, 2, 2, 0], &[2, 2]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("group 1 has no cells"), "{err}");
        let err = FeatureMask::from_tensor(&ids(&[0, -1], &[2]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("-1"), "{err}");
        let err = FeatureMask::from_tensor(&Tensor::from_slice(&[0.0f32, 1.0]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Float"), "{err}");
        let ok = FeatureMask::from_tensor(&ids(&[1, 0, 1, 0], &[2, 2])).unwrap();
        assert_eq!(ok.n_groups(), 2);
    }

    #[test]
    fn a_mask_must_broadcast_to_the_sample() {
        let m = FeatureMask::per_sensor(4, 3).unwrap();
        let x = Tensor::zeros([2, 5, 3], (Kind::Float, Device::Cpu));
        let err = Groups::resolve(Some(&m), &x).unwrap_err().to_string();
        assert!(err.contains("[4, 3]") && err.contains("[5, 3]"), "{err}");
        // A [F] mask broadcasts over time steps.
        let m = FeatureMask::from_tensor(&ids(&[0, 1, 2], &[3])).unwrap();
        assert_eq!(Groups::resolve(Some(&m), &x).unwrap().cells(), 15);
    }

    #[test]
    fn expand_sum_and_group_means_round_trip() {
        let m = FeatureMask::per_sensor(2, 3).unwrap();
        let g = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).reshape([1, 3]);
        let cells = m.expand(&g, &[2, 3]).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(cells.flatten(0, -1)).unwrap(),
            vec![1., 2., 3., 1., 2., 3.]
        );
        assert!(m.group_means(&cells).unwrap().allclose(&g, 0.0, 0.0, false));
        let sums = m.group_sums(&cells).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(sums.flatten(0, -1)).unwrap(),
            vec![2., 4., 6.]
        );
    }
}
