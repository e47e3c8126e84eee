//! Deviation LRP: analytic cases, the zero-reference limits (ε-LRP, gradient × input, the
//! LSTM rule), conservation with biases, an LSTM reference that books every absorbed share,
//! the symmetry of drops and rises, the `Attribution` path and bad input.

mod common;

use std::sync::Arc;

use ae_models::layer::forward_recording;
use ae_models::{Activation, ErrorNorm, ExplainedError, Layer, LayerModel};
use common::{
    conv, linear, lstm_weights, max_abs_diff, nested, rng, run_cell, stab, t, to_vec, uniform,
    Stack,
};
use lrp_ae::deviation::{error_multiplier, Root, RootPoint};
use lrp_ae::lstm::lstm_relevance;
use lrp_ae::lstm_deviation::lstm_deviation_relevance;
use lrp_ae::propagate::{propagate, propagate_deviation, resolve_deviation_rules, resolve_rules};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{DeltaEpsilon, Epsilon, Pass, ZPlus};
use lrp_ae::{ByIndex, LayerClass, LayerMap, Lrp, LrpError, Preset};
use proptest::prelude::*;
use tch::{Device, Kind, Tensor};
use xai_attrib::{Attribution, Baseline, Request};

fn deviation(eps: f64, root: RootPoint) -> Preset {
    Preset::Deviation { eps, root }
}

fn delta_map(eps: f64) -> LayerMap {
    let d = DeltaEpsilon::new(eps).unwrap();
    LayerMap::new()
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Routing, Pass)
        .on(LayerClass::FeatureAttention, Pass)
        .on(LayerClass::Affine, d)
        .on(LayerClass::Lstm, d)
}

fn sum(t: &Tensor) -> Vec<f64> {
    to_vec(&t.flatten(1, -1).sum_dim_intlist(1, false, Kind::Double))
}

/// A linear autoencoder `x̂ = W x + b`: the relevance of the deviation is
/// `Δx ⊙ (s − Wᵀ s)` with `s` the error's secant slope, `(r + r₀)/m` for L2, and it sums
/// to `e(x) − e(x₀)` exactly.
#[test]
fn a_linear_autoencoder_gets_the_analytic_relevance() {
    let mut g = rng(1);
    let (f, b) = (4i64, 3i64);
    let w = uniform(&mut g, &[f, f], -1.0, 1.0);
    let bias = uniform(&mut g, &[f], -0.5, 0.5);
    let ae = Stack {
        layers: vec![Layer::Linear {
            weight: w.shallow_clone(),
            bias: Some(bias.shallow_clone()),
        }],
        shape: vec![f],
    };
    let x = uniform(&mut g, &[b, f], -1.0, 2.0);
    let x0 = uniform(&mut g, &[f], 0.0, 1.0);
    for norm in [ErrorNorm::SquaredL2, ErrorNorm::L1] {
        let lrp = Lrp::new(norm, deviation(0.0, RootPoint::Baseline)).unwrap();
        let e = lrp
            .explain_deviation(&ae, &x, &Root::Tensor(x0.shallow_clone()))
            .unwrap();
        let x_hat = x.linear(&w, Some(&bias));
        let x0_hat = x0.unsqueeze(0).linear(&w, Some(&bias));
        let r = &x - &x_hat;
        let r0 = x0.unsqueeze(0) - &x0_hat;
        let s = match norm {
            ErrorNorm::SquaredL2 => (&r + &r0) / f as f64,
            ErrorNorm::L1 => {
                // Every cell by hand: same sign → sign; else (|r| − |r₀|)/(r − r₀).
                let (rv, r0v) = (to_vec(&r), to_vec(&r0.expand([b, f], false)));
                let v: Vec<f64> = rv
                    .iter()
                    .zip(&r0v)
                    .map(|(&a, &c)| {
                        if a * c >= 0.0 {
                            (a + c).signum() / f as f64
                        } else {
                            (a.abs() - c.abs()) / (a - c) / f as f64
                        }
                    })
                    .collect();
                t(&v, &[b, f])
            }
        };
        let dx = &x - x0.unsqueeze(0);
        let want = &dx * (&s - s.matmul(&w));
        let d = max_abs_diff(&e.relevance, &want);
        assert!(d < 1e-12, "{norm:?}: max diff {d}");
        let s_lib = error_multiplier(&norm.into(), &x, &x_hat, &x0.unsqueeze(0), &x0_hat).unwrap();
        assert!(max_abs_diff(&s_lib, &s) < 1e-15);
        let gap = e.delta().unwrap().abs().max().double_value(&[]);
        assert!(gap < 1e-12, "{norm:?}: Σ R − Δe = {gap}");
        assert!(max_abs_diff(&e.direct, &(&dx * &s)) < 1e-15);
    }
}

