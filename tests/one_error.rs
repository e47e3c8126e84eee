//! One error type at the facade: every crate's error converts into
//! `anomaly_xai::Error` with `?`, and its message is kept.

use anomaly_xai::{Error, Result};

fn model() -> Result<()> {
    anomaly_xai::models::LstmAeConfig::new(0, 1, 1).check()?;
    Ok(())
}

fn attribution() -> Result<()> {
    anomaly_xai::attrib::KernelShap::params()
        .n_samples(1)
        .check()?;
    Ok(())
}

fn lrp() -> Result<()> {
    anomaly_xai::lrp::Preset::Epsilon { eps: -1.0 }.composite()?;
    Ok(())
}

fn metrics() -> Result<()> {
    anomaly_xai::metrics::Region::new(5, 2, vec![0])?;
    Ok(())
}

fn data() -> Result<()> {
    anomaly_xai::data::SmdMachine::load("/nonexistent".as_ref(), "machine-0")?;
    Ok(())
}

fn corruption() -> Result<()> {
    anomaly_xai::corruption::ScoreNormalizer::from_reference(&[1.0, 1.0], 1.0)?;
    Ok(())
}

#[test]
fn every_crates_error_converts_and_keeps_its_message() {
    let cases: [(Result<()>, &str); 6] = [
        (model(), "n_features = 0"),
        (attribution(), "n_samples = 1"),
        (lrp(), "-1"),
        (metrics(), "5"),
        (data(), "/nonexistent"),
        (corruption(), "empty range"),
    ];
    for (r, needle) in cases {
        let e: Error = r.unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
}
