//! The LSTM rule: against a plain-Rust reference of Arras et al.'s signal-take-all rule
//! that also books every absorbed share, conservation within that absorption, and a
//! planted anomaly on a trained LSTM autoencoder.

mod common;

use ae_models::layer::forward_recording;
use ae_models::train::{train, TrainConfig};
use ae_models::{
    ErrorNorm, ExplainedError, Layer, LayerModel, LstmAe, LstmAeConfig, LstmWeights, Trainable,
};
use common::{lstm_weights, nested, rng, run_cell, stab, to_vec, uniform, Stack};
use lrp_ae::lstm::lstm_relevance;
use lrp_ae::rules::{Epsilon, Pass};
use lrp_ae::{LayerClass, LayerMap, Lrp, Preset, Root};
use rand::Rng;
use tch::{Device, Kind, Tensor};

/// One sample `x [T][I]`, relevance `r [T][H]`: returns `(R_x [T][I], absorbed)`, where
/// `absorbed` is the relevance the cell splits and the candidate maps leave behind.
fn reference(
    w: &[Vec<f64>; 4],
    i_sz: usize,
    h_sz: usize,
    x: &[Vec<f64>],
    r: &[Vec<f64>],
    eps: f64,
) -> (Vec<Vec<f64>>, f64) {
    let (w_ih, w_hh) = (&w[0], &w[1]);
    let t_len = x.len();
    let saved = run_cell(w, i_sz, h_sz, x);
    let mut r_x = vec![vec![0.0; i_sz]; t_len];
    let mut r_h = vec![0.0; h_sz];
    let mut r_c_next = vec![0.0; h_sz];
    let mut absorbed = 0.0;
    for t in (0..t_len).rev() {
        let (h_prev, c_prev, gi, gf, gg, _, c_t, _, z) = &saved[t];
        let zg = &z[2 * h_sz..3 * h_sz];
        let mut r_h_prev = vec![0.0; h_sz];
        let mut r_c_prev = vec![0.0; h_sz];
        for k in 0..h_sz {
            let r_c = r[t][k] + r_h[k] + r_c_next[k];
            let keep = gf[k] * c_prev[k] / stab(c_t[k], eps) * r_c;
            let new = gi[k] * gg[k] / stab(c_t[k], eps) * r_c;
            absorbed += r_c - keep - new;
            r_c_prev[k] = keep;
            // Candidate pre-activation z^g_k = Σ_i W_g[k,i] x_i + Σ_j U_g[k,j] h_j + b.
            let q = new / stab(zg[k], eps);
            let mut passed = 0.0;
            for i in 0..i_sz {
                let v = x[t][i] * w_ih[(2 * h_sz + k) * i_sz + i] * q;
                r_x[t][i] += v;
                passed += v;
            }
            for j in 0..h_sz {
                let v = h_prev[j] * w_hh[(2 * h_sz + k) * h_sz + j] * q;
                r_h_prev[j] += v;
                passed += v;
            }
            absorbed += new - passed;
        }
        r_h = r_h_prev;
        r_c_next = r_c_prev;
    }
    (r_x, absorbed)
}

#[test]
fn the_lstm_rule_matches_the_reference_and_books_every_absorbed_share() {
    let mut g = rng(31);
    let (i_sz, h_sz, t_len) = (3i64, 5i64, 6i64);
    for (bias, eps) in [(0.5, 1e-3), (0.0, 0.1), (0.3, 0.0)] {
        let w = lstm_weights(&mut g, i_sz, h_sz, bias);
        let x = uniform(&mut g, &[2, t_len, i_sz], -1.0, 1.0);
        let r = uniform(&mut g, &[2, t_len, h_sz], -0.2, 1.0);
        let got = lstm_relevance(&w, &x, &r, eps).unwrap();
        // The layer as libtorch runs it must be what the rule re-runs step by step.
        let fused = Layer::Lstm(w.clone()).forward(&x).unwrap();
        assert_eq!(fused.size(), r.size());
        let flat = [
            to_vec(&w.w_ih),
            to_vec(&w.w_hh),
            to_vec(&w.b_ih),
            to_vec(&w.b_hh),
        ];
        for b in 0..2 {
            let (want, absorbed) = reference(
                &flat,
                i_sz as usize,
                h_sz as usize,
                &nested(&x.get(b)),
                &nested(&r.get(b)),
                eps,
            );
            let want = Tensor::from_slice(&want.concat()).reshape([t_len, i_sz]);
            let d = common::max_abs_diff(&got.get(b), &want);
            assert!(d < 1e-9, "bias {bias}, eps {eps}: max diff {d}");
            let (r_in, r_out) = (
                want.sum(Kind::Double).double_value(&[]),
                r.get(b).sum(Kind::Double).double_value(&[]),
            );
            assert!(
                (r_in + absorbed - r_out).abs() < 1e-9,
                "books must balance: {r_in} + {absorbed} vs {r_out}"
            );
        }
    }
}