/// A linear map `y = w·x + b` from `R(Δy) = Δy`: the relevance is `(x − x₀) ⊙ w`, per
/// sample and per reference row, whatever the bias.
#[test]
fn a_linear_model_gives_deviation_times_weight() {
    let mut g = rng(2);
    let w = uniform(&mut g, &[1, 5], -2.0, 2.0);
    let layers = vec![Layer::Linear {
        weight: w.shallow_clone(),
        bias: Some(t(&[3.0], &[1])),
    }];
    let rules = resolve_deviation_rules(
        &layers,
        &LayerMap::new().on(LayerClass::Linear, DeltaEpsilon::new(0.0).unwrap()),
    )
    .unwrap();
    let x = uniform(&mut g, &[4, 5], -1.0, 1.0);
    for x0 in [
        uniform(&mut g, &[1, 5], -1.0, 1.0),
        uniform(&mut g, &[4, 5], -1.0, 1.0),
    ] {
        let (y, y0) = (
            layers[0].forward(&x).unwrap(),
            layers[0].forward(&x0).unwrap(),
        );
        let (r, trace) = propagate_deviation(
            &layers,
            &rules,
            &[x.shallow_clone(), y.shallow_clone()],
            &[x0.shallow_clone(), y0.shallow_clone()],
            &(&y - &y0),
        )
        .unwrap();
        assert!(max_abs_diff(&r, &((&x - &x0) * &w)) < 1e-14);
        assert_eq!(trace.layers[0].rule, "delta-epsilon(0)");
    }
}

fn relu_net(
    g: &mut rand_chacha::ChaCha8Rng,
    widths: &[i64],
    bias: bool,
    act: Activation,
) -> Vec<Layer> {
    let mut layers = Vec::new();
    for k in 0..widths.len() - 1 {
        layers.push(linear(g, widths[k + 1], widths[k], bias));
        if k + 2 < widths.len() {
            layers.push(Layer::Activation(act));
        }
    }
    layers
}

/// With a reference whose activations are all zero (a zero input to a bias-free ReLU
/// network), Δ-ε is the ε rule: the same numbers, dense and convolutional.
#[test]
fn with_a_zero_reference_delta_epsilon_is_epsilon() {
    let mut g = rng(3);
    let dense = relu_net(&mut g, &[6, 5, 4, 6], false, Activation::Relu);
    let convs = vec![
        conv(&mut g, 3, 2, 3, 2, 1, false),
        Layer::Activation(Activation::Relu),
        Layer::UpsampleNearest { scale: 2 },
        conv(&mut g, 2, 3, 3, 1, 1, false),
    ];
    let cases = [(dense, vec![3i64, 6]), (convs, vec![2i64, 2, 8, 8])];
    for (layers, shape) in cases {
        let x = uniform(&mut g, &shape, -1.0, 1.0);
        let acts = forward_recording(&layers, &x).unwrap();
        let zeros = forward_recording(&layers, &x.zeros_like().narrow(0, 0, 1)).unwrap();
        let r_out = uniform(&mut g, &acts[layers.len()].size(), -1.0, 1.0);
        for eps in [1e-9, 1e-3, 0.25] {
            let eps_map = LayerMap::new()
                .on(LayerClass::Activation, Pass)
                .on(LayerClass::Routing, Pass)
                .on(LayerClass::Affine, Epsilon::new(eps).unwrap());
            let (plain, _) = propagate(
                &layers,
                &resolve_rules(&layers, &eps_map).unwrap(),
                &acts,
                &r_out,
            )
            .unwrap();
            let rules = resolve_deviation_rules(&layers, &delta_map(eps)).unwrap();
            let (dev, _) = propagate_deviation(&layers, &rules, &acts, &zeros, &r_out).unwrap();
            assert!(
                plain.equal(&dev),
                "eps {eps}: max diff {}",
                max_abs_diff(&plain, &dev)
            );
        }
    }
}

