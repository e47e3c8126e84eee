//! Helpers shared by the integration tests: a layer-list autoencoder, seeded tensors.

#![allow(dead_code)]

use std::path::PathBuf;

use ae_models::{Layer, LayerModel, LstmWeights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// An autoencoder that is just a layer list.
#[derive(Debug)]
pub struct Stack {
    pub layers: Vec<Layer>,
    pub shape: Vec<i64>,
}

impl LayerModel for Stack {
    fn sample_shape(&self) -> Vec<i64> {
        self.shape.clone()
    }
    fn layers(&self) -> &[Layer] {
        &self.layers
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// f64 tensor of `shape` with values uniform in `[lo, hi)`.
pub fn uniform(rng: &mut ChaCha8Rng, shape: &[i64], lo: f64, hi: f64) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.gen_range(lo..hi)).collect();
    Tensor::from_slice(&v).reshape(shape)
}

pub fn t(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).reshape(shape)
}

pub fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

pub fn linear(rng: &mut ChaCha8Rng, out: i64, inp: i64, bias: bool) -> Layer {
    Layer::Linear {
        weight: uniform(rng, &[out, inp], -1.0, 1.0),
        bias: bias.then(|| uniform(rng, &[out], -0.5, 0.5)),
    }
}

pub fn conv(
    rng: &mut ChaCha8Rng,
    out: i64,
    inp: i64,
    k: i64,
    stride: i64,
    pad: i64,
    bias: bool,
) -> Layer {
    Layer::Conv2d {
        weight: uniform(rng, &[out, inp, k, k], -1.0, 1.0),
        bias: bias.then(|| uniform(rng, &[out], -0.5, 0.5)),
        stride: [stride, stride],
        padding: [pad, pad],
        dilation: [1, 1],
        groups: 1,
    }
}

/// The shared data directory (`ANOMALY_XAI_DATA`, else `shared/data` beside an ancestor of
/// this crate), if present.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ANOMALY_XAI_DATA") {
        return Some(PathBuf::from(d));
    }
    let mut dir = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let candidate = d.parent().map(|p| p.join("shared").join("data"));
        if let Some(c) = candidate.filter(|c| c.is_dir()) {
            return Some(c);
        }
        dir = d.parent().map(PathBuf::from);
    }
    None
}

/// The logistic function, for plain-Rust reference implementations of the LSTM cell.
pub fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// `z + ε·sign(z)` (sign(0) = +1), the ε stabiliser of the reference implementations.
pub fn stab(z: f64, eps: f64) -> f64 {
    if z >= 0.0 {
        z + eps
    } else {
        z - eps
    }
}

/// Row-major matrix–vector product `m [rows, cols] · v` for rows `r0..r0+n`.
pub fn matvec(m: &[f64], cols: usize, r0: usize, n: usize, v: &[f64]) -> Vec<f64> {
    (0..n)
        .map(|r| (0..cols).map(|c| m[(r0 + r) * cols + c] * v[c]).sum())
        .collect()
}

/// Seeded LSTM weights for `i` inputs and `h` units, uniform in ±0.8; biases uniform in
/// ±`bias`, or zero when `bias` is 0.
pub fn lstm_weights(g: &mut ChaCha8Rng, i: i64, h: i64, bias: f64) -> LstmWeights {
    let b = |g: &mut ChaCha8Rng| {
        if bias > 0.0 {
            uniform(g, &[4 * h], -bias, bias)
        } else {
            Tensor::zeros([4 * h], (Kind::Double, Device::Cpu))
        }
    };
    LstmWeights {
        w_ih: uniform(g, &[4 * h, i], -0.8, 0.8),
        w_hh: uniform(g, &[4 * h, h], -0.8, 0.8),
        b_ih: b(g),
        b_hh: b(g),
    }
}

/// The rows of a 2-D tensor as vectors.
pub fn nested(t: &Tensor) -> Vec<Vec<f64>> {
    (0..t.size()[0]).map(|k| to_vec(&t.get(k))).collect()
}

/// One step of the cell: (h_prev, c_prev, i, f, g, o, c, h, z) with `z` all four gates'
/// pre-activations.
pub type StepState = (
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
);

/// The plain-Rust LSTM cell (PyTorch gate order i, f, g, o) over one sample `x [T][I]`
/// from zero states, with `w = [w_ih, w_hh, b_ih, b_hh]` flat row-major: every step's
/// state.
pub fn run_cell(w: &[Vec<f64>; 4], i_sz: usize, h_sz: usize, x: &[Vec<f64>]) -> Vec<StepState> {
    let [w_ih, w_hh, b_ih, b_hh] = w;
    let (mut h, mut c) = (vec![0.0; h_sz], vec![0.0; h_sz]);
    let mut out = Vec::new();
    for xt in x {
        let zx = matvec(w_ih, i_sz, 0, 4 * h_sz, xt);
        let zh = matvec(w_hh, h_sz, 0, 4 * h_sz, &h);
        let z: Vec<f64> = (0..4 * h_sz)
            .map(|k| zx[k] + zh[k] + b_ih[k] + b_hh[k])
            .collect();
        let gi: Vec<f64> = (0..h_sz).map(|k| sigmoid(z[k])).collect();
        let gf: Vec<f64> = (0..h_sz).map(|k| sigmoid(z[h_sz + k])).collect();
        let gg: Vec<f64> = (0..h_sz).map(|k| z[2 * h_sz + k].tanh()).collect();
        let go: Vec<f64> = (0..h_sz).map(|k| sigmoid(z[3 * h_sz + k])).collect();
        let c_new: Vec<f64> = (0..h_sz).map(|k| gf[k] * c[k] + gi[k] * gg[k]).collect();
        let h_new: Vec<f64> = (0..h_sz).map(|k| go[k] * c_new[k].tanh()).collect();
        out.push((
            h.clone(),
            c.clone(),
            gi,
            gf,
            gg,
            go,
            c_new.clone(),
            h_new.clone(),
            z,
        ));
        h = h_new;
        c = c_new;
    }
    out
}
