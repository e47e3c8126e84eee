//! Checks shared by every method at the public boundary, so that bad input becomes an
//! error naming the value instead of a libtorch panic deep inside a method. LRP and the
//! pipelines use [`check_batch`] too, so every method rejects the same inputs alike.

use tch::{Kind, Tensor};

use crate::error::{Result, XaiError};
use crate::scorer::Scorer;

/// Whether `kind` is a floating-point dtype (the only ones attributions are defined for).
pub(crate) fn is_float(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
    )
}

/// Checks that `x` is a non-empty floating-point batch `[B, ..]` with at least one
/// feature dimension and only finite values.
pub fn check_batch(method: &str, x: &Tensor) -> Result<()> {
    let what = || format!("{method} input");
    if !is_float(x.kind()) {
        return Err(XaiError::InvalidInput {
            what: what(),
            reason: format!("dtype {:?} is not a floating-point type", x.kind()),
        });
    }
    let size = x.size();
    if size.len() < 2 {
        return Err(XaiError::ShapeMismatch {
            what: what(),
            expected: "[batch, ..] with at least one dimension after the batch".into(),
            got: size,
        });
    }
    if size.contains(&0) {
        return Err(XaiError::InvalidInput {
            what: what(),
            reason: format!("shape {size:?} holds no values"),
        });
    }
    check_finite(&what(), x)
}

/// [`check_batch`], and, when the scorer knows the shape of its samples (an
/// [`crate::ErrorScorer`] does), that `x`'s samples have it: a wrong input is named as the
/// user gave it, not as the rows a method builds from it.
pub(crate) fn check_scorer_input<S: Scorer + ?Sized>(
    method: &str,
    scorer: &S,
    x: &Tensor,
) -> Result<()> {
    check_batch(method, x)?;
    scorer.check_input(x)?;
    if let Some(sample) = scorer.sample_shape() {
        if x.size()[1..] != sample[..] {
            return Err(XaiError::ShapeMismatch {
                what: format!("{method} input for `{}`", scorer.describe()),
                expected: format!("[batch, {}]", shape_str(&sample).trim_matches(['[', ']'])),
                got: x.size(),
            });
        }
    }
    Ok(())
}

/// Fails with the flat index of the first NaN or infinity of `t`.
pub(crate) fn check_finite(what: &str, t: &Tensor) -> Result<()> {
    match ae_models::checks::first_non_finite(t)? {
        None => Ok(()),
        Some(index) => Err(XaiError::NonFinite {
            what: what.into(),
            index,
        }),
    }
}

/// Checks a scorer's answer for `rows` inputs and returns it as a `[rows]` tensor.
/// `[rows, 1]` is accepted because many models keep a trailing unit dimension.
pub(crate) fn check_scores(scorer: &str, out: &Tensor, rows: i64) -> Result<Tensor> {
    let size = out.size();
    let ok = size == [rows] || size == [rows, 1];
    if !ok {
        return Err(XaiError::ShapeMismatch {
            what: format!("output of scorer `{scorer}`"),
            expected: format!("[{rows}] (one score per sample)"),
            got: size,
        });
    }
    if !is_float(out.kind()) {
        return Err(XaiError::InvalidInput {
            what: format!("output of scorer `{scorer}`"),
            reason: format!("dtype {:?} is not a floating-point type", out.kind()),
        });
    }
    let out = out.f_reshape([rows])?;
    check_finite(&format!("output of scorer `{scorer}`"), &out)?;
    Ok(out)
}

/// The shape of one sample of the batch `x`.
pub(crate) fn sample_shape(x: &Tensor) -> Vec<i64> {
    x.size()[1..].to_vec()
}

/// Number of cells (scalar features) of one sample of `x`.
pub(crate) fn cells(x: &Tensor) -> i64 {
    x.size()[1..].iter().product()
}

/// Whether `from` broadcasts to `to` under NumPy/PyTorch rules.
pub(crate) fn broadcasts_to(from: &[i64], to: &[i64]) -> bool {
    from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1)
}

