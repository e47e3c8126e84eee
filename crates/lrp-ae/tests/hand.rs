//! Hand-computed cases on a 2-layer ReLU autoencoder, every number derived in the comments.
//!
//! ```text
//! x = [1, 1/4]      W1 = [[1, 2], [-1/2, 4]]      W2 = [[1, -2], [2, 1]]      no biases
//! h = relu(W1 x) = [3/2, 1/2]                     x̂ = W2 h = [1/2, 7/2]
//! L2 seed: R = (x − x̂)² / 2 = [1/8, 169/32]       e = 173/32 = 5.40625
//! L1 seed: R = |x − x̂| / 2  = [1/4, 13/8]         e = 15/8
//! ```

mod common;

use std::sync::Arc;

use ae_models::{Activation, ErrorNorm, Layer};
use common::{t, to_vec, Stack};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus};
use lrp_ae::{FirstLayer, LayerClass, LayerMap, Lrp};

fn ae() -> Stack {
    Stack {
        layers: vec![
            Layer::Linear {
                weight: t(&[1.0, 2.0, -0.5, 4.0], &[2, 2]),
                bias: None,
            },
            Layer::Activation(Activation::Relu),
            Layer::Linear {
                weight: t(&[1.0, -2.0, 2.0, 1.0], &[2, 2]),
                bias: None,
            },
        ],
        shape: vec![2],
    }
}

fn x() -> tch::Tensor {
    t(&[1.0, 0.25], &[1, 2])
}

fn close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= rel * w.abs().max(1.0),
            "{what}: got {got:?}, want {want:?}"
        );
    }
}

/// `first` on layer 0, `second` on layer 2, pass on the ReLU.
fn run(first: impl Rule + 'static, second: impl Rule + 'static) -> lrp_ae::Explanation {
    let rest = LayerMap::new()
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Linear, second);
    let c = FirstLayer::new(LayerMap::new().on(LayerClass::Linear, first), rest);
    Lrp::with_composite(ErrorNorm::SquaredL2, c)
        .explain(&ae(), &x())
        .unwrap()
}

#[test]
fn the_seeds_are_the_per_cell_errors_over_m() {
    for (seed, r, e) in [
        (
            ErrorNorm::SquaredL2,
            [1.0 / 8.0, 169.0 / 32.0],
            173.0 / 32.0,
        ),
        (ErrorNorm::L1, [1.0 / 4.0, 13.0 / 8.0], 15.0 / 8.0),
    ] {
        let out = Lrp::with_composite(seed, LayerMap::new().on(LayerClass::Any, Pass)).explain(
            &Stack {
                layers: vec![],
                shape: vec![2],
            },
            &x(),
        );
        // An identity "autoencoder" reconstructs perfectly: zero relevance.
        close(
            &to_vec(&out.unwrap().output_relevance),
            &[0.0, 0.0],
            0.0,
            "identity",
        );
        let map = LayerMap::new()
            .on(LayerClass::Activation, Pass)
            .on(LayerClass::Linear, ZPlus::new());
        let lrp = Lrp::with_composite(seed, map);
        let got = lrp.explain(&ae(), &x()).unwrap();
        close(&to_vec(&got.reconstruction), &[0.5, 3.5], 0.0, "x̂");
        close(&to_vec(&got.output_relevance), &r, 1e-15, "seed");
        close(&to_vec(&got.error), &[e], 1e-15, "error");
    }
}

// Layer 2 (input h = [3/2, 1/2], R = [1/8, 169/32]); rows are outputs j, columns inputs i.

#[test]
fn z_plus_on_the_hidden_layer() {
    // Row 1: positive contributions [3/2·1, 0] (w = −2 drops out), z⁺ = 3/2 → [1/8, 0].
    // Row 2: [3, 1/2], z⁺ = 7/2 → 169/32 · [6/7, 1/7] = [507/112, 169/224].
    let e = run(ZPlus::new(), ZPlus::new());
    let r_h = [1.0 / 8.0 + 507.0 / 112.0, 169.0 / 224.0];
    close(
        &e.trace.layers[2].input_sums,
        &[r_h[0] + r_h[1]],
        1e-5,
        "sum",
    );
    let direct = ZPlus::new().propagate(
        &ae().layers[2],
        &t(&[1.5, 0.5], &[1, 2]),
        &e.output_relevance,
    );
    close(&to_vec(&direct.unwrap()), &r_h, 1e-5, "z+ layer 2");
}

