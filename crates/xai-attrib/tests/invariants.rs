//! Properties that hold for every input: exactness on linear scorers, output shape,
//! batching invisibility and seed determinism.

mod common;

use common::{interacting, linear, max_abs_diff};
use proptest::prelude::*;
use tch::Tensor;
use xai_attrib::{
    Attribution, Baseline, FeatureAblation, FeatureMask, FeaturePermutation, GradientShap,
    IntegratedGradients, KernelShap, Occlusion, Request, Scorer, ShapleyValueSampling,
};

/// A method behind the trait object every harness uses.
type Method = Box<dyn Attribution<dyn Scorer>>;

fn tensor(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).reshape(shape)
}

/// A batch shape `[B, ..]` with at most 8 cells per sample, and values for x, x', w.
fn case() -> impl Strategy<Value = (Vec<i64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (1i64..4, prop::collection::vec(1i64..4, 1..3))
        .prop_filter("at most 8 cells", |(_, s)| s.iter().product::<i64>() <= 8)
        .prop_flat_map(|(b, sample)| {
            let cells = sample.iter().product::<i64>() as usize;
            let mut shape = vec![b];
            shape.extend(&sample);
            let n = b as usize * cells;
            (
                Just(shape),
                prop::collection::vec(-2.0f64..2.0, n),
                prop::collection::vec(-2.0f64..2.0, cells),
                prop::collection::vec(-2.0f64..2.0, cells),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_exact_method_gives_x_minus_baseline_times_w_on_linear_scorers((shape, xv, bv, wv) in case()) {
        let sample = &shape[1..];
        let x = tensor(&xv, &shape);
        let xp = tensor(&bv, sample);
        let w = tensor(&wv, sample);
        let want = (&x - &xp) * &w;
        let f = linear(&w);
        let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
        let ones = vec![1i64; sample.len()];
        let methods: Vec<Method> = vec![
            Box::new(IntegratedGradients::params().n_steps(3).check().unwrap()),
            Box::new(GradientShap::params().n_samples(2).check().unwrap()),
            Box::new(FeatureAblation::default()),
            Box::new(Occlusion::params().window(ones).check().unwrap()),
            Box::new(ShapleyValueSampling::params().n_permutations(1).check().unwrap()),
            Box::new(KernelShap::params().n_samples(256).check().unwrap()),
            Box::new(KernelShap::params().n_samples(256).efficiency(false).check().unwrap()),
        ];
        for m in methods {
            let a = m.attribute(&f as &dyn Scorer, &x, &req).unwrap();
            prop_assert_eq!(a.scores.size(), x.size());
            let tol = if m.name() == "kernel_shap" { 1e-6 } else { 1e-10 };
            prop_assert!(max_abs_diff(&a.scores, &want) < tol, "{}: {}", m.name(), max_abs_diff(&a.scores, &want));
        }
    }

    #[test]
    fn batch_size_and_reruns_never_change_a_perturbation_result(
        bs in 1usize..6,
        seed in 0u64..1000,
        xv in prop::collection::vec(-1.0f64..1.0, 24),
    ) {
        let x = tensor(&xv, &[3, 8]);
        let f = interacting();
        let mask = FeatureMask::from_tensor(&Tensor::from_slice(&[0i64, 0, 1, 2, 2, 3, 4, 4])).unwrap();
        let req = Request::with_baseline(Baseline::Distribution(tensor(&xv[..16], &[2, 8]))).mask(mask);
        let pairs: Vec<(Method, Method)> = vec![
            (Box::new(FeatureAblation::params().batch_size(bs).check().unwrap()), Box::new(FeatureAblation::default())),
            (
                Box::new(Occlusion::params().window([3]).strides([2]).batch_size(bs).check().unwrap()),
                Box::new(Occlusion::params().window([3]).strides([2]).check().unwrap()),
            ),
            (
                Box::new(FeaturePermutation::params().seed(seed).batch_size(bs).check().unwrap()),
                Box::new(FeaturePermutation::params().seed(seed).check().unwrap()),
            ),
            (
                Box::new(ShapleyValueSampling::params().n_permutations(3).seed(seed).batch_size(bs).check().unwrap()),
                Box::new(ShapleyValueSampling::params().n_permutations(3).seed(seed).check().unwrap()),
            ),
            (
                Box::new(KernelShap::params().n_samples(12).seed(seed).batch_size(bs).check().unwrap()),
                Box::new(KernelShap::params().n_samples(12).seed(seed).check().unwrap()),
            ),
        ];
        for (small, large) in pairs {
            let a = small.attribute(&f as &dyn Scorer, &x, &req).unwrap();
            let b = large.attribute(&f as &dyn Scorer, &x, &req).unwrap();
            let again = large.attribute(&f as &dyn Scorer, &x, &req).unwrap();
            prop_assert!(max_abs_diff(&a.scores, &b.scores) < 1e-12, "{} with batch size {bs}: {}", small.name(), max_abs_diff(&a.scores, &b.scores));
            prop_assert_eq!(common::values(&b.scores), common::values(&again.scores));
            prop_assert_eq!(a.forward_evals, b.forward_evals);
        }
    }
}
