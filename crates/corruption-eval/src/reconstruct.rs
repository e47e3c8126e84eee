//! The detector as the corruption code sees it, and the check of what it returns.

use tch::Tensor;

use crate::error::{CorruptionError, Result};

/// The detector as the generator sees it: a batch `[B, F]` in, its reconstruction
/// `[B, F]` out. For the adversarial corruption it must be built from differentiable tch
/// ops (e.g. `|x| ae.forward(x)` for an [`ae_models::LayerModel`]), and rows must be
/// reconstructed independently of each other.
pub type Reconstruct<'m> = dyn Fn(&Tensor) -> ae_models::Result<Tensor> + 'm;

/// Checks that a reconstruction has its input's shape.
pub(crate) fn check_reconstruction(x: &Tensor, x_hat: &Tensor) -> Result<()> {
    if x_hat.size() != x.size() {
        return Err(CorruptionError::ShapeMismatch {
            what: "reconstruction",
            expected: format!("the input's shape {:?}", x.size()),
            got: format!("{:?}", x_hat.size()),
        });
    }
    Ok(())
}