#[test]
fn lrp_zero_gamma_wsquare_and_flat_on_the_hidden_layer() {
    let h = t(&[1.5, 0.5], &[1, 2]);
    let r = t(&[1.0 / 8.0, 169.0 / 32.0], &[1, 2]);
    let layer = &ae().layers[2];
    let cases: Vec<(Box<dyn Rule>, [f64; 2])> = vec![
        // ε = 0: row 1 contributions [3/2, −1], z = 1/2 → 1/8 · [3, −2]; row 2 as for z⁺.
        (
            Box::new(Epsilon::new(0.0).unwrap()),
            [3.0 / 8.0 + 507.0 / 112.0, 169.0 / 224.0 - 0.25],
        ),
        // γ = 1/2, z > 0 in both rows, so weights w + γw⁺: row 1 [9/4, −1], z = 5/4 →
        // 1/10 · [9/4, −1]; row 2 [9/2, 3/4], z = 21/4: same shares as z⁺.
        (
            Box::new(Gamma::new(0.5).unwrap()),
            [0.225 + 507.0 / 112.0, 169.0 / 224.0 - 0.1],
        ),
        // w²: row 1 [1, 4] / 5, row 2 [4, 1] / 5.
        (
            Box::new(WSquare::new()),
            [0.025 + 169.0 / 32.0 * 0.8, 0.1 + 169.0 / 32.0 * 0.2],
        ),
        // flat: halves.
        (Box::new(Flat::new()), [173.0 / 64.0, 173.0 / 64.0]),
    ];
    for (rule, want) in cases {
        let got = rule.propagate(layer, &h, &r).unwrap();
        close(&to_vec(&got), &want, 1e-5, &rule.name());
    }
}

// Layer 1 (input x = [1, 1/4], W1 = [[1, 2], [−1/2, 4]]) receives, through the ReLU,
// R = [521/112, 169/224] from z⁺ on layer 2.

const R1: f64 = 521.0 / 112.0;
const R2: f64 = 169.0 / 224.0;

#[test]
fn first_layer_rules_with_z_plus_above() {
    let cases: Vec<(Box<dyn Rule>, [f64; 2], bool)> = vec![
        // w²: row 1 [1, 4] / 5, row 2 [1/4, 16] / (65/4).
        (
            Box::new(WSquare::new()),
            [R1 / 5.0 + R2 * 0.25 / 16.25, R1 * 0.8 + R2 * 16.0 / 16.25],
            true,
        ),
        // z-box on [−1, 2]: row 1 (w ≥ 0) [1 + 1, 1/2 + 2], z = 9/2; row 2
        // [−1/2 − 2·(−1/2), 1 + 4] = [1/2, 5], z = 11/2.
        (
            Box::new(ZBox::new(-1.0, 2.0).unwrap()),
            [
                R1 * 2.0 / 4.5 + R2 * 0.5 / 5.5,
                R1 * 2.5 / 4.5 + R2 * 5.0 / 5.5,
            ],
            true,
        ),
        // flat: halves of each row.
        (
            Box::new(Flat::new()),
            [(R1 + R2) / 2.0, (R1 + R2) / 2.0],
            true,
        ),
        // z⁺: row 1 [1, 1/2] / (3/2); row 2 only [0, 1] (−1/2 on a positive input drops).
        (
            Box::new(ZPlus::new()),
            [R1 * 2.0 / 3.0, R1 / 3.0 + R2],
            true,
        ),
        // ε = 1/2: row 1 z = 3/2 → /2; row 2 z = 1/2 → /1, contributions [−1/2, 1].
        // Not conservative: ε absorbs a quarter of R1 and half of R2 (ε / (z + ε)), so the
        // input keeps 3/4·R1 + 1/2·R2 = 3.866071.
        (
            Box::new(Epsilon::new(0.5).unwrap()),
            [R1 / 2.0 - R2 * 0.5, R1 / 4.0 + R2],
            false,
        ),
    ];
    for (rule, want, conserves) in cases {
        let name = rule.name();
        let rest = LayerMap::new()
            .on(LayerClass::Activation, Pass)
            .on(LayerClass::Linear, ZPlus::new());
        let c = FirstLayer::new(
            LayerMap::new().on_arc(LayerClass::Linear, None, Arc::from(rule)),
            rest,
        );
        let e = Lrp::with_composite(ErrorNorm::SquaredL2, c)
            .explain(&ae(), &x())
            .unwrap();
        close(&to_vec(&e.relevance), &want, 1e-5, &name);
        let total: f64 = want.iter().sum();
        close(&[e.trace.layers[0].input_sums[0]], &[total], 1e-5, &name);
        if conserves {
            close(&[total], &[173.0 / 32.0], 1e-12, &name);
        } else {
            assert!(
                (total - 3.866_071_428_571_4).abs() < 1e-9,
                "{name}: {total}"
            );
        }
    }
}
