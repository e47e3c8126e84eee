//! Where the shared evaluation data lives.

use std::path::{Path, PathBuf};

/// Finds the shared data directory: `$ANOMALY_XAI_DATA` when set, else the first
/// `shared/data` found beside `start` or one of its ancestors (the repository sits at
/// `<root>/main`, its data at `<root>/shared/data`). `None` when neither exists.
pub fn find_data_dir(start: impl AsRef<Path>) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ANOMALY_XAI_DATA") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    start
        .as_ref()
        .ancestors()
        .map(|a| a.join("shared").join("data"))
        .find(|d| d.is_dir())
}
