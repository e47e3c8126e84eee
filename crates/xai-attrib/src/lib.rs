//! Attribution methods around any scorer, in particular an autoencoder's reconstruction
//! error: every method of Captum's saliency family, batched, behind one small trait.

pub mod attribution;
pub mod baseline;
pub mod error;
pub mod feature_mask;
pub mod scorer;

pub use attribution::{Attribution, Attributions, Family, Request};
pub use baseline::Baseline;
pub use error::{Result, XaiError};
pub use feature_mask::FeatureMask;
pub use scorer::Scorer;