/// The LSTM limit: a zero reference through a bias-free layer has zero cell states and
/// candidates, every gate share vanishes and the deviation rule is Arras et al.'s rule.
#[test]
fn with_a_zero_reference_the_lstm_deviation_rule_is_the_lstm_rule() {
    let mut g = rng(4);
    for eps in [1e-9, 1e-3] {
        let w = lstm_weights(&mut g, 3, 5, 0.0);
        let x = uniform(&mut g, &[2, 6, 3], -1.0, 1.0);
        let r = uniform(&mut g, &[2, 6, 5], -0.2, 1.0);
        let plain = lstm_relevance(&w, &x, &r, eps).unwrap();
        let zero = Tensor::zeros([1, 6, 3], (Kind::Double, Device::Cpu));
        let dev = lstm_deviation_relevance(&w, &x, &zero, &r, eps).unwrap();
        let d = max_abs_diff(&plain, &dev);
        assert!(d < 1e-14, "eps {eps}: max diff {d}");
    }
}

/// On a bias-free ReLU autoencoder a zero reference is a root of the error (`f(0) = 0`),
/// and the error is homogeneous in `x`: of degree 1 for L1, 2 for L2. Deviation LRP is then
/// gradient × input for L1 and half of it for L2 (Euler: `Σ x ⊙ ∇e = 2e`).
#[test]
fn with_a_zero_reference_it_is_gradient_times_input() {
    let mut g = rng(5);
    let ae = Stack {
        layers: relu_net(&mut g, &[5, 4, 3, 5], false, Activation::Relu),
        shape: vec![5],
    };
    let x = uniform(&mut g, &[3, 5], -1.0, 1.0);
    for (norm, factor) in [(ErrorNorm::L1, 1.0), (ErrorNorm::SquaredL2, 0.5)] {
        let lrp = Lrp::new(norm, deviation(1e-12, RootPoint::Baseline)).unwrap();
        let e = lrp
            .explain_deviation(
                &ae,
                &x,
                &Root::Tensor(Tensor::zeros([5], (Kind::Double, Device::Cpu))),
            )
            .unwrap();
        let xg = x.copy().set_requires_grad(true);
        let err = ExplainedError::new(norm)
            .sample_errors(&xg, &ae.forward(&xg).unwrap())
            .unwrap()
            .sum(Kind::Double);
        let grad = Tensor::run_backward(&[err], &[&xg], false, false).remove(0);
        let want = &x * grad * factor;
        let d = max_abs_diff(&e.relevance, &want);
        assert!(d < 1e-10, "{norm:?}: max diff {d}");
        assert!(e.reference_error.abs().max().double_value(&[]) == 0.0);
    }
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Relu,
    Tanh,
    Sigmoid,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With biases, tanh or sigmoid, any reference: the relevance of every layer sums to
    /// `e(x) − e(x₀)` up to ε's share (no bias absorbs anything).
    #[test]
    fn dense_nets_with_biases_conserve_the_error_deviation(
        seed in 0u64..1_000_000,
        widths in prop::collection::vec(2i64..7, 2..5),
        act in prop_oneof![Just(Act::Relu), Just(Act::Tanh), Just(Act::Sigmoid)],
        l2 in any::<bool>(),
        batch in 1i64..4,
        per_sample in any::<bool>(),
    ) {
        let mut g = rng(seed);
        let f = widths[0];
        let mut all = widths.clone();
        all.push(f);
        let act = match act { Act::Relu => Activation::Relu, Act::Tanh => Activation::Tanh, Act::Sigmoid => Activation::Sigmoid };
        let mut layers = relu_net(&mut g, &all, true, act);
        layers.push(Layer::Activation(Activation::Sigmoid));
        let ae = Stack { layers, shape: vec![f] };
        let x = uniform(&mut g, &[batch, f], -0.5, 1.5);
        let x0 = uniform(&mut g, &[if per_sample { batch } else { 1 }, f], 0.0, 1.0);
        let norm = if l2 { ErrorNorm::SquaredL2 } else { ErrorNorm::L1 };
        let e = Lrp::new(norm, deviation(1e-12, RootPoint::Baseline)).unwrap()
            .explain_deviation(&ae, &x, &Root::Tensor(x0)).unwrap();
        let total: Vec<f64> = sum(&e.relevance);
        let want: Vec<f64> = to_vec(&(&e.error - &e.reference_error));
        let scale: Vec<f64> = sum(&e.relevance.abs());
        for ((a, b), s) in total.iter().zip(&want).zip(&scale) {
            prop_assert!((a - b).abs() <= 1e-8 * (s + b.abs() + 1e-12), "{a} vs {b} (Σ|R| {s})");
        }
        // Layer by layer, the network sweep keeps what the output relevance started with.
        for l in &e.trace.layers {
            for (a, b) in l.input_sums.iter().zip(&e.trace.output_sums) {
                prop_assert!((a - b).abs() <= 1e-8 * (scale.iter().cloned().fold(0.0, f64::max) + b.abs() + 1e-12), "layer {}: {a} vs {b}", l.index);
            }
        }
    }
}

