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

/// Group ids for the cells of a sample: an `Int64` tensor with values `0..n_groups`,
/// every id used. Cells sharing an id are perturbed together and share one attribution.
/// Every constructor checks the ids, so a mask is always valid.
///
/// The ids have the sample's shape or one that broadcasts to it (one mask for every
/// sample), or, as Captum takes masks, one leading dimension more: `[1, ..]` (the same
/// mask for every sample) or `[B, ..]` (one mask per example of a batch of `B`, so the
/// groups may differ between samples; a group need not occur in every example, and an
/// example gets no attribution from a group its mask lacks). Whether the leading
/// dimension is a batch dimension is decided against the input: a mask with one
/// dimension more than a sample has one.
///
/// ```
/// use tch::Tensor;
/// use xai_attrib::FeatureMask;
/// // Two samples of 4 cells: sample 0 in halves, sample 1 alternating.
/// let m = FeatureMask::from_tensor(&Tensor::from_slice(&[0i64, 0, 1, 1, 0, 1, 0, 1]).reshape([2, 4]))?;
/// let scores = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]).reshape([2, 4]);
/// let sums = m.group_sums(&scores)?;
/// assert_eq!(Vec::<f32>::try_from(sums.flatten(0, -1)).unwrap(), vec![3.0, 7.0, 4.0, 6.0]);
/// # Ok::<(), xai_attrib::XaiError>(())
/// ```
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

    /// One group per cluster of sensors that move together on normal data, for
    /// `[steps, sensors]` windows: `ids[t, f]` is sensor `f`'s cluster, from the
    /// correlations of the sensors over every cell of `train` (`[N, T, sensors]`, normal
    /// windows; any `T`) and complete linkage at `|r| ≥ min_correlation`
    /// ([`crate::correlation_clusters`], [`DEFAULT_MIN_CORRELATION`] by principle). A
    /// perturbation method then perturbs a correlated group as a whole.
    ///
    /// [`DEFAULT_MIN_CORRELATION`]: crate::correlation_clusters::DEFAULT_MIN_CORRELATION
    ///
    /// ```
    /// use tch::Tensor;
    /// use xai_attrib::FeatureMask;
    /// // Sensors 0 and 2 move together (2 = −0), sensor 1 on its own.
    /// let x = [0.0f32, 3.0, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0, -1.0, 3.0, 1.0, -2.0];
    /// let train = Tensor::from_slice(&x).reshape([1, 4, 3]);
    /// let m = FeatureMask::correlated(&train, 2, 0.5)?;
    /// assert_eq!(m.n_groups(), 2);
    /// assert_eq!(Vec::<i64>::try_from(m.ids().flatten(0, -1)).unwrap(), vec![0, 1, 0, 0, 1, 0]);
    /// # Ok::<(), xai_attrib::XaiError>(())
    /// ```
    ///
    /// # Errors
    /// [`XaiError::ShapeMismatch`] for `train` not `[N, T, F]` with at least two cells per
    /// sensor; [`XaiError::InvalidParam`] for `min_correlation` outside `(0, 1]` or
    /// `steps < 1`.
    pub fn correlated(train: &Tensor, steps: i64, min_correlation: f64) -> Result<FeatureMask> {
        positive("steps", steps)?;
        let size = train.size();
        if size.len() != 3 || size[0] * size[1] < 2 || size[2] < 1 {
            return Err(XaiError::ShapeMismatch {
                what: "training windows for correlated groups".into(),
                expected: "[N, T, F] with N·T >= 2 and F >= 1".into(),
                got: size,
            });
        }
        let f = size[2];
        let rows: Vec<f64> = Vec::<f64>::try_from(
            &train
                .f_to_device(Device::Cpu)?
                .f_to_kind(Kind::Double)?
                .f_reshape([-1])?,
        )?;
        let r = crate::correlation_clusters::correlations(&rows, f as usize);
        let ids = crate::correlation_clusters::complete_linkage(&r, min_correlation)?;
        let n_groups = ids.iter().max().map_or(0, |m| m + 1);
        let ids = Tensor::from_slice(&ids)
            .f_unsqueeze(0)?
            .f_expand([steps, f], false)?
            .f_contiguous()?;
        Ok(FeatureMask { ids, n_groups })
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

    /// The group ids as given (`Int64`): of one sample, or with a leading batch dimension.
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
    /// every cell gets its group's score (its own sample's group, for a per-example mask).
    pub fn expand(&self, group_scores: &Tensor, sample_shape: &[i64]) -> Result<Tensor> {
        let size = group_scores.size();
        if size.len() != 2 || size[1] != self.n_groups {
            return Err(XaiError::ShapeMismatch {
                what: "group scores".into(),
                expected: format!("[batch, {}]", self.n_groups),
                got: size,
            });
        }
        let mut batch = vec![size[0]];
        batch.extend_from_slice(sample_shape);
        Groups::from_mask(self, &batch, group_scores.device())?.expand(group_scores)
    }

    /// One value per group `[B, n_groups]` from per-cell scores `[B, ..]`: the mean over
    /// the group's cells (for masked attributions, where every cell carries the group's
    /// value, this reads that value back). With a per-example mask, a group absent from a
    /// sample's mask reads 0 there.
    pub fn group_means(&self, scores: &Tensor) -> Result<Tensor> {
        Groups::from_mask(self, &scores.size(), scores.device())?.means(scores)
    }

    /// The sum over each group's cells, `[B, n_groups]`, of per-cell scores `[B, ..]`.
    pub fn group_sums(&self, scores: &Tensor) -> Result<Tensor> {
        Groups::from_mask(self, &scores.size(), scores.device())?.sum(scores)
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

/// A feature mask resolved against a batch: the flat group id of every cell, shared by
/// all samples (`P = 1`) or one row per sample (`P = B`, a per-example mask).
#[derive(Debug)]
pub(crate) struct Groups {
    /// `[P, cells]` Int64 group ids.
    ids: Tensor,
    n: i64,
    sample_shape: Vec<i64>,
    per_cell: bool,
}

impl Groups {
    /// The groups of `mask` for the batch `x`, or one group per cell without a mask.
    pub(crate) fn resolve(mask: Option<&FeatureMask>, x: &Tensor) -> Result<Groups> {
        match mask {
            Some(m) => Groups::from_mask(m, &x.size(), x.device()),
            None => {
                let sample = &x.size()[1..];
                let n: i64 = sample.iter().product();
                Ok(Groups {
                    ids: Tensor::f_arange(n, (Kind::Int64, x.device()))?.f_unsqueeze(0)?,
                    n,
                    sample_shape: sample.to_vec(),
                    per_cell: true,
                })
            }
        }
    }

    /// Resolves `mask` for a batch of shape `[B, ..sample]`: a mask with one dimension
    /// more than a sample has a leading batch dimension (Captum's form), `1` (shared) or
    /// `B` (one mask per example); otherwise it broadcasts to one sample.
    fn from_mask(mask: &FeatureMask, batch: &[i64], device: Device) -> Result<Groups> {
        let (b, sample) = (batch[0], &batch[1..]);
        let ids = &mask.ids;
        let size = ids.size();
        let (rows, per_sample) = if size.len() == sample.len() + 1 {
            if size[0] != 1 && size[0] != b {
                return Err(XaiError::ShapeMismatch {
                    what: format!(
                        "feature mask with a batch dimension of {} for a batch of {b}",
                        size[0]
                    ),
                    expected: format!(
                        "[1, ..] (one mask for every sample) or [{b}, ..] (one per sample) \
                         broadcasting to one sample {}",
                        shape_str(sample)
                    ),
                    got: size,
                });
            }
            (size[0], ids.shallow_clone())
        } else {
            (1, ids.f_unsqueeze(0)?)
        };
        if !broadcasts_to(&per_sample.size()[1..], sample) {
            return Err(XaiError::ShapeMismatch {
                what: "feature mask".into(),
                expected: format!(
                    "a shape that broadcasts to one sample {}, perhaps after a leading batch \
                     dimension of 1 or {b}",
                    shape_str(sample)
                ),
                got: size,
            });
        }
        let mut shape = vec![rows];
        shape.extend_from_slice(sample);
        let flat = per_sample
            .f_expand(&shape, false)?
            .f_contiguous()?
            .f_reshape([rows, -1])?
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

    /// Whether every sample has its own mask.
    pub(crate) fn is_per_example(&self) -> bool {
        self.ids.size()[0] > 1
    }

    /// Number of cells of one sample.
    pub(crate) fn cells(&self) -> i64 {
        self.ids.size()[1]
    }

    /// `[k, P, cells]` booleans: the cells of groups `first..first + k` (in every sample
    /// when `P = 1`, in each sample's own mask when `P = B`).
    pub(crate) fn members(&self, first: i64, k: i64) -> Result<Tensor> {
        let g = Tensor::f_arange_start(first, first + k, (Kind::Int64, self.ids.device()))?;
        Ok(self
            .ids
            .f_unsqueeze(0)?
            .f_eq_tensor(&g.f_reshape([k, 1, 1])?)?)
    }

    /// `[k, P, cells]`: the value of coalitions `z: [k, n]` at the group of every cell.
    pub(crate) fn present(&self, z: &Tensor) -> Result<Tensor> {
        let (k, p) = (z.size()[0], self.ids.size()[0]);
        Ok(z.f_index_select(1, &self.ids.f_flatten(0, -1)?)?
            .f_reshape([k, p, self.cells()])?)
    }

    /// `[k, cells]`: the value of coalition `z[i]` at the groups of sample `samples[i]`.
    pub(crate) fn present_for(&self, z: &Tensor, samples: &Tensor) -> Result<Tensor> {
        let k = z.size()[0];
        let ids = if self.is_per_example() {
            self.ids.f_index_select(0, samples)?
        } else {
            self.ids.f_expand([k, self.cells()], false)?
        };
        Ok(z.f_gather(1, &ids, false)?)
    }

    /// The ids `[B, cells]` of a batch of `b` samples.
    fn batch_ids(&self, b: i64) -> Result<Tensor> {
        Ok(self.ids.f_expand([b, self.cells()], false)?)
    }

    /// Group values `[B, n]` spread over cells: `[B, ..sample]`.
    pub(crate) fn expand(&self, g: &Tensor) -> Result<Tensor> {
        let b = g.size()[0];
        let mut shape = vec![b];
        shape.extend_from_slice(&self.sample_shape);
        Ok(g.f_gather(1, &self.batch_ids(b)?, false)?
            .f_reshape(&shape)?)
    }

    /// Per-group sums `[B, n]` of per-cell values `[B, ..]` (0 for a group absent from a
    /// sample's mask).
    pub(crate) fn sum(&self, cells: &Tensor) -> Result<Tensor> {
        let b = cells.size()[0];
        let flat = cells.f_reshape([b, -1])?;
        let zeros = Tensor::f_zeros([b, self.n], (cells.kind(), cells.device()))?;
        Ok(zeros.f_scatter_add(1, &self.batch_ids(b)?, &flat)?)
    }

    /// Cells per group, `[P, n]` (Int64; 0 for a group absent from a sample's mask).
    pub(crate) fn counts(&self) -> Result<Tensor> {
        let p = self.ids.size()[0];
        let ones = Tensor::f_ones([p, self.cells()], (Kind::Int64, self.ids.device()))?;
        Ok(
            Tensor::f_zeros([p, self.n], (Kind::Int64, self.ids.device()))?
                .f_scatter_add(1, &self.ids, &ones)?,
        )
    }

    /// Per-group means `[B, n]` of per-cell values `[B, ..]` (0 for a group absent from a
    /// sample's mask).
    pub(crate) fn means(&self, cells: &Tensor) -> Result<Tensor> {
        let counts = self.counts()?.f_clamp_min(1)?.f_to_kind(cells.kind())?;
        Ok(self.sum(cells)?.f_div(&counts)?)
    }

    /// Whether some sample's mask lacks some group (only possible per example).
    pub(crate) fn has_absent_group(&self) -> Result<bool> {
        Ok(self.counts()?.f_eq(0)?.f_any()?.f_int64_value(&[])? != 0)
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

    /// With a mask, replaces per-cell values `[B, ..]` by their group means spread over
    /// the group (so every cell carries its group's mean); without one, returns them
    /// unchanged.
    pub(crate) fn mean_cells(&self, cells: &Tensor) -> Result<Tensor> {
        if self.per_cell {
            return Ok(cells.shallow_clone());
        }
        self.expand(&self.means(cells)?)
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
