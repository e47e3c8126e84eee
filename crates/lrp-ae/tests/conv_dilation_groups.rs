//! Dilated and grouped convolutions in every rule: equal to the plain convolution with the
//! same (zero-filled) kernel where a rule depends only on weight values, and conserving
//! relevance layer by layer where it should.

mod common;

use std::sync::Arc;

use ae_models::{Activation, Layer};
use common::{max_abs_diff, rng, uniform, Stack};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus};
use lrp_ae::{FirstLayer, LayerClass, LayerMap, OutputLrp, OutputRelevance};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

/// A `[O, C/g, k, k]` grouped, dilated kernel as the `[O, C, d(k−1)+1, d(k−1)+1]` kernel of a
/// plain convolution computing the same map (zeros between taps and outside the group).
fn plain_kernel(w: &Tensor, groups: i64, dilation: i64) -> Tensor {
    let s = w.size();
    let (o, cg, k) = (s[0], s[1], s[2]);
    let span = dilation * (k - 1) + 1;
    let plain = Tensor::zeros([o, cg * groups, span, span], (w.kind(), w.device()));
    let per_group = o / groups;
    for out in 0..o {
        let g = out / per_group;
        for c in 0..cg {
            for i in 0..k {
                for j in 0..k {
                    let v = w.double_value(&[out, c, i, j]);
                    let _ = plain
                        .get(out)
                        .get(g * cg + c)
                        .get(i * dilation)
                        .get(j * dilation)
                        .fill_(v);
                }
            }
        }
    }
    plain
}

fn conv(g: &mut ChaCha8Rng, o: i64, cg: i64, groups: i64, dilation: i64, bias: bool) -> Layer {
    Layer::Conv2d {
        weight: uniform(g, &[o, cg, 3, 3], -1.0, 1.0),
        bias: bias.then(|| uniform(g, &[o], -0.3, 0.3)),
        stride: [1, 2],
        padding: [2, 1],
        dilation: [dilation, dilation],
        groups,
    }
}

#[test]
fn grouped_dilated_relevance_equals_the_plain_convolution_for_weight_value_rules() {
    let mut g = rng(5);
    for (groups, dilation) in [(1, 2), (2, 1), (2, 2), (4, 3)] {
        let layer = conv(&mut g, 4, 4 / groups, groups, dilation, true);
        let Layer::Conv2d { weight, bias, .. } = &layer else {
            unreachable!()
        };
        let plain = Layer::Conv2d {
            weight: plain_kernel(weight, groups, dilation),
            bias: bias.as_ref().map(Tensor::copy),
            stride: [1, 2],
            padding: [2, 1],
            dilation: [1, 1],
            groups: 1,
        };
        let x = uniform(&mut g, &[2, 4, 9, 8], -0.5, 1.0);
        let y = layer.forward(&x).unwrap();
        assert!(max_abs_diff(&y, &plain.forward(&x).unwrap()) < 1e-12);
        let r = uniform(&mut g, &y.size(), 0.0, 1.0);
        let rules: Vec<Box<dyn Rule>> = vec![
            Box::new(Epsilon::new(0.01).unwrap()),
            Box::new(ZPlus::new()),
            Box::new(WSquare::new()),
            Box::new(ZBox::new(-0.5, 1.0).unwrap()),
            Box::new(Gamma::new(0.25).unwrap()),
        ];
        for rule in rules {
            let got = rule.propagate(&layer, &x, &r).unwrap();
            let want = rule.propagate(&plain, &x, &r).unwrap();
            let d = max_abs_diff(&got, &want);
            assert!(
                d < 1e-10,
                "{} groups {groups} dilation {dilation}: {d}",
                rule.name()
            );
        }
    }
}

