//! Attribution methods around any scorer, in particular an autoencoder's reconstruction
//! error: every method of paper 1 (Captum's saliency family), batched, behind one small
//! trait.
//!
//! * [`Attribution`] is the one interface; a method is a struct of checked settings.
//! * [`Scorer`] is what black-box methods explain: a batch `[B, ..]` to one score per
//!   sample `[B]`. [`ErrorScorer`] wraps any [`ae_models::Detector`] (an autoencoder's
//!   reconstruction error, a forecaster's prediction error) with the
//!   [`ae_models::ExplainedError`] to explain (L1 or L2, optionally restricted to some
//!   time steps or sensors); [`FnScorer`] wraps a closure over tensors; [`ArrayScorer`] a
//!   plain-Rust detector over `ndarray` (perturbation methods only); [`TargetScorer`]
//!   explains one output column of a multi-output model ([`Target`], Captum's `target`:
//!   one column for every sample or one per sample).
//! * [`Request`] carries the per-call [`Baseline`] and an optional [`FeatureMask`]
//!   (e.g. [`FeatureMask::per_sensor`]).
//! * [`MethodSpec`] is the one list of these methods with their checked settings, for
//!   run configurations; [`Batching`] holds the settings every method shares.
//!
//! | method | family | cost per sample (forward / backward) |
//! |---|---|---|
//! | [`Saliency`] | gradient | 1 / 1 |
//! | [`InputXGradient`] | gradient | 1 / 1 |
//! | [`IntegratedGradients`] | gradient | n_steps (+2 for δ) / n_steps |
//! | [`GradientShap`] | gradient | n_samples (+2·n_samples for δ) / n_samples |
//! | [`FeatureAblation`] | perturbation | 1 + G / 0 |
//! | [`Occlusion`] | perturbation | 1 + windows / 0 |
//! | [`FeaturePermutation`] | perturbation | 1 + G / 0 |
//! | [`ShapleyValueSampling`] | perturbation | 2 + n_permutations·(G − 1) / 0 |
//! | [`KernelShap`] | perturbation | 1 + C·N + N/B with a background set, 2 + C otherwise / 0 |
//! | [`Residual`] | read-out | 1 / 0 |
//! | [`AttentionReadout`] | read-out | 1 (attention layer only) / 0 |
//! | [`Deviation`] | model-free | 0 / 0 |
//!
//! `G` groups, `C` distinct coalitions, `N` background samples, `B` batch size.
//! `docs/methods.md` describes each method, its settings and its Captum conventions.
//!
//! ```
//! use tch::{Device, Kind, Tensor};
//! use xai_attrib::{Attribution, Baseline, FeatureMask, FnScorer, Occlusion, Request};
//! // A toy detector on windows [B, 3 steps, 2 sensors]: the energy of sensor 1.
//! let f = FnScorer::new("energy", |x: &Tensor| {
//!     Ok(x.f_select(2, 1)?.f_square()?.f_sum_dim_intlist(1, false, Kind::Float)?)
//! });
//! let x = Tensor::ones([1, 3, 2], (Kind::Float, Device::Cpu));
//! let occlusion = Occlusion::params().window([3, 1]).check()?;
//! let req = Request::with_baseline(Baseline::Zero).mask(FeatureMask::per_sensor(3, 2)?);
//! let a = occlusion.attribute(&f, &x, &req)?;
//! let per_sensor = FeatureMask::per_sensor(3, 2)?.group_means(&a.scores)?;
//! assert_eq!(Vec::<f32>::try_from(per_sensor.flatten(0, -1)).unwrap(), vec![0.0, 3.0]);
//! # Ok::<(), xai_attrib::XaiError>(())
//! ```

#[macro_use]
pub mod params;

pub mod array_scorer;
pub mod attention;
pub mod attribution;
pub mod baseline;
pub mod completeness;
pub mod correlation_clusters;
pub mod deviation;
pub(crate) mod engine;
pub mod error;
pub mod error_scorer;
pub mod feature_mask;
pub mod gradient;
pub mod method_spec;
pub mod perturbation;
pub mod residual;
pub(crate) mod rng;
pub mod scorer;
pub mod target;
pub mod validate;

pub use array_scorer::ArrayScorer;
pub use attention::AttentionReadout;
pub use attribution::{Attribution, AttributionRecord, Attributions, Cost, Family, Request};
pub use baseline::{Baseline, BaselineSpec};
pub use completeness::convergence_delta;
pub use deviation::{Deviation, DeviationParams};
pub use error::{Result, XaiError};
pub use error_scorer::ErrorScorer;
pub use feature_mask::FeatureMask;
pub use gradient::gradient_shap::{GradientShap, GradientShapParams};
pub use gradient::input_x_gradient::{InputXGradient, InputXGradientParams};
pub use gradient::integrated_gradients::{IntegratedGradients, IntegratedGradientsParams};
pub use gradient::quadrature::Quadrature;
pub use gradient::saliency::{Saliency, SaliencyParams};
pub use method_spec::MethodSpec;
pub use params::{Batching, DEFAULT_BATCH_SIZE};
pub use perturbation::ablation::{FeatureAblation, FeatureAblationParams};
pub use perturbation::kernel_shap::{CoalitionSampling, KernelShap, KernelShapParams};
pub use perturbation::occlusion::{Occlusion, OcclusionParams, Strides};
pub use perturbation::permutation::{FeaturePermutation, FeaturePermutationParams};
pub use perturbation::shapley_sampling::{ShapleyValueSampling, ShapleyValueSamplingParams};
pub use residual::Residual;
pub use scorer::{FnScorer, Scorer};
pub use target::{Target, TargetScorer};
