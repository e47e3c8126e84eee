//! The residual baseline: the per-cell reconstruction error itself, `|x − x̂|` (L1) or
//! `(x − x̂)²` (L2), read off the autoencoder with one forward pass and no backward pass.
//! Paper 1's "baseline" row and paper 2's "Residual" are this method.
//!
//! With a feature mask, every cell carries its group's *mean* error (for a per-sensor mask:
//! the sensor's mean error over the window, the usual per-feature reconstruction error).
//!
//! It explains an [`Autoencoder`] directly, or a [`ReconstructionError`] scorer (so that
//! it can sit in the same list as the other methods): then cells outside the scorer's
//! output selection get 0 and the selected cells their error, in this method's norm.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use ae_models::Autoencoder;

use crate::attribution::{Attribution, Attributions, Family, Request};
use crate::error::Result;
use crate::feature_mask::Groups;
use crate::recon_error::{cell_error, Norm, ReconstructionError};
use crate::validate::check_batch;

const NAME: &str = "residual";

/// The per-cell reconstruction error (see the module docs).
///
/// ```
/// use xai_attrib::{Norm, Residual};
/// let r = Residual::new(Norm::L2);
/// assert_eq!(r.norm(), Norm::L2);
/// let json = serde_json::to_string(&r).unwrap();
/// assert_eq!(serde_json::from_str::<Residual>(&json).unwrap(), r);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Residual {
    norm: Norm,
}

impl Residual {
    /// The residual in `norm`.
    pub fn new(norm: Norm) -> Self {
        Residual { norm }
    }

    /// The norm.
    pub fn norm(&self) -> Norm {
        self.norm
    }

    fn run<A: Autoencoder + ?Sized>(
        &self,
        model: &A,
        x: &Tensor,
        req: &Request,
        keep: Option<&Tensor>,
    ) -> Result<Attributions> {
        check_batch(NAME, x)?;
        let groups = Groups::resolve(req.mask.as_ref(), x)?;
        let _guard = tch::no_grad_guard();
        let recon = model.forward(x)?;
        let mut err = cell_error(self.norm, &x.f_sub(&recon)?)?;
        if let Some(keep) = keep {
            err = err.f_mul(&keep.f_to_kind(err.kind())?.f_to_device(err.device())?)?;
        }
        let scores = if groups.is_per_cell() {
            err
        } else {
            let means = groups
                .sum(&err)?
                .f_div(&groups.counts()?.f_to_kind(err.kind())?)?;
            groups.expand(&means)?
        };
        Ok(Attributions {
            scores,
            delta: None,
            forward_evals: 1,
            backward_evals: 0,
        })
    }
}

impl<A: Autoencoder + ?Sized> Attribution<A> for Residual {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Baseline
    }

    fn attribute(&self, model: &A, x: &Tensor, req: &Request) -> Result<Attributions> {
        self.run(model, x, req, None)
    }
}

impl<A: Autoencoder + ?Sized> Attribution<ReconstructionError<'_, A>> for Residual {
    fn name(&self) -> &'static str {
        NAME
    }

    fn family(&self) -> Family {
        Family::Baseline
    }

    fn attribute(
        &self,
        model: &ReconstructionError<'_, A>,
        x: &Tensor,
        req: &Request,
    ) -> Result<Attributions> {
        let keep = if model.selection().is_all() {
            None
        } else {
            Some(model.selection().mask(&x.size()[1..])?)
        };
        self.run(model.model(), x, req, keep.as_ref())
    }
}