/// Convolutions with biases, strides and upsampling: conservation of the deviation too.
#[test]
fn conv_nets_with_biases_conserve_the_error_deviation() {
    let mut g = rng(6);
    for trial in 0..4 {
        let ae = Stack {
            layers: vec![
                conv(&mut g, 3, 1, 3, 2, 1, true),
                Layer::Activation(Activation::Relu),
                conv(&mut g, 3, 3, 3, 1, 1, true),
                Layer::Activation(Activation::Tanh),
                Layer::UpsampleNearest { scale: 2 },
                conv(&mut g, 1, 3, 3, 1, 1, true),
                Layer::Activation(Activation::Sigmoid),
            ],
            shape: vec![1, 8, 8],
        };
        let x = uniform(&mut g, &[2, 1, 8, 8], 0.0, 1.0);
        for (norm, root) in [
            (ErrorNorm::SquaredL2, RootPoint::Baseline),
            (ErrorNorm::L1, RootPoint::Reconstruction),
        ] {
            let reference = match root {
                RootPoint::Baseline => Root::Tensor(uniform(&mut g, &[1, 8, 8], 0.0, 1.0)),
                RootPoint::Reconstruction => Root::Reconstruction,
            };
            let e = Lrp::new(norm, deviation(1e-12, root))
                .unwrap()
                .explain_deviation(&ae, &x, &reference)
                .unwrap();
            let gap = e.delta().unwrap().abs().max().double_value(&[]);
            let scale = e.relevance.abs().sum(Kind::Double).double_value(&[]);
            assert!(
                gap <= 1e-9 * scale,
                "trial {trial}, {norm:?}: gap {gap}, Σ|R| {scale}"
            );
        }
    }
}

