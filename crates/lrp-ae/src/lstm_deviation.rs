//! LRP of a deviation through an LSTM layer: Arras et al.'s signal-take-all rule
//! ([`crate::lstm`]) carried over to the deviation of every quantity from its value in a
//! run of the cell on the reference input (subscript 0, `Δv = v − v₀`).
//!
//! * **The signal takes its share at the gate's actual value; the gate takes the rest.** A
//!   product `gate ⊙ signal` deviates by exactly `Δ(g s) = g Δs + s₀ Δg`. The signal gets
//!   `g Δs` — the gate acts as a weight at its value in the explained forward pass, as in
//!   signal-take-all — and the gate gets `s₀ Δg`, what its own change did to the
//!   reference's signal. Where the reference's signal is zero (a zero input to a bias-free
//!   layer) the gates get nothing and the rule is signal-take-all itself. So
//!   `R(o_t) = tanh(c₀_t) Δo_t / stab(Δh_t) · R(h_t)` and `R(h_t) − R(o_t)` passes through the
//!   tanh to `c_t`; the cell update `Δc_t = f Δc_{t−1} + c₀_{t−1} Δf + i Δg + g₀ Δi` splits
//!   `R(c_t)` in proportion to these four terms over `stab(Δc_t)`.
//! * **Gate and candidate pre-activations** pass their relevance through the sigmoid or tanh
//!   unchanged (DeepLIFT's rescale rule) and are linear maps of the deviations,
//!   `Δz = W Δx_t + U Δh_{t−1}` (the biases cancel), under the ε rule on deviations:
//!   `R(x_t) = Δx_t ⊙ Wᵀ q`, `R(h_{t−1}) = Δh_{t−1} ⊙ Uᵀ q` with `q = R(z) / stab(Δz)` for all
//!   four gates at once.
//!
//! Conservation: only ε absorbs relevance (`ε / |stab(·)|` at each split); no bias and no
//! gate does. With a reference whose cell states and candidates are zero — a zero input to a
//! bias-free layer — the rule is [`crate::lstm::lstm_relevance`] (tested).

use ae_models::LstmWeights;
use tch::Tensor;

use crate::error::{LrpError, Result};
use crate::lstm::{check_shapes, run_cell, CellRun};
use crate::rule::stabilize;

/// Redistributes the relevance `r_out: [B, T, H]` of the deviation of an LSTM layer's
/// hidden states onto the deviation of its input `x: [B, T, I]` from the reference input
/// `x0: [B, T, I]` or `[1, T, I]` (one reference for every sample), `eps` in every
/// division. One run of the cell on `x` and one on `x0`; the loops over time are those of
/// [`crate::lstm::lstm_relevance`], with the relevance of all four gates in each step's
/// product.
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
    let (b, t_len) = check_shapes(w, x, r_out)?;
    let hs = w.hidden_size();
    let r0 = x0.size();
    if r0.len() != 3 || (r0[0] != 1 && r0[0] != b) || r0[1..] != x.size()[1..] {
        return Err(LrpError::ShapeMismatch {
            what: "reference input of the LSTM layer".into(),
            expected: format!("[{b} or 1, {t_len}, {}]", w.input_size()),
            got: r0,
        });
    }
    let opts = (x.kind(), x.device());
    let run = run_cell(w, x)?;
    let base = run_cell(w, x0)?;
    let d = |a: &Tensor, b: &Tensor| a.f_sub(b);
    // The output gate o = σ(z^o), of the run on `x` and of the run on `x0`.
    let output_gate =
        |run: &CellRun| -> Result<Tensor> { Ok(run.z.f_chunk(4, 2)?[3].f_sigmoid()?) };
    // h = o ⊙ tanh(c): the output gate's share of R(h_t), the rest goes to c_t.
    let to_o = base
        .c
        .f_tanh()?
        .f_mul(&d(&output_gate(&run)?, &output_gate(&base)?)?)?
        .f_div(&stabilize(&d(&run.h, &base.h)?, eps)?)?;
    // c = f ⊙ c_prev + i ⊙ g: shares of R(c_t), each over stab(Δc_t).
    let stab_c = stabilize(&d(&run.c, &base.c)?, eps)?;
    let share = |a: &Tensor, b: &Tensor| -> Result<Tensor> { Ok(a.f_mul(b)?.f_div(&stab_c)?) };
    let keep = share(&run.f, &d(&run.c_prev, &base.c_prev)?)?;
    let to_f = share(&base.c_prev, &d(&run.f, &base.f)?)?;
    let to_g = share(&run.i, &d(&run.g, &base.g)?)?;
    let to_i = share(&base.g, &d(&run.i, &base.i)?)?;
    // Relevance of each pre-activation, divided by its stabilised deviation.
    let dz = stabilize(&d(&run.z, &base.z)?, eps)?.f_chunk(4, 2)?;
    let (to_zi, to_zf) = (to_i.f_div(&dz[0])?, to_f.f_div(&dz[1])?);
    let (to_zg, to_zo) = (to_g.f_div(&dz[2])?, to_o.f_div(&dz[3])?);
    let dh_prev = d(&run.h_prev, &base.h_prev)?;
    let mut r_h_rec = Tensor::f_zeros([b, hs], opts)?;
    let mut r_c_next = Tensor::f_zeros([b, hs], opts)?;
    let mut qs = Vec::with_capacity(t_len as usize);
    for t in (0..t_len).rev() {
        let at = |v: &Tensor| v.f_select(1, t);
        let r_h = r_out.f_select(1, t)?.f_add(&r_h_rec)?;
        let q_o = at(&to_zo)?.f_mul(&r_h)?;
        let r_c = r_h.f_sub(&at(&to_o)?.f_mul(&r_h)?)?.f_add(&r_c_next)?;
        r_c_next = at(&keep)?.f_mul(&r_c)?;
        let q = Tensor::f_cat(
            &[
                at(&to_zi)?.f_mul(&r_c)?,
                at(&to_zf)?.f_mul(&r_c)?,
                at(&to_zg)?.f_mul(&r_c)?,
                q_o,
            ],
            1,
        )?;
        r_h_rec = at(&dh_prev)?.f_mul(&q.f_matmul(&w.w_hh)?)?;
        qs.push(q);
    }
    qs.reverse();
    let q = Tensor::f_stack(&qs, 1)?;
    Ok(x.f_sub(x0)?.f_mul(&q.f_matmul(&w.w_ih)?)?)
}
