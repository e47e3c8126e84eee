//! The output directory of a fleet run, which every worker shares:
//!
//! ```text
//! OUT/plan.json               every entity of the run and its settings (each shard writes
//!                             the same; a different one is refused)
//! OUT/entities/NAME.json      one entity's result, with what produced it (EntityResult)
//! OUT/.partial/               files being written; renamed into place when complete
//! OUT/detectors/              trained detectors (the default --cache-dir)
//! OUT/table.md, results.json  the pooled report (`merge`)
//! ```
//!
//! Every file is written under a temporary name in `.partial/` (same file system), flushed
//! to disk and then renamed, so a worker killed at any moment leaves either the complete
//! file or none under the real name; what it leaves in `.partial/` is never read.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use anomaly_xai::localizer::LocalizationRun;

use crate::error::{CliError, Result};

/// The `format` field of the files this command writes.
pub const FORMAT: &str = "anomaly-xai/evaluate";
/// Their version.
pub const VERSION: u32 = 1;

/// The SHA-256 of one input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// The path, relative to the data directory (e.g. `train/machine-1-2.txt.xz`).
    pub path: String,
    /// `sha256:` and the hex digest of the file's bytes as stored.
    pub sha256: String,
}

/// The whole run: every entity (sorted) and the settings that decide the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Every entity of the run, sorted, across all shards.
    pub entities: Vec<String>,
    /// The settings (methods, localizer, preparation, threads).
    pub settings: serde_json::Value,
}

/// One entity's result and what produced it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityResult {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The entity's name.
    pub entity: String,
    /// The SHA-256 of every input file.
    pub inputs: Vec<FileDigest>,
    /// The settings, as in the plan.
    pub settings: serde_json::Value,
    /// The trained detector's fingerprint (`sha256:` of its weights).
    pub detector: String,
    /// Wall time of the entity (preparation and explanations), seconds.
    pub seconds: f64,
    /// Of which training (0 when the detector came from the cache), seconds.
    pub train_seconds: f64,
    /// The localization run.
    pub run: LocalizationRun,
}

/// The paths of an output directory.
#[derive(Debug, Clone)]
pub struct OutDir {
    /// The directory.
    pub root: PathBuf,
}

impl OutDir {
    /// The layout under `root` (nothing is created).
    pub fn new(root: &Path) -> Self {
        OutDir {
            root: root.to_path_buf(),
        }
    }

    /// `plan.json`.
    pub fn plan(&self) -> PathBuf {
        self.root.join("plan.json")
    }

    /// `entities/`.
    pub fn entities(&self) -> PathBuf {
        self.root.join("entities")
    }

    /// `entities/NAME.json`.
    pub fn entity(&self, name: &str) -> PathBuf {
        self.entities().join(format!("{name}.json"))
    }

    /// `.partial/`.
    pub fn partial(&self) -> PathBuf {
        self.root.join(".partial")
    }

    /// `detectors/`.
    pub fn detectors(&self) -> PathBuf {
        self.root.join("detectors")
    }

    /// Creates the directories and checks that files can be written there, before any
    /// work.
    ///
    /// # Errors
    /// [`CliError::Io`] naming the directory that cannot be created or written.
    pub fn create(&self) -> Result<()> {
        for dir in [self.entities(), self.partial()] {
            fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
        }
        let probe = self.temp_name("write-probe");
        fs::write(&probe, b"").map_err(|e| CliError::io(&probe, e))?;
        fs::remove_file(&probe).map_err(|e| CliError::io(&probe, e))
    }

