//! Gradient methods: they differentiate the scorer, so it must be
//! [`crate::Scorer::differentiable`]. All batch their rows (`batch_size` per
//! forward/backward pass) and, with a feature mask, put each group's summed attribution
//! on every cell of the group.

pub(crate) mod backprop;
pub mod gradient_shap;
pub mod input_x_gradient;
pub mod integrated_gradients;
pub(crate) mod path;
pub mod quadrature;
pub mod saliency;
