//! How close Kernel SHAP comes to the Shapley values for a given number of model
//! evaluations, for every coalition sampler, on real detectors and a synthetic function:
//! the harness behind the `kernel_shap_accuracy` example, whose output
//! `xtask/bench/kernel_shap_curve.py` (Captum on the same games) and the
//! `kernel_shap_curve` example (the figure of `docs/performance.md`) read.
//!
//! Games with `M ≤ 16` groups, where all `2^M` coalitions are evaluated once and the
//! exact Shapley values computed from them ([`game`], [`exact`]; the detectors in
//! [`games`]):
//!
//! * `lstm_smd_trained` (and `lstm_smd_seeded`, not run by default: its game is additive
//!   to within rounding, so every sampler is exact on it): paper 1's LSTM autoencoder
//!   (38 sensors, windows of 50, 2 + 2 layers of 64 units) on real windows of SMD
//!   machine-1-2's test half (min-max scaled on the training half, clipped to [-3, 3]),
//!   each starting a labelled anomalous region; the 38 sensors in 16 groups of neighbours
//!   (`FeatureMask::from_tensor`); baseline: the per-sensor training means; explained
//!   output: the mean L1 reconstruction error. Trained for `train_epochs` epochs on
//!   stride-5 training windows (the seeded model: untrained);
//! * `dense_breast_cancer`: a dense autoencoder (30-16-8-16-30) trained on the benign
//!   rows of the breast-cancer table (min-max scaled), explaining the malignant rows it
//!   reconstructs worst; 15 groups of two neighbouring features; baseline: the benign
//!   means;
//! * `synthetic_mlp`: a non-additive function of 16 features, a random two-layer tanh
//!   network (`Σ_h a_h tanh(w_hᵀ x + b_h)`, 32 units, `w ~ N(0, 4/M)`), at standard
//!   normal points against a zero baseline: interactions of every order.
//!
//! Kernel SHAP runs unchanged (`KernelShap::attribute`) on a scorer that reads each
//! perturbed input's coalition off its cells and returns the tabulated value
//! ([`lookup`]): the same numbers as the model, at no cost, so thousands of runs take
//! seconds.
//!
//! Games with one group per feature, too many to enumerate (`_38`: 38 sensors or
//! features, `_30`: the 30 features of the table), where the model is evaluated in every
//! run and the truth is a reference ([`large`]): the mean of Kernel SHAP with
//! `reference_budget` coalitions and of Shapley Value Sampling with as many evaluations
//! (two independent estimators; half their relative distance, printed and written as
//! `reference_gap`, estimates the reference's own error). Fewer seeds and samples
//! (`large_seeds`, `large_samples`), as every run costs real model evaluations.
//!
//! Error ([`estimate`]): `‖φ̂ − φ‖₂ / ‖φ‖₂` per sample, averaged over samples and seeds;
//! also the share of the three largest true values found among the three largest
//! estimates. Evaluations: the distinct coalitions each run evaluated, the full and the
//! empty one included.
//!
//! Writes into [`Settings::out`](settings::Settings::out) ([`report`]): `ours.json` and
//! `ours.csv` (one row per game, estimator and budget; rows of games not run this time
//! are kept), and for every game `games/NAME.safetensors` + `games/NAME.json` (inputs,
//! baselines, mask, coalition values and exact Shapley values, or the model's weights and
//! the reference) for `xtask/bench/kernel_shap_curve.py`. With
//! [`Settings::reuse`](settings::Settings::reuse), tabulated games are read from there
//! instead of computed again.
//!
//! `curve` (feature `plot`) draws the error against evaluations from `ours.json` and
//! Captum's `captum.json`.

#[cfg(feature = "plot")]
pub mod curve;
pub mod estimate;
pub mod exact;
pub mod game;
pub mod games;
pub mod large;
pub mod lookup;
pub mod report;
pub mod run;
pub mod settings;