/// Renders a shape as `[a, b, c]` for error messages.
pub(crate) fn shape_str(shape: &[i64]) -> String {
    format!("{shape:?}")
}

/// The most memory a method's own bookkeeping may take for one call (a Kernel SHAP
/// design and fit, Shapley sampling's permutations and walks): 4 GiB. The model's
/// evaluations run in batches and are not counted here.
pub const MAX_WORKING_BYTES: u64 = 4 << 30;

/// Fails unless `value ≤ max`, naming the method, the setting, the bound and `why` (what
/// each unit costs).
pub(crate) fn at_most(
    method: &'static str,
    param: &'static str,
    value: usize,
    max: usize,
    why: &str,
) -> Result<()> {
    if value <= max {
        return Ok(());
    }
    Err(XaiError::TooLarge {
        method,
        param,
        value: value.to_string(),
        need: format!("is over the bound of {max} ({why})"),
    })
}

/// Fails when `bytes` (`None`: more than `u64` holds) is over [`MAX_WORKING_BYTES`],
/// saying what `param = value` would need for `what`; checked before the allocation.
pub(crate) fn check_working_memory(
    method: &'static str,
    param: &'static str,
    value: usize,
    bytes: Option<u64>,
    what: &str,
) -> Result<()> {
    match bytes {
        Some(b) if b <= MAX_WORKING_BYTES => Ok(()),
        _ => Err(XaiError::TooLarge {
            method,
            param,
            value: value.to_string(),
            need: format!(
                "would need {} for {what}, over the limit of {}",
                bytes.map_or_else(|| "more than 16 EiB".to_string(), human_bytes),
                human_bytes(MAX_WORKING_BYTES)
            ),
        }),
    }
}

/// `bytes` in the largest binary unit that keeps it at least 1.
fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

/// Fails unless `value ≥ min`, naming the method and the setting.
pub(crate) fn at_least(
    method: &'static str,
    param: &'static str,
    value: usize,
    min: usize,
) -> Result<()> {
    if value >= min {
        return Ok(());
    }
    Err(XaiError::InvalidParam {
        method,
        param,
        value: value.to_string(),
        rule: match min {
            1 => "must be at least 1",
            2 => "must be at least 2",
            3 => "must be at least 3",
            _ => "is too small",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn integer_scalar_and_non_finite_inputs_are_rejected() {
        let ints = Tensor::zeros([2, 3], (Kind::Int64, Device::Cpu));
        assert!(matches!(
            check_batch("m", &ints),
            Err(XaiError::InvalidInput { .. })
        ));
        let vector = Tensor::zeros([3], (Kind::Float, Device::Cpu));
        assert!(matches!(
            check_batch("m", &vector),
            Err(XaiError::ShapeMismatch { .. })
        ));
        let empty = Tensor::zeros([0, 3], (Kind::Float, Device::Cpu));
        assert!(matches!(
            check_batch("m", &empty),
            Err(XaiError::InvalidInput { .. })
        ));
        let nan = Tensor::from_slice(&[1.0f32, 2.0, f32::NAN, 0.0]).reshape([2, 2]);
        match check_batch("m", &nan) {
            Err(XaiError::NonFinite { index, .. }) => assert_eq!(index, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scores_of_shape_b_or_b1_are_accepted() {
        let s = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_eq!(check_scores("s", &s, 2).unwrap().size(), vec![2]);
        assert_eq!(
            check_scores("s", &s.reshape([2, 1]), 2).unwrap().size(),
            vec![2]
        );
        let err = check_scores("s", &s, 3).unwrap_err().to_string();
        assert!(err.contains("[3]") && err.contains("[2]"), "{err}");
    }

    #[test]
    fn broadcasting_rules() {
        assert!(broadcasts_to(&[4], &[3, 4]));
        assert!(broadcasts_to(&[1, 4], &[3, 4]));
        assert!(!broadcasts_to(&[3], &[3, 4]));
        assert!(!broadcasts_to(&[2, 3, 4], &[3, 4]));
    }
}
