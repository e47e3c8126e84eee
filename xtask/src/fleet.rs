//! `cargo xtask fleet`: a fleet run simulated on this machine, as a Kubernetes Indexed Job
//! or a Slurm array would run it. N `anomaly-xai evaluate --shard I/N` workers start at
//! once on shared SMD machines and one output directory; worker 0 is killed with SIGKILL
//! as soon as its first entity's result is written (so in the middle of its second), and
//! started again; then `anomaly-xai merge`. Checked:
//!
//! * after the kill, every file under the real names is a complete result (each parses as
//!   JSON and names its entity), and the killed worker's current entity has none;
//! * the restarted worker skips the entity it finished and computes the other;
//! * the merged report equals a single-process `evaluate` of the same machines exactly:
//!   the pooled tables digit for digit, and `results.json` (every score of every method,
//!   region and seed) byte for byte once the wall times are left out.
//!
//! `--measure` times, instead, the same machines with 1 and with 2 workers from an empty
//! detector cache (entities per hour) and one entity alone under `/usr/bin/time -v` (wall
//! time and peak memory), for sizing a cluster.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::{root, run, Torch};

/// Few methods, few windows, a short training: minutes on this machine.
const QUICK: [&str; 12] = [
    "--skip",
    "kernel,shapley,gradient,integrated,lrp",
    "--seeds",
    "1",
    "--max-windows",
    "2",
    "--epochs",
    "2",
    "--reference-windows",
    "8",
    "--threads",
    "1",
];

struct Options {
    data_dir: PathBuf,
    machines: String,
    shards: usize,
    measure: bool,
    /// The dev build instead of the release one (quicker to build; slower to run).
    dev: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        data_dir: root().join("../shared/data/smd"),
        machines: "machine-1-2,machine-1-3,machine-1-4,machine-1-5".into(),
        shards: 2,
        measure: false,
        dev: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--data-dir" => o.data_dir = PathBuf::from(value("--data-dir")?),
            "--machines" => o.machines = value("--machines")?,
            "--shards" => {
                let v = value("--shards")?;
                o.shards = v
                    .parse()
                    .ok()
                    .filter(|&n| n >= 2)
                    .ok_or(format!("--shards = {v}: must be a number of at least 2"))?;
            }
            "--measure" => o.measure = true,
            "--dev" => o.dev = true,
            other => {
                return Err(format!(
                    "unknown argument `{other}` (fleet [--data-dir DIR] [--machines a,b,..] [--shards N] [--measure] [--dev])"
                ))
            }
        }
    }
    if !o.data_dir.join("train").is_dir() {
        return Err(format!(
            "--data-dir {} holds no train/ (an SMD directory, e.g. ../shared/data/smd)",
            o.data_dir.display()
        ));
    }
    Ok(o)
}

/// Runs the simulation (or, with `--measure`, the measurement).
pub fn fleet(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let torch = Torch::ensure(false)?;
    // The command as an operator installs it: a release build of its one binary (`--dev`:
    // the dev build, for a quick check of the behaviour, not for figures).
    let (flags, dir): (&[&str], &str) = if o.dev {
        (&[], "debug")
    } else {
        (&["--release"], "release")
    };
    let mut build = torch.cargo(&["build", "-p", "anomaly-xai-cli"]);
    build.args(flags);
    run(&mut build)?;
    let exe = root().join("target").join(dir).join("anomaly-xai");
    let work = root().join("target/fleet");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let f = Fleet {
        torch,
        exe,
        work,
        o,
    };
    if f.o.measure {
        f.measure()
    } else {
        f.simulate()
    }
}

struct Fleet {
    torch: Torch,
    exe: PathBuf,
    work: PathBuf,
    o: Options,
}

