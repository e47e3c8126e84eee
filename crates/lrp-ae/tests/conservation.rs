//! Conservation: relevance summed at every layer equals the reconstruction error, for
//! bias-free ReLU networks under z⁺, w², z-box and flat; with biases or ε the loss is
//! exactly the documented share.

mod common;

use std::sync::Arc;

use ae_models::layer::forward_recording;
use ae_models::{Activation, ErrorNorm, ExplainedError, Layer, LayerModel};
use common::{conv, linear, rng, to_vec, uniform, Stack};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Flat, Pass, WSquare, ZBox, ZPlus};
use lrp_ae::seed::output_relevance;
use lrp_ae::{FirstLayer, LayerClass, LayerMap, Lrp, Preset};
use proptest::prelude::*;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy)]
enum First {
    WSquare,
    ZBox,
    Flat,
    ZPlus,
}

fn first_rule(f: First) -> Arc<dyn Rule> {
    match f {
        First::WSquare => Arc::new(WSquare::new()),
        First::ZBox => Arc::new(ZBox::new(0.0, 1.0).unwrap()),
        First::Flat => Arc::new(Flat::new()),
        First::ZPlus => Arc::new(ZPlus::new()),
    }
}

/// Smallest denominator met by relevance in a sweep (z⁺ and z-box can hit zero; w² and
/// flat cannot), walking the layers the way propagation does.
fn smallest_live_denominator(
    layers: &[Layer],
    rules: &[Arc<dyn Rule>],
    x: &Tensor,
    r_out: &Tensor,
) -> f64 {
    let acts = forward_recording(layers, x).unwrap();
    let mut r = r_out.shallow_clone();
    let mut smallest = f64::INFINITY;
    for l in (0..layers.len()).rev() {
        if let Layer::Linear { weight, .. } = &layers[l] {
            let a = &acts[l];
            let z = match rules[l].name().as_str() {
                "z+" => a
                    .clamp_min(0.0)
                    .linear::<Tensor>(&weight.clamp_min(0.0), None),
                "z-box[0, 1]" => {
                    a.linear::<Tensor>(weight, None)
                        - a.ones_like().linear::<Tensor>(&weight.clamp_max(0.0), None)
                }
                _ => Tensor::ones_like(&r),
            };
            let live = r.abs().gt(1e-12);
            if live.any().int64_value(&[]) != 0 {
                let m = z.masked_select(&live).min().double_value(&[]);
                smallest = smallest.min(m);
            }
        }
        r = rules[l].propagate(&layers[l], &acts[l], &r).unwrap();
    }
    smallest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_global_rejects: 4096, ..ProptestConfig::default() })]

    #[test]
    fn bias_free_relu_nets_conserve_relevance_at_every_layer(
        seed in 0u64..1_000_000,
        widths in prop::collection::vec(2i64..7, 2..5),
        first in prop_oneof![Just(First::WSquare), Just(First::ZBox), Just(First::Flat), Just(First::ZPlus)],
        hidden_flat in any::<bool>(),
        l2 in any::<bool>(),
        final_relu in any::<bool>(),
        batch in 1i64..4,
    ) {
        let mut g = rng(seed);
        let d = 5;
        let mut layers = Vec::new();
        let mut sizes = vec![d];
        sizes.extend(&widths);
        sizes.push(d);
        for k in 0..sizes.len() - 1 {
            layers.push(linear(&mut g, sizes[k + 1], sizes[k], false));
            if k + 2 < sizes.len() || final_relu {
                layers.push(Layer::Activation(Activation::Relu));
            }
        }
        let hidden: Arc<dyn Rule> = if hidden_flat { Arc::new(Flat::new()) } else { Arc::new(ZPlus::new()) };
        let rest = LayerMap::new()
            .on(LayerClass::Activation, Pass)
            .on_arc(LayerClass::Linear, None, Arc::clone(&hidden));
        let composite = FirstLayer::new(LayerMap::new().on_arc(LayerClass::Linear, None, first_rule(first)), rest);
        let seed_kind = if l2 { ErrorNorm::SquaredL2 } else { ErrorNorm::L1 };
        let lrp = Lrp::with_composite(seed_kind, composite);
        let ae = Stack { layers, shape: vec![d] };
        let x = uniform(&mut g, &[batch, d], 0.0, 1.0);
        let e = lrp.explain(&ae, &x).unwrap();
        let rules = lrp_ae::propagate::resolve_rules(&ae.layers, lrp.composite()).unwrap();
        let smallest = smallest_live_denominator(&ae.layers, &rules, &x, &e.output_relevance);
        // Conservation needs every denominator that carries relevance to be non-zero; a
        // relevance-carrying neuron with no positive input is where z⁺ legitimately loses it.
        prop_assume!(smallest > 0.05);
        let error = to_vec(&e.error);
        for (o, err) in e.trace.output_sums.iter().zip(&error) {
            prop_assert!((o - err).abs() <= 1e-12 * err.abs().max(1e-12));
        }
        for entry in &e.trace.layers {
            for (s, err) in entry.input_sums.iter().zip(&error) {
                prop_assert!((s - err).abs() <= 1e-4 * err.abs().max(1e-12),
                    "layer {} ({}): {} vs error {}", entry.index, entry.rule, s, err);
            }
        }
        prop_assert!(e.trace.max_relative_gap(1e-12) <= 1e-4);
        prop_assert_eq!(e.relevance.size(), x.size());
    }

    #[test]
    fn seeds_sum_exactly_to_the_error_of_their_selection(
        seed in 0u64..1_000_000,
        steps in 1i64..6,
        feats in 1i64..5,
        pick in prop::collection::vec(any::<bool>(), 1..6),
        l2 in any::<bool>(),
    ) {
        let mut g = rng(seed);
        let x = uniform(&mut g, &[2, steps, feats], -1.0, 2.0);
        let x_hat = uniform(&mut g, &[2, steps, feats], -1.0, 2.0);
        let s = ExplainedError::new(if l2 { ErrorNorm::SquaredL2 } else { ErrorNorm::L1 });
        let diff = &x - &x_hat;
        let cells = if l2 { diff.square() } else { diff.abs() };
        // All cells: the mean error per sample.
        let r = output_relevance(&s, &x, &x_hat).unwrap();
        let want = cells.mean_dim([1i64, 2].as_slice(), false, Kind::Double);
        let got = r.sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double);
        prop_assert!(common::max_abs_diff(&got, &want) < 1e-12);
        prop_assert!(common::max_abs_diff(&s.sample_errors(&x, &x_hat).unwrap(), &want) < 1e-12);
        // A subset of the time steps: the mean error over those steps, zeros elsewhere.
        let idx: Vec<i64> = (0..steps).filter(|&t| pick.get(t as usize).copied().unwrap_or(false)).collect();
        prop_assume!(!idx.is_empty());
        let sel = s.clone().steps(idx.clone());
        let r = output_relevance(&sel, &x, &x_hat).unwrap();
        let index = Tensor::from_slice(&idx);
        let want = cells.index_select(1, &index).mean_dim([1i64, 2].as_slice(), false, Kind::Double);
        let got = r.sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double);
        prop_assert!(common::max_abs_diff(&got, &want) < 1e-12);
        let outside = (r.abs().sum(Kind::Double) - r.index_select(1, &index).abs().sum(Kind::Double)).double_value(&[]);
        prop_assert!(outside.abs() < 1e-15);
    }

    #[test]
    fn with_biases_the_loss_is_exactly_the_documented_share(
        seed in 0u64..1_000_000,
        out in 1i64..6,
        inp in 1i64..6,
    ) {
        let mut g = rng(seed);
        let layer = linear(&mut g, out, inp, true);
        let Layer::Linear { weight, bias: Some(b) } = &layer else { unreachable!() };
        let a = uniform(&mut g, &[3, inp], 0.0, 1.0);
        let r = uniform(&mut g, &[3, out], 0.0, 1.0);
        let sum = |t: &Tensor| to_vec(&t.sum_dim_intlist([1i64].as_slice(), false, Kind::Double));
        // ε: Σ R_in = Σ_j R_j (z_j − b_j) / (z_j + ε sign z_j).
        let eps = 0.01;
        let z = a.linear(weight, Some(b));
        let stab = &z + (z.ge(0.0).to_kind(Kind::Double) * 2.0 - 1.0) * eps;
        let kept = &r * (&z - b) / &stab;
        let got = Epsilon::new(eps).unwrap().propagate(&layer, &a, &r).unwrap();
        for (x, y) in sum(&got).iter().zip(sum(&kept)) {
            prop_assert!((x - y).abs() < 1e-9);
        }
        // z⁺ on non-negative input: keeps z⁺ − b⁺ of every z⁺ + ε, so 0 ≤ Σ R_in ≤ Σ R.
        let zp = a.linear(&weight.clamp_min(0.0), Some(&b.clamp_min(0.0)));
        let kept = &r * (&zp - b.clamp_min(0.0)) / (&zp + 1e-6);
        let got = ZPlus::new().propagate(&layer, &a, &r).unwrap();
        for ((x, y), total) in sum(&got).iter().zip(sum(&kept)).zip(sum(&r)) {
            prop_assert!((x - y).abs() < 1e-9);
            prop_assert!(*x >= -1e-12 && *x <= total + 1e-12);
        }
        // w²: keeps Σw² / (Σw² + b²).
        let w2 = weight.square().sum_dim_intlist([1i64].as_slice(), false, Kind::Double);
        let kept = &r * &w2 / (&w2 + b.square() + 1e-6);
        let got = WSquare::new().propagate(&layer, &a, &r).unwrap();
        for (x, y) in sum(&got).iter().zip(sum(&kept)) {
            prop_assert!((x - y).abs() < 1e-9);
        }
        // Flat and z-box: the bias does not enter, nothing is lost but the stabiliser's share.
        for rule in [Box::new(Flat::new()) as Box<dyn Rule>, Box::new(ZBox::new(0.0, 1.0).unwrap())] {
            let got = rule.propagate(&layer, &a, &r).unwrap();
            let zbox_degenerate = rule.name() != "flat" && {
                let zb = a.linear::<Tensor>(weight, None) - a.ones_like().linear::<Tensor>(&weight.clamp_max(0.0), None);
                zb.min().double_value(&[]) < 0.05
            };
            if !zbox_degenerate {
                for (x, y) in sum(&got).iter().zip(sum(&r)) {
                    prop_assert!((x - y).abs() < 1e-4 * y.max(1e-9), "{}: {} vs {}", rule.name(), x, y);
                }
            }
        }
    }
}

