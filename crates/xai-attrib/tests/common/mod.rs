//! Toy scorers whose attributions can be computed by hand, and reference answers.
#![allow(dead_code)]

use tch::{Device, Kind, Tensor};
use xai_attrib::{FnScorer, Scorer};

/// A `f64` tensor of `shape`.
pub fn t64(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).reshape(shape)
}

/// Deterministic pseudo-random values in [-1, 1] (no RNG state shared between tests).
pub fn wave(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as f64 + 1.0) * 1.37 + phase).sin())
        .collect()
}

/// `f(x) = Σ_i w_i x_i` per sample, for any sample shape equal to `w`'s.
pub fn linear(w: &Tensor) -> impl Scorer {
    let w = w.shallow_clone();
    FnScorer::new("linear", move |x: &Tensor| {
        let b = x.size()[0];
        Ok(x.f_mul(&w.f_to_kind(x.kind())?)?
            .f_reshape([b, -1])?
            .f_sum_dim_intlist(1, false, x.kind())?)
    })
}

/// An additive, non-linear scorer on `[B, F]`: `f(x) = Σ_j g_j(x_j)` with
/// `g_j(v) = (j + 1) · sin(v) + v² / (j + 1)`.
pub fn additive() -> impl Scorer {
    FnScorer::new("additive", |x: &Tensor| {
        let f = x.size()[1];
        let scale = Tensor::arange_start(1, f + 1, (x.kind(), x.device()));
        let terms = x
            .f_sin()?
            .f_mul(&scale)?
            .f_add(&x.f_square()?.f_div(&scale)?)?;
        Ok(terms.f_sum_dim_intlist(1, false, x.kind())?)
    })
}

/// The per-feature terms of [`additive`], `g_j(x_j) − g_j(x'_j)`.
pub fn additive_terms(x: &Tensor, reference: &Tensor) -> Tensor {
    let g = |v: &Tensor| {
        let f = v.size()[1];
        let scale = Tensor::arange_start(1, f + 1, (v.kind(), v.device()));
        v.sin() * &scale + v.square() / &scale
    };
    g(x) - g(reference)
}

/// A small non-additive scorer on `[B, F]` with interactions between features:
/// `f(x) = tanh(x₀ x₁) + (x₂ + x₃)² + relu(x₄ − x₅) x₆ + σ(Σ x) + x_last³`.
pub fn interacting() -> impl Scorer {
    FnScorer::new("interacting", |x: &Tensor| {
        let c = |i: i64| x.select(1, i);
        let f = x.size()[1];
        let out = (c(0) * c(1)).tanh()
            + (c(2) + c(3)).square()
            + (c(4) - c(5)).relu() * c(6)
            + x.sum_dim_intlist(1, false, x.kind()).sigmoid()
            + c(f - 1).pow_tensor_scalar(3);
        Ok(out)
    })
}

/// Exact Shapley values `[B, G]` of `scorer` by enumerating all `2^G` coalitions, where
/// absent groups take `reference`'s values (`[B, ..]`) and `ids` (`[cells]`) maps cells to
/// groups. Independent of the crate's code paths: one scorer call per coalition.
pub fn exact_shapley(scorer: &dyn Scorer, x: &Tensor, reference: &Tensor, ids: &[i64]) -> Tensor {
    let b = x.size()[0];
    let g = *ids.iter().max().unwrap() as usize + 1;
    let flat_x = x.reshape([b, -1]);
    let flat_r = reference.reshape([b, -1]);
    let value = |bits: usize| -> Tensor {
        let keep: Vec<bool> = ids.iter().map(|&id| bits >> id & 1 == 1).collect();
        let keep = Tensor::from_slice(&keep).to_device(x.device());
        let input = flat_x.where_self(&keep, &flat_r).reshape(x.size());
        scorer.score(&input).unwrap().to_kind(Kind::Double)
    };
    let values: Vec<Tensor> = (0..1usize << g).map(value).collect();
    let fact = |n: usize| (1..=n).map(|v| v as f64).product::<f64>();
    let phi = Tensor::zeros([b, g as i64], (Kind::Double, Device::Cpu));
    for j in 0..g {
        let mut acc = Tensor::zeros([b], (Kind::Double, Device::Cpu));
        for s in 0..1usize << g {
            if s >> j & 1 == 1 {
                continue;
            }
            let k = s.count_ones() as usize;
            let w = fact(k) * fact(g - k - 1) / fact(g);
            acc += (&values[s | 1 << j] - &values[s]) * w;
        }
        phi.select(1, j as i64).copy_(&acc);
    }
    phi
}

/// Largest absolute difference between two tensors (as f64).
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

/// Asserts `|a − b| ≤ tol` everywhere, printing both on failure.
#[track_caller]
pub fn assert_close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.size(), b.size(), "shapes differ");
    let d = max_abs_diff(a, b);
    assert!(d <= tol, "max |a − b| = {d} > {tol}\na = {a}\nb = {b}");
}

/// Reads the values of a tensor as f64.
pub fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

/// Wraps a scorer and counts its calls and the rows it scored.
pub struct Counting<S> {
    pub inner: S,
    pub calls: std::cell::Cell<usize>,
    pub rows: std::cell::Cell<i64>,
}

impl<S: Scorer> Counting<S> {
    pub fn new(inner: S) -> Self {
        Counting {
            inner,
            calls: Default::default(),
            rows: Default::default(),
        }
    }
}

impl<S: Scorer> Scorer for Counting<S> {
    fn score(&self, x: &Tensor) -> xai_attrib::Result<Tensor> {
        self.calls.set(self.calls.get() + 1);
        self.rows.set(self.rows.get() + x.size()[0]);
        self.inner.score(x)
    }
    fn differentiable(&self) -> bool {
        self.inner.differentiable()
    }
}