    /// A fresh name in `.partial/` for a file that will become `stem`.
    fn temp_name(&self, stem: &str) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        self.partial()
            .join(format!("{stem}.{}.{nanos}.tmp", std::process::id()))
    }

    /// Writes `bytes` to `path` (inside this directory) through a temporary file in
    /// `.partial/`: written, flushed to disk, renamed.
    ///
    /// # Errors
    /// [`CliError::Io`] naming the file.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let stem = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.temp_name(&stem);
        let mut f = fs::File::create(&tmp).map_err(|e| CliError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| CliError::io(&tmp, e))?;
        f.sync_all().map_err(|e| CliError::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| CliError::io(path, e))
    }

    /// The temporary files that killed workers left in `.partial/`.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.partial()) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        out.sort();
        out
    }

    /// Reads the plan, if there is one.
    ///
    /// # Errors
    /// [`CliError::Json`] for a plan that does not read back.
    pub fn read_plan(&self) -> Result<Option<Plan>> {
        read_json(&self.plan(), "an evaluate plan")
    }

    /// Writes `plan`, or checks that the one there has the same settings. A plan of the
    /// same settings and other entities is replaced (entities added to or taken from the
    /// fleet; results of the same settings stay valid), with a note.
    ///
    /// # Errors
    /// [`CliError::OtherRun`] naming the settings that differ.
    pub fn settle_plan(&self, plan: &Plan) -> Result<()> {
        let old = self.read_plan()?;
        match &old {
            Some(old) if old == plan => return Ok(()),
            Some(old) if old.settings != plan.settings || old.version != plan.version => {
                return Err(CliError::OtherRun {
                    path: self.plan(),
                    what: describe_difference(old, plan),
                })
            }
            Some(old) => eprintln!(
                "note: {}: the entities change from {} to {}; merge will expect the new list",
                self.plan().display(),
                old.entities.len(),
                plan.entities.len()
            ),
            None => {}
        }
        let bytes = serde_json::to_vec_pretty(plan).map_err(|source| CliError::Json {
            path: self.plan(),
            what: "an evaluate plan",
            source,
        })?;
        self.write_atomic(&self.plan(), &bytes)
    }

    /// Reads entity `name`'s result, if there is one.
    ///
    /// # Errors
    /// [`CliError::Json`] for a file that does not read back.
    pub fn read_entity(&self, name: &str) -> Result<Option<EntityResult>> {
        read_json(&self.entity(name), "an entity result")
    }

    /// Writes `result` under its entity's name, atomically.
    ///
    /// # Errors
    /// [`CliError::Io`] naming the file.
    pub fn write_entity(&self, result: &EntityResult) -> Result<()> {
        let path = self.entity(&result.entity);
        let bytes = serde_json::to_vec_pretty(result).map_err(|source| CliError::Json {
            path: path.clone(),
            what: "an entity result",
            source,
        })?;
        self.write_atomic(&path, &bytes)
    }
}

/// What differs between two plans' settings, for the refusal: the settings that differ
/// (one level into objects, e.g. `args.seeds`), with their values when short.
fn describe_difference(old: &Plan, new: &Plan) -> String {
    if old.version != new.version {
        return format!(
            "format version ({} there, {} here)",
            old.version, new.version
        );
    }
    let mut out = Vec::new();
    differences("", &old.settings, &new.settings, 1, &mut out);
    format!("settings ({})", out.join("; "))
}

/// The differences of `a` and `b` under `path`, descending `depth` levels into objects.
fn differences(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    depth: usize,
    out: &mut Vec<String>,
) {
    if a == b {
        return;
    }
    if let (Some(x), Some(y), true) = (a.as_object(), b.as_object(), depth > 0 || path.is_empty()) {
        let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
        keys.sort();
        keys.dedup();
        let none = serde_json::Value::Null;
        for k in keys {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let depth = if path.is_empty() { depth } else { depth - 1 };
            differences(
                &sub,
                x.get(k).unwrap_or(&none),
                y.get(k).unwrap_or(&none),
                depth,
                out,
            );
        }
        return;
    }
    let (a, b) = (a.to_string(), b.to_string());
    if a.len() + b.len() > 160 {
        out.push(path.to_string());
    } else {
        out.push(format!("{path}: {a} there, {b} here"));
    }
}

/// `path` as `T`, `None` when it does not exist.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, what: &'static str) -> Result<Option<T>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| CliError::Json {
            path: path.to_path_buf(),
            what,
            source,
        })
}

/// `sha256:` and the hex SHA-256 of the file at `path`.
///
/// # Errors
/// [`CliError::Io`] naming the file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| CliError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("anomaly-xai-cli-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_digest_is_sha256() {
        let dir = scratch("digest");
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("abc");
        fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_atomic_write_leaves_nothing_behind() {
        let dir = scratch("atomic");
        let out = OutDir::new(&dir);
        out.create().unwrap();
        let target = out.entities().join("x.json");
        out.write_atomic(&target, b"{}").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"{}");
        assert!(out.leftovers().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_plan_is_refused_by_what_differs() {
        let dir = scratch("plan");
        let out = OutDir::new(&dir);
        out.create().unwrap();
        let plan = Plan {
            format: FORMAT.into(),
            version: VERSION,
            entities: vec!["a".into(), "b".into()],
            settings: serde_json::json!({"seeds": 2}),
        };
        out.settle_plan(&plan).unwrap();
        out.settle_plan(&plan).unwrap();
        let other = Plan {
            settings: serde_json::json!({"seeds": 3}),
            ..plan.clone()
        };
        let e = out.settle_plan(&other).unwrap_err().to_string();
        assert!(
            e.contains("seeds: 2 there, 3 here") && e.contains("plan.json"),
            "{e}"
        );
        let more = Plan {
            entities: vec!["a".into(), "b".into(), "c".into()],
            ..plan
        };
        out.settle_plan(&more).unwrap();
        assert_eq!(out.read_plan().unwrap().unwrap(), more);
        fs::remove_dir_all(&dir).unwrap();
    }
}
