//! Feature Permutation: within-batch shuffles, never the identity.

mod common;

use common::{assert_close, linear, t64, values, wave};
use tch::Kind;
use xai_attrib::{Attribution, FeatureMask, FeaturePermutation, Request, XaiError};

#[test]
fn a_batch_of_two_swaps_every_group() {
    let w = t64(&wave(4, 0.5), &[4]);
    let x = t64(&wave(8, 1.0), &[2, 4]);
    let a = FeaturePermutation::default()
        .attribute(&linear(&w), &x, &Request::default())
        .unwrap();
    // The only non-identity permutation of two samples swaps them.
    let swapped = x.flip([0]);
    assert_close(&a.scores, &((&x - &swapped) * &w), 1e-12);
    assert_eq!(a.forward_evals, 5);
}

#[test]
fn for_a_linear_scorer_each_groups_effects_sum_to_zero_over_the_batch() {
    let w = t64(&wave(6, 0.5), &[2, 3]);
    let x = t64(&wave(30, 1.0), &[5, 2, 3]);
    let req = Request::default().mask(FeatureMask::per_sensor(2, 3).unwrap());
    let a = FeaturePermutation::params()
        .seed(4)
        .check()
        .unwrap()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    let column_sums = a.scores.sum_dim_intlist(0, false, Kind::Double);
    assert!(
        column_sums.abs().max().double_value(&[]) < 1e-12,
        "{column_sums}"
    );
    // A sample's effect is w_g (x_b − x_c) for some other sample c, so not all vanish.
    assert!(a.scores.abs().max().double_value(&[]) > 1e-3);
}

#[test]
fn seed_determinism_and_batch_size_invariance() {
    let w = t64(&wave(12, 0.5), &[12]);
    let x = t64(&wave(48, 1.0), &[4, 12]);
    let run = |seed: u64, bs: usize| {
        let m = FeaturePermutation::params()
            .seed(seed)
            .batch_size(bs)
            .check()
            .unwrap();
        values(
            &m.attribute(&linear(&w), &x, &Request::default())
                .unwrap()
                .scores,
        )
    };
    let first = run(1, 512);
    for bs in [1, 2, 3] {
        assert_eq!(run(1, bs), first);
    }
    assert_ne!(run(2, 512), first);
}

#[test]
fn a_single_sample_cannot_be_permuted() {
    let x = t64(&wave(4, 1.0), &[1, 4]);
    let err = FeaturePermutation::default().attribute(
        &linear(&t64(&[1.0; 4], &[4])),
        &x,
        &Request::default(),
    );
    let err = err.unwrap_err();
    assert!(matches!(err, XaiError::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("at least 2 samples"), "{err}");
}
