//! Feature masks on relevance: every cell of a group carries the group's total.

use tch::{Kind, Tensor};
use xai_attrib::FeatureMask;

use crate::error::{LrpError, Result};

/// Sums `relevance: [B, ..]` over the groups of `mask` and gives every cell its group's
/// sum (Captum's convention for grouped attributions). Relevance is additive, so a group's
/// relevance is the sum of its cells' relevance; conservation then holds per group, not per
/// cell.
pub fn group_relevance(relevance: &Tensor, mask: &FeatureMask) -> Result<Tensor> {
    let size = relevance.size();
    let sample = &size[1..];
    let ids = &mask.ids;
    if !matches!(
        ids.kind(),
        Kind::Int64 | Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8
    ) {
        return Err(LrpError::InvalidInput {
            what: "feature mask".into(),
            reason: format!(
                "group ids have dtype {:?}, expected an integer type",
                ids.kind()
            ),
        });
    }
    if mask.n_groups < 1 {
        return Err(LrpError::InvalidInput {
            what: "feature mask".into(),
            reason: format!("n_groups = {} must be at least 1", mask.n_groups),
        });
    }
    let id_shape = ids.size();
    let fits = id_shape.len() <= sample.len()
        && id_shape
            .iter()
            .rev()
            .zip(sample.iter().rev())
            .all(|(&m, &s)| m == 1 || m == s);
    if !fits {
        return Err(LrpError::ShapeMismatch {
            what: "feature mask ids".into(),
            expected: format!("a shape that broadcasts to one sample {sample:?}"),
            got: id_shape,
        });
    }
    let n: i64 = sample.iter().product();
    let flat = ids
        .f_to_kind(Kind::Int64)?
        .f_to_device(relevance.device())?
        .f_expand(sample, false)?
        .f_reshape([1, n])?;
    if flat.numel() > 0 {
        let (lo, hi) = (
            flat.f_min()?.f_int64_value(&[])?,
            flat.f_max()?.f_int64_value(&[])?,
        );
        if lo < 0 || hi >= mask.n_groups {
            return Err(LrpError::InvalidInput {
                what: "feature mask".into(),
                reason: format!(
                    "group ids span [{lo}, {hi}], outside [0, {}) for n_groups = {}",
                    mask.n_groups, mask.n_groups
                ),
            });
        }
    }
    let index = flat.f_expand([size[0], n], false)?.f_contiguous()?;
    let sums = Tensor::f_zeros(
        [size[0], mask.n_groups],
        (relevance.kind(), relevance.device()),
    )?
    .f_scatter_add(1, &index, &relevance.f_reshape([size[0], n])?)?;
    Ok(sums.f_gather(1, &index, false)?.f_reshape(&size)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_gets_its_groups_sum() {
        // Two samples of [2 steps, 3 sensors]; one group per sensor, shared by the steps.
        let r = Tensor::from_slice(&[
            1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0,
        ])
        .reshape([2, 2, 3]);
        let mask = FeatureMask {
            ids: Tensor::from_slice(&[0i64, 1, 2]),
            n_groups: 3,
        };
        let g = group_relevance(&r, &mask).unwrap();
        assert_eq!(
            Vec::<f64>::try_from(g.flatten(0, -1)).unwrap(),
            vec![5.0, 7.0, 9.0, 5.0, 7.0, 9.0, 0.0, 2.0, 2.0, 0.0, 2.0, 2.0]
        );
    }

    #[test]
    fn bad_masks_are_errors_naming_the_value() {
        let r = Tensor::zeros([1, 2, 3], (Kind::Double, tch::Device::Cpu));
        let m = FeatureMask {
            ids: Tensor::from_slice(&[0i64, 1, 5]),
            n_groups: 3,
        };
        let e = group_relevance(&r, &m).unwrap_err();
        assert!(e.to_string().contains("[0, 5]"), "{e}");
        let m = FeatureMask {
            ids: Tensor::from_slice(&[0i64, 1]),
            n_groups: 2,
        };
        assert!(matches!(
            group_relevance(&r, &m),
            Err(LrpError::ShapeMismatch { .. })
        ));
        let m = FeatureMask {
            ids: Tensor::from_slice(&[0.0f32, 1.0, 2.0]),
            n_groups: 3,
        };
        assert!(group_relevance(&r, &m)
            .unwrap_err()
            .to_string()
            .contains("Float"));
    }
}
