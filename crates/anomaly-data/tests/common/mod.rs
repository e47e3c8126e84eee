//! Locating the shared evaluation data for the data-driven tests, and scratch folders.

#![allow(dead_code)]

use std::path::PathBuf;

use anomaly_data::find_data_dir;

/// `shared/data` (see [`find_data_dir`]); `None`, with a message, when absent, so data
/// tests skip instead of failing.
pub fn data_dir() -> Option<PathBuf> {
    let found = find_data_dir(env!("CARGO_MANIFEST_DIR"));
    if found.is_none() {
        eprintln!("skipped: shared/data not found (set ANOMALY_XAI_DATA to its path)");
    }
    found
}

/// The SMD directory (`.../shared/data/smd`), or `None` with a skip message.
pub fn smd_dir(test: &str) -> Option<PathBuf> {
    let smd = data_dir()
        .map(|d| d.join("smd"))
        .filter(|d| d.join("interpretation_label").is_dir());
    if smd.is_none() {
        eprintln!(
            "SKIPPED {test}: SMD labels not found; set ANOMALY_XAI_DATA to the shared/data \
             directory (the one holding smd/interpretation_label) to run it"
        );
    }
    smd
}

/// A fresh temporary directory unique to this process and `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anomaly-data-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
