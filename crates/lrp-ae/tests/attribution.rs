//! LRP as one more `xai_attrib::Attribution` method.

mod common;

use ae_models::{Activation, ErrorNorm, ExplainedError, Layer};
use common::{linear, max_abs_diff, rng, to_vec, uniform, Stack};
use lrp_ae::{Lrp, LrpConfig, Preset};
use tch::Kind;
use xai_attrib::{Attribution, Family, FeatureMask, Request};

fn window_ae(bias: bool) -> Stack {
    // A dense autoencoder over flattened [4 steps, 3 sensors] windows.
    let mut g = rng(61);
    Stack {
        layers: vec![
            Layer::Reshape { shape: vec![-1] },
            linear(&mut g, 6, 12, bias),
            Layer::Activation(Activation::Relu),
            linear(&mut g, 12, 6, bias),
            Layer::Reshape { shape: vec![4, 3] },
        ],
        shape: vec![4, 3],
    }
}

#[test]
fn scores_delta_and_costs() {
    let lrp = Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense).unwrap();
    assert_eq!(Attribution::<Stack>::name(&lrp), "lrp");
    assert_eq!(Attribution::<Stack>::family(&lrp), Family::Propagation);
    let x = uniform(&mut rng(62), &[3, 4, 3], 0.0, 1.0);
    for bias in [false, true] {
        let ae = window_ae(bias);
        let a = lrp.attribute(&ae, &x, &Request::default()).unwrap();
        let e = lrp.explain(&ae, &x).unwrap();
        assert!(max_abs_diff(&a.scores, &e.relevance) == 0.0);
        assert_eq!((a.forward_evals, a.backward_evals), (1, 1));
        let delta = to_vec(&a.delta.unwrap());
        let sums = to_vec(
            &e.relevance
                .sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double),
        );
        for ((d, s), err) in delta.iter().zip(&sums).zip(to_vec(&e.error)) {
            assert!((d - (s - err)).abs() < 1e-15);
            assert!(
                *d <= 1e-12,
                "LRP under w² and z⁺ never creates relevance: delta {d}"
            );
        }
        if !bias {
            // Bias-free, the only loss is z⁺'s at the output layer, Σ_j R_j ε / (z⁺_j + ε):
            // all of an output's relevance when its reconstruction has no positive
            // contribution at all (common in this untrained net, rare in trained ones).
            let h = ae_models::layer::forward_layers(&ae.layers[..3], &x).unwrap();
            let Layer::Linear { weight, .. } = &ae.layers[3] else {
                unreachable!()
            };
            let zp = h.linear::<tch::Tensor>(&weight.clamp_min(0.0), None);
            let r = e.output_relevance.reshape([3, 12]);
            let lost =
                (&r * 1e-6 / (&zp + 1e-6)).sum_dim_intlist([1i64].as_slice(), false, Kind::Double);
            for ((d, l), err) in delta.iter().zip(to_vec(&lost)).zip(to_vec(&e.error)) {
                assert!(
                    (d + l).abs() < 1e-4 * err,
                    "delta {d}, output-layer loss {l}"
                );
            }
            assert!(
                to_vec(&lost).iter().any(|&l| l > 1e-3),
                "this net loses relevance at the output"
            );
        }
    }
}

#[test]
fn a_feature_mask_gives_every_cell_its_sensors_total() {
    let lrp = Lrp::new(ErrorNorm::L1, Preset::Paper2Dense).unwrap();
    let ae = window_ae(true);
    let x = uniform(&mut rng(63), &[2, 4, 3], 0.0, 1.0);
    let plain = lrp.attribute(&ae, &x, &Request::default()).unwrap().scores;
    let mask = FeatureMask::per_sensor(4, 3).unwrap();
    let grouped = lrp
        .attribute(&ae, &x, &Request::default().mask(mask))
        .unwrap()
        .scores;
    let per_sensor = plain.sum_dim_intlist([1i64].as_slice(), true, Kind::Double);
    assert!(max_abs_diff(&grouped, &per_sensor.expand([2, 4, 3], false)) < 1e-12);
}

