//! LRP through an LSTM layer: the signal-take-all rule of Arras et al. (2017, 2019).
//!
//! The fused libtorch LSTM hides its gates, so the cell is run again step by step from the
//! weights ([`ae_models::LstmWeights`], PyTorch gate order i, f, g, o):
//!
//! ```text
//! z_t = W x_t + b_ih + U h_{t-1} + b_hh        i, f, o = σ(z_t^{i,f,o}),  g = tanh(z_t^g)
//! c_t = f ⊙ c_{t-1} + i ⊙ g                     h_t = o ⊙ tanh(c_t)
//! ```
//!
//! and relevance flows backwards in time:
//!
//! * **gates take nothing.** `h_t = o ⊙ tanh(c_t)`: the output gate only scales the signal,
//!   so all relevance of `h_t` (from the layer output at step `t` and from step `t+1`'s
//!   recurrence) goes to `c_t`; the gates i, f, o receive none.
//! * **the cell update splits** `R(c_t)` between the kept memory and the new signal in
//!   proportion to their contributions, `R(c_{t-1}) = f⊙c_{t-1} / stab(c_t) · R(c_t)` and
//!   `R(g_t) = i⊙g_t / stab(c_t) · R(c_t)`, with `stab(z) = z + ε·sign(z)`.
//! * **the candidate's pre-activation** `z^g = W_g x_t + U_g h_{t-1} + b` is a linear map,
//!   treated with the ε rule: `R(x_t) = x_t ⊙ W_gᵀ (R(g_t) / stab(z^g))` and
//!   `R(h_{t-1}) = h_{t-1} ⊙ U_gᵀ (R(g_t) / stab(z^g))`; tanh passes relevance unchanged.
//!
//! Conservation: the cell split loses exactly `ε / |stab(c_t)|` of `R(c_t)`; the linear map
//! loses `(b^g + ε·sign z^g) / stab(z^g)` of `R(g_t)` to its bias and ε. With zero biases and
//! small ε the layer conserves relevance up to ε-absorption; `docs/lrp.md` works an example.

use ae_models::{Layer, LstmWeights};
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::rule::stabilize;

/// Redistributes the relevance `r_out: [B, T, H]` of an LSTM layer's hidden states onto its
/// input `x: [B, T, I]` with the signal-take-all rule (module docs), `eps` in every
/// division.
///
/// Only the two recurrences are loops over time: the cell state forward and the relevance of
/// `h_{t-1}` backward. The hidden states come from the fused layer, the gates of all steps
/// from one batched product, and the input relevance of all steps from another.
pub fn lstm_relevance(w: &LstmWeights, x: &Tensor, r_out: &Tensor, eps: f64) -> Result<Tensor> {
    let (b, t_len) = check_shapes(w, x, r_out)?;
    let hs = w.hidden_size();
    let opts = (x.kind(), x.device());
    let CellRun {
        h_prev,
        c,
        c_prev,
        f,
        zg,
        ig,
        ..
    } = run_cell(w, x)?;
    // Shares of R(c_t) for the kept memory and for the candidate, the latter already divided
    // by the candidate's stabilised pre-activation.
    let stab_c = stabilize(&c, eps)?;
    let keep = f.f_mul(&c_prev)?.f_div(&stab_c)?;
    let to_q = ig.f_div(&stab_c)?.f_div(&stabilize(&zg, eps)?)?;
    let w_g = w.w_ih.f_narrow(0, 2 * hs, hs)?;
    let u_g = w.w_hh.f_narrow(0, 2 * hs, hs)?;
    let mut r_h_rec = Tensor::f_zeros([b, hs], opts)?;
    let mut r_c_next = Tensor::f_zeros([b, hs], opts)?;
    let mut qs = Vec::with_capacity(t_len as usize);
    for t in (0..t_len).rev() {
        let r_c = r_out.f_select(1, t)?.f_add(&r_h_rec)?.f_add(&r_c_next)?;
        r_c_next = keep.f_select(1, t)?.f_mul(&r_c)?;
        let q = to_q.f_select(1, t)?.f_mul(&r_c)?;
        r_h_rec = h_prev.f_select(1, t)?.f_mul(&q.f_matmul(&u_g)?)?;
        qs.push(q);
    }
    qs.reverse();
    let q = Tensor::f_stack(&qs, 1)?;
    Ok(x.f_mul(&q.f_matmul(&w_g)?)?)
}