/// Plain-Rust deviation rule for one sample, one neuron and one share at a time, booking
/// what ε absorbs: returns `(R_x, absorbed by ε)`.
fn reference_rule(
    w: &[Vec<f64>; 4],
    i_sz: usize,
    h_sz: usize,
    x: &[Vec<f64>],
    x0: &[Vec<f64>],
    r: &[Vec<f64>],
    eps: f64,
) -> (Vec<Vec<f64>>, f64) {
    let (run, base) = (run_cell(w, i_sz, h_sz, x), run_cell(w, i_sz, h_sz, x0));
    let (w_ih, w_hh) = (&w[0], &w[1]);
    let t_len = x.len();
    let mut r_x = vec![vec![0.0; i_sz]; t_len];
    let (mut r_h_rec, mut r_c_next) = (vec![0.0; h_sz], vec![0.0; h_sz]);
    let mut by_eps = 0.0;
    for t in (0..t_len).rev() {
        let (h_prev, c_prev, gi, gf, gg, go, c, h, z) = &run[t];
        let (h0_prev, c0_prev, gi0, gf0, gg0, go0, c0, h0, z0) = &base[t];
        let mut r_h_prev = vec![0.0; h_sz];
        let mut r_c_prev = vec![0.0; h_sz];
        // Relevance of each gate's pre-activation `[i, f, g, o]` of neuron k.
        let mut r_z = vec![0.0; 4 * h_sz];
        for k in 0..h_sz {
            let r_h = r[t][k] + r_h_rec[k];
            // h = o ⊙ tanh(c): Δh = o Δtanh(c) + tanh(c₀) Δo.
            let r_o = c0[k].tanh() * (go[k] - go0[k]) / stab(h[k] - h0[k], eps) * r_h;
            let r_c = r_h - r_o + r_c_next[k];
            // c = f c_prev + i g: Δc = f Δc_prev + c₀_prev Δf + i Δg + g₀ Δi.
            let sc = stab(c[k] - c0[k], eps);
            let keep = gf[k] * (c_prev[k] - c0_prev[k]) / sc * r_c;
            let r_f = c0_prev[k] * (gf[k] - gf0[k]) / sc * r_c;
            let r_g = gi[k] * (gg[k] - gg0[k]) / sc * r_c;
            let r_i = gg0[k] * (gi[k] - gi0[k]) / sc * r_c;
            by_eps += r_c - keep - r_f - r_g - r_i;
            r_c_prev[k] = keep;
            for (gate, rel) in [r_i, r_f, r_g, r_o].into_iter().enumerate() {
                r_z[gate * h_sz + k] = rel;
            }
        }
        for (row, &rel) in r_z.iter().enumerate() {
            let q = rel / stab(z[row] - z0[row], eps);
            let mut passed = 0.0;
            for i in 0..i_sz {
                let v = (x[t][i] - x0[t][i]) * w_ih[row * i_sz + i] * q;
                r_x[t][i] += v;
                passed += v;
            }
            for j in 0..h_sz {
                let v = (h_prev[j] - h0_prev[j]) * w_hh[row * h_sz + j] * q;
                r_h_prev[j] += v;
                passed += v;
            }
            // rel = q·(Δz + ε·sign): what is not passed on is ε's.
            by_eps += rel - passed;
        }
        r_h_rec = r_h_prev;
        r_c_next = r_c_prev;
    }
    (r_x, by_eps)
}

