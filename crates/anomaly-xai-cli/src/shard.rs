//! Which entities one worker of a fleet takes: the entities whose position in the sorted
//! list is `index` mod `count`. The index and count come from `--shard I/N`, else from the
//! batch engine's own variables: a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` (the
//! count is the Job's `completions`, given as `--shards N`), or a Slurm array's
//! `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (less `SLURM_ARRAY_TASK_MIN`, so
//! that `--array=1-8` works too). Every entity is taken by exactly one shard.

use std::fmt;
use std::str::FromStr;

use crate::error::{CliError, Result};

/// One worker's part of the entities: those at positions `index`, `index + count`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's index, `0..count`.
    pub index: usize,
    /// How many workers share the entities.
    pub count: usize,
}

/// Where a shard came from, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSource {
    /// Neither a flag nor an engine's variable: the one shard of a single process.
    Whole,
    /// `--shard I/N`.
    Flag,
    /// `JOB_COMPLETION_INDEX` and `--shards N` (Kubernetes Indexed Job).
    Kubernetes,
    /// `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (Slurm job array).
    Slurm,
}

impl Shard {
    /// All entities, in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// A shard, checked: `count` at least 1, `index` below it.
    ///
    /// # Errors
    /// [`CliError::Arg`] naming `arg` otherwise.
    pub fn new(index: usize, count: usize, arg: &'static str) -> Result<Self> {
        if count == 0 {
            return Err(CliError::Arg {
                arg,
                value: format!("{index}/{count}"),
                rule: "the shard count must be at least 1".into(),
            });
        }
        if index >= count {
            return Err(CliError::Arg {
                arg,
                value: format!("{index}/{count}"),
                rule: format!("the index must be below the count (0..{count})"),
            });
        }
        Ok(Shard { index, count })
    }