#[test]
fn configs_round_trip_and_build_the_same_method() {
    let cfg = LrpConfig {
        error: ExplainedError::new(ErrorNorm::L1).steps([-1]),
        preset: Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
    };
    let json = serde_json::to_string(&cfg).unwrap();
    let back: LrpConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let lrp = back.build().unwrap();
    assert_eq!(lrp.error(), &ExplainedError::new(ErrorNorm::L1).steps([-1]));
    let minimal: LrpConfig =
        serde_json::from_str(r#"{"error":{"norm":"L2"},"preset":"paper2-dense"}"#).unwrap();
    assert!(minimal.error.cells.is_all());
    let bad = LrpConfig {
        preset: Preset::Paper2Conv {
            low: 1.0,
            high: 0.0,
        },
        ..cfg
    };
    assert!(bad.build().is_err());
}

#[test]
fn a_selected_time_step_explains_only_its_own_error() {
    let lrp = Lrp::new(
        ExplainedError::new(ErrorNorm::SquaredL2).steps([3]),
        Preset::Paper2Dense,
    )
    .unwrap();
    let ae = window_ae(false);
    let x = uniform(&mut rng(64), &[2, 4, 3], 0.0, 1.0);
    let e = lrp.explain(&ae, &x).unwrap();
    let seed = &e.output_relevance;
    assert_eq!(
        seed.narrow(1, 0, 3)
            .abs()
            .sum(Kind::Double)
            .double_value(&[]),
        0.0
    );
    let last = (&x - &e.reconstruction).narrow(1, 3, 1).square().mean_dim(
        [1i64, 2].as_slice(),
        false,
        Kind::Double,
    );
    assert!(max_abs_diff(&e.error, &last) < 1e-15);
    let kept = to_vec(
        &e.relevance
            .sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double),
    );
    for (k, err) in kept.iter().zip(to_vec(&e.error)) {
        assert!(*k <= err * (1.0 + 1e-12) && *k > 0.0, "{k} of {err}");
    }
}

#[test]
fn an_f32_model_takes_f64_input() {
    let ae = window_ae(true);
    let f32_ae = Stack {
        layers: ae
            .layers
            .iter()
            .map(|l| match l {
                Layer::Linear { weight, bias } => Layer::Linear {
                    weight: weight.to_kind(Kind::Float),
                    bias: bias.as_ref().map(|b| b.to_kind(Kind::Float)),
                },
                other => other.clone(),
            })
            .collect(),
        shape: ae.shape.clone(),
    };
    let x = uniform(&mut rng(65), &[2, 4, 3], 0.0, 1.0);
    let lrp = Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense).unwrap();
    let e32 = lrp.explain(&f32_ae, &x).unwrap();
    assert_eq!(e32.relevance.kind(), Kind::Float);
    let e64 = lrp.explain(&ae, &x).unwrap();
    assert!(max_abs_diff(&e32.relevance, &e64.relevance) < 1e-5);
}

#[test]
fn steps_and_features_together_explain_only_their_intersection() {
    // The old `Lrp::select` replaced the selection, so asking for a step and then a
    // sensor kept the whole sensor column. Restrictions of an explained error intersect.
    let lrp = Lrp::new(
        ExplainedError::new(ErrorNorm::SquaredL2)
            .steps([3])
            .features([1]),
        Preset::Paper2Dense,
    )
    .unwrap();
    let ae = window_ae(false);
    let x = uniform(&mut rng(66), &[2, 4, 3], 0.0, 1.0);
    let e = lrp.explain(&ae, &x).unwrap();
    let cell = (&x - &e.reconstruction)
        .narrow(1, 3, 1)
        .narrow(2, 1, 1)
        .square()
        .flatten(0, -1);
    assert!(max_abs_diff(&e.error, &cell) < 1e-15);
    let seed = &e.output_relevance;
    let outside = seed.abs().sum(Kind::Double).double_value(&[])
        - seed
            .narrow(1, 3, 1)
            .narrow(2, 1, 1)
            .abs()
            .sum(Kind::Double)
            .double_value(&[]);
    assert_eq!(outside, 0.0);
}
