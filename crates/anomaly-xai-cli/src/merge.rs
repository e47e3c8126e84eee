//! `anomaly-xai merge`: pools the per-entity results of an output directory into the
//! report (`table.md`, `results.json`; the pooled table also on stdout), refusing, by
//! name, entities that are missing, unreadable or computed with other settings.

use std::path::PathBuf;

use clap::Args;

use anomaly_xai::localizer::{LocalizationRun, Normalization};
use anomaly_xai_repro::localization::{NormArg, PooledReport};

use crate::error::{CliError, Result};
use crate::output::{OutDir, FORMAT, VERSION};

/// `merge`'s flags.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The output directory that `evaluate` wrote (every shard's)
    pub out: PathBuf,
    /// Also pool the same explanations under these normalizations (comma-separated, e.g.
    /// `standardize,robust`)
    #[arg(long, value_delimiter = ',', value_enum)]
    pub compare: Vec<NormArg>,
}

/// Runs `merge`.
///
/// # Errors
/// As [`merge_dir`].
pub fn merge(args: &MergeArgs) -> Result<()> {
    if !args.out.is_dir() {
        return Err(CliError::Arg {
            arg: "OUT",
            value: args.out.display().to_string(),
            rule: "is not a directory".into(),
        });
    }
    let compare: Vec<Normalization> = args.compare.iter().map(|&n| n.into()).collect();
    merge_dir(&OutDir::new(&args.out), &compare)
}

/// Pools every entity of `out`'s plan: writes `table.md` and `results.json` and prints
/// the pooled tables.
///
/// # Errors
/// [`CliError::Arg`] without a plan; [`CliError::Merge`] naming every entity whose result
/// is missing, unreadable or of other settings; write errors.
pub fn merge_dir(out: &OutDir, compare: &[Normalization]) -> Result<()> {
    let plan = out.read_plan()?.ok_or_else(|| CliError::Arg {
        arg: "OUT",
        value: out.root.display().to_string(),
        rule: "holds no plan.json: not an output directory of `anomaly-xai evaluate`".into(),
    })?;
    let (mut missing, mut unreadable, mut other) = (Vec::new(), Vec::new(), Vec::new());
    let mut runs: Vec<LocalizationRun> = Vec::new();
    let mut seconds = 0.0;
    for name in &plan.entities {
        match out.read_entity(name) {
            Ok(None) => missing.push(name.clone()),
            Err(e) => unreadable.push(format!("{name} ({e})")),
            Ok(Some(r))
                if r.entity != *name
                    || r.settings != plan.settings
                    || r.format != FORMAT
                    || r.version != VERSION =>
            {
                other.push(name.clone())
            }
            Ok(Some(r)) => {
                seconds += r.seconds;
                runs.push(r.run);
            }
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} of {} entities have no result: {}",
            missing.len(),
            plan.entities.len(),
            missing.join(", ")
        ));
    }
    if !unreadable.is_empty() {
        problems.push(format!("unreadable: {}", unreadable.join(", ")));
    }
    if !other.is_empty() {
        problems.push(format!(
            "computed with other settings than plan.json: {}",
            other.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(CliError::Merge {
            out: out.root.clone(),
            problems: problems.join("; "),
        });
    }
    let leftovers = out.leftovers();
    if !leftovers.is_empty() {
        eprintln!(
            "note: {} unfinished temporary file(s) of stopped workers in {} (never read; safe to delete)",
            leftovers.len(),
            out.partial().display()
        );
    }
    let report = PooledReport::new(&plan.entities, &runs, compare, seconds)?;
    println!("\n### all machines, regions pooled\n\n{}", report.pooled);
    let normalization = runs
        .first()
        .map(|r| r.config.normalization)
        .unwrap_or(Normalization::None);
    // The raw and compared sections, as the example prints them after the pooled table.
    print!("{}", report.stdout(1, normalization));
    let md = out.root.join("table.md");
    out.write_atomic(&md, report.markdown.as_bytes())?;
    let json = out.root.join("results.json");
    let bytes = serde_json::to_vec_pretty(&runs).map_err(anomaly_xai::Error::from)?;
    out.write_atomic(&json, &bytes)?;
    eprintln!(
        "merged {} entities into {} and {} (compute time {seconds:.0} s in all)",
        runs.len(),
        md.display(),
        json.display()
    );
    Ok(())
}