/// A conv stack with every routing layer: strided and padded convolutions, upsampling,
/// flatten and reshape back, a dense layer in the middle.
fn conv_stack(g: &mut rand_chacha::ChaCha8Rng, bias: bool) -> Stack {
    let relu = || Layer::Activation(Activation::Relu);
    // Mostly positive weights keep z⁺ denominators away from zero in this fixed network.
    fn c(g: &mut rand_chacha::ChaCha8Rng, o: i64, i: i64, s: i64, bias: bool) -> Layer {
        let mut l = conv(g, o, i, 3, s, 1, bias);
        if let Layer::Conv2d { weight, .. } = &mut l {
            *weight = (&*weight + 0.35).clamp_max(1.0);
        }
        l
    }
    let mut layers = vec![c(g, 3, 1, 2, bias), relu(), c(g, 4, 3, 1, bias), relu()];
    // 8×8 → 4×4 after the strided conv; flatten, a dense layer, back to [4, 4, 4].
    layers.push(Layer::Reshape { shape: vec![-1] });
    let mut d = linear(g, 64, 64, bias);
    if let Layer::Linear { weight, .. } = &mut d {
        *weight = (&*weight * 0.3 + 0.1).clamp_max(1.0);
    }
    layers.extend([
        d,
        relu(),
        Layer::Reshape {
            shape: vec![4, 4, 4],
        },
    ]);
    layers.extend([
        Layer::UpsampleNearest { scale: 2 },
        c(g, 2, 4, 1, bias),
        relu(),
    ]);
    layers.extend([c(g, 1, 2, 1, bias), relu()]);
    Stack {
        layers,
        shape: vec![1, 8, 8],
    }
}

