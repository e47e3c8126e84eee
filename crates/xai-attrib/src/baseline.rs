//! Reference inputs: what "absence of a feature" means for a method.

use tch::Tensor;

/// The reference a method compares the input with.
#[derive(Debug, Default)]
pub enum Baseline {
    /// All zeros (Captum's default). On min-max scaled data this is each sensor's
    /// training minimum.
    #[default]
    Zero,
    /// One constant everywhere.
    Constant(f64),
    /// A tensor broadcastable to one sample (e.g. `[T, F]`, or `[F]` per-feature means
    /// of the training data) or to the whole batch `[B, ..]`.
    Tensor(Tensor),
    /// A set of reference samples `[N, ..]` (Gradient SHAP draws from it, Kernel SHAP
    /// averages over it as its background set; single-reference methods use its mean).
    Distribution(Tensor),
}
