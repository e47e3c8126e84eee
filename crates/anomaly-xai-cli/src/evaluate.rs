//! `anomaly-xai evaluate`: paper 1's sensor localization (the `smd_localization` example's
//! run, [`anomaly_xai_repro::localization`]) over a directory of entities in the SMD
//! layout, one shard of them per worker, each entity's result written on its own with what
//! produced it, skipped on a re-run when it exists and matches.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use anomaly_xai::data::SmdMachine;
use anomaly_xai::localizer::{Localizer, Normalization};
use anomaly_xai_repro::localization::{machine_markdown, run_machine, LocalizationArgs, NormArg};
use anomaly_xai_repro::{paper1, MachineSettings, PreparedMachine};

use crate::error::{CliError, Result};
use crate::merge;
use crate::output::{sha256_file, EntityResult, FileDigest, OutDir, Plan, FORMAT, VERSION};
use crate::shard::{Shard, ShardSource};

/// `evaluate`'s flags.
#[derive(Args, Debug, Clone)]
pub struct EvaluateArgs {
    /// Directory in the SMD layout (train/, test/, test_label/, interpretation_label/;
    /// files as NAME.txt or NAME.txt.xz)
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Comma-separated entity names, or `all` (every machine of --data-dir)
    #[arg(long, default_value = "all")]
    pub machines: String,
    /// Output directory, shared by every shard: per-entity results, the plan, the
    /// detector cache and (after `merge`) the report
    #[arg(long)]
    pub out: PathBuf,
    /// Where trained detectors are cached [default: OUT/detectors]
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Train again even when a cached detector exists, and redo every entity of this shard
    #[arg(long)]
    pub retrain: bool,
    /// This worker's part, I/N: the entities whose position in the sorted list is I mod
    /// N [default: from JOB_COMPLETION_INDEX with --shards, or from SLURM_ARRAY_TASK_ID and
    /// SLURM_ARRAY_TASK_COUNT, else all]
    #[arg(long)]
    pub shard: Option<Shard>,
    /// How many shards share the entities (a Kubernetes Job's completions; with
    /// JOB_COMPLETION_INDEX)
    #[arg(long)]
    pub shards: Option<usize>,
    /// libtorch threads (0: libtorch's default). One is the default: one worker per core
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
    /// With a single shard: also print the pooled tables of the same explanations under
    /// these normalizations (comma-separated); see `merge --compare`
    #[arg(long, value_delimiter = ',', value_enum)]
    pub compare: Vec<NormArg>,
    /// The run's settings.
    #[command(flatten)]
    pub run: LocalizationArgs,
}

/// Everything checked, before any work.
struct Checked {
    localizer: Localizer,
    machine: MachineSettings,
    entities: Vec<String>,
    mine: Vec<String>,
    shard: Shard,
    source: ShardSource,
    out: OutDir,
    cache: PathBuf,
    plan: Plan,
}

/// Runs `evaluate` with the process's environment.
///
/// # Errors
/// Every argument is checked before any work ([`CliError::Arg`], [`CliError::Io`],
/// [`CliError::OtherRun`]); then the data's, training's and pipeline's errors.
pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    evaluate_with_env(args, |k| std::env::var(k).ok())
}

/// [`evaluate`] with the batch engine's variables read through `env`.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with_env(args: &EvaluateArgs, env: impl Fn(&str) -> Option<String>) -> Result<()> {
    let c = check(args, env)?;
    let started = Instant::now();
    if c.mine.is_empty() {
        eprintln!(
            "shard {}: no entities ({} entities over {} shards); nothing to do",
            c.shard,
            c.entities.len(),
            c.shard.count
        );
        return Ok(());
    }
    eprintln!(
        "shard {} ({}): {} of {} entities: {}",
        c.shard,
        source_name(c.source),
        c.mine.len(),
        c.entities.len(),
        c.mine.join(", ")
    );
    let (mut done, mut skipped) = (0, 0);
    let mut failed: Vec<String> = Vec::new();
    for (i, name) in c.mine.iter().enumerate() {
        eprintln!("== {name} ({}/{})", i + 1, c.mine.len());
        // One entity's failure (a damaged file, a detector that does not train) does not
        // stop the others; the worker reports it and fails at the end, and a restart redoes
        // only what has no valid result.
        match entity(args, &c, name) {
            Ok(Outcome::Skipped) => skipped += 1,
            Ok(Outcome::Computed) => done += 1,
            Err(e) => {
                eprintln!("  {name} failed: {e}");
                failed.push(format!("{name} ({e})"));
            }
        }
    }
    eprintln!(
        "shard {}: {done} computed, {skipped} skipped, {} failed, in {:.0} s",
        c.shard,
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        return Err(CliError::Entities {
            failed: failed.join("; "),
        });
    }
    if c.shard.count == 1 {
        let compare: Vec<Normalization> = args.compare.iter().map(|&n| n.into()).collect();
        merge::merge_dir(&c.out, &compare)?;
    } else {
        eprintln!(
            "when every shard is done: anomaly-xai merge {}",
            args.out.display()
        );
    }
    Ok(())
}