#[test]
fn a_bias_free_conv_stack_with_every_routing_layer_conserves_under_the_conv_preset() {
    let mut g = rng(21);
    let ae = conv_stack(&mut g, false);
    let x = uniform(&mut g, &[3, 1, 8, 8], 0.0, 1.0);
    for seed in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
        let e = Lrp::new(
            seed,
            Preset::Paper2Conv {
                low: 0.0,
                high: 1.0,
            },
        )
        .unwrap()
        .explain(&ae, &x)
        .unwrap();
        let rules: Vec<&str> = e.trace.layers.iter().map(|l| l.rule.as_str()).collect();
        assert_eq!(rules[0], "z-box[0, 1]");
        assert_eq!(rules[5], "z+");
        assert_eq!(rules[8], "pass");
        let gap = e.trace.max_relative_gap(1e-12);
        assert!(
            gap < 1e-4,
            "{seed:?}: relative gap {gap}, trace {:?}",
            e.trace
        );
        assert!(to_vec(&e.error).iter().all(|&v| v > 0.0));
    }
}

#[test]
fn with_biases_relevance_only_decreases_under_z_plus_and_zbox() {
    let mut g = rng(22);
    let ae = conv_stack(&mut g, true);
    let x = uniform(&mut g, &[2, 1, 8, 8], 0.0, 1.0);
    let e = Lrp::new(
        ErrorNorm::SquaredL2,
        Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
    )
    .unwrap()
    .explain(&ae, &x)
    .unwrap();
    // Walking down from the output, positive biases absorb relevance, never create it:
    // every layer's sum is at most the one above it, and stays non-negative.
    let mut above = e.trace.output_sums.clone();
    for entry in e.trace.layers.iter().rev() {
        for (s, a) in entry.input_sums.iter().zip(&above) {
            assert!(
                *s <= a + 1e-9 && *s >= -1e-12,
                "layer {}: {s} above {a}",
                entry.index
            );
        }
        above = entry.input_sums.clone();
    }
    let lost = 1.0 - above[0] / e.trace.output_sums[0];
    assert!(lost > 0.0, "biases of ±0.5 must absorb something");
}