/// Checks an LSTM layer's input `x: [B, T ≥ 1, I]` and the relevance of its output
/// `[B, T, H]`; returns `(B, T)`.
pub(crate) fn check_shapes(w: &LstmWeights, x: &Tensor, r_out: &Tensor) -> Result<(i64, i64)> {
    let (hs, is) = (w.hidden_size(), w.input_size());
    let dims = x.size();
    if dims.len() != 3 || dims[2] != is || dims[1] < 1 {
        return Err(LrpError::ShapeMismatch {
            what: "LSTM layer input".into(),
            expected: format!("[B, T ≥ 1, {is}]"),
            got: dims,
        });
    }
    let (b, t_len) = (dims[0], dims[1]);
    if r_out.size() != [b, t_len, hs] {
        return Err(LrpError::ShapeMismatch {
            what: "relevance of the LSTM layer output".into(),
            expected: format!("[{b}, {t_len}, {hs}]"),
            got: r_out.size(),
        });
    }
    Ok((b, t_len))
}

/// Everything of one step-by-step run of the cell that the rules need, `[B, T, H]` each.
pub(crate) struct CellRun {
    /// Hidden states `h_t` (from the fused layer).
    pub h: Tensor,
    /// `h_{t-1}` (zero before the first step).
    pub h_prev: Tensor,
    /// Cell states `c_t`.
    pub c: Tensor,
    /// `c_{t-1}` (zero before the first step).
    pub c_prev: Tensor,
    /// Input gate.
    pub i: Tensor,
    /// Forget gate.
    pub f: Tensor,
    /// Pre-activations of all four gates `[B, T, 4H]` (PyTorch order i, f, g, o); the
    /// output gate, which only the deviation rule needs, is computed there from them.
    pub z: Tensor,
    /// Candidate pre-activation `z^g`.
    pub zg: Tensor,
    /// Candidate `g = tanh(z^g)`.
    pub g: Tensor,
    /// `i ⊙ g`.
    pub ig: Tensor,
}

/// Runs the cell of `w` over `x: [B, T, I]` (`T ≥ 1`, checked by the callers): the hidden
/// states from the fused layer, the gates of all steps from one batched product, the cell
/// state by its recurrence.
pub(crate) fn run_cell(w: &LstmWeights, x: &Tensor) -> Result<CellRun> {
    let hs = w.hidden_size();
    let dims = x.size();
    let (b, t_len) = (dims[0], dims[1]);
    let opts = (x.kind(), x.device());
    let h = Layer::Lstm(w.clone()).forward(x)?;
    let zeros = Tensor::f_zeros([b, 1, hs], opts)?;
    let h_prev = Tensor::f_cat(&[&zeros, &h.f_narrow(1, 0, t_len - 1)?], 1)?;
    let z = x
        .f_linear(&w.w_ih, Some(&w.b_ih))?
        .f_add(&h_prev.f_linear(&w.w_hh, Some(&w.b_hh))?)?;
    let gates = z.f_chunk(4, 2)?;
    let (i, f) = (gates[0].f_sigmoid()?, gates[1].f_sigmoid()?);
    let zg = gates[2].shallow_clone();
    let g = zg.f_tanh()?;
    let ig = i.f_mul(&g)?;
    let mut c = Tensor::f_zeros([b, hs], opts)?;
    let mut cells = Vec::with_capacity(t_len as usize);
    for t in 0..t_len {
        c = f.f_select(1, t)?.f_mul(&c)?.f_add(&ig.f_select(1, t)?)?;
        cells.push(c.shallow_clone());
    }
    let c = Tensor::f_stack(&cells, 1)?;
    let c_prev = Tensor::f_cat(&[&zeros, &c.f_narrow(1, 0, t_len - 1)?], 1)?;
    Ok(CellRun {
        h,
        h_prev,
        c,
        c_prev,
        i,
        f,
        z,
        zg,
        g,
        ig,
    })
}