/// What became of one entity.
enum Outcome {
    Skipped,
    Computed,
}

/// Entity `name`: skipped when its result exists and matches, else computed and written.
fn entity(args: &EvaluateArgs, c: &Checked, name: &str) -> Result<Outcome> {
    let inputs = digests(&args.data_dir, name)?;
    if !args.retrain {
        match c.out.read_entity(name) {
            Ok(Some(old)) => match mismatch(&old, name, &inputs, &c.plan.settings) {
                None => {
                    eprintln!("  result exists and matches; skipped");
                    return Ok(Outcome::Skipped);
                }
                Some(why) => eprintln!("  result exists but {why}; computing it again"),
            },
            Ok(None) => {}
            Err(e) => eprintln!("  {e}; computing it again"),
        }
    }
    let started = Instant::now();
    let machine = SmdMachine::load(&args.data_dir, name).map_err(anomaly_xai::Error::from)?;
    let prepared = PreparedMachine::prepare(&machine, &c.machine, Some(&c.cache), args.retrain)?;
    let run = run_machine(&c.localizer, &machine, &prepared)?;
    println!("{}", machine_markdown(name, &run)?);
    let result = EntityResult {
        format: FORMAT.into(),
        version: VERSION,
        entity: name.to_string(),
        inputs,
        settings: c.plan.settings.clone(),
        detector: prepared.fingerprint.clone(),
        seconds: started.elapsed().as_secs_f64(),
        train_seconds: prepared.train_seconds,
        run,
    };
    c.out.write_entity(&result)?;
    eprintln!(
        "  wrote {} ({:.1} s)",
        c.out.entity(name).display(),
        result.seconds
    );
    Ok(Outcome::Computed)
}

fn source_name(s: ShardSource) -> &'static str {
    match s {
        ShardSource::Whole => "one process",
        ShardSource::Flag => "--shard",
        ShardSource::Kubernetes => "JOB_COMPLETION_INDEX",
        ShardSource::Slurm => "SLURM_ARRAY_TASK_ID",
    }
}

/// Why `old` cannot stand for entity `name` computed from `inputs` with `settings`, or
/// `None` when it can.
fn mismatch(
    old: &EntityResult,
    name: &str,
    inputs: &[FileDigest],
    settings: &serde_json::Value,
) -> Option<String> {
    if old.format != FORMAT || old.version != VERSION {
        return Some(format!("was written as {} v{}", old.format, old.version));
    }
    if old.entity != name {
        return Some(format!("names entity {}", old.entity));
    }
    if old.inputs != inputs {
        let changed: Vec<&str> = inputs
            .iter()
            .filter(|d| !old.inputs.contains(d))
            .map(|d| d.path.as_str())
            .collect();
        return Some(format!(
            "was computed from other inputs ({})",
            changed.join(", ")
        ));
    }
    if old.settings != *settings {
        return Some("was computed with other settings".into());
    }
    None
}

/// The SHA-256 of the four files of entity `name`.
fn digests(data_dir: &Path, name: &str) -> Result<Vec<FileDigest>> {
    let files = SmdMachine::files(data_dir, name).map_err(anomaly_xai::Error::from)?;
    files
        .all()
        .into_iter()
        .map(|p| {
            Ok(FileDigest {
                path: p
                    .strip_prefix(data_dir)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned(),
                sha256: sha256_file(p)?,
            })
        })
        .collect()
}

