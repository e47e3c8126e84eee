//! Every rule against a plain f64 reference written from its formula, loop by loop
//! (Zennit's `test_rules.py` pattern): dense layers directly, convolutions through their
//! equivalent dense (Toeplitz) matrix, which also checks the transposed convolution.

mod common;

use ae_models::Layer;
use common::{conv, linear, max_abs_diff, rng, uniform};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Flat, Gamma, WSquare, ZBox, ZPlus};
use ndarray::{Array1, Array2};
use tch::Tensor;

const STAB: f64 = 1e-6;

/// A rule as the reference knows it.
#[derive(Debug, Clone, Copy)]
enum Ref {
    Epsilon(f64),
    ZPlus,
    WSquare,
    Flat,
    ZBox(f64, f64),
    Gamma(f64),
}

fn stab(z: f64, eps: f64) -> f64 {
    if z >= 0.0 {
        z + eps
    } else {
        z - eps
    }
}

fn pos(v: f64) -> f64 {
    v.max(0.0)
}

fn neg(v: f64) -> f64 {
    v.min(0.0)
}

/// `R_in` of one sample for `z = W a + b`, `conn` marking which weights exist (all for a
/// dense layer; the kernel footprint for a convolution's Toeplitz matrix).
fn reference(
    rule: Ref,
    a: &Array1<f64>,
    w: &Array2<f64>,
    b: &Array1<f64>,
    conn: &Array2<f64>,
    r: &Array1<f64>,
) -> Array1<f64> {
    let (o, n) = w.dim();
    let mut out = Array1::zeros(n);
    for j in 0..o {
        // contribution(i) and the denominator of output j
        let contrib: Vec<f64>;
        let z: f64;
        let eps;
        match rule {
            Ref::Epsilon(e) => {
                contrib = (0..n).map(|i| a[i] * w[[j, i]]).collect();
                z = contrib.iter().sum::<f64>() + b[j];
                eps = e;
            }
            Ref::ZPlus => {
                contrib = (0..n)
                    .map(|i| pos(a[i]) * pos(w[[j, i]]) + neg(a[i]) * neg(w[[j, i]]))
                    .collect();
                z = contrib.iter().sum::<f64>() + pos(b[j]);
                eps = STAB;
            }
            Ref::WSquare => {
                contrib = (0..n).map(|i| w[[j, i]] * w[[j, i]]).collect();
                z = contrib.iter().sum::<f64>() + b[j] * b[j];
                eps = STAB;
            }
            Ref::Flat => {
                contrib = (0..n).map(|i| conn[[j, i]]).collect();
                z = contrib.iter().sum::<f64>();
                eps = STAB;
            }
            Ref::ZBox(l, h) => {
                contrib = (0..n)
                    .map(|i| a[i] * w[[j, i]] - l * pos(w[[j, i]]) - h * neg(w[[j, i]]))
                    .collect();
                z = contrib.iter().sum::<f64>();
                eps = STAB;
            }
            Ref::Gamma(g) => {
                let plain: f64 = (0..n).map(|i| a[i] * w[[j, i]]).sum::<f64>() + b[j];
                let up = |x: f64| x + g * pos(x);
                let down = |x: f64| x + g * neg(x);
                if plain > 0.0 {
                    contrib = (0..n)
                        .map(|i| pos(a[i]) * up(w[[j, i]]) + neg(a[i]) * down(w[[j, i]]))
                        .collect();
                    z = contrib.iter().sum::<f64>() + up(b[j]);
                } else if plain < 0.0 {
                    contrib = (0..n)
                        .map(|i| pos(a[i]) * down(w[[j, i]]) + neg(a[i]) * up(w[[j, i]]))
                        .collect();
                    z = contrib.iter().sum::<f64>() + down(b[j]);
                } else {
                    continue;
                }
                eps = STAB;
            }
        }
        let s = r[j] / stab(z, eps);
        for i in 0..n {
            out[i] += contrib[i] * s;
        }
    }
    out
}

fn rule_of(r: Ref) -> Box<dyn Rule> {
    match r {
        Ref::Epsilon(e) => Box::new(Epsilon::new(e).unwrap()),
        Ref::ZPlus => Box::new(ZPlus::new()),
        Ref::WSquare => Box::new(WSquare::new()),
        Ref::Flat => Box::new(Flat::new()),
        Ref::ZBox(l, h) => Box::new(ZBox::new(l, h).unwrap()),
        Ref::Gamma(g) => Box::new(Gamma::new(g).unwrap()),
    }
}

const RULES: [Ref; 7] = [
    Ref::Epsilon(0.0),
    Ref::Epsilon(0.1),
    Ref::ZPlus,
    Ref::WSquare,
    Ref::Flat,
    Ref::ZBox(-1.0, 1.5),
    Ref::Gamma(0.25),
];

fn arr1(t: &Tensor) -> Array1<f64> {
    Array1::from(common::to_vec(t))
}

fn arr2(t: &Tensor) -> Array2<f64> {
    let s = t.size();
    Array2::from_shape_vec((s[0] as usize, s[1] as usize), common::to_vec(t)).unwrap()
}

