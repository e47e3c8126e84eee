//! Invariants of the score normalisation, without a model.

use corruption_eval::{quantile, ScoreNormalizer};
use proptest::prelude::*;

proptest! {
    #[test]
    fn quantiles_are_monotone_and_inside_the_range(
        v in proptest::collection::vec(-1e3f64..1e3, 1..50),
        q1 in 0.0f64..=1.0,
        q2 in 0.0f64..=1.0,
    ) {
        let (lo, hi) = (q1.min(q2), q1.max(q2));
        let (a, b) = (quantile(&v, lo).unwrap(), quantile(&v, hi).unwrap());
        prop_assert!(a <= b);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(min <= a && b <= max);
        prop_assert_eq!(quantile(&v, 0.0).unwrap(), min);
        prop_assert_eq!(quantile(&v, 1.0).unwrap(), max);
    }

    #[test]
    fn normalised_scores_are_monotone_and_in_the_unit_interval(
        v in proptest::collection::vec(0.0f64..10.0, 2..40),
        s1 in -5.0f64..20.0,
        s2 in -5.0f64..20.0,
    ) {
        prop_assume!(v.iter().any(|&x| x != v[0]));
        let n = ScoreNormalizer::from_reference(&v, 1.0).unwrap();
        let (a, b) = (n.normalize(s1.min(s2)), n.normalize(s1.max(s2)));
        prop_assert!((0.0..=1.0).contains(&a) && (0.0..=1.0).contains(&b) && a <= b);
    }
}

#[test]
fn quantile_rejects_empty_nan_and_out_of_range() {
    assert!(quantile(&[], 0.5).is_err());
    assert!(quantile(&[1.0, f64::NAN], 0.5).is_err());
    assert!(quantile(&[1.0], 1.5).is_err());
    assert!(ScoreNormalizer::from_reference(&[2.0, 2.0], 1.0).is_err());
}