/// The LSTM deviation rule against an independent plain-Rust implementation that books
/// every share: input relevance + ε's shares = output relevance, to 1e-9, with and without
/// biases, shared and per-sample references. No gate and no bias absorbs anything: with a
/// tiny ε the layer conserves the relevance of the deviation.
#[test]
fn the_lstm_deviation_rule_matches_the_reference_and_conserves() {
    let mut g = rng(7);
    let (i_sz, h_sz, t_len) = (3i64, 5i64, 6i64);
    for (bias, eps, per_sample) in [(0.5, 1e-3, false), (0.0, 0.1, true), (0.3, 1e-9, false)] {
        let w = lstm_weights(&mut g, i_sz, h_sz, bias);
        let x = uniform(&mut g, &[2, t_len, i_sz], -1.0, 1.0);
        let x0 = uniform(
            &mut g,
            &[if per_sample { 2 } else { 1 }, t_len, i_sz],
            -0.5,
            0.5,
        );
        let r = uniform(&mut g, &[2, t_len, h_sz], -0.2, 1.0);
        let got = lstm_deviation_relevance(&w, &x, &x0, &r, eps).unwrap();
        let flat = [
            to_vec(&w.w_ih),
            to_vec(&w.w_hh),
            to_vec(&w.b_ih),
            to_vec(&w.b_hh),
        ];
        for b in 0..2 {
            let x0b = x0.get(if per_sample { b } else { 0 });
            let (want, by_eps) = reference_rule(
                &flat,
                i_sz as usize,
                h_sz as usize,
                &nested(&x.get(b)),
                &nested(&x0b),
                &nested(&r.get(b)),
                eps,
            );
            let want = Tensor::from_slice(&want.concat()).reshape([t_len, i_sz]);
            let d = max_abs_diff(&got.get(b), &want);
            assert!(d < 1e-9, "bias {bias}, eps {eps}: max diff {d}");
            let r_in = want.sum(Kind::Double).double_value(&[]);
            let r_out = r.get(b).sum(Kind::Double).double_value(&[]);
            assert!(
                (r_in + by_eps - r_out).abs() < 1e-9,
                "books must balance: {r_in} + {by_eps} vs {r_out}"
            );
            if eps < 1e-6 {
                let rel = (r_in - r_out).abs() / r_out.abs();
                assert!(rel < 1e-5, "ε = {eps}: {r_in} vs {r_out}");
            }
        }
    }
}

/// A model odd around `μ` (`x̂ − μ = V tanh(W (x − μ))`) explained from `μ`: a fault and its
/// mirror image get the same relevance, where paper 2's ε rule sees the rise and not the
/// drop.
#[test]
fn a_drop_and_its_mirrored_rise_get_the_same_relevance() {
    let mut g = rng(8);
    let f = 6i64;
    let mu = uniform(&mut g, &[f], 0.3, 0.7);
    let (w1, w2) = (
        uniform(&mut g, &[4, f], -1.0, 1.0),
        uniform(&mut g, &[f, 4], -1.0, 1.0),
    );
    let ae = Stack {
        layers: vec![
            Layer::Linear {
                weight: w1.shallow_clone(),
                bias: Some(-mu.unsqueeze(0).matmul(&w1.tr()).squeeze_dim(0)),
            },
            Layer::Activation(Activation::Tanh),
            Layer::Linear {
                weight: w2,
                bias: Some(mu.shallow_clone()),
            },
        ],
        shape: vec![f],
    };
    let mut old_share = Vec::new();
    for sensor in 0..f {
        let d = uniform(&mut g, &[1, f], -0.05, 0.05);
        let _ = d.narrow(1, sensor, 1).fill_(0.4);
        let (up, down) = (mu.unsqueeze(0) + &d, mu.unsqueeze(0) - &d);
        for norm in [ErrorNorm::SquaredL2, ErrorNorm::L1] {
            let lrp = Lrp::new(norm, deviation(1e-9, RootPoint::Baseline)).unwrap();
            let reference = Root::Tensor(mu.shallow_clone());
            let r_up = lrp
                .explain_deviation(&ae, &up, &reference)
                .unwrap()
                .relevance;
            let r_down = lrp
                .explain_deviation(&ae, &down, &reference)
                .unwrap()
                .relevance;
            let diff = max_abs_diff(&r_up, &r_down);
            assert!(diff < 1e-12, "sensor {sensor}, {norm:?}: {diff}");
            let best = to_vec(&r_down.argmax(1, false))[0] as i64;
            assert_eq!(best, sensor, "{norm:?}: the dropped sensor must rank first");
        }
        let eps = Lrp::new(ErrorNorm::SquaredL2, Preset::Epsilon { eps: 1e-9 }).unwrap();
        let share = |x: &Tensor| {
            let r = eps.explain(&ae, x).unwrap().relevance;
            to_vec(&(r.get(0).get(sensor) / r.abs().sum(Kind::Double)))[0]
        };
        old_share.push((share(&up), share(&down)));
    }
    // Paper 2's rules are not symmetric: the fault's share of |relevance| moves with its sign.
    let asym = old_share
        .iter()
        .map(|(u, d)| (u - d).abs())
        .fold(0.0, f64::max);
    assert!(asym > 0.05, "ε-LRP shares (rise, drop): {old_share:?}");
}