#[test]
fn dense_rules_match_the_reference_on_signed_inputs_with_bias_and_time_steps() {
    let mut g = rng(11);
    // Signed inputs, and non-negative ones (where z⁺ skips its vanishing negative term).
    for (case, bias, lo) in [
        (0, true, -1.0),
        (1, false, -1.0),
        (2, true, -1.0),
        (3, false, 0.0),
        (4, true, 0.0),
    ] {
        let layer = linear(&mut g, 4, 5, bias);
        let Layer::Linear { weight, bias: b } = &layer else {
            unreachable!()
        };
        // [B, T, I]: the rules must act on the last dimension, like the layer.
        let x = uniform(&mut g, &[3, 2, 5], lo, 1.5);
        let r = uniform(&mut g, &[3, 2, 4], -0.2, 1.0);
        let (w, bb) = (
            arr2(weight),
            b.as_ref().map(arr1).unwrap_or_else(|| Array1::zeros(4)),
        );
        let conn = Array2::ones((4, 5));
        for rule in RULES {
            let got = rule_of(rule).propagate(&layer, &x, &r).unwrap();
            assert_eq!(got.size(), x.size());
            let mut want = Vec::new();
            for bi in 0..3 {
                for ti in 0..2 {
                    let a = arr1(&x.get(bi).get(ti));
                    let rr = arr1(&r.get(bi).get(ti));
                    want.extend(reference(rule, &a, &w, &bb, &conn, &rr));
                }
            }
            let want = Tensor::from_slice(&want).reshape([3, 2, 5]);
            let d = max_abs_diff(&got, &want);
            assert!(d < 1e-9, "case {case}, {rule:?}: max diff {d}");
        }
    }
}

/// The dense matrix of a convolution on one `[C, H, W]` sample, its bias per output cell
/// and its footprint.
fn toeplitz(
    layer: &Layer,
    c: i64,
    h: i64,
    w: i64,
) -> (Array2<f64>, Array1<f64>, Array2<f64>, [i64; 3]) {
    let Layer::Conv2d {
        weight,
        bias,
        stride,
        padding,
        ..
    } = layer
    else {
        unreachable!()
    };
    let k = weight.size();
    let (o, kh, kw) = (k[0], k[2], k[3]);
    let ho = (h + 2 * padding[0] - kh) / stride[0] + 1;
    let wo = (w + 2 * padding[1] - kw) / stride[1] + 1;
    let n_out = (o * ho * wo) as usize;
    let n_in = (c * h * w) as usize;
    let mut m = Array2::zeros((n_out, n_in));
    let mut conn = Array2::zeros((n_out, n_in));
    let mut b = Array1::zeros(n_out);
    for oc in 0..o {
        for y in 0..ho {
            for x in 0..wo {
                let row = ((oc * ho + y) * wo + x) as usize;
                b[row] = bias.as_ref().map_or(0.0, |bb| bb.double_value(&[oc]));
                for ic in 0..c {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let yy = y * stride[0] - padding[0] + ky;
                            let xx = x * stride[1] - padding[1] + kx;
                            if (0..h).contains(&yy) && (0..w).contains(&xx) {
                                let col = ((ic * h + yy) * w + xx) as usize;
                                m[[row, col]] = weight.double_value(&[oc, ic, ky, kx]);
                                conn[[row, col]] = 1.0;
                            }
                        }
                    }
                }
            }
        }
    }
    (m, b, conn, [o, ho, wo])
}

#[test]
fn conv_rules_match_the_reference_through_the_toeplitz_matrix() {
    let mut g = rng(12);
    // Odd sizes, stride 2 with padding 1 (output_padding needed) and stride 1 without.
    for (stride, pad, h, w) in [(2, 1, 7, 8), (1, 0, 5, 5), (2, 0, 6, 7)] {
        let layer = conv(&mut g, 3, 2, 3, stride, pad, true);
        let x = uniform(&mut g, &[2, 2, h, w], -0.5, 1.0);
        let (m, b, conn, out) = toeplitz(&layer, 2, h, w);
        let r = uniform(&mut g, &[2, out[0], out[1], out[2]], 0.0, 1.0);
        for rule in RULES {
            let got = rule_of(rule).propagate(&layer, &x, &r).unwrap();
            let mut want = Vec::new();
            for bi in 0..2 {
                let a = arr1(&x.get(bi).flatten(0, -1));
                let rr = arr1(&r.get(bi).flatten(0, -1));
                want.extend(reference(rule, &a, &m, &b, &conn, &rr));
            }
            let want = Tensor::from_slice(&want).reshape(x.size());
            let d = max_abs_diff(&got, &want);
            assert!(
                d < 1e-9,
                "stride {stride} pad {pad} {h}x{w}, {rule:?}: max diff {d}"
            );
        }
    }
}

#[test]
fn zbox_with_per_channel_bounds_matches_scalar_bounds_per_channel() {
    use lrp_ae::Bound;
    let mut g = rng(13);
    let layer = conv(&mut g, 2, 2, 3, 1, 1, false);
    let x = uniform(&mut g, &[1, 2, 4, 4], 0.0, 1.0);
    let r = uniform(&mut g, &[1, 2, 4, 4], 0.0, 1.0);
    let per_channel = ZBox::with_bounds(
        Bound::new(vec![1, 2], vec![0.0, -1.0]).unwrap(),
        Bound::new(vec![1, 2], vec![1.0, 2.0]).unwrap(),
    )
    .unwrap();
    let got = per_channel.propagate(&layer, &x, &r).unwrap();
    // Channel-wise bounds equal a full-size bound tensor.
    let mut low = vec![0.0; 32];
    let mut high = vec![1.0; 32];
    for i in 16..32 {
        low[i] = -1.0;
        high[i] = 2.0;
    }
    let full = ZBox::with_bounds(
        Bound::new(vec![1, 2, 4, 4], low).unwrap(),
        Bound::new(vec![1, 2, 4, 4], high).unwrap(),
    )
    .unwrap();
    let want = full.propagate(&layer, &x, &r).unwrap();
    assert!(max_abs_diff(&got, &want) < 1e-12);
    let scalar = ZBox::new(0.0, 1.0)
        .unwrap()
        .propagate(&layer, &x, &r)
        .unwrap();
    assert!(
        max_abs_diff(&got, &scalar) > 1e-3,
        "channel 1's bounds must matter"
    );
}
