//! The one harness behind every measurement of "each method on paper 1's LSTM
//! autoencoder": the criterion bench `attribution_lstm`, the `bench_methods` report (each
//! method against its floor of bare model evaluations, the figures of
//! `docs/performance.md`) and Captum's counterpart `xtask/bench/captum_bench.py` all take
//! the same model, windows, settings and floor from here.
//!
//! * [`reference`](mod@reference): the model (38 sensors, windows of 50 steps, 2 + 2 LSTM layers of 64
//!   units, seeded weights) and its windows (real SMD windows or seeded noise), with a
//!   small size for smoke checks;
//! * [`methods`]: the method list, written with the facade's one list
//!   ([`anomaly_xai::method::MethodSpec`]), and a runner that explains a batch with any
//!   scorer and returns the evaluation counts;
//! * [`floor`]: bare forward and forward + backward passes through the layer list;
//! * [`timing`]: wall-clock and CPU seconds, a scorer that times its own calls;
//! * [`measure`]: a method and its floor timed in turns.
//!
//! [`shapley`] is the other measurement: Kernel SHAP's error against exact Shapley values
//! for a given number of evaluations (the `kernel_shap_accuracy` and `kernel_shap_curve`
//! examples).
//!
//! Benches compiled by `cargo test --all-targets` run without `--bench`; they then check
//! every method once on the small model ([`bench_mode`]) instead of measuring.
//!
//! ```text
//! cargo bench -p anomaly-xai-bench                                   # criterion
//! cargo run --release -p anomaly-xai-bench --example bench_methods   # the report
//! cargo run --release -p anomaly-xai-bench --example kernel_shap_accuracy -- --help
//! ```

pub mod floor;
pub mod measure;
pub mod methods;
pub mod reference;
pub mod shapley;
pub mod timing;

use std::path::{Path, PathBuf};

/// The workspace's root folder (the bench package's parent), where `data/` and `target/`
/// are.
pub fn workspace_root() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench
        .parent()
        .map_or_else(|| bench.join(".."), Path::to_path_buf)
}

/// Whether criterion measures (`cargo bench` passes `--bench`) rather than checks
/// (`cargo test --all-targets` runs the bench binaries without it).
pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The libtorch intra-op threads the benches use: `ANOMALY_XAI_BENCH_THREADS` when it
/// holds a positive number, else 2 (the CI machine's cores), so that figures taken on
/// different days compare.
pub fn bench_threads() -> i32 {
    std::env::var("ANOMALY_XAI_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&t| t >= 1)
        .unwrap_or(2)
}
