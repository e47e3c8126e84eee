//! Input-domain bounds of the z-box rule, broadcast the way Zennit broadcasts them.

use std::fmt;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::{LrpError, Result};

/// A bound of the input domain (z-box's `l` or `h`): a scalar, or a small tensor such as
/// one value per channel.
///
/// Broadcasting follows Zennit's `expand(..., cut_batch_dim=True)`, which differs from
/// numpy's: a bound with *fewer* dimensions than the input is aligned with the input's
/// *leading* dimensions (singleton dimensions are appended, not prepended), so a per-channel
/// bound for `[B, C, H, W]` is written `[1, C]` (or `[1, C, 1, 1]`); a bound with a larger
/// first dimension than the batch is cut to the batch size.
///
/// ```
/// use lrp_ae::Bound;
/// let per_channel = Bound::new(vec![1, 3], vec![0.0, -1.0, 0.5])?;
/// assert_eq!(per_channel.values(), &[0.0, -1.0, 0.5]);
/// assert!(Bound::new(vec![2], vec![0.0]).is_err());
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
///
/// In JSON a scalar bound is a plain number and a tensor bound is
/// `{"shape": [1, 3], "values": [0.0, -1.0, 0.5]}`; both are checked when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BoundRepr", into = "BoundRepr")]
pub struct Bound {
    shape: Vec<i64>,
    values: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BoundRepr {
    Scalar(f64),
    Tensor { shape: Vec<i64>, values: Vec<f64> },
}

impl TryFrom<BoundRepr> for Bound {
    type Error = LrpError;
    fn try_from(r: BoundRepr) -> Result<Self> {
        match r {
            BoundRepr::Scalar(v) => Bound::new(Vec::new(), vec![v]),
            BoundRepr::Tensor { shape, values } => Bound::new(shape, values),
        }
    }
}

impl From<Bound> for BoundRepr {
    fn from(b: Bound) -> Self {
        if b.shape.is_empty() {
            BoundRepr::Scalar(b.values[0])
        } else {
            BoundRepr::Tensor {
                shape: b.shape,
                values: b.values,
            }
        }
    }
}

/// The values themselves when there are a few, their range otherwise: `0.5`,
/// `[1, 3]: [0, -1, 0.5]`, `[1, 3, 8, 8]: 192 values in [-1, 0.5]`.
impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = self.as_scalar().filter(|_| self.shape.is_empty()) {
            return write!(f, "{v}");
        }
        if self.values.len() <= 6 {
            let vals: Vec<String> = self.values.iter().map(f64::to_string).collect();
            return write!(f, "{:?}: [{}]", self.shape, vals.join(", "));
        }
        let (lo, hi) = self
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        write!(
            f,
            "{:?}: {} values in [{lo}, {hi}]",
            self.shape,
            self.values.len()
        )
    }
}

impl Bound {
    /// One value for every input cell.
    pub fn scalar(value: f64) -> Self {
        Bound {
            shape: Vec::new(),
            values: vec![value],
        }
    }