/// Through `Attribution`, a baseline root takes the request's baseline (a `[F]` mean is one
/// reference row for all samples) and a reconstruction root reports two forward passes.
#[test]
fn attribution_uses_the_request_baseline_or_the_reconstruction() {
    let mut g = rng(9);
    let ae = Stack {
        layers: relu_net(&mut g, &[5, 4, 5], true, Activation::Tanh),
        shape: vec![5],
    };
    let x = uniform(&mut g, &[3, 5], 0.0, 1.0);
    let mean = uniform(&mut g, &[5], 0.3, 0.6);
    let lrp = Lrp::new(ErrorNorm::L1, deviation(1e-3, RootPoint::Baseline)).unwrap();
    let a = Attribution::<Stack>::attribute(
        &lrp,
        &ae,
        &x,
        &Request::with_baseline(Baseline::Tensor(mean.shallow_clone())),
    )
    .unwrap();
    let e = lrp.explain_deviation(&ae, &x, &Root::Tensor(mean)).unwrap();
    assert!(a.scores.equal(&e.relevance));
    assert!(a.delta.unwrap().equal(&e.delta().unwrap()));
    assert_eq!((a.forward_evals, a.backward_evals), (1, 1));
    let zero = Attribution::<Stack>::attribute(&lrp, &ae, &x, &Request::default()).unwrap();
    let e0 = lrp
        .explain_deviation(
            &ae,
            &x,
            &Root::Tensor(Tensor::zeros([1, 5], (Kind::Double, Device::Cpu))),
        )
        .unwrap();
    assert!(zero.scores.equal(&e0.relevance));
    let recon = Lrp::new(ErrorNorm::L1, deviation(1e-3, RootPoint::Reconstruction)).unwrap();
    let a = Attribution::<Stack>::attribute(&recon, &ae, &x, &Request::default()).unwrap();
    let e = recon
        .explain_deviation(&ae, &x, &Root::Reconstruction)
        .unwrap();
    assert!(a.scores.equal(&e.relevance));
    assert!(e.reference.equal(&e.reconstruction));
    assert_eq!(a.forward_evals, 2);
}

