//! The rules, one a file. Rules for dense and convolutional layers only state their
//! modifiers for [`crate::rule::BasicRule`]; [`Pass`] routes relevance through layers
//! without parameters, and [`Epsilon`] also carries the LSTM rule. [`DeltaEpsilon`] is the
//! rule of deviation LRP ([`crate::deviation`]), with [`Pass`] on the other layers.

mod delta_epsilon;
mod epsilon;
mod flat;
mod gamma;
mod pass;
mod wsquare;
mod zbox;
mod zplus;

pub use delta_epsilon::DeltaEpsilon;
pub use epsilon::Epsilon;
pub use flat::Flat;
pub use gamma::Gamma;
pub use pass::Pass;
pub use wsquare::WSquare;
pub use zbox::ZBox;
pub use zplus::ZPlus;

use ae_models::LayerKind;

/// Dense and convolutional layers: the kinds every [`crate::rule::BasicRule`] handles.
pub(crate) fn is_affine(kind: LayerKind) -> bool {
    matches!(kind, LayerKind::Linear | LayerKind::Conv2d)
}