    /// A bound of `shape` holding `values` in row-major order. Fails when the counts differ,
    /// a dimension is not positive, or a value is not finite.
    pub fn new(shape: Vec<i64>, values: Vec<f64>) -> Result<Self> {
        if let Some(&d) = shape.iter().find(|&&d| d < 1) {
            return Err(LrpError::InvalidParam {
                what: "z-box bound",
                param: "shape",
                value: format!("{shape:?} (dimension {d})"),
                rule: "must have positive dimensions",
            });
        }
        let n: i64 = shape.iter().product();
        if n as usize != values.len() {
            return Err(LrpError::ShapeMismatch {
                what: "z-box bound values".into(),
                expected: format!("{n} values for shape {shape:?}"),
                got: vec![values.len() as i64],
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(LrpError::NonFinite {
                what: "z-box bound".into(),
                index,
            });
        }
        Ok(Bound { shape, values })
    }

    /// The bound's shape (`[]` for a scalar).
    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    /// The bound's values in row-major order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The scalar value, if the bound is one.
    pub fn as_scalar(&self) -> Option<f64> {
        (self.values.len() == 1 && self.shape.iter().all(|&d| d == 1)).then(|| self.values[0])
    }

    /// Checks that `low ≤ high` wherever the two bounds meet: their shapes must broadcast
    /// together (aligned from the leading dimensions, as they broadcast to the input) and
    /// every pair of values be ordered.
    ///
    /// ```
    /// use lrp_ae::Bound;
    /// let low = Bound::new(vec![1, 2], vec![0.0, 0.5])?;
    /// assert!(Bound::check_ordered(&low, &Bound::scalar(1.0)).is_ok());
    /// let e = Bound::check_ordered(&low, &Bound::scalar(0.25)).unwrap_err();
    /// assert!(e.to_string().contains("low 0.5 > high 0.25 at [0, 1]"), "{e}");
    /// # Ok::<(), lrp_ae::LrpError>(())
    /// ```
    ///
    /// # Errors
    /// [`LrpError::ShapeMismatch`] for shapes that do not broadcast together,
    /// [`LrpError::InvalidParam`] naming the first index where `low > high` and both values.
    pub fn check_ordered(low: &Bound, high: &Bound) -> Result<()> {
        let n = low.shape.len().max(high.shape.len());
        let pad = |s: &[i64]| {
            let mut s = s.to_vec();
            s.resize(n, 1);
            s
        };
        let (ls, hs) = (pad(&low.shape), pad(&high.shape));
        let mut shape = Vec::with_capacity(n);
        for (&a, &b) in ls.iter().zip(&hs) {
            if a != b && a != 1 && b != 1 {
                return Err(LrpError::ShapeMismatch {
                    what: "z-box bounds (low and high must broadcast together)".into(),
                    expected: format!(
                        "a shape that broadcasts with the low bound's {:?}",
                        low.shape
                    ),
                    got: high.shape.clone(),
                });
            }
            shape.push(a.max(b));
        }
        let total: i64 = shape.iter().product();
        let at = |s: &[i64], vals: &[f64], idx: &[i64]| -> f64 {
            let flat = s
                .iter()
                .zip(idx)
                .fold(0i64, |acc, (&d, &i)| acc * d + if d == 1 { 0 } else { i });
            vals[flat as usize]
        };
        let mut idx = vec![0i64; n];
        for _ in 0..total {
            let (l, h) = (at(&ls, &low.values, &idx), at(&hs, &high.values, &idx));
            if l > h {
                return Err(LrpError::InvalidParam {
                    what: "z-box",
                    param: "bounds",
                    value: format!("low {l} > high {h} at {idx:?}"),
                    rule: "must satisfy low ≤ high everywhere",
                });
            }
            for d in (0..n).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(())
    }

    /// The bound expanded to `a`'s shape, dtype and device.
    pub(crate) fn expand_to(&self, a: &Tensor) -> Result<Tensor> {
        let target = a.size();
        let t = Tensor::f_from_slice(&self.values)?
            .f_reshape(&self.shape)?
            .f_to_kind(a.kind())?
            .f_to_device(a.device())?;
        let fits = |l: &[i64], r: &[i64]| l.iter().zip(r).all(|(&x, &y)| x == 1 || x == y);
        let n = self.shape.len();
        if n == 0 {
            return Ok(t.f_expand(&target, false)?);
        }
        let mut t = t;
        let mut shape = self.shape.clone();
        if n < target.len() && fits(&shape, &target) {
            shape.extend(std::iter::repeat_n(1, target.len() - n));
            t = t.f_reshape(&shape)?;
        }
        if shape.len() == target.len() {
            if fits(&shape, &target) {
                return Ok(t.f_expand(&target, false)?);
            }
            if fits(&shape[1..], &target[1..]) && shape[0] > target[0] {
                return Ok(t.f_narrow(0, 0, target[0])?.f_expand(&target, false)?);
            }
        }
        Err(LrpError::ShapeMismatch {
            what: "z-box bound".into(),
            expected: format!(
                "a shape that matches the leading dimensions of the layer input {target:?}"
            ),
            got: self.shape.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn input(shape: &[i64]) -> Tensor {
        Tensor::zeros(shape, (Kind::Double, Device::Cpu))
    }

    #[test]
    fn broadcasts_from_the_leading_dimensions_like_zennit() {
        let b = Bound::new(vec![1, 2], vec![3.0, 4.0]).unwrap();
        let e = b.expand_to(&input(&[2, 2, 3])).unwrap();
        assert_eq!(e.size(), vec![2, 2, 3]);
        assert_eq!(e.double_value(&[1, 0, 2]), 3.0);
        assert_eq!(e.double_value(&[0, 1, 0]), 4.0);
        // numpy would align [2] with the trailing dimension; Zennit aligns it with the batch.
        assert!(Bound::new(vec![2], vec![0.0, 1.0])
            .unwrap()
            .expand_to(&input(&[3, 2]))
            .is_err());
    }

    #[test]
    fn a_larger_first_dimension_is_cut_to_the_batch() {
        let b = Bound::new(vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let e = b.expand_to(&input(&[2, 2])).unwrap();
        assert_eq!(
            Vec::<f64>::try_from(e.flatten(0, -1)).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn bad_bounds_are_rejected_with_the_value() {
        assert!(matches!(
            Bound::new(vec![1], vec![f64::NAN]),
            Err(LrpError::NonFinite { .. })
        ));
        let e = Bound::new(vec![0], vec![]).unwrap_err();
        assert!(e.to_string().contains("[0]"), "{e}");
        let json = r#"{"shape":[2],"values":[1.0]}"#;
        assert!(serde_json::from_str::<Bound>(json).is_err());
    }

    #[test]
    fn json_reads_numbers_and_tensors_and_display_shows_values() {
        let b: Bound = serde_json::from_str("0.25").unwrap();
        assert_eq!(b, Bound::scalar(0.25));
        assert_eq!(serde_json::to_string(&b).unwrap(), "0.25");
        let t = Bound::new(vec![1, 3], vec![0.0, -1.0, 0.5]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Bound>(&json).unwrap(), t);
        assert_eq!(t.to_string(), "[1, 3]: [0, -1, 0.5]");
        let big = Bound::new(vec![1, 8], (0..8).map(f64::from).collect()).unwrap();
        assert_eq!(big.to_string(), "[1, 8]: 8 values in [0, 7]");
        assert_eq!(Bound::scalar(-1.5).to_string(), "-1.5");
    }

    #[test]
    fn ordering_is_checked_across_broadcast_shapes() {
        let low = Bound::new(vec![1, 2], vec![0.0, 0.5]).unwrap();
        let high = Bound::new(vec![1, 2, 2], vec![1.0, 1.0, 1.0, 0.4]).unwrap();
        let e = Bound::check_ordered(&low, &high).unwrap_err().to_string();
        assert!(e.contains("low 0.5 > high 0.4 at [0, 1, 1]"), "{e}");
        let wrong = Bound::new(vec![1, 3], vec![1.0; 3]).unwrap();
        assert!(matches!(
            Bound::check_ordered(&low, &wrong),
            Err(LrpError::ShapeMismatch { .. })
        ));
        assert!(Bound::check_ordered(&Bound::scalar(0.0), &Bound::scalar(0.0)).is_ok());
    }
}
