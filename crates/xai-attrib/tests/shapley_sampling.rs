//! Shapley Value Sampling: exact on additive scorers, efficient always, convergent on
//! interacting ones.

mod common;

use common::{
    additive, additive_terms, assert_close, exact_shapley, interacting, linear, t64, values, wave,
    Counting,
};
use tch::Kind;
use xai_attrib::{Attribution, Baseline, FeatureMask, Request, Scorer, ShapleyValueSampling};

fn svs(n: usize, seed: u64) -> ShapleyValueSampling {
    ShapleyValueSampling::params()
        .n_permutations(n)
        .seed(seed)
        .check()
        .unwrap()
}

#[test]
fn additive_scorers_get_their_terms_from_any_single_permutation() {
    let x = t64(&wave(18, 0.3), &[3, 6]);
    let xp = t64(&wave(6, 2.0), &[6]);
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    for seed in 0..3 {
        let a = svs(1, seed).attribute(&additive(), &x, &req).unwrap();
        assert_close(
            &a.scores,
            &additive_terms(&x, &xp.expand([3, 6], false)),
            1e-12,
        );
    }
}

#[test]
fn linear_scorers_with_sensor_groups_get_the_group_sums() {
    let w = t64(&wave(12, 0.5), &[4, 3]);
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let req = Request::default().mask(FeatureMask::per_sensor(4, 3).unwrap());
    let a = svs(2, 0).attribute(&linear(&w), &x, &req).unwrap();
    let want = (&x * &w)
        .sum_dim_intlist(1, true, Kind::Double)
        .expand([2, 4, 3], false);
    assert_close(&a.scores, &want, 1e-12);
    assert_eq!((a.forward_evals, a.backward_evals), (2 + 2 * 2, 0));
}

#[test]
fn estimates_are_efficient_and_converge_to_exact_shapley_values() {
    let f = interacting();
    let x = t64(&wave(16, 0.8), &[2, 8]);
    let xp = t64(&wave(16, 2.5), &[2, 8]);
    let ids: Vec<i64> = (0..8).collect();
    let exact = exact_shapley(&f, &x, &xp, &ids);
    let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
    let few = svs(3, 5).attribute(&f, &x, &req).unwrap();
    // Efficiency: the marginal contributions of each walk telescope to f(x) − f(x').
    let gap = f.score(&x).unwrap() - f.score(&xp).unwrap();
    assert_close(
        &few.scores.sum_dim_intlist(1, false, Kind::Double),
        &gap,
        1e-12,
    );
    // The (x₂ + x₃)² interaction makes single walks noisy (σ ≈ 2.5), hence many walks.
    let many = svs(10_000, 5).attribute(&f, &x, &req).unwrap();
    let err_few = common::max_abs_diff(&few.scores, &exact);
    let err_many = common::max_abs_diff(&many.scores, &exact);
    assert!(
        err_many < 0.02,
        "error after 10 000 permutations: {err_many}"
    );
    assert!(err_many < err_few, "{err_many} vs {err_few}");
}

#[test]
fn prefixes_are_batched_seeded_and_batch_size_is_invisible() {
    let f = Counting::new(interacting());
    let x = t64(&wave(24, 0.1), &[3, 8]);
    let full = ShapleyValueSampling::params()
        .n_permutations(5)
        .batch_size(10_000)
        .check()
        .unwrap();
    let a = full.attribute(&f, &x, &Request::default()).unwrap();
    assert_eq!(
        f.calls.get(),
        2,
        "f(x') and f(x) in one call, all 5 × 7 prefixes in another"
    );
    assert_eq!(f.rows.get(), 3 * a.forward_evals as i64);
    for bs in [1, 2, 3] {
        let m = ShapleyValueSampling::params()
            .n_permutations(5)
            .batch_size(bs)
            .check()
            .unwrap();
        assert_close(
            &m.attribute(&f, &x, &Request::default()).unwrap().scores,
            &a.scores,
            1e-12,
        );
    }
    assert_eq!(
        values(&full.attribute(&f, &x, &Request::default()).unwrap().scores),
        values(&a.scores)
    );
    assert!(
        common::max_abs_diff(
            &svs(5, 1)
                .attribute(&f, &x, &Request::default())
                .unwrap()
                .scores,
            &a.scores
        ) > 1e-9
    );
    // A sample's attribution does not depend on what it is batched with.
    let alone = full
        .attribute(&f, &x.narrow(0, 1, 1), &Request::default())
        .unwrap();
    assert_close(&alone.scores, &a.scores.narrow(0, 1, 1), 1e-12);
}