#[test]
fn without_biases_an_lstm_layer_conserves_up_to_epsilon() {
    let mut g = rng(32);
    for trial in 0..5 {
        let w = lstm_weights(&mut g, 4, 6, 0.0);
        let x = uniform(&mut g, &[3, 8, 4], -1.0, 1.0);
        let r = uniform(&mut g, &[3, 8, 6], 0.0, 1.0);
        for eps in [1e-9, 1e-3] {
            let got = lstm_relevance(&w, &x, &r, eps).unwrap();
            let sum =
                |t: &Tensor| to_vec(&t.sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double));
            for (a, b) in sum(&got).iter().zip(sum(&r)) {
                let rel = (a - b).abs() / b;
                // ε-absorption: each split loses ε / |stab(z)| of what passes through it; with
                // activations of order 0.1–1 that is a few ε per step and path.
                assert!(
                    rel < 1e-6 + 400.0 * eps,
                    "trial {trial}, eps {eps}: {a} vs {b} (rel {rel:e})"
                );
            }
        }
    }
}

#[test]
fn a_bias_free_lstm_autoencoder_conserves_through_every_layer() {
    let ae = LstmAe::seeded(&LstmAeConfig::new(3, 7, 5), Device::Cpu, 5).unwrap();
    tch::no_grad(|| {
        for (name, p) in ae.parameters() {
            if name.contains("bias") {
                let _ = p.shallow_clone().zero_();
            }
        }
    });
    let mut g = rng(33);
    let x = uniform(&mut g, &[2, 7, 3], 0.0, 1.0).to_kind(Kind::Float);
    let map = LayerMap::new()
        .on(LayerClass::Routing, Pass)
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Lstm, Epsilon::new(1e-7).unwrap())
        .on(LayerClass::Linear, Epsilon::new(1e-7).unwrap());
    let e = Lrp::with_composite(ErrorNorm::L1, map)
        .explain(&ae, &x)
        .unwrap();
    let kinds: Vec<_> = e.trace.layers.iter().map(|l| l.kind).collect();
    use ae_models::LayerKind::*;
    assert_eq!(
        kinds,
        vec![Lstm, Lstm, LastStep, RepeatSteps, Lstm, Lstm, Linear]
    );
    let gap = e.trace.max_relative_gap(1e-12);
    assert!(gap < 1e-3, "f32 model, ε = 1e-7: gap {gap}, {:?}", e.trace);
    // With its biases the same model absorbs relevance, and the trace shows where.
    let biased = LstmAe::seeded(&LstmAeConfig::new(3, 7, 5), Device::Cpu, 5).unwrap();
    let e2 = Lrp::new(ErrorNorm::L1, Preset::LstmDefault)
        .unwrap()
        .explain(&biased, &x)
        .unwrap();
    assert!(e2.trace.max_relative_gap(1e-12) > gap);
}

/// Five sensors driven by one periodic signal, each with its own phase (a machine whose
/// sensors move together), plus a little noise; values in [0.1, 0.9].
fn normal_series(g: &mut rand_chacha::ChaCha8Rng, len: usize, f: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(len * f);
    for t in 0..len {
        for k in 0..f {
            let s = 0.5 + 0.35 * ((t as f64) * std::f64::consts::TAU / 16.0 + 0.9 * k as f64).sin();
            v.push((s + g.gen_range(-0.02..0.02)) as f32);
        }
    }
    v
}