#[test]
fn lrp_zero_on_a_bias_free_relu_net_is_input_times_gradient() {
    let mut g = rng(23);
    let ae = Stack {
        layers: vec![
            linear(&mut g, 6, 4, false),
            Layer::Activation(Activation::Relu),
            linear(&mut g, 5, 6, false),
            Layer::Activation(Activation::Relu),
            linear(&mut g, 4, 5, false),
        ],
        shape: vec![4],
    };
    let x = uniform(&mut g, &[3, 4], -1.0, 1.0);
    let map = LayerMap::new()
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Linear, Epsilon::new(0.0).unwrap());
    let e = Lrp::with_composite(ErrorNorm::SquaredL2, map)
        .explain(&ae, &x)
        .unwrap();
    // The seed is x̂ ⊙ v with v = R / x̂ held constant: LRP-0 then gives x ⊙ ∂(v·x̂)/∂x.
    let v = (&e.output_relevance / &e.reconstruction).detach();
    let xg = x.detach().set_requires_grad(true);
    let out = ae_models::layer::forward_layers(&ae.layers, &xg).unwrap();
    let grads = Tensor::run_backward(&[(out * &v).sum(Kind::Double)], &[&xg], false, false);
    let ixg = &x * &grads[0];
    let d = common::max_abs_diff(&e.relevance, &ixg);
    assert!(d < 1e-10, "max diff {d}");
    // And it conserves: the relevance sums to the error.
    assert!(e.trace.max_relative_gap(1e-12) < 1e-9);
}