    /// This worker's shard: `flag` (`--shard I/N`) when given, else the engine's
    /// variables read through `env`, else [`Shard::WHOLE`]. `shards` (`--shards N`) is the
    /// count that goes with `JOB_COMPLETION_INDEX`; with `--shard` it must agree.
    ///
    /// ```
    /// use anomaly_xai_cli::shard::{Shard, ShardSource};
    /// let env = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
    /// let (s, from) = Shard::resolve(None, Some(4), env).unwrap();
    /// assert_eq!((s.index, s.count, from), (2, 4, ShardSource::Kubernetes));
    /// assert_eq!(s.take(&["a", "b", "c", "d", "e", "f", "g"]), ["c", "g"]);
    /// ```
    ///
    /// # Errors
    /// [`CliError::Arg`] naming the flag or variable: an index that is not a number or
    /// not below the count, `JOB_COMPLETION_INDEX` without `--shards`, a Slurm index
    /// without its count, `--shards` without an index, `--shards` disagreeing with
    /// `--shard`.
    pub fn resolve(
        flag: Option<Shard>,
        shards: Option<usize>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Shard, ShardSource)> {
        if let Some(s) = flag {
            if let Some(n) = shards.filter(|&n| n != s.count) {
                return Err(CliError::Arg {
                    arg: "--shards",
                    value: n.to_string(),
                    rule: format!("disagrees with --shard {s}"),
                });
            }
            return Ok((s, ShardSource::Flag));
        }
        let number = |arg: &'static str, value: String| {
            value.trim().parse::<usize>().map_err(|_| CliError::Arg {
                arg,
                value,
                rule: "is not a non-negative whole number".into(),
            })
        };
        if let Some(index) = env("JOB_COMPLETION_INDEX") {
            let index = number("JOB_COMPLETION_INDEX", index)?;
            let count = shards.ok_or_else(|| CliError::Arg {
                arg: "JOB_COMPLETION_INDEX",
                value: index.to_string(),
                rule: "needs --shards N, the Job's completions".into(),
            })?;
            return Ok((
                Shard::new(index, count, "JOB_COMPLETION_INDEX")?,
                ShardSource::Kubernetes,
            ));
        }
        if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
            let id = number("SLURM_ARRAY_TASK_ID", id)?;
            let count = env("SLURM_ARRAY_TASK_COUNT").ok_or_else(|| CliError::Arg {
                arg: "SLURM_ARRAY_TASK_ID",
                value: id.to_string(),
                rule: "is set but SLURM_ARRAY_TASK_COUNT is not".into(),
            })?;
            let count = number("SLURM_ARRAY_TASK_COUNT", count)?;
            let min = match env("SLURM_ARRAY_TASK_MIN") {
                Some(m) => number("SLURM_ARRAY_TASK_MIN", m)?,
                None => 0,
            };
            if let Some(step) = env("SLURM_ARRAY_TASK_STEP") {
                if number("SLURM_ARRAY_TASK_STEP", step.clone())? != 1 {
                    return Err(CliError::Arg {
                        arg: "SLURM_ARRAY_TASK_STEP",
                        value: step,
                        rule: "must be 1: give the array as a range, e.g. --array=0-7".into(),
                    });
                }
            }
            if let Some(n) = shards.filter(|&n| n != count) {
                return Err(CliError::Arg {
                    arg: "--shards",
                    value: n.to_string(),
                    rule: format!("disagrees with SLURM_ARRAY_TASK_COUNT = {count}"),
                });
            }
            let index = id.checked_sub(min).ok_or_else(|| CliError::Arg {
                arg: "SLURM_ARRAY_TASK_ID",
                value: id.to_string(),
                rule: format!("is below SLURM_ARRAY_TASK_MIN = {min}"),
            })?;
            return Ok((
                Shard::new(index, count, "SLURM_ARRAY_TASK_ID")?,
                ShardSource::Slurm,
            ));
        }
        if let Some(n) = shards {
            return Err(CliError::Arg {
                arg: "--shards",
                value: n.to_string(),
                rule: "needs an index: --shard I/N, or JOB_COMPLETION_INDEX (Kubernetes)".into(),
            });
        }
        Ok((Shard::WHOLE, ShardSource::Whole))
    }

    /// The items of `sorted` at positions `index`, `index + count`, ...
    pub fn take<T: Clone>(&self, sorted: &[T]) -> Vec<T> {
        sorted
            .iter()
            .skip(self.index)
            .step_by(self.count)
            .cloned()
            .collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = CliError;

    /// `I/N`, e.g. `0/2`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |rule: &str| CliError::Arg {
            arg: "--shard",
            value: s.to_string(),
            rule: rule.to_string(),
        };
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, e.g. 0/4"))?;
        let i = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let n = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        Shard::new(i, n, "--shard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn every_entity_is_taken_by_exactly_one_shard() {
        for n_entities in 0..12 {
            let entities: Vec<usize> = (0..n_entities).collect();
            for count in 1..8 {
                let mut seen = vec![0; n_entities];
                for index in 0..count {
                    let shard = Shard::new(index, count, "--shard").unwrap();
                    let mine = shard.take(&entities);
                    for &e in &mine {
                        assert_eq!(e % count, index, "position mod count is the index");
                        seen[e] += 1;
                    }
                    // Shards differ in size by at most one.
                    let expected = n_entities / count + usize::from(index < n_entities % count);
                    assert_eq!(mine.len(), expected);
                }
                assert!(seen.iter().all(|&s| s == 1), "{n_entities} over {count}");
            }
        }
    }

    #[test]
    fn more_shards_than_entities_leaves_some_empty() {
        let entities = ["a", "b"];
        let empty = Shard::new(2, 3, "--shard").unwrap().take(&entities);
        assert!(empty.is_empty());
    }

    #[test]
    fn the_flag_parses_and_is_checked() {
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
        for bad in ["3/3", "0/0", "1", "a/2", "1/b", "-1/2"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("--shard") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn the_flag_wins_and_must_agree_with_shards() {
        let s = Shard::new(1, 2, "--shard").unwrap();
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            Shard::resolve(Some(s), None, &k8s).unwrap(),
            (s, ShardSource::Flag)
        );
        let e = Shard::resolve(Some(s), Some(3), &k8s).unwrap_err();
        assert!(e.to_string().contains("--shards = 3"), "{e}");
    }

    #[test]
    fn kubernetes_needs_the_count() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        let (s, from) = Shard::resolve(None, Some(4), &k8s).unwrap();
        assert_eq!(
            (s, from),
            (Shard { index: 3, count: 4 }, ShardSource::Kubernetes)
        );
        let e = Shard::resolve(None, None, &k8s).unwrap_err().to_string();
        assert!(
            e.contains("JOB_COMPLETION_INDEX") && e.contains("--shards"),
            "{e}"
        );
        let e = Shard::resolve(None, Some(3), &k8s).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX = 3/3"), "{e}");
        let bad = env(&[("JOB_COMPLETION_INDEX", "x")]);
        assert!(Shard::resolve(None, Some(3), &bad).is_err());
    }

    #[test]
    fn slurm_counts_from_the_array_minimum() {
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        let (s, from) = Shard::resolve(None, None, &slurm).unwrap();
        assert_eq!(
            (s, from),
            (Shard { index: 4, count: 8 }, ShardSource::Slurm)
        );
        let plain = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(Shard::resolve(None, None, &plain).unwrap().0.index, 7);
        let no_count = env(&[("SLURM_ARRAY_TASK_ID", "1")]);
        let e = Shard::resolve(None, None, &no_count)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_COUNT"), "{e}");
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ]);
        let e = Shard::resolve(None, None, &stepped)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_STEP"), "{e}");
        let beyond = env(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(Shard::resolve(None, None, &beyond).is_err());
    }

    #[test]
    fn no_flag_and_no_engine_is_the_whole_list() {
        let none = env(&[]);
        assert_eq!(
            Shard::resolve(None, None, &none).unwrap(),
            (Shard::WHOLE, ShardSource::Whole)
        );
        let e = Shard::resolve(None, Some(2), &none)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--shards = 2") && e.contains("needs an index"),
            "{e}"
        );
    }
}