/// Paper 1's setting in small: an LSTM autoencoder (hidden size 64, as in paper 1, one
/// layer each side) trained on normal windows; then one sensor at a time gets a level shift
/// of +0.4 over the second half of a fresh window. LRP of the L2 error (ε = 1e-3 through the
/// cells and the read-out, `lstm-default`) must rank that sensor first every time.
///
/// Measured while writing this test (4 model seeds × 20 cases): L2 seed 20/20 on every
/// seed; L1 seed 14–18/20; with hidden size 16 instead of 64 only 4–10/20 (chance: 4/20),
/// and a downward shift is not localized at all by these rules (relevance follows the signal
/// present in the input); deviation LRP from the reconstruction finds it (checked here too;
/// docs/lrp.md §10). The residual ranks it first 20/20 in every setting.
#[test]
fn a_planted_sensor_ranks_first_on_a_trained_lstm_autoencoder() {
    if !pinned_kernels::here() {
        return;
    }
    tch::set_num_threads(1);
    let (f, window) = (5i64, 10i64);
    let mut g = rng(35);
    let series = normal_series(&mut g, 400, f as usize);
    let series = Tensor::from_slice(&series).reshape([400, f]);
    let starts: Vec<i64> = (0..400 - window).step_by(2).collect();
    let windows = Tensor::stack(
        &starts
            .iter()
            .map(|&s| series.narrow(0, s, window))
            .collect::<Vec<_>>(),
        0,
    );
    let cfg = LstmAeConfig {
        encoder_hidden: vec![64],
        decoder_hidden: vec![64],
        ..LstmAeConfig::new(f, window, 64)
    };
    let ae = LstmAe::seeded(&cfg, Device::Cpu, 8).unwrap();
    let tc = TrainConfig {
        epochs: 150,
        batch_size: 32,
        lr: 5e-3,
        val_fraction: 0.0,
        patience: None,
        loss: ErrorNorm::L1,
        quiet: true,
        ..TrainConfig::default()
    };
    let summary = train(&ae, &windows, &tc).unwrap();
    let fresh = normal_series(&mut g, 60, f as usize);
    let fresh = Tensor::from_slice(&fresh).reshape([60, f]);
    let mut hits = [0usize; 2];
    let mut total = 0;
    for s in [0i64, 17, 33, 48] {
        let w = fresh.narrow(0, s, window);
        let clean = ExplainedError::new(ErrorNorm::L1)
            .sample_errors(&w.unsqueeze(0), &ae.forward(&w.unsqueeze(0)).unwrap());
        let clean = clean.unwrap().double_value(&[0]);
        for sensor in 0..f {
            let bump = Tensor::zeros([window, f], (Kind::Float, Device::Cpu));
            let _ = bump
                .narrow(0, window / 2, window / 2)
                .narrow(1, sensor, 1)
                .fill_(0.4);
            let x = (&w + bump).unsqueeze(0);
            total += 1;
            for (k, seed) in [ErrorNorm::SquaredL2, ErrorNorm::L1]
                .into_iter()
                .enumerate()
            {
                let e = Lrp::new(seed, Preset::LstmDefault)
                    .unwrap()
                    .explain(&ae, &x)
                    .unwrap();
                if seed == ErrorNorm::L1 {
                    let err = e.error.double_value(&[0]);
                    assert!(
                        err > 2.0 * clean,
                        "the fault must raise the error: {err} vs clean {clean}"
                    );
                }
                let per_sensor = to_vec(&e.relevance.sum_dim_intlist(
                    [0i64, 1].as_slice(),
                    false,
                    Kind::Double,
                ));
                let best = per_sensor
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .unwrap()
                    .0;
                if best == sensor as usize {
                    hits[k] += 1;
                } else {
                    eprintln!("{seed:?}, window {s}, sensor {sensor}: relevance per sensor {per_sensor:?}");
                }
            }
        }
    }
    eprintln!(
        "trained LstmAe (final loss {:.4}): planted sensor first in {}/{total} (L2 seed), {}/{total} (L1 seed)",
        summary.train_losses[summary.best_epoch - 1],
        hits[0],
        hits[1]
    );
    assert_eq!(
        hits[0], total,
        "L2: the corrupted sensor must rank first every time"
    );
    assert!(
        hits[1] >= 12,
        "L1: the corrupted sensor must rank first in most cases (chance is 4 of 20)"
    );

    // The same sensors shifted *down*: paper 2's rules follow the signal present and miss
    // them (0 of 20 when this was written); deviation LRP from the reconstruction sees a
    // drop as a rise (20 of 20, L1 and L2; docs/lrp.md §10).
    let first = |r: &Tensor| {
        let per_sensor = to_vec(&r.sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Double));
        per_sensor
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0
    };
    let (mut old, mut new) = (0usize, [0usize; 2]);
    for s in [0i64, 17, 33, 48] {
        let w = fresh.narrow(0, s, window);
        for sensor in 0..f {
            let bump = Tensor::zeros([window, f], (Kind::Float, Device::Cpu));
            let _ = bump
                .narrow(0, window / 2, window / 2)
                .narrow(1, sensor, 1)
                .fill_(-0.4);
            let x = (&w + bump).unsqueeze(0);
            let e = Lrp::new(ErrorNorm::SquaredL2, Preset::LstmDefault)
                .unwrap()
                .explain(&ae, &x)
                .unwrap();
            old += usize::from(first(&e.relevance) == sensor as usize);
            for (k, norm) in [ErrorNorm::SquaredL2, ErrorNorm::L1]
                .into_iter()
                .enumerate()
            {
                let dev = Lrp::new(norm, "deviation:reconstruction".parse().unwrap())
                    .unwrap()
                    .explain_deviation(&ae, &x, &Root::Reconstruction)
                    .unwrap();
                new[k] += usize::from(first(&dev.relevance) == sensor as usize);
            }
        }
    }
    eprintln!(
        "downward shifts: planted sensor first in {old}/20 (lstm-default, L2 seed), {}/20 and {}/20 (deviation from x̂, L2 and L1)",
        new[0], new[1]
    );
    assert!(
        new[0] >= 18 && new[1] >= 18,
        "deviation LRP must find dropped sensors: {new:?} of 20"
    );
}