/// Every argument, checked before any work: the settings, the shard, the data directory
/// and every entity's files, the output and cache directories (created and written to),
/// the plan.
fn check(args: &EvaluateArgs, env: impl Fn(&str) -> Option<String>) -> Result<Checked> {
    if args.threads < 0 {
        return Err(CliError::Arg {
            arg: "--threads",
            value: args.threads.to_string(),
            rule: "must be 0 (libtorch's default) or more".into(),
        });
    }
    let localizer = args.run.localizer()?;
    let machine = args.run.machine_settings(&localizer);
    let (shard, source) = Shard::resolve(args.shard, args.shards, env)?;
    if !args.data_dir.is_dir() {
        return Err(CliError::Arg {
            arg: "--data-dir",
            value: args.data_dir.display().to_string(),
            rule: "is not a directory".into(),
        });
    }
    let entities = entity_list(&args.data_dir, &args.machines)?;
    let out = OutDir::new(&args.out);
    out.create()?;
    let cache = args.cache_dir.clone().unwrap_or_else(|| out.detectors());
    std::fs::create_dir_all(&cache).map_err(|e| CliError::io(&cache, e))?;
    let probe = cache.join(format!(".write-probe.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| CliError::io(&probe, e))?;
    std::fs::remove_file(&probe).map_err(|e| CliError::io(&probe, e))?;
    let plan = Plan {
        format: FORMAT.into(),
        version: VERSION,
        entities: entities.clone(),
        settings: settings(args, &localizer, &machine),
    };
    out.settle_plan(&plan)?;
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    let mine = shard.take(&entities);
    Ok(Checked {
        localizer,
        machine,
        entities,
        mine,
        shard,
        source,
        out,
        cache,
        plan,
    })
}

/// The settings that decide a result's numbers: the flags, the localizer's configuration,
/// the methods, the preparation, the protocol's columns and the libtorch threads.
fn settings(
    args: &EvaluateArgs,
    localizer: &Localizer,
    machine: &MachineSettings,
) -> serde_json::Value {
    let mut config = localizer.config.clone();
    config.progress = false;
    let mut machine = machine.clone();
    machine.train.quiet = false;
    let methods: Vec<String> = localizer.methods.iter().map(|m| m.label()).collect();
    json!({
        "args": args.run,
        "localizer": config,
        "methods": methods,
        "method_specs": localizer.methods,
        "preparation": machine,
        "protocol": paper1::protocol(),
        "threads": args.threads,
    })
}

/// The entities `machines` names (`all`: every machine of `data_dir`), sorted, each
/// checked to have its four files; every bad name is named at once.
fn entity_list(data_dir: &Path, machines: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = if machines.trim() == "all" {
        SmdMachine::list(data_dir).map_err(anomaly_xai::Error::from)?
    } else {
        machines
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    if names.is_empty() {
        return Err(CliError::Arg {
            arg: "--machines",
            value: machines.to_string(),
            rule: format!("names no entity (in {})", data_dir.display()),
        });
    }
    names.sort();
    let mut problems = Vec::new();
    for w in names.windows(2) {
        if w[0] == w[1] {
            problems.push(format!("{} is named twice", w[0]));
        }
    }
    names.dedup();
    for name in &names {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\'])
            && !name.chars().any(char::is_control);
        if !plain {
            problems.push(format!("{name:?} is not a plain file name"));
        } else if let Err(e) = SmdMachine::files(data_dir, name) {
            problems.push(format!("{name}: {e}"));
        }
    }
    if !problems.is_empty() {
        return Err(CliError::Arg {
            arg: "--machines",
            value: machines.to_string(),
            rule: problems.join("; "),
        });
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/smd")
    }

    #[test]
    fn every_bad_name_is_refused_at_once() {
        let e = entity_list(&embedded(), "machine-1-2,machine-9-9,../x,machine-9-9")
            .unwrap_err()
            .to_string();
        assert!(e.contains("machine-9-9 is named twice"), "{e}");
        assert!(e.contains("machine-9-9: "), "{e}");
        assert!(e.contains("\"../x\" is not a plain file name"), "{e}");
        assert!(!e.contains("machine-1-2:"), "{e}");
    }

    #[test]
    fn all_lists_the_directory() {
        assert_eq!(entity_list(&embedded(), "all").unwrap(), ["machine-1-2"]);
        assert_eq!(
            entity_list(&embedded(), " machine-1-2 ,").unwrap(),
            ["machine-1-2"]
        );
        assert!(entity_list(&embedded(), ",").is_err());
    }
}
