//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use ndarray::Array2;

/// `shared/data` via `ANOMALY_XAI_DATA`, else beside an ancestor of this crate; `None`
/// (with a message) when absent, so data tests skip instead of failing.
pub fn data_dir() -> Option<PathBuf> {
    let found = match std::env::var_os("ANOMALY_XAI_DATA") {
        Some(dir) => Some(PathBuf::from(dir)).filter(|d| d.is_dir()),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared").join("data"))
            .find(|d| d.is_dir()),
    };
    if found.is_none() {
        eprintln!("skipped: shared/data not found (set ANOMALY_XAI_DATA to its path)");
    }
    found
}

/// A smooth periodic series `[len, features]` in `[0.1, 0.9]`: every sensor a sine of its
/// own phase and period.
pub fn sine_series(len: usize, features: usize) -> Array2<f32> {
    Array2::from_shape_fn((len, features), |(t, f)| {
        let period = 12.0 + 3.0 * f as f32;
        0.5 + 0.4 * (std::f32::consts::TAU * t as f32 / period + f as f32).sin()
    })
}

/// A fresh temporary directory unique to this process and `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ae-models-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
