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
        // The reference row's wall time too.
        if let Some(d) = run.get_mut("deviation").and_then(|d| d.as_object_mut()) {
            d.remove("seconds");
        }
    }
    v
}

#[test]
fn help_lists_the_subcommands() {
    let (stdout, _) = ok(&["--help"]);
    for sub in ["fit", "explain", "evaluate", "merge"] {
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
    assert!(
        merged.contains("Deviation from normal (no detector)"),
        "{merged}"
    );

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

/// A CSV with a header: the tiny machine's training half (normal) or test half (live).
fn write_csv(dir: &Path, file: &str, from: &Path) -> PathBuf {
    let text = fs::read_to_string(from).unwrap();
    let path = dir.join(file);
    fs::write(&path, format!("pump,valve,fan,disk\n{text}")).unwrap();
    path
}

#[test]
fn fit_then_explain_gives_one_json_line_per_alarm() {
    let root = scratch("fit");
    let data = data(&root);
    let normal = write_csv(&root, "normal.csv", &data.join("train/m-b.txt"));
    let live = write_csv(&root, "live.csv", &data.join("test/m-b.txt"));
    let e = root.join("explainer.json");
    let (n, l, x) = (
        normal.to_str().unwrap(),
        live.to_str().unwrap(),
        e.to_str().unwrap(),
    );
    let quick = ["--epochs", "1", "--quiet"];
    let mut fit = vec!["fit", "--csv", n, "--out", x];
    fit.extend(quick);
    ok(&fit);
    assert!(root.join("explainer.json.detector.safetensors").exists());

    // m-b's labelled sensor is `valve` (index 1), jumping on steps 300..320.
    let (stdout, _) = ok(&[
        "explain",
        "--explainer",
        x,
        "--csv",
        l,
        "--alarms",
        "300-320,100-110",
    ]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["span"], serde_json::json!([300, 320]));
    assert_eq!(lines[0]["top"][0]["sensor"], 1, "{stdout}");
    assert_eq!(lines[0]["top"][0]["name"], "valve", "{stdout}");
    assert_eq!(
        lines[0]["top"].as_array().unwrap().len(),
        4,
        "the default top 5 of 4 sensors is all 4"
    );

    // A threshold far below every score raises one alarm over the whole series after the
    // first window; one far above raises none.
    let (stdout, _) = ok(&["explain", "--explainer", x, "--csv", l, "--threshold=-1"]);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["span"], serde_json::json!([49, 400]), "{stdout}");
    let (stdout, none) = ok(&[
        "explain",
        "--explainer",
        x,
        "--csv",
        l,
        "--threshold",
        "1e9",
    ]);
    assert!(stdout.is_empty() && none.contains("no alarm"), "{none}");

    // Refused before any work: a bad span, a missing series; and another detector.
    let e1 = failed(&["explain", "--explainer", x, "--csv", l, "--alarms", "20-10"]);
    assert!(e1.contains("--alarms = 20-10"), "{e1}");
    let e2 = failed(&[
        "explain",
        "--explainer",
        x,
        "--csv",
        "/no/such.csv",
        "--alarms",
        "1-2",
    ]);
    assert!(e2.contains("/no/such.csv"), "{e2}");
    let other = root.join("other.json");
    let mut fit2 = vec!["fit", "--csv", l, "--out", other.to_str().unwrap()];
    fit2.extend(quick);
    ok(&fit2);
    for ext in ["safetensors", "json"] {
        fs::copy(
            root.join(format!("other.json.detector.{ext}")),
            root.join(format!("explainer.json.detector.{ext}")),
        )
        .unwrap();
    }
    let e3 = failed(&[
        "explain",
        "--explainer",
        x,
        "--csv",
        l,
        "--alarms",
        "300-320",
    ]);
    assert!(
        e3.contains("explainer.json") && e3.contains("was fitted for"),
        "{e3}"
    );
}

#[test]
fn a_torchscript_detector_fits_and_explains() {
    let root = scratch("torchscript");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let pt = repo.join("examples/models/machine-1-2-lstm-ae.pt");
    let smd = repo.join("data/smd");
    let e = root.join("e.json");
    let (p, d, x) = (
        pt.to_str().unwrap(),
        smd.to_str().unwrap(),
        e.to_str().unwrap(),
    );
    let series = ["--data-dir", d, "--machine", "machine-1-2"];
    let mut no_window = vec!["fit", "--torchscript", p, "--out", x];
    no_window.extend(series);
    let err = failed(&no_window);
    assert!(err.contains("--window"), "{err}");
    assert!(!e.exists());
    let mut fit = vec![
        "fit",
        "--torchscript",
        p,
        "--window",
        "50",
        "--minmax",
        "--out",
        x,
        "--quiet",
    ];
    fit.extend(series);
    ok(&fit);
    // The module is not beside the explainer: explain names it again.
    let mut explain = vec![
        "explain",
        "--explainer",
        x,
        "--torchscript",
        p,
        "--alarms",
        "15849-15860",
    ];
    explain.extend(series);
    let (stdout, _) = ok(&explain);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["span"], serde_json::json!([15849, 15860]));
    assert_eq!(line["top"].as_array().unwrap().len(), 5);
}

#[test]
fn a_worker_killed_mid_run_leaves_no_partial_result_and_resumes() {
    let root = scratch("killed");
    let data = data(&root);
    let d = data.to_str().unwrap();
    let cache = root.join("cache");
    let c = cache.to_str().unwrap();
    let out = root.join("out");
    let o = out.to_str().unwrap();
    let mut worker = Command::new(EXE)
        .args(evaluate(d, o, &["--cache-dir", c]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed (SIGKILL) as soon as its first entity is written: during its second.
    let first = out.join("entities/m-a.json");
    while !first.exists() {
        assert!(
            worker.try_wait().unwrap().is_none(),
            "ended before the kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    for entry in fs::read_dir(out.join("entities")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is partial: {e}", path.display()));
        assert_eq!(
            v["entity"].as_str().unwrap(),
            path.file_stem().unwrap().to_str().unwrap()
        );
    }
    // The restart skips what was written and computes the rest.
    let (resumed, log) = ok(&evaluate(d, o, &["--cache-dir", c]));
    assert!(
        log.contains("m-a (1/3)\n  result exists and matches; skipped"),
        "{log}"
    );
    let single = root.join("single");
    let (alone, _) = ok(&evaluate(d, single.to_str().unwrap(), &["--cache-dir", c]));
    let pooled = |s: &str| s[s.find("### all machines").unwrap()..].to_string();
    assert_eq!(pooled(&resumed), pooled(&alone));
    assert_eq!(
        without_seconds(&out.join("results.json")),
        without_seconds(&single.join("results.json"))
    );
}
