//! Model configurations read from JSON are checked like those built in code, and absurd
//! sizes are errors, never overflows.

use ae_models::{ConvAeConfig, DenseAeConfig, LstmAeConfig};

#[test]
fn bad_configs_fail_where_they_are_read_naming_the_value() {
    let err = serde_json::from_str::<LstmAeConfig>(
        r#"{"n_features": 0, "window": 50, "encoder_hidden": [64], "decoder_hidden": [64]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("n_features = 0"), "{err}");
    let err = serde_json::from_str::<DenseAeConfig>(r#"{"n_features": 4, "hidden": []}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hidden"), "{err}");
    let mut conv = serde_json::to_value(ConvAeConfig::small(16, 2)).unwrap();
    conv["input"] = serde_json::json!([1, 0, 16]);
    let err = serde_json::from_value::<ConvAeConfig>(conv)
        .unwrap_err()
        .to_string();
    assert!(err.contains('0'), "{err}");
    // Good configs round-trip.
    let lstm = LstmAeConfig::new(3, 8, 4);
    let back: LstmAeConfig = serde_json::from_str(&serde_json::to_string(&lstm).unwrap()).unwrap();
    assert_eq!(back, lstm);
}

#[test]
fn absurd_conv_sizes_are_errors_not_overflows() {
    let mut conv = serde_json::to_value(ConvAeConfig::small(16, 2)).unwrap();
    let first = conv["convs"][0].clone();
    let mut huge = first.clone();
    huge["upsample_before"] = serde_json::json!(i64::MAX / 2);
    conv["convs"][0] = huge;
    let err = serde_json::from_value::<ConvAeConfig>(conv.clone())
        .unwrap_err()
        .to_string();
    assert!(err.contains("upsample_before"), "{err}");
    let mut wide = first;
    wide["dilation"] = serde_json::json!(i64::MAX);
    conv["convs"][0] = wide;
    let err = serde_json::from_value::<ConvAeConfig>(conv)
        .unwrap_err()
        .to_string();
    assert!(err.contains("larger than an i64"), "{err}");
}

/// A setting read through another type's field with the type's own `deserialize`.
#[derive(serde::Deserialize)]
struct Wrapped {
    #[serde(deserialize_with = "ae_models::MinMaxScaler::deserialize")]
    #[allow(dead_code)]
    scaler: ae_models::MinMaxScaler,
}

#[test]
fn the_types_own_deserialize_checks_too() {
    use ae_models::train::TrainConfig;
    use ae_models::{ExplainedError, LstmForecasterConfig, MinMaxScaler};
    use serde::Deserialize;
    use serde_json::json;
    // `T::deserialize` is the checked trait method: no unchecked inherent one shadows it.
    let bad_scaler = json!({"min": [0.0], "range": [0.0], "clip": null});
    let err = MinMaxScaler::deserialize(bad_scaler.clone()).unwrap_err();
    assert!(err.to_string().contains("range"), "{err}");
    let err = serde_json::from_value::<Wrapped>(json!({ "scaler": bad_scaler }))
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("range"), "{err}");
    assert!(TrainConfig::deserialize(json!({"epochs": 0})).is_err());
    assert!(DenseAeConfig::deserialize(json!({"n_features": 4, "hidden": []})).is_err());
    assert!(LstmAeConfig::deserialize(json!({"n_features": 0})).is_err());
    assert!(LstmForecasterConfig::deserialize(json!({"n_features": 0})).is_err());
    let mut conv = serde_json::to_value(ConvAeConfig::small(16, 2)).unwrap();
    conv["input"] = json!([1, 0, 16]);
    assert!(ConvAeConfig::deserialize(conv).is_err());
    let err = ExplainedError::deserialize(json!({
        "norm": "L1",
        "cells": [{"axis": {"axis": -1, "indices": []}}]
    }))
    .unwrap_err();
    assert!(err.to_string().contains("[] on axis -1"), "{err}");
    // Defaults still fill missing fields, and good values still read.
    let cfg = TrainConfig::deserialize(json!({"epochs": 3})).unwrap();
    assert_eq!(
        (cfg.epochs, cfg.batch_size),
        (3, TrainConfig::default().batch_size)
    );
}
