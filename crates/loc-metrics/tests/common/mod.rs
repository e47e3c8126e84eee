//! Locating the shared evaluation data for the data-driven tests.

use std::path::PathBuf;

/// The SMD directory (`.../shared/data/smd`), or `None` with a skip message.
///
/// Looks at `$ANOMALY_XAI_DATA` (the `shared/data` directory) first, then walks
/// up from this crate looking for a `shared/data` directory beside an ancestor
/// (the repository is `/work/main`, the data `/work/shared/data`; CI clones
/// `shared/` next to the repository).
pub fn smd_dir(test: &str) -> Option<PathBuf> {
    let data = std::env::var_os("ANOMALY_XAI_DATA")
        .map(PathBuf::from)
        .or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared").join("data"))
                .find(|d| d.is_dir())
        });
    let smd = data
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
