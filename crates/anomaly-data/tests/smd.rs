//! The SMD loader on the real files (skipped when absent) and on small hand-made ones.

mod common;

use std::fs;
use std::path::Path;

use anomaly_data::{DataError, SmdMachine};

#[test]
fn real_machine_loads_with_its_labels() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let smd = data.join("smd");
    let names = SmdMachine::list(&smd).unwrap();
    assert_eq!(names.len(), 15, "{names:?}");
    assert!(names.contains(&"machine-1-2".to_string()));
    let m = SmdMachine::load(&smd, "machine-1-2").unwrap();
    // Sizes from shared/data/README.md.
    assert_eq!(m.train.dim(), (23694, 38));
    assert_eq!(m.test.dim(), (23694, 38));
    assert_eq!(m.test_labels.iter().filter(|&&l| l).count(), 542);
    assert!(!m.regions.is_empty());
    // On this machine the labelled points are exactly the union of the regions.
    let mut covered = vec![false; m.test.nrows()];
    for r in &m.regions {
        covered[r.start..r.end].iter_mut().for_each(|c| *c = true);
        assert!(r.features.iter().all(|&f| f < 38));
    }
    assert_eq!(covered, m.test_labels);
    assert!(m.train.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn unknown_machine_is_a_data_error_naming_the_file() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let err = SmdMachine::load(&data.join("smd"), "machine-9-9").unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("train/machine-9-9.txt"), "{err}");
}

fn write_machine(dir: &Path, train: &str, test: &str, label: &str, interp: &str) {
    for (sub, text) in [
        ("train", train),
        ("test", test),
        ("test_label", label),
        ("interpretation_label", interp),
    ] {
        fs::create_dir_all(dir.join(sub)).unwrap();
        fs::write(dir.join(sub).join("m.txt"), text).unwrap();
    }
}

#[test]
fn plain_text_files_load_and_malformed_ones_name_file_and_line() {
    let dir = common::temp_dir("smd");
    write_machine(
        &dir,
        "0.1,0.2\n0.3,0.4\n",
        "0.5,0.6\n0.7,0.8\n0.9,1.0\n",
        "0\n1\n1\n",
        "1-3:2\n",
    );
    let m = SmdMachine::load(&dir, "m").unwrap();
    assert_eq!(m.test.dim(), (3, 2));
    assert_eq!(m.test_labels, vec![false, true, true]);
    assert_eq!(
        (
            m.regions[0].start,
            m.regions[0].end,
            m.regions[0].features.clone()
        ),
        (1, 3, vec![1])
    );
    assert_eq!(SmdMachine::list(&dir).unwrap(), vec!["m".to_string()]);

    let parse = |e: &DataError| matches!(e, DataError::Parse { .. });
    let content = |e: &DataError| matches!(e, DataError::Content { .. });
    let bad_label = |e: &DataError| matches!(e, DataError::MalformedLabel { line: 1, .. });
    let sensor = |e: &DataError| matches!(e, DataError::SensorOutOfRange { sensor: 3, .. });
    let region = |e: &DataError| matches!(e, DataError::Region { .. });
    type Kind = fn(&DataError) -> bool;
    let cases: [(_, _, Kind); 7] = [
        (
            ("0.1,0.2\n0.3\n", "0.5,0.6\n", "0\n", "0-1:1\n"),
            "train/m.txt: line 2: 1 values, expected 2",
            parse,
        ),
        (
            ("0.1,0.2\n", "0.5,0.6,0.7\n", "0\n", "0-1:1\n"),
            "test/m.txt: 3 columns, but the training file has 2",
            content,
        ),
        (
            ("0.1,0.2\n", "0.5,0.6\n", "0\n1\n", "0-1:1\n"),
            "test_label/m.txt: 2 labels for 1 test rows",
            content,
        ),
        (
            ("0.1,0.2\n", "0.5,0.6\n", "2\n", "0-1:1\n"),
            "test_label/m.txt: line 1: expected 0 or 1",
            bad_label,
        ),
        (
            ("0.1,0.2\n", "0.5,0.6\n", "0\n", "0-1:3\n"),
            "interpretation_label/m.txt: line 1: sensor 3",
            sensor,
        ),
        (
            ("0.1,0.2\n", "0.5,0.6\n", "0\n", "0-5:1\n"),
            "interpretation_label/m.txt: region [0, 5) reaches past the 1 time steps",
            region,
        ),
        (
            ("0.1,inf\n", "0.5,0.6\n", "0\n", "0-1:1\n"),
            "train/m.txt: line 1: \"inf\" is not a finite number",
            parse,
        ),
    ];
    for ((train, test, label, interp), needle, kind) in cases {
        write_machine(&dir, train, test, label, interp);
        let err = SmdMachine::load(&dir, "m").unwrap_err();
        assert!(kind(&err), "{err}: unexpected variant {err:?}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    write_machine(&dir, "0.1,0.2\n", "0.5,0.6\n", "0\n", "0-1:1\n");
    fs::remove_file(dir.join("test_label").join("m.txt")).unwrap();
    let err = SmdMachine::load(&dir, "m").unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("test_label/m.txt: SMD file (looked for .txt and .txt.xz) not found"),
        "{err}"
    );
    fs::remove_dir_all(dir).ok();
}

#[test]
fn xz_files_are_read_transparently() {
    let dir = common::temp_dir("smd-xz");
    write_machine(&dir, "", "0.5,0.6\n", "1\n", "0-1:1,2\n");
    fs::remove_file(dir.join("train").join("m.txt")).unwrap();
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(&mut enc, b"0.25,0.5\n0.75,1\n").unwrap();
    fs::write(dir.join("train").join("m.txt.xz"), enc.finish().unwrap()).unwrap();
    let m = SmdMachine::load(&dir, "m").unwrap();
    assert_eq!(m.train, ndarray::array![[0.25f32, 0.5], [0.75, 1.0]]);
    assert_eq!(SmdMachine::list(&dir).unwrap(), vec!["m".to_string()]);
    fs::write(dir.join("train").join("m.txt.xz"), b"not xz").unwrap();
    assert!(matches!(
        SmdMachine::load(&dir, "m").unwrap_err(),
        DataError::Io { .. }
    ));
    fs::remove_dir_all(dir).ok();
}