/// The worked example of docs/lrp.md: one hidden unit, two steps, relevance 1 on `h_2`.
#[test]
fn the_worked_example_of_the_docs() {
    let col = |v: [f64; 4]| Tensor::from_slice(&v).reshape([4, 1]);
    let w = LstmWeights {
        w_ih: col([0.5, 1.0, 2.0, 1.0]),
        w_hh: col([0.0, 0.0, 1.0, 0.0]),
        b_ih: Tensor::from_slice(&[0.0, 0.0, 0.1, 0.0]),
        b_hh: Tensor::zeros([4], (Kind::Double, Device::Cpu)),
    };
    let x = Tensor::from_slice(&[1.0, 0.5]).reshape([1, 2, 1]);
    let r = Tensor::from_slice(&[0.0, 1.0]).reshape([1, 2, 1]);
    let got = to_vec(&lstm_relevance(&w, &x, &r, 1e-3).unwrap());
    assert!(
        (got[0] - 0.5476).abs() < 5e-5 && (got[1] - 0.3839).abs() < 5e-5,
        "{got:?}"
    );
    let h = to_vec(&Layer::Lstm(w).forward(&x).unwrap());
    assert!(
        (h[0] - 0.3947).abs() < 5e-5 && (h[1] - 0.4411).abs() < 5e-5,
        "{h:?}"
    );
}

#[test]
fn lstm_input_and_relevance_shapes_are_checked() {
    let mut g = rng(35);
    let w = lstm_weights(&mut g, 3, 4, 0.1);
    let x = uniform(&mut g, &[2, 5, 3], 0.0, 1.0);
    let e = lstm_relevance(
        &w,
        &x,
        &Tensor::zeros([2, 5, 3], (Kind::Double, Device::Cpu)),
        1e-3,
    )
    .unwrap_err();
    assert!(e.to_string().contains("[2, 5, 4]"), "{e}");
    let e = lstm_relevance(
        &w,
        &x.narrow(2, 0, 2),
        &Tensor::zeros([2, 5, 4], (Kind::Double, Device::Cpu)),
        1e-3,
    )
    .unwrap_err();
    assert!(e.to_string().contains("[B, T ≥ 1, 3]"), "{e}");
    let stack = Stack {
        layers: vec![Layer::Lstm(w)],
        shape: vec![5, 3],
    };
    let acts = forward_recording(stack.layers(), &x).unwrap();
    assert_eq!(acts[1].size(), vec![2, 5, 4]);
}
