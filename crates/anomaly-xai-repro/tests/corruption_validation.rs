//! A smoke run of the corruption validation on the real breast-cancer table with a small
//! K, and the properties of its report.

use anomaly_xai::corruption::Corruption;
use anomaly_xai::data::find_data_dir;
use anomaly_xai::plot::draw_recall_curves;
use anomaly_xai_repro::corruption::{paper_methods, run_validation, TableSource, ValidationConfig};

#[test]
fn smoke_run_on_breast_cancer_gives_monotone_recall_curves() {
    if !pinned_kernels::here() {
        return;
    }
    let Some(dir) = find_data_dir(env!("CARGO_MANIFEST_DIR")) else {
        eprintln!("skipped: shared/data not found (set ANOMALY_XAI_DATA)");
        return;
    };
    tch::set_num_threads(1);
    let mut cfg = ValidationConfig::quick(TableSource::BreastCancer, dir.join("tabular")).unwrap();
    cfg.k = 4;
    cfg.train.epochs = 60;
    cfg.corruption.max_tries = 3000;
    cfg.methods = paper_methods(40, 16, 8).unwrap();
    cfg.corruption.ifgsm.max_steps = 20;
    cfg.corruption.batch_size = 64;
    let report = run_validation(&cfg).unwrap();
    assert_eq!(report.feature_names.len(), 30);
    assert_eq!((report.n_train, report.n_pool), (250, 107));
    assert!(report.n_clean > 0 && report.n_clean <= report.n_pool);
    assert!(report.corruptions.iter().any(|c| c.summary.accepted > 0));
    assert_eq!(report.corruptions.len(), 3);
    for c in report.corruptions.iter().filter(|c| c.summary.accepted > 0) {
        assert!(c.summary.accepted <= 4);
        assert_eq!(c.features.len(), c.summary.accepted);
        // The methods, then the reference row.
        assert_eq!(c.methods.len(), cfg.methods.len() + 1);
        assert_eq!(
            c.methods.last().unwrap().method,
            anomaly_xai::method::MethodSpec::deviation().label()
        );
        for m in &c.methods {
            assert_eq!(m.recall.len(), 30);
            assert!(
                m.recall.windows(2).all(|w| w[0] <= w[1]),
                "{:?} not monotone: {:?}",
                m.method,
                m.recall
            );
            assert!((m.recall[29] - 1.0).abs() < 1e-12);
            assert!(m.recall.iter().all(|r| (0.0..=1.0).contains(r)));
            assert!(m.seconds > 0.0 && m.seconds_per_explanation > 0.0);
        }
    }
    let null = report
        .corruptions
        .iter()
        .find(|c| c.summary.corruption == Corruption::Null);
    // The residual of a null-corrupted feature is large: it ranks c first on most samples.
    if let Some(null) = null {
        let residual = null
            .methods
            .iter()
            .find(|m| m.method == "Residual L2")
            .unwrap();
        assert!(residual.recall[0] >= 0.5, "{:?}", residual.recall);
        // So is its distance from the training mean, with no model at all.
        let deviation = null.methods.last().unwrap();
        assert!(deviation.recall[0] >= 0.5, "{:?}", deviation.recall);
    }
    // How much slower Kernel SHAP is than LRP is a measurement (the corruption_validation
    // example prints it), not a verdict: a loaded machine can stall either side.
    assert!(report
        .kernel_shap_over_lrp
        .is_some_and(|r| r.is_finite() && r > 0.0));

    let json = serde_json::to_string(&report).unwrap();
    let back: anomaly_xai_repro::corruption::ValidationReport =
        serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(report
        .to_markdown()
        .contains("| m | LRP | LRP eps | Kernel SHAP |"));
    let png =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("corruption-validation-recall.png");
    draw_recall_curves(&png, &report.panels(), (1200, 400)).unwrap();
    assert!(png.exists());
}

#[test]
fn invalid_configs_are_rejected_before_any_work() {
    let mut cfg = ValidationConfig::quick(TableSource::BreastCancer, "/nonexistent").unwrap();
    cfg.k = 0;
    assert!(run_validation(&cfg)
        .unwrap_err()
        .to_string()
        .contains("k = 0"));
    let cfg = ValidationConfig::quick(TableSource::BreastCancer, "/nonexistent").unwrap();
    assert!(run_validation(&cfg)
        .unwrap_err()
        .to_string()
        .contains("/nonexistent"));
    assert!("nsl-kdd".parse::<TableSource>().is_ok());
    assert!("iris".parse::<TableSource>().is_err());
}
