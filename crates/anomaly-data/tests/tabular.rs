//! The tabular loaders on the real files, and their errors on malformed copies.

use std::path::{Path, PathBuf};

use anomaly_data::{
    find_data_dir, load_breast_cancer, load_nsl_kdd, load_nsl_kdd_file, CsvTable, DataError,
    NslKddSplit, Table, NSL_KDD_CATEGORICAL,
};

fn tabular_dir() -> Option<PathBuf> {
    let dir = find_data_dir(env!("CARGO_MANIFEST_DIR")).map(|d| d.join("tabular"));
    if dir.is_none() {
        eprintln!("skipped: shared/data not found (set ANOMALY_XAI_DATA)");
    }
    dir
}

/// A fresh scratch directory for malformed copies of the files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tabular-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn breast_cancer_has_569_rows_of_30_features_357_benign() {
    let Some(dir) = tabular_dir() else { return };
    let t = load_breast_cancer(dir.join("breast_cancer")).unwrap();
    assert_eq!((t.n_rows(), t.n_features()), (569, 30));
    assert_eq!(t.normal_indices().len(), 357);
    assert_eq!(t.anomalous_indices().len(), 212);
    assert_eq!(t.names[0], "mean radius");
    assert_eq!(t.names[29], "worst fractal dimension");
    // First row of the CSV: 17.99,10.38,... target 0 (malignant).
    assert_eq!(t.features[[0, 0]], 17.99);
    assert_eq!(t.features[[0, 29]], 0.1189);
    assert!(!t.normal[0]);
}

#[test]
fn nsl_kdd_keeps_the_38_numeric_columns_and_flags_normal_rows() {
    let Some(dir) = tabular_dir() else { return };
    let t = load_nsl_kdd(dir.join("nsl_kdd"), NslKddSplit::Train20).unwrap();
    assert_eq!((t.n_rows(), t.n_features()), (25192, 38));
    assert_eq!(t.normal_indices().len(), 13449);
    for dropped in [
        "protocol_type",
        "service",
        "flag",
        "attack_type",
        "difficulty",
    ] {
        assert!(!t.names.iter().any(|n| n == dropped), "{dropped} kept");
    }
    assert_eq!(NSL_KDD_CATEGORICAL, [1, 2, 3]);
    // Row 1: 0,tcp,ftp_data,SF,491,0,... normal; src_bytes is the second kept column.
    assert_eq!(&t.names[..3], ["duration", "src_bytes", "dst_bytes"]);
    assert_eq!(t.features[[0, 1]], 491.0);
    assert!(t.normal[0]);
    // Row 3 is a neptune attack with count = 123 (field 23, kept column 19).
    assert_eq!(t.names[19], "count");
    assert_eq!(t.features[[2, 19]], 123.0);
    assert!(!t.normal[2]);
}

#[test]
fn nsl_kdd_test_splits_have_their_documented_sizes() {
    let Some(dir) = tabular_dir() else { return };
    let t = load_nsl_kdd(dir.join("nsl_kdd"), NslKddSplit::Test21).unwrap();
    assert_eq!((t.n_rows(), t.normal_indices().len()), (11850, 2152));
}

#[test]
fn select_and_split_are_checked_and_seeded() {
    let t = Table {
        features: ndarray::array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]],
        names: vec!["a".into(), "b".into()],
        normal: vec![true, false, true],
    };
    let s = t.select(&[2, 0]).unwrap();
    assert_eq!(s.features, ndarray::array![[5.0f32, 6.0], [1.0, 2.0]]);
    assert_eq!(s.normal, vec![true, true]);
    let err = t.select(&[0, 3]).unwrap_err();
    assert!(
        matches!(err, DataError::RowOutOfRange { row: 3, n_rows: 3 }),
        "{err}"
    );

    let rows: Vec<usize> = (0..10).collect();
    let (a, b) = Table::shuffled_split(&rows, 0.7, 5);
    assert_eq!((a.len(), b.len()), (7, 3));
    assert_eq!(Table::shuffled_split(&rows, 0.7, 5), (a.clone(), b.clone()));
    assert_ne!(Table::shuffled_split(&rows, 0.7, 6).0, a);
    let mut all = [a, b].concat();
    all.sort_unstable();
    assert_eq!(all, rows);
}

fn write_breast_cancer(dir: &Path, csv: &str, names: usize) {
    let names: Vec<String> = (0..names).map(|i| format!("f{i}")).collect();
    std::fs::write(dir.join("feature_names.txt"), names.join("\n")).unwrap();
    std::fs::write(dir.join("breast_cancer.csv"), csv).unwrap();
}

