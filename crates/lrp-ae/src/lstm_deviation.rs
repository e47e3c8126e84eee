//! LRP of a deviation through an LSTM layer: Arras et al.'s signal-take-all rule
//! ([`crate::lstm`]) applied to the deviation of every quantity from its value in a run of
//! the cell on the reference input (subscript 0, `Δv = v − v₀`).
//!
//! * **gates take nothing, as weights at their actual value.** A product `gate ⊙ signal`
//!   deviates by `Δ(g s) = g Δs + s₀ Δg`: the signal takes `g Δs`, the gate's share
//!   `s₀ Δg` (the changed gate acting on the reference's signal) is absorbed, like a bias.
//!   So `R(c_t) = (1 − tanh(c₀_t) ⊙ Δo_t / stab(Δh_t)) ⊙ R(h_t)` (the output gate's share
//!   absorbed, the rest passes through the tanh unchanged, DeepLIFT's rescale rule), and
//!   the cell update `Δc_t = f Δc_{t−1} + i Δg_t + (Δf c₀_{t−1} + Δi g₀_t)` gives
//!   `R(c_{t−1}) = f⊙Δc_{t−1} / stab(Δc_t) · R(c_t)`, `R(g_t) = i⊙Δg_t / stab(Δc_t) · R(c_t)`.
//! * **the candidate's pre-activation** `Δz^g = W_g Δx_t + U_g Δh_{t−1}` (the bias
//!   cancels) is a linear map under the ε rule on deviations: `R(x_t) = Δx_t ⊙ W_gᵀ q`,
//!   `R(h_{t−1}) = Δh_{t−1} ⊙ U_gᵀ q`, `q = R(g_t) / stab(Δz^g)`; tanh passes relevance.
//!
//! Conservation: the layer loses the gates' shares and what ε absorbs, nothing else (no
//! bias enters). With a reference whose cell states and candidates are zero — a zero
//! input to a bias-free layer — every gate share vanishes and the rule is
//! [`crate::lstm::lstm_relevance`] (tested).

use ae_models::LstmWeights;
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::lstm::{run_cell, CellRun};
use crate::rule::stabilize;

/// Redistributes the relevance `r_out: [B, T, H]` of the deviation of an LSTM layer's
/// hidden states onto the deviation of its input `x: [B, T, I]` from the reference input
/// `x0: [B, T, I]` or `[1, T, I]` (one reference for every sample), `eps` in every
/// division. One run of the cell on `x` and one on `x0`; the loops over time are those of
/// [`crate::lstm::lstm_relevance`].
///
/// # Errors
/// [`LrpError::ShapeMismatch`] naming the shapes.
pub fn lstm_deviation_relevance(
    w: &LstmWeights,
    x: &Tensor,
    x0: &Tensor,
    r_out: &Tensor,
    eps: f64,
) -> Result<Tensor> {
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
    let r0 = x0.size();
    if r0.len() != 3 || (r0[0] != 1 && r0[0] != b) || r0[1..] != dims[1..] {
        return Err(LrpError::ShapeMismatch {
            what: "reference input of the LSTM layer".into(),
            expected: format!("[{b} or 1, {t_len}, {is}]"),
            got: r0,
        });
    }
    if r_out.size() != [b, t_len, hs] {
        return Err(LrpError::ShapeMismatch {
            what: "relevance of the LSTM layer output".into(),
            expected: format!("[{b}, {t_len}, {hs}]"),
            got: r_out.size(),
        });
    }
    let opts = (x.kind(), x.device());
    let run = run_cell(w, x)?;
    let base = run_cell(w, x0)?;
    let CellRun {
        h,
        h_prev,
        c,
        c_prev,
        i,
        f,
        o,
        zg,
        g,
        ..
    } = run;
    // The output gate's share of Δh is absorbed; the rest of R(h_t) goes to c_t.
    let o_share = base
        .c
        .f_tanh()?
        .f_mul(&o.f_sub(&base.o)?)?
        .f_div(&stabilize(&h.f_sub(&base.h)?, eps)?)?;
    let to_c = o_share.f_neg()?.f_add_scalar(1.0)?;
    let stab_c = stabilize(&c.f_sub(&base.c)?, eps)?;
    let keep = f.f_mul(&c_prev.f_sub(&base.c_prev)?)?.f_div(&stab_c)?;
    let to_q = i
        .f_mul(&g.f_sub(&base.g)?)?
        .f_div(&stab_c)?
        .f_div(&stabilize(&zg.f_sub(&base.zg)?, eps)?)?;
    let dh_prev = h_prev.f_sub(&base.h_prev)?;
    let w_g = w.w_ih.f_narrow(0, 2 * hs, hs)?;
    let u_g = w.w_hh.f_narrow(0, 2 * hs, hs)?;
    let mut r_h_rec = Tensor::f_zeros([b, hs], opts)?;
    let mut r_c_next = Tensor::f_zeros([b, hs], opts)?;
    let mut qs = Vec::with_capacity(t_len as usize);
    for t in (0..t_len).rev() {
        let r_h = r_out.f_select(1, t)?.f_add(&r_h_rec)?;
        let r_c = to_c.f_select(1, t)?.f_mul(&r_h)?.f_add(&r_c_next)?;
        r_c_next = keep.f_select(1, t)?.f_mul(&r_c)?;
        let q = to_q.f_select(1, t)?.f_mul(&r_c)?;
        r_h_rec = dh_prev.f_select(1, t)?.f_mul(&q.f_matmul(&u_g)?)?;
        qs.push(q);
    }
    qs.reverse();
    let q = Tensor::f_stack(&qs, 1)?;
    Ok(x.f_sub(x0)?.f_mul(&q.f_matmul(&w_g)?)?)
}
