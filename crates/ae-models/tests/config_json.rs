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
