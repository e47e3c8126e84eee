//! Feature masks: which input cells are attributed together.

use tch::Tensor;

/// Group ids for the cells of one sample: an `Int64` tensor of the sample's shape (or
/// broadcastable to it) with values `0..n_groups`. Cells sharing an id are perturbed
/// together and share one attribution.
#[derive(Debug)]
pub struct FeatureMask {
    /// The group id of every cell of one sample.
    pub ids: Tensor,
    /// Number of groups (`max id + 1`).
    pub n_groups: i64,
}