#[test]
fn bad_input_is_named() {
    let mut g = rng(10);
    let ae = Stack {
        layers: relu_net(&mut g, &[4, 3, 4], true, Activation::Relu),
        shape: vec![4],
    };
    let x = uniform(&mut g, &[2, 4], 0.0, 1.0);
    let lrp = Lrp::new(ErrorNorm::SquaredL2, deviation(1e-3, RootPoint::Baseline)).unwrap();
    let err = |r: Tensor| {
        lrp.explain_deviation(&ae, &x, &Root::Tensor(r))
            .unwrap_err()
            .to_string()
    };
    let e = err(Tensor::zeros([3, 4], (Kind::Double, Device::Cpu)));
    assert!(
        e.contains("lrp reference") && e.contains("[3, 4]") && e.contains("[2, 4]"),
        "{e}"
    );
    let e = err(Tensor::zeros([5], (Kind::Double, Device::Cpu)));
    assert!(
        e.contains("[5]") && e.contains("broadcasts to one sample [4]"),
        "{e}"
    );
    let e = err(Tensor::zeros([2, 1, 4], (Kind::Double, Device::Cpu)));
    assert!(e.contains("[2, 1, 4]"), "{e}");
    let e = err(t(&[0.0, 1.0, f64::NAN, 0.0], &[4]));
    assert!(e.contains("non-finite value at flat index 2"), "{e}");
    let e = err(Tensor::zeros([4], (Kind::Int64, Device::Cpu)));
    assert!(e.contains("Int64"), "{e}");
    // A finite reference whose error overflows: the relevance is refused, not ranked.
    let e = err(Tensor::full([4], 1e200, (Kind::Double, Device::Cpu)));
    assert!(
        e.contains("lrp deviation relevance: non-finite value"),
        "{e}"
    );
    // A deviation preset does not explain e(x) itself.
    let e = lrp.explain(&ae, &x).unwrap_err().to_string();
    assert!(e.contains("explain_deviation"), "{e}");
    // A rule without a deviation form, named with its layer.
    let mixed = Lrp::with_composite(
        ErrorNorm::SquaredL2,
        ByIndex::over(delta_map(1e-3)).set(2, ZPlus::new()),
    )
    .with_root(RootPoint::Reconstruction);
    let e = mixed
        .explain_deviation(&ae, &x, &Root::Reconstruction)
        .unwrap_err();
    assert!(
        matches!(e, LrpError::NoDeviationRule { layer: Some(2), .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("`z+`") && e.to_string().contains("(layer 2)"),
        "{e}"
    );
    // Δ-ε in an ordinary sweep.
    let e = Lrp::with_composite(ErrorNorm::SquaredL2, delta_map(1e-3))
        .explain(&ae, &x)
        .unwrap_err();
    assert!(
        e.to_string().contains("delta-epsilon(0.001)") && e.to_string().contains("(layer 0)"),
        "{e}"
    );
    assert!(DeltaEpsilon::new(f64::NAN).is_err());
    let rule: Arc<dyn Rule> = Arc::new(ZPlus::new());
    assert!(!rule.supports_deviation(ae_models::LayerKind::Linear));
    // The LSTM rule checks its reference's shape.
    let w = lstm_weights(&mut g, 3, 4, 0.1);
    let xs = uniform(&mut g, &[2, 5, 3], 0.0, 1.0);
    let r = Tensor::zeros([2, 5, 4], (Kind::Double, Device::Cpu));
    let e = lstm_deviation_relevance(&w, &xs, &xs.narrow(1, 0, 4), &r, 1e-3).unwrap_err();
    assert!(e.to_string().contains("[2 or 1, 5, 3]"), "{e}");
    // Through Attribution, the request's baseline is checked.
    let bad = Request::with_baseline(Baseline::Tensor(Tensor::zeros(
        [7],
        (Kind::Double, Device::Cpu),
    )));
    assert!(Attribution::<Stack>::attribute(&lrp, &ae, &x, &bad).is_err());
}

/// A whole LSTM autoencoder with its biases (f32): relevance sums to `e(x) − e(x₀)` from
/// the mean and from the reconstruction, up to f32 rounding and a tiny ε.
#[test]
fn a_biased_lstm_autoencoder_conserves_the_error_deviation() {
    let ae =
        ae_models::LstmAe::seeded(&ae_models::LstmAeConfig::new(4, 9, 6), Device::Cpu, 11).unwrap();
    let mut g = rng(12);
    let x = uniform(&mut g, &[3, 9, 4], 0.0, 1.0).to_kind(Kind::Float);
    let mean = uniform(&mut g, &[4], 0.3, 0.7).to_kind(Kind::Float);
    for (root, reference) in [
        (RootPoint::Baseline, Root::Tensor(mean)),
        (RootPoint::Reconstruction, Root::Reconstruction),
    ] {
        for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
            let e = Lrp::new(norm, deviation(1e-7, root))
                .unwrap()
                .explain_deviation(&ae, &x, &reference)
                .unwrap();
            let gap = to_vec(&e.delta().unwrap());
            let scale = sum(&e.relevance.abs());
            for (g, s) in gap.iter().zip(&scale) {
                assert!(g.abs() < 1e-4 * s, "{root:?} {norm:?}: gap {g}, Σ|R| {s}");
            }
        }
    }
}