#[test]
fn malformed_breast_cancer_files_name_file_and_line() {
    let dir = scratch("bc-bad-field");
    write_breast_cancer(&dir, "2,2,malignant,benign\n1.0,2.0,0\n1.0,abc,1\n", 2);
    let err = load_breast_cancer(&dir).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, DataError::Field { line: 3, column, .. } if column == "f1"),
        "{msg}"
    );
    assert!(
        msg.contains("breast_cancer.csv") && msg.contains("`abc`"),
        "{msg}"
    );

    let dir = scratch("bc-bad-target");
    write_breast_cancer(&dir, "1,2,malignant,benign\n1.0,2.0,2\n", 2);
    let err = load_breast_cancer(&dir).unwrap_err();
    assert!(
        matches!(&err, DataError::Field { line: 2, column, .. } if column == "target"),
        "{err}"
    );

    let dir = scratch("bc-short-row");
    write_breast_cancer(&dir, "1,2,malignant,benign\n1.0,0\n", 2);
    assert!(matches!(
        load_breast_cancer(&dir),
        Err(DataError::Parse { line: 2, .. })
    ));

    let dir = scratch("bc-row-count");
    write_breast_cancer(&dir, "3,2,malignant,benign\n1.0,2.0,0\n", 2);
    let err = load_breast_cancer(&dir).unwrap_err();
    assert!(
        err.to_string().contains("announces 3 rows, found 1"),
        "{err}"
    );

    let dir = scratch("bc-names");
    write_breast_cancer(&dir, "1,2,malignant,benign\n1.0,2.0,0\n", 3);
    let err = load_breast_cancer(&dir).unwrap_err();
    assert!(err.to_string().contains("3 names for 2 features"), "{err}");

    let dir = scratch("bc-nan");
    write_breast_cancer(&dir, "1,2,malignant,benign\n1.0,NaN,0\n", 2);
    assert!(matches!(
        load_breast_cancer(&dir),
        Err(DataError::Field { line: 2, .. })
    ));

    let err = load_breast_cancer(scratch("bc-missing")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }) && err.to_string().contains("feature_names.txt"));
}

#[test]
fn malformed_nsl_kdd_lines_are_errors_and_plain_text_is_read_too() {
    let Some(dir) = tabular_dir() else { return };
    let scratch = scratch("kdd");
    std::fs::copy(
        dir.join("nsl_kdd/field_names.txt"),
        scratch.join("field_names.txt"),
    )
    .unwrap();
    let good = "0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,\
                1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20";
    let plain = scratch.join("two.txt");
    std::fs::write(
        &plain,
        format!("{good}\n{}\n", good.replace("normal", "smurf")),
    )
    .unwrap();
    let t = load_nsl_kdd_file(&plain).unwrap();
    assert_eq!((t.n_rows(), t.n_features()), (2, 38));
    assert_eq!(t.normal, vec![true, false]);

    std::fs::write(&plain, format!("{good}\n0,tcp,ftp_data\n")).unwrap();
    let err = load_nsl_kdd_file(&plain).unwrap_err();
    assert!(matches!(err, DataError::Parse { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("3 fields, expected 43"), "{err}");

    std::fs::write(&plain, good.replace(",491,", ",4x1,")).unwrap();
    let err = load_nsl_kdd_file(&plain).unwrap_err();
    assert!(err.to_string().contains("field 5 = `4x1`"), "{err}");
    assert!(
        matches!(&err, DataError::Field { line: 1, column, .. } if column == "src_bytes"),
        "{err}"
    );

    std::fs::write(&plain, "\n").unwrap();
    assert!(matches!(
        load_nsl_kdd_file(&plain),
        Err(DataError::Content { .. })
    ));
}

/// The general CSV loader, given the same file with a header row of names, reads exactly
/// what the named loaders read.
#[test]
fn the_general_loader_reads_the_named_tables_identically() {
    let Some(dir) = tabular_dir() else { return };
    let bc = dir.join("breast_cancer");
    let names = std::fs::read_to_string(bc.join("feature_names.txt")).unwrap();
    let names: Vec<&str> = names
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let csv = std::fs::read_to_string(bc.join("breast_cancer.csv")).unwrap();
    let (_, rows) = csv.split_once('\n').unwrap();
    let scratch = scratch("bc-header");
    let with_header = scratch.join("breast_cancer_named.csv");
    std::fs::write(&with_header, format!("{},target\n{rows}", names.join(","))).unwrap();
    let general = CsvTable::new("target", "1")
        .anomalous(["0"])
        .load(&with_header)
        .unwrap();
    assert_eq!(general, load_breast_cancer(&bc).unwrap());

    let kdd_names = std::fs::read_to_string(dir.join("nsl_kdd/field_names.txt")).unwrap();
    let kdd_names: Vec<&str> = kdd_names
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let kdd = anomaly_data::read_text(&dir.join("nsl_kdd/KDDTest-21.txt.xz")).unwrap();
    let kdd_header = scratch.join("kdd_named.csv");
    std::fs::write(&kdd_header, format!("{}\n{kdd}", kdd_names.join(","))).unwrap();
    let general = CsvTable::new("attack_type", "normal")
        .drop_columns(["protocol_type", "service", "flag", "difficulty"])
        .load(&kdd_header)
        .unwrap();
    assert_eq!(
        general,
        load_nsl_kdd(dir.join("nsl_kdd"), NslKddSplit::Test21).unwrap()
    );
}
