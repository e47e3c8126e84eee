//! The command's one error type: every variant names the flag, file or entity at fault.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong in a command; each message names the value at fault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// A command-line argument (or the batch engine's variable standing for one) that
    /// cannot be used.
    #[error("{arg} = {value}: {rule}")]
    Arg {
        /// The flag or variable.
        arg: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        rule: String,
    },
    /// A file or directory that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file this command wrote that does not read back (damaged, or not one of ours).
    #[error("{path}: not readable as {what} ({source})")]
    Json {
        /// The path.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
    /// An output directory whose plan (entities and settings) is not this run's.
    #[error("{path} holds a run of other {what}; use another --out, or delete it")]
    OtherRun {
        /// The plan file.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// Entities of this worker that failed (the others were done), by name.
    #[error("entities failed: {failed}")]
    Entities {
        /// Each failed entity with its error.
        failed: String,
    },
    /// Results that `merge` cannot pool, by entity name.
    #[error("cannot merge {out}: {problems}")]
    Merge {
        /// The output directory.
        out: PathBuf,
        /// Every problem, entities named.
        problems: String,
    },
    /// The library's errors (data, models, methods, pipeline).
    #[error(transparent)]
    Run(#[from] anomaly_xai::Error),
}

impl CliError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The command's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
