//! Every bad input is an error naming the value, never a panic.

mod common;

use ae_models::{Activation, ErrorNorm, ExplainedError, Layer, LayerKind, LstmWeights, ModelError};
use common::{linear, rng, t, uniform, Stack};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Gamma, Pass, ZBox, ZPlus};
use lrp_ae::{LayerClass, LayerMap, Lrp, LrpError, Preset};
use tch::{Device, Kind, Tensor};
use xai_attrib::{Attribution, FeatureMask, Request, XaiError};

fn dense() -> Stack {
    let mut g = rng(51);
    Stack {
        layers: vec![
            linear(&mut g, 3, 4, true),
            Layer::Activation(Activation::Relu),
            linear(&mut g, 4, 3, true),
        ],
        shape: vec![4],
    }
}

fn lrp() -> Lrp {
    Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense).unwrap()
}

#[test]
fn a_layer_without_a_rule_is_an_error_naming_it() {
    let map = LayerMap::new().on(LayerClass::Linear, ZPlus::new());
    let x = uniform(&mut rng(1), &[2, 4], 0.0, 1.0);
    let err = Lrp::with_composite(ErrorNorm::L1, map)
        .explain(&dense(), &x)
        .unwrap_err();
    assert!(
        matches!(
            err,
            LrpError::NoRule {
                layer: 1,
                kind: LayerKind::Activation(Activation::Relu)
            }
        ),
        "{err}"
    );
}

