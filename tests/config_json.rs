//! Run configurations read from JSON obey the rules of those built in code:
//! a bad file fails where it is read, naming the value, not at run time.

use anomaly_xai::localizer::LocalizerConfig;
use anomaly_xai::method::MethodSpec;
use anomaly_xai::models::{ErrorNorm, ExplainedError};

fn read<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

#[test]
fn localizer_configs_are_checked_when_read() {
    let mut good = serde_json::to_value(LocalizerConfig::default()).unwrap();
    assert!(serde_json::from_value::<LocalizerConfig>(good.clone()).is_ok());
    good["max_windows"] = 0.into();
    let err = serde_json::from_value::<LocalizerConfig>(good.clone())
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_windows = 0"), "{err}");
    good["max_windows"] = 8.into();
    good["error"] =
        serde_json::json!({"norm": "L1", "cells": [{"axis": {"axis": -1, "indices": []}}]});
    let err = serde_json::from_value::<LocalizerConfig>(good)
        .unwrap_err()
        .to_string();
    assert!(err.contains("[] on axis -1"), "{err}");
}

#[test]
fn method_specs_are_checked_when_read() {
    let err = read::<MethodSpec>(r#"{"method": {"attrib": {"kernel_shap": {"n_samples": 1}}}}"#)
        .unwrap_err();
    assert!(err.contains("n_samples = 1"), "{err}");
    let err =
        read::<MethodSpec>(r#"{"method": "residual", "norm": "L1", "seeds": [0, 1]}"#).unwrap_err();
    assert!(err.contains("seeds"), "{err}");
    let err = read::<MethodSpec>(r#"{"method": "residual", "baseline": "Zero", "lable": "x"}"#)
        .unwrap_err();
    assert!(err.contains("lable"), "{err}");
    let ok: MethodSpec = read(
        r#"{"method": {"attrib": {"kernel_shap": {"n_samples": 50}}}, "seeds": [0, 1], "label": "KS"}"#,
    )
    .unwrap();
    assert_eq!(ok.runs().unwrap().len(), 2);
    assert_eq!(ok.label(), "KS");
    // Counts past their bounds, in the method's settings and in the seed list.
    let err = read::<MethodSpec>(
        r#"{"method": {"attrib": {"shapley_value_sampling": {"n_permutations": 1000000000000}}}}"#,
    )
    .unwrap_err();
    assert!(err.contains("over the bound of 100000"), "{err}");
    let seeds: Vec<u64> = (0..=MethodSpec::MAX_SEEDS as u64).collect();
    let json = format!(
        r#"{{"method": {{"attrib": {{"kernel_shap": {{"n_samples": 50}}}}}}, "seeds": {seeds:?}}}"#
    );
    let err = read::<MethodSpec>(&json).unwrap_err();
    assert!(
        err.contains("1001 seeds") && err.contains("at most 1000"),
        "{err}"
    );
}

#[test]
fn explained_errors_are_checked_when_read() {
    let err = read::<ExplainedError>(
        r#"{"norm": "L2", "cells": [{"mask": {"shape": [2, 2], "cells": [true, false]}}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("4 cells for shape [2, 2]"), "{err}");
    let ok: ExplainedError =
        read(r#"{"norm": "L2", "cells": [{"axis": {"axis": -2, "indices": [-1]}}]}"#).unwrap();
    assert_eq!(ok, ExplainedError::new(ErrorNorm::SquaredL2).steps([-1]));
}

#[test]
fn the_types_own_deserialize_checks_too() {
    use serde::Deserialize;
    let mut bad = serde_json::to_value(LocalizerConfig::default()).unwrap();
    bad["max_windows"] = 0.into();
    let err = LocalizerConfig::deserialize(bad).unwrap_err();
    assert!(err.to_string().contains("max_windows = 0"), "{err}");
    let err = MethodSpec::deserialize(
        serde_json::json!({"method": "residual", "norm": "L1", "seeds": [0, 1]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("seeds"), "{err}");
}