impl Fleet {
    /// `anomaly-xai evaluate` over the machines into `out` with the detector cache
    /// `cache`, plus `extra`, logging to `log`.
    fn evaluate(
        &self,
        out: &str,
        cache: &str,
        extra: &[&str],
        log: &str,
    ) -> Result<Command, String> {
        let mut c = self.torch.command(&self.exe.to_string_lossy());
        c.arg("evaluate")
            .arg("--data-dir")
            .arg(&self.o.data_dir)
            .args(["--machines", &self.o.machines])
            .arg("--out")
            .arg(self.work.join(out))
            .arg("--cache-dir")
            .arg(self.work.join(cache))
            .args(QUICK)
            .arg("--quiet")
            .args(extra);
        let file = |suffix: &str| {
            let path = self.work.join(format!("{log}.{suffix}"));
            fs::File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))
        };
        c.stdout(Stdio::from(file("out")?))
            .stderr(Stdio::from(file("err")?));
        Ok(c)
    }

    fn spawn(&self, c: &mut Command) -> Result<Child, String> {
        c.spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))
    }

    fn wait(&self, mut child: Child, what: &str) -> Result<(), String> {
        let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({status}); see the logs in {}",
                self.work.display()
            ))
        }
    }

    /// `anomaly-xai merge OUT`; its stdout.
    fn merge(&self, out: &str) -> Result<String, String> {
        let output = self
            .torch
            .command(&self.exe.to_string_lossy())
            .arg("merge")
            .arg(self.work.join(out))
            .output()
            .map_err(|e| format!("cannot start merge: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "merge {out} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The sorted machine names.
    fn machines(&self) -> Vec<String> {
        let mut m: Vec<String> = self
            .o
            .machines
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        m.sort();
        m.dedup();
        m
    }

    fn simulate(&self) -> Result<(), String> {
        let machines = self.machines();
        let n = self.o.shards;
        let first_of_0: Vec<&String> = machines.iter().step_by(n).collect();
        if first_of_0.len() < 2 {
            return Err(format!(
                "worker 0 must have two entities to be killed between them: give at least {} machines",
                n + 1
            ));
        }
        let started = Instant::now();
        eprintln!(
            "fleet: {} workers over {} machines ({}), one output directory",
            n,
            machines.len(),
            machines.join(", ")
        );
        let mut workers = Workers(Vec::new());
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let mut c = self.evaluate(
                "sharded",
                "cache",
                &["--shard", &shard],
                &format!("worker{i}"),
            )?;
            workers.0.push(Some(self.spawn(&mut c)?));
        }
        // Worker 0: killed once its first entity is written, i.e. during its second.
        let done = self
            .work
            .join("sharded/entities")
            .join(format!("{}.json", first_of_0[0]));
        let w0 = workers.0[0].as_mut().expect("spawned");
        while !done.exists() {
            if let Some(status) = w0.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "worker 0 ended ({status}) before it could be killed"
                ));
            }
            sleep(Duration::from_millis(50));
        }
        // `Child::kill` sends SIGKILL on Unix.
        w0.kill()
            .map_err(|e| format!("cannot kill worker 0: {e}"))?;
        let status = w0.wait().map_err(|e| e.to_string())?;
        workers.0[0] = None;
        eprintln!(
            "fleet: worker 0 killed with SIGKILL after {:.1} s, while on {} ({status})",
            started.elapsed().as_secs_f64(),
            first_of_0[1]
        );
        self.check_complete("sharded")?;
        if self
            .work
            .join("sharded/entities")
            .join(format!("{}.json", first_of_0[1]))
            .exists()
        {
            return Err(format!(
                "{} has a result although worker 0 was killed on it",
                first_of_0[1]
            ));
        }
        let partial = fs::read_dir(self.work.join("sharded/.partial"))
            .map(|d| d.count())
            .unwrap_or(0);
        eprintln!("fleet: after the kill every result under its real name is complete ({partial} temporary file(s) in .partial/)");
        let mut c = self.evaluate(
            "sharded",
            "cache",
            &["--shard", &format!("0/{n}")],
            "worker0-restarted",
        )?;
        workers.0[0] = Some(self.spawn(&mut c)?);
        for i in 0..n {
            let w = workers.0[i].take().expect("spawned");
            self.wait(w, &format!("worker {i}"))?;
        }
        let log = fs::read_to_string(self.work.join("worker0-restarted.err")).unwrap_or_default();
        if !log.contains("result exists and matches; skipped") {
            return Err("the restarted worker 0 did not skip the entity it had finished".into());
        }
        eprintln!(
            "fleet: every worker done after {:.1} s (the restarted worker skipped {})",
            started.elapsed().as_secs_f64(),
            first_of_0[0]
        );
        self.check_complete("sharded")?;
        let merged = self.merge("sharded")?;
        // The same machines in one process, on the detectors the fleet trained.
        let single = Instant::now();
        let c = self.evaluate("single", "cache", &[], "single")?;
        let mut c = c;
        self.wait(self.spawn(&mut c)?, "single-process evaluate")?;
        eprintln!(
            "fleet: single process done in {:.1} s",
            single.elapsed().as_secs_f64()
        );
        let alone = self.merge("single")?;
        if merged != alone {
            return Err(format!(
                "the merged tables differ from the single process's:\n--- merged\n{merged}\n--- single\n{alone}"
            ));
        }
        let a = without_seconds(&self.read("sharded/results.json")?);
        let b = without_seconds(&self.read("single/results.json")?);
        if a != b {
            return Err(
                "results.json of the fleet and of the single process differ beyond wall times"
                    .into(),
            );
        }
        print!("{merged}");
        eprintln!(
            "fleet: passed in {:.0} s: the merged report equals the single process's (tables digit for digit, every score bit for bit)",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn read(&self, path: &str) -> Result<String, String> {
        let p = self.work.join(path);
        fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }

    /// Every file under `OUT/entities` parses as a result of its own entity.
    fn check_complete(&self, out: &str) -> Result<(), String> {
        let dir = self.work.join(out).join("entities");
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let trimmed = text.trim_end();
            if !(trimmed.starts_with('{')
                && trimmed.ends_with('}')
                && text.contains(&format!("\"entity\": \"{stem}\"")))
            {
                return Err(format!("{} is not a complete result", path.display()));
            }
        }
        Ok(())
    }

    fn measure(&self) -> Result<(), String> {
        let machines = self.machines();
        let m = machines.len() as f64;
        let one = Instant::now();
        let mut c = self.evaluate("one-worker", "cache-one", &[], "one-worker")?;
        self.wait(self.spawn(&mut c)?, "1 worker")?;
        let one = one.elapsed().as_secs_f64();
        let two = Instant::now();
        let mut workers = Workers(Vec::new());
        for i in 0..2 {
            let mut c = self.evaluate(
                "two-workers",
                "cache-two",
                &["--shard", &format!("{i}/2")],
                &format!("two-workers-{i}"),
            )?;
            workers.0.push(Some(self.spawn(&mut c)?));
        }
        for i in 0..2 {
            let w = workers.0[i].take().expect("spawned");
            self.wait(w, &format!("worker {i} of 2"))?;
        }
        let two = two.elapsed().as_secs_f64();
        // One entity alone, fresh cache: what one worker costs.
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(&self.exe);
        for (k, v) in self.torch.vars() {
            c.env(k, v);
        }
        let output = c
            .arg("evaluate")
            .arg("--data-dir")
            .arg(&self.o.data_dir)
            .args(["--machines", &machines[0]])
            .arg("--out")
            .arg(self.work.join("one-entity"))
            .args(QUICK)
            .arg("--quiet")
            .output()
            .map_err(|e| format!("cannot start /usr/bin/time: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "one entity failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let field = |name: &str| {
            stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
                .unwrap_or_else(|| "?".into())
        };
        println!("| workers | entities | wall s | entities per hour |\n|---:|---:|---:|---:|");
        println!("| 1 | {m} | {one:.1} | {:.0} |", m / one * 3600.0);
        println!("| 2 | {m} | {two:.1} | {:.0} |", m / two * 3600.0);
        println!(
            "\none entity ({}): wall {}, peak memory (max RSS) {} kB",
            machines[0],
            field("Elapsed (wall clock) time (h:mm:ss or m:ss):"),
            field("Maximum resident set size (kbytes):")
        );
        Ok(())
    }
}

/// Running workers, killed and reaped when dropped: on an error no worker outlives the
/// simulation.
struct Workers(Vec<Option<Child>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in self.0.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `results.json` without the wall times: every `"seconds": [...]` array left out (the
/// pretty JSON puts one number a line).
fn without_seconds(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let t = line.trim();
        if skipping {
            if t.starts_with(']') {
                skipping = false;
            }
            continue;
        }
        if t.starts_with("\"seconds\":") {
            skipping = t.ends_with('[');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