#[test]
fn flat_spreads_over_the_taps_a_grouped_dilated_kernel_really_has() {
    // One output pixel of a 2-group, dilation-2 convolution sees 2 channels x 9 taps; flat
    // gives each of them 1/18 of its relevance, and nothing to the other group's channels.
    let layer = Layer::Conv2d {
        weight: Tensor::ones([2, 2, 3, 3], (Kind::Double, tch::Device::Cpu)),
        bias: None,
        stride: [1, 1],
        padding: [0, 0],
        dilation: [2, 2],
        groups: 2,
    };
    let x = Tensor::ones([1, 4, 5, 5], (Kind::Double, tch::Device::Cpu));
    let r = Tensor::from_slice(&[1.0f64, 0.0]).reshape([1, 2, 1, 1]);
    let got = Flat::new().propagate(&layer, &x, &r).unwrap();
    let first_group = got.narrow(1, 0, 2);
    // 18 + 1e-6 in the denominator: the stabiliser keeps a 1e-6 / 18 share.
    assert!((first_group.sum(Kind::Double).double_value(&[]) - 1.0).abs() < 1e-7);
    assert_eq!(
        got.narrow(1, 2, 2)
            .abs()
            .sum(Kind::Double)
            .double_value(&[]),
        0.0
    );
    // Taps at even offsets only.
    assert!((got.double_value(&[0, 0, 2, 2]) - 1.0 / 18.0).abs() < 1e-8);
    assert_eq!(got.double_value(&[0, 1, 1, 2]), 0.0);
}

/// A bias-free conv autoencoder with a dilated and two grouped convolutions.
fn stack(g: &mut ChaCha8Rng) -> Stack {
    let relu = || Layer::Activation(Activation::Relu);
    let c = |g: &mut ChaCha8Rng, o, cg, groups, dilation, stride: i64, pad: i64| Layer::Conv2d {
        weight: uniform(g, &[o, cg, 3, 3], -1.0, 1.0),
        bias: None,
        stride: [stride, stride],
        padding: [pad, pad],
        dilation: [dilation, dilation],
        groups,
    };
    Stack {
        layers: vec![
            c(g, 4, 1, 2, 2, 1, 2),
            relu(),
            c(g, 4, 2, 2, 1, 2, 1),
            relu(),
            Layer::UpsampleNearest { scale: 2 },
            c(g, 2, 2, 2, 3, 1, 3),
            relu(),
        ],
        shape: vec![2, 8, 8],
    }
}

#[test]
fn bias_free_grouped_dilated_convs_conserve_relevance_at_every_layer() {
    // Starting from the output itself (Zennit's default attr_output), relevance sits only on
    // active ReLU outputs, whose z⁺ denominators are positive: without biases every layer must
    // pass on all it receives, up to the 1e-6 stabilisers.
    let mut g = rng(8);
    let first: Vec<(&str, Arc<dyn Rule>)> = vec![
        ("z-box", Arc::new(ZBox::new(0.0, 1.0).unwrap())),
        ("w2", Arc::new(WSquare::new())),
        ("flat", Arc::new(Flat::new())),
    ];
    for trial in 0..3 {
        let ae = stack(&mut g);
        let x = uniform(&mut g, &[3, 2, 8, 8], 0.0, 1.0);
        for (name, rule) in &first {
            let composite = FirstLayer::new(
                LayerMap::new().on_arc(LayerClass::Conv2d, None, Arc::clone(rule)),
                LayerMap::new()
                    .on(LayerClass::Activation, Pass)
                    .on(LayerClass::Routing, Pass)
                    .on(LayerClass::Conv2d, ZPlus::new()),
            );
            let e = OutputLrp::with_composite(composite)
                .explain(&ae, &x, &OutputRelevance::Output)
                .unwrap();
            assert!(e.trace.output_sums.iter().all(|&s| s > 0.0));
            let gap = e.trace.max_relative_gap(1e-12);
            assert!(
                gap < 1e-4,
                "trial {trial}, {name} first: relative gap {gap}"
            );
        }
    }
}