#[test]
fn a_rule_on_a_layer_kind_it_does_not_define_is_an_error_naming_the_layer() {
    let mut g = rng(2);
    let w = LstmWeights {
        w_ih: uniform(&mut g, &[8, 3], -1.0, 1.0),
        w_hh: uniform(&mut g, &[8, 2], -1.0, 1.0),
        b_ih: uniform(&mut g, &[8], -1.0, 1.0),
        b_hh: uniform(&mut g, &[8], -1.0, 1.0),
    };
    let ae = Stack {
        layers: vec![
            Layer::Lstm(w),
            Layer::Linear {
                weight: uniform(&mut g, &[3, 2], -1.0, 1.0),
                bias: None,
            },
        ],
        shape: vec![5, 3],
    };
    let x = uniform(&mut g, &[1, 5, 3], 0.0, 1.0);
    let map = LayerMap::new().on(LayerClass::Any, ZPlus::new());
    let err = Lrp::with_composite(ErrorNorm::L1, map)
        .explain(&ae, &x)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rule `z+` is not defined for Lstm layers (layer 0)"
    );
    // Called directly, the rule says the same without a layer index.
    let err = Pass
        .propagate(
            &ae.layers[1],
            &x.select(1, 0).narrow(1, 0, 2),
            &x.select(1, 0),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LrpError::UnsupportedLayer {
                layer: None,
                kind: LayerKind::Linear,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_rejected_with_the_value() {
    let ae = dense();
    let err = lrp()
        .explain(&ae, &Tensor::zeros([2, 5], (Kind::Double, Device::Cpu)))
        .unwrap_err();
    assert!(
        matches!(err, LrpError::Model(ModelError::ShapeMismatch { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("[2, 5]"), "{err}");
    let err = lrp()
        .explain(&ae, &t(&[0.1, f64::NAN, 0.2, 0.3], &[1, 4]))
        .unwrap_err();
    assert!(matches!(err, LrpError::NonFinite { index: 1, .. }), "{err}");
    let err = lrp()
        .explain(&ae, &Tensor::zeros([1, 4], (Kind::Int64, Device::Cpu)))
        .unwrap_err();
    assert!(err.to_string().contains("Int64"), "{err}");
    let err = lrp()
        .explain(&ae, &Tensor::zeros([0, 4], (Kind::Double, Device::Cpu)))
        .unwrap_err();
    assert!(err.to_string().contains("no values"), "{err}");
}

#[test]
fn bad_selections_are_rejected_with_the_value() {
    let x = uniform(&mut rng(3), &[1, 4], 0.0, 1.0);
    let with = |error: ExplainedError| Lrp::new(error, Preset::Paper2Dense).unwrap();
    let err = with(ExplainedError::new(ErrorNorm::SquaredL2).features([4]))
        .explain(&dense(), &x)
        .unwrap_err();
    assert!(
        err.to_string().contains("4 on axis -1 of length 4"),
        "{err}"
    );
    let err = with(ExplainedError::new(ErrorNorm::SquaredL2).mask([4], [false; 4]))
        .explain(&dense(), &x)
        .unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");
}

#[test]
fn bad_rule_parameters_are_rejected_with_the_value() {
    assert!(Epsilon::new(-0.1)
        .unwrap_err()
        .to_string()
        .contains("eps = -0.1"));
    assert!(Epsilon::new(f64::INFINITY).is_err());
    assert!(Gamma::new(-1.0)
        .unwrap_err()
        .to_string()
        .contains("gamma = -1"));
    assert!(ZBox::new(1.0, 0.0)
        .unwrap_err()
        .to_string()
        .contains("[1, 0]"));
    assert!(ZBox::new(0.0, 1.0)
        .unwrap()
        .with_stabilizer(f64::NAN)
        .is_err());
    assert!(ZPlus::new().with_stabilizer(-1.0).is_err());
    let err = "paper3".parse::<Preset>().unwrap_err();
    assert!(err.to_string().contains("\"paper3\""), "{err}");
}

#[test]
fn relevance_of_the_wrong_shape_is_rejected_by_every_rule() {
    let mut g = rng(4);
    let layer = linear(&mut g, 3, 4, true);
    let a = uniform(&mut g, &[2, 4], 0.0, 1.0);
    let bad = uniform(&mut g, &[2, 4], 0.0, 1.0);
    let err = ZPlus::new().propagate(&layer, &a, &bad).unwrap_err();
    assert!(matches!(err, LrpError::ShapeMismatch { .. }), "{err}");
    let up = Layer::UpsampleNearest { scale: 2 };
    let a = uniform(&mut g, &[1, 1, 2, 2], 0.0, 1.0);
    let err = Pass
        .propagate(&up, &a, &uniform(&mut g, &[1, 1, 4, 3], 0.0, 1.0))
        .unwrap_err();
    assert!(err.to_string().contains("[1, 1, 4, 3]"), "{err}");
}

#[test]
fn through_the_attribution_trait_errors_become_xai_errors() {
    let ae = dense();
    let x = uniform(&mut rng(5), &[2, 4], 0.0, 1.0);
    let map = LayerMap::new().on(LayerClass::Linear, ZPlus::new());
    let err = Lrp::with_composite(ErrorNorm::L1, map)
        .attribute(&ae, &x, &Request::default())
        .unwrap_err();
    assert!(
        matches!(&err, XaiError::InvalidInput { what, .. } if what == "lrp composite"),
        "{err}"
    );
    // A mask for another sample shape (3 cells for samples of 4).
    let mask = FeatureMask::from_tensor(&Tensor::from_slice(&[0i64, 1, 1])).unwrap();
    let err = lrp()
        .attribute(&ae, &x, &Request::default().mask(mask))
        .unwrap_err();
    assert!(err.to_string().contains("[3]"), "{err}");
    // Group ids with a gap never become a mask at all (LRP and every other method share
    // FeatureMask's checks).
    let err = FeatureMask::from_tensor(&Tensor::from_slice(&[0i64, 2, 2, 3])).unwrap_err();
    assert!(err.to_string().contains("group 1 has no cells"), "{err}");
    let err = lrp()
        .attribute(
            &ae,
            &t(&[0.0, 0.0, f64::INFINITY, 0.0], &[1, 4]),
            &Request::default(),
        )
        .unwrap_err();
    assert!(matches!(err, XaiError::NonFinite { index: 2, .. }), "{err}");
}

/// A dense autoencoder whose ReLU bottleneck is dead for every input reconstructs a constant:
/// all relevance ends in the output bias. LRP says so instead of ranking zeros.
#[test]
fn relevance_that_vanished_is_reported_not_a_silent_zero() {
    let dead = Stack {
        layers: vec![
            Layer::Linear {
                weight: t(&[1.0, 0.0, 0.0, 1.0, 0.5, 0.5], &[2, 3]),
                bias: Some(t(&[-100.0, -100.0], &[2])),
            },
            Layer::Activation(Activation::Relu),
            Layer::Linear {
                weight: t(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]),
                bias: Some(t(&[0.5, 0.5, 0.5], &[3])),
            },
        ],
        shape: vec![3],
    };
    let x = uniform(&mut rng(8), &[2, 3], 0.0, 1.0);
    let e = lrp().explain(&dead, &x).unwrap();
    assert_eq!(e.vanished, vec![0, 1]);
    let err = lrp()
        .attribute(&dead, &x, &Request::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("relevance vanished for 2 sample(s), first sample 0"),
        "{err}"
    );
    // A healthy model's explanation has no vanished sample.
    let healthy = uniform(&mut rng(9), &[2, 4], 0.0, 1.0);
    assert!(lrp()
        .explain(&dense(), &healthy)
        .unwrap()
        .vanished
        .is_empty());
}
