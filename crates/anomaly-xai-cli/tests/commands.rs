//! The `anomaly-xai` binary end to end on a tiny SMD directory written here (three
//! machines of 4 sensors, one labelled anomaly each): arguments refused before any work,
//! shards whose merge equals one process, a re-run that skips what matches and redoes
//! what does not, and a merge that refuses missing or foreign results by name.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_anomaly-xai");

/// Few methods, little training: seconds per machine.
const QUICK: [&str; 13] = [
    "--skip",
    "kernel,shapley,gradient,integrated,lrp",
    "--seeds",
    "1",
    "--max-windows",
    "2",
    "--epochs",
    "1",
    "--reference-windows",
    "4",
    "--threads",
    "1",
    "--quiet",
];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("commands-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A machine of 4 sensors: smooth normal behaviour, and in the test half sensor `k`
/// (0-based) jumps on rows 300..320.
fn write_machine(dir: &Path, name: &str, k: usize) {
    let series = |n: usize, phase: f64, jump: bool| -> String {
        let mut text = String::new();
        for t in 0..n {
            let row: Vec<String> = (0..4)
                .map(|s| {
                    let mut v = 0.5 + 0.4 * ((t as f64 + phase) * 0.1 * (s + 1) as f64).sin();
                    if jump && s == k && (300..320).contains(&t) {
                        v += 2.0;
                    }
                    format!("{v:.6}")
                })
                .collect();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        text
    };
    for sub in ["train", "test", "test_label", "interpretation_label"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let file = |sub: &str| dir.join(sub).join(format!("{name}.txt"));
    fs::write(file("train"), series(400, 0.0, false)).unwrap();
    fs::write(file("test"), series(400, 3.0, true)).unwrap();
    let labels: String = (0..400)
        .map(|t| {
            if (300..320).contains(&t) {
                "1\n"
            } else {
                "0\n"
            }
        })
        .collect();
    fs::write(file("test_label"), labels).unwrap();
    fs::write(file("interpretation_label"), format!("300-320:{}\n", k + 1)).unwrap();
}

fn data(root: &Path) -> PathBuf {
    let dir = root.join("data");
    for (i, name) in ["m-a", "m-b", "m-c"].iter().enumerate() {
        write_machine(&dir, name, i);
    }
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> (String, String) {
    let out = run(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{args:?} failed:\n{stderr}");
    (stdout, stderr)
}

/// The error output of a command that must fail: exit status 1 for a refused value, 2
/// for what the parser refuses (clap's usage errors).
fn failed(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        matches!(out.status.code(), Some(1 | 2)),
        "{args:?} should fail ({})",
        out.status
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn evaluate<'a>(data: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["evaluate", "--data-dir", data, "--out", out];
    a.extend(QUICK);
    a.extend(extra);
    a
}

/// `results.json` without the wall times.
fn without_seconds(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    for run in v.as_array_mut().unwrap() {
        for m in run["runs"].as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("seconds");
        }
    }
    v
}

#[test]
fn help_lists_the_subcommands() {
    let (stdout, _) = ok(&["--help"]);
    for sub in ["evaluate", "merge"] {
        assert!(stdout.contains(sub), "{stdout}");
    }
}

#[test]
fn bad_arguments_are_refused_before_any_work() {
    let root = scratch("refused");
    let data = data(&root);
    let out = root.join("out");
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let e = failed(&evaluate(d, o, &["--machines", "m-a,m-zz,m-b,../m-a"]));
    assert!(
        e.contains("m-zz") && e.contains("\"../m-a\" is not a plain file name"),
        "{e}"
    );
    assert!(!e.contains("m-b:"), "{e}");
    let e = failed(&evaluate(d, o, &["--shard", "2/2"]));
    assert!(e.contains("--shard") && e.contains("2/2"), "{e}");
    let e = failed(&evaluate(d, o, &["--skip", "nothing-like-this"]));
    assert!(e.contains("--skip"), "{e}");
    let e = failed(&evaluate(d, "/proc/no/such/dir", &[]));
    assert!(e.contains("/proc/no/such/dir"), "{e}");
    assert!(
        !out.exists(),
        "nothing is written before the arguments are checked"
    );
    let e = failed(&["merge", o]);
    assert!(e.contains(o), "{e}");
}

#[test]
fn shards_merge_to_the_single_process_result_and_resume() {
    let root = scratch("shards");
    let data = data(&root);
    let d = data.to_str().unwrap();
    let cache = root.join("cache");
    let c = cache.to_str().unwrap();
    let sharded = root.join("sharded");
    let s = sharded.to_str().unwrap();
    let single = root.join("single");

    // Three machines over two shards: positions 0 and 2, then 1.
    let (_, log0) = ok(&evaluate(d, s, &["--shard", "0/2", "--cache-dir", c]));
    assert!(log0.contains("2 of 3 entities: m-a, m-c"), "{log0}");
    let e = failed(&["merge", s]);
    assert!(e.contains("1 of 3 entities have no result: m-b"), "{e}");
    ok(&evaluate(d, s, &["--shard", "1/2", "--cache-dir", c]));
    // More shards than entities: an empty shard succeeds and says so.
    let (_, empty) = ok(&evaluate(d, s, &["--shard", "3/4", "--cache-dir", c]));
    assert!(empty.contains("no entities"), "{empty}");
    let (merged, _) = ok(&["merge", s]);
    assert!(merged.contains("chance (random ranking)"), "{merged}");

    let (alone, _) = ok(&evaluate(d, single.to_str().unwrap(), &["--cache-dir", c]));
    assert!(
        alone.ends_with(&merged),
        "one process prints the merged report last"
    );
    assert_eq!(
        without_seconds(&sharded.join("results.json")),
        without_seconds(&single.join("results.json"))
    );

    // A re-run skips what matches...
    let (_, again) = ok(&evaluate(d, s, &["--shard", "0/2", "--cache-dir", c]));
    assert_eq!(
        again.matches("result exists and matches; skipped").count(),
        2,
        "{again}"
    );
    // ... and redoes an entity whose input changed.
    let test_c = data.join("test/m-c.txt");
    let mut text = fs::read_to_string(&test_c).unwrap();
    let last = format!("{}\n", text.lines().last().unwrap());
    text.push_str(&last);
    fs::write(&test_c, &text).unwrap();
    let labels = data.join("test_label/m-c.txt");
    let mut l = fs::read_to_string(&labels).unwrap();
    l.push_str("0\n");
    fs::write(&labels, l).unwrap();
    let (_, redo) = ok(&evaluate(d, s, &["--shard", "0/2", "--cache-dir", c]));
    assert!(
        redo.contains("was computed from other inputs (test/m-c.txt, test_label/m-c.txt)"),
        "{redo}"
    );
    assert_eq!(redo.matches("skipped").count(), 2, "m-a skipped: {redo}");

    // Other settings in the same directory are refused by name.
    let e = failed(&evaluate(
        d,
        s,
        &["--shard", "0/2", "--cache-dir", c, "--patience", "5"],
    ));
    assert!(e.contains("args.patience: 3 there, 5 here"), "{e}");

    // A result of other settings (copied from another run) is refused by merge.
    let other = root.join("other");
    ok(&evaluate(
        d,
        other.to_str().unwrap(),
        &[
            "--machines",
            "m-b",
            "--policy",
            "overlapping",
            "--cache-dir",
            c,
        ],
    ));
    fs::copy(
        other.join("entities/m-b.json"),
        sharded.join("entities/m-b.json"),
    )
    .unwrap();
    let e = failed(&["merge", s]);
    assert!(
        e.contains("computed with other settings than plan.json: m-b"),
        "{e}"
    );
}

#[test]
fn a_damaged_entity_fails_alone_and_is_redone_after_the_fix() {
    let root = scratch("damaged");
    let data = data(&root);
    let d = data.to_str().unwrap();
    let out = root.join("out");
    let o = out.to_str().unwrap();
    let test_b = data.join("test/m-b.txt");
    let good = fs::read_to_string(&test_b).unwrap();
    fs::write(&test_b, good.replacen("0.", "x.", 1)).unwrap();
    let e = failed(&evaluate(d, o, &[]));
    assert!(
        e.contains("entities failed: m-b (") && e.contains("m-b.txt"),
        "{e}"
    );
    assert!(e.contains("2 computed, 0 skipped, 1 failed"), "{e}");
    assert!(!out.join("entities/m-b.json").exists());
    fs::write(&test_b, good).unwrap();
    let (_, log) = ok(&evaluate(d, o, &[]));
    assert!(log.contains("1 computed, 2 skipped, 0 failed"), "{log}");
}