#[test]
fn batching_never_changes_a_result() {
    let mut g = rng(24);
    let ae = conv_stack(&mut g, true);
    let x = uniform(&mut g, &[3, 1, 8, 8], 0.0, 1.0);
    for preset in [
        Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
        Preset::EpsilonPlusFlat,
        Preset::LstmDefault,
    ] {
        let lrp = Lrp::new(ErrorNorm::L1, preset).unwrap();
        let all = lrp.explain(&ae, &x).unwrap().relevance;
        for b in 0..3 {
            let one = lrp.explain(&ae, &x.narrow(0, b, 1)).unwrap().relevance;
            assert!(
                common::max_abs_diff(&one, &all.narrow(0, b, 1)) < 1e-12,
                "{preset}, sample {b}"
            );
        }
        let two = lrp.explain(&ae, &x.narrow(0, 1, 2)).unwrap().relevance;
        assert!(
            common::max_abs_diff(&two, &all.narrow(0, 1, 2)) < 1e-12,
            "{preset}"
        );
    }
}

#[test]
fn the_real_conv_ae_conserves_under_the_paper_preset() {
    use ae_models::{ConvAe, ConvAeConfig};
    let cfg = ConvAeConfig {
        bias: false,
        ..ConvAeConfig::small(16, 4)
    };
    let ae = ConvAe::seeded(&cfg, tch::Device::Cpu, 3).unwrap();
    let mut g = rng(25);
    let x = uniform(&mut g, &[2, 1, 16, 16], 0.0, 1.0).to_kind(Kind::Float);
    let e = Lrp::new(
        ErrorNorm::L1,
        Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
    )
    .unwrap()
    .explain(&ae, &x)
    .unwrap();
    let kinds: Vec<_> = e
        .trace
        .layers
        .iter()
        .map(|l| (l.kind, l.rule.clone()))
        .collect();
    assert!(kinds
        .iter()
        .any(|(k, _)| *k == ae_models::LayerKind::UpsampleNearest));
    assert_eq!(kinds[0].1, "z-box[0, 1]");
    // Walk the sweep again layer by layer: every pass layer conserves exactly, and every
    // z⁺ / z-box layer keeps exactly Σ_j R_j z_j / (z_j + ε) of its output relevance (all of
    // it, except on neurons whose denominator z_j is zero or tiny: an output pixel of the
    // untrained model whose receptive field has no positive contribution loses its seed).
    let rules = lrp_ae::propagate::resolve_rules(
        ae.layers(),
        lrp_ae::Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        }
        .composite()
        .unwrap()
        .as_ref(),
    )
    .unwrap();
    let acts = forward_recording(ae.layers(), &x).unwrap();
    let mut r = e.output_relevance.shallow_clone();
    let total = |t: &Tensor| t.sum(Kind::Double).double_value(&[]);
    let mut lost = 0.0;
    for l in (0..ae.layers().len()).rev() {
        let layer = &ae.layers()[l];
        let next = rules[l].propagate(layer, &acts[l], &r).unwrap();
        let kept = match layer {
            Layer::Conv2d {
                weight,
                stride,
                padding,
                ..
            } => {
                let conv = |a: &Tensor, w: &Tensor| {
                    a.conv2d::<Tensor>(w, None, stride, padding, [1, 1], 1)
                };
                let z = if l == 0 {
                    conv(&acts[0], weight) - conv(&acts[0].ones_like(), &weight.clamp_max(0.0))
                } else {
                    conv(&acts[l].clamp_min(0.0), &weight.clamp_min(0.0))
                };
                total(&(&r * &z / (&z + 1e-6)))
            }
            _ => total(&r),
        };
        let got = total(&next);
        assert!(
            (got - kept).abs() <= 1e-5 * total(&r),
            "layer {l}: kept {got}, documented {kept}"
        );
        lost += total(&r) - got;
        r = next;
    }
    let seeded = total(&e.output_relevance);
    assert!((seeded - total(&e.relevance) - lost).abs() < 1e-5 * seeded);
    eprintln!(
        "ConvAe::small(16, 4), untrained: {:.3} % of the error absorbed",
        100.0 * lost / seeded
    );
}
